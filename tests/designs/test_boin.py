"""BOIN pinned to published numbers (dose-finding notes §12.1, §12.4)."""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import BOIN, Decision, Outcomes
from phaseone.designs.boin import boin_lambdas
from phaseone.errors import InputError

# Source: simFastBOIN vignette `boin_lambda(0.30)` and BOIN::get.boundary (notes §12.1).
PRINTED_LAMBDAS_030 = (0.2364907, 0.3585195)

# Source: simFastBOIN vignette `boin_boundary(target = 0.30, max_n = 18, extrasafe = TRUE)`.
PRINTED_030 = {
    "n": [3, 6, 9, 12, 15, 18],
    "escalate": [0, 1, 2, 2, 3, 4],
    "deescalate": [2, 3, 4, 5, 6, 7],
    "eliminate": [3, 4, 5, 7, 8, 9],
    "stop_lowest": [2, 4, 5, 6, 7, 8],
}

# Full tables n = 1..30 from the notes §12.1 (computed there from the published formulas;
# they reproduce every printed 0.30 entry and the printed 0.25 cell). -1 = no boundary.
FULL = {
    0.30: (
        "0 0 0 0 1 1 1 1 2 2 2 2 3 3 3 3 4 4 4 4 4 5 5 5 5 6 6 6 6 7",
        "1 1 2 2 2 3 3 3 4 4 4 5 5 6 6 6 7 7 7 8 8 8 9 9 9 10 10 11 11 11",
        "-1 -1 3 3 4 4 5 5 5 6 6 7 7 8 8 8 9 9 9 10 10 11 11 11 12 12 12 13 13 14",
    ),
    0.25: (
        "0 0 0 0 0 1 1 1 1 1 2 2 2 2 2 3 3 3 3 3 4 4 4 4 4 5 5 5 5 5",
        "1 1 1 2 2 2 3 3 3 3 4 4 4 5 5 5 6 6 6 6 7 7 7 8 8 8 9 9 9 9",
        "-1 -1 3 3 3 4 4 4 5 5 6 6 6 7 7 7 8 8 8 9 9 9 10 10 10 11 11 11 12 12",
    ),
    0.20: (
        "0 0 0 0 0 0 1 1 1 1 1 1 2 2 2 2 2 2 2 3 3 3 3 3 3 4 4 4 4 4",
        "1 1 1 1 2 2 2 2 3 3 3 3 4 4 4 4 5 5 5 5 6 6 6 6 6 7 7 7 7 8",
        "-1 -1 2 3 3 3 4 4 4 5 5 5 5 6 6 6 7 7 7 7 8 8 8 8 9 9 9 9 10 10",
    ),
}
LAMBDAS = {0.25: (0.1968009, 0.2983922), 0.20: (0.1572423, 0.2384624)}


def ints(text: str) -> list[int | None]:
    """Integers of a printed row; '-1' stands for the table's blank (no boundary)."""
    return [None if v == "-1" else int(v) for v in text.split()]


def test_lambdas_match_printed_values() -> None:
    assert boin_lambdas(0.30) == pytest.approx(PRINTED_LAMBDAS_030, abs=5e-8)
    for target, expected in LAMBDAS.items():
        assert boin_lambdas(target) == pytest.approx(expected, abs=5e-8)


def test_printed_030_boundaries_with_extrasafe() -> None:
    table = BOIN(target_rate=0.30, doses=5, extrasafe=True).decision_table(18)
    frame = table.boundaries().set_index("n").loc[PRINTED_030["n"]]
    assert list(frame["escalate_if_y_le"]) == PRINTED_030["escalate"]
    assert list(frame["deescalate_if_y_ge"]) == PRINTED_030["deescalate"]
    assert list(frame["eliminate_if_y_ge"]) == PRINTED_030["eliminate"]
    assert list(frame["stop_at_lowest_if_y_ge"]) == PRINTED_030["stop_lowest"]


@pytest.mark.parametrize("target", sorted(FULL))
def test_full_boundary_tables(target: float) -> None:
    esc, de, elim = (ints(row) for row in FULL[target])
    frame = BOIN(target_rate=target, doses=5).decision_table(30).boundaries()
    assert list(frame["escalate_if_y_le"]) == esc
    assert list(frame["deescalate_if_y_ge"]) == de
    assert list(frame["eliminate_if_y_ge"]) == elim


def test_printed_025_cell() -> None:
    # simFastBOIN vignette: target 0.25, n = 3, y = 1 -> D.
    assert BOIN(target_rate=0.25, doses=5).decision_table().decide(3, 1) is Decision.DEESCALATE


# Han, Pan, Zhang, Liu & Yuan (2019), p. 25, as encoded in escalation's tests/testthat/test_boin.R.
PUBLISHED_PATH = [
    ("1NNN", 2),
    ("2NNN", 3),
    ("3NTT", 2),
    ("2NTN", 3),
    ("3NNN", 3),
    ("3NNN", 4),
    ("4TTT", 3),
    ("3NTN", 3),
    ("3NNT", 3),
    ("3TNN", 3),
]


def test_published_dose_path() -> None:
    design = BOIN(target_rate=0.30, doses=5)
    cohorts: list[str] = []
    for cohort, expected in PUBLISHED_PATH:
        cohorts.append(cohort)
        state = design.fit(" ".join(cohorts))
        assert state.recommended_dose == expected, cohorts
        assert state.should_continue
    assert state.treated == (3, 6, 18, 3, 0)
    assert state.tox == (0, 1, 5, 3, 0)
    assert state.admissible == (True, True, True, False, False)


def test_elimination_of_lowest_dose_stops() -> None:
    state = BOIN(target_rate=0.3, doses=5).fit("1TTT")
    assert not state.should_continue
    assert state.recommended_dose is None
    assert state.mtd().dose is None
    assert not any(state.admissible)


def test_extrasafe_stops_earlier_at_the_lowest_dose() -> None:
    # Printed extrasafe row: at n = 6, stop if y >= 4; plain elimination also needs 4, but at
    # n = 3 extrasafe stops at 2 while elimination needs 3.
    assert BOIN(target_rate=0.3, doses=5).fit("1NTT").should_continue
    assert not BOIN(target_rate=0.3, doses=5, extrasafe=True).fit("1NTT").should_continue


def test_early_stop_n_with_stay() -> None:
    design = BOIN(target_rate=0.3, doses=5, early_stop_n=9)
    # 9 at dose 2 with 3 DLTs: 2 < 3 < 4 -> stay -> stop.
    stay = design.fit("1NNN 2NNT 2NTN 2TNN")
    assert not stay.should_continue
    assert any(r.rule == "early_stop_n" for r in stay.reasons)
    # 9 at dose 2 with 1 DLT would escalate: BOIN keeps going.
    assert design.fit("1NNN 2NNN 2NTN 2NNN").should_continue


def test_select_mtd_isotonic_and_tie_break() -> None:
    design = BOIN(target_rate=0.3, doses=3)
    # Pooled block below the target: the higher dose wins (notes §4.8).
    state = design.fit("1NNT 2NNN 2NNN 3TTT")
    est = state.mtd().estimates
    assert est[0] == pytest.approx(est[1])
    assert state.mtd().dose == 2
    # Shrunk estimates: (y + 0.05) / (n + 0.1).
    single = design.fit("1NNN")
    assert single.estimates[0] == pytest.approx(0.05 / 3.1)


def test_bound_mtd_excludes_doses_above_lambda_d() -> None:
    outcomes = "1NNN 2NNN 3NTN 3TNN"  # dose 3: 2/6 = 0.33, closest to 0.3 but < lambda_d
    assert BOIN(target_rate=0.3, doses=3).fit(outcomes).mtd().dose == 3
    heavy = "1NNN 2NNN 3NTT"  # dose 3 shrunk estimate 0.66 > lambda_d; dose 2 closest
    free = BOIN(target_rate=0.3, doses=3).fit(heavy).mtd().dose
    bounded = BOIN(target_rate=0.3, doses=3, bound_mtd=True).fit(heavy).mtd().dose
    assert (free, bounded) == (2, 2)
    only_toxic = "1TTN"
    assert BOIN(target_rate=0.3, doses=3).fit(only_toxic).mtd().dose == 1
    assert BOIN(target_rate=0.3, doses=3, bound_mtd=True).fit(only_toxic).mtd().dose is None


def test_table_is_numpy_and_consistent() -> None:
    table = BOIN(target_rate=0.3, doses=5).decision_table(18)
    assert table.codes.dtype == np.int8
    assert table.codes.shape == (19, 19)
    assert (table.codes[3, 4:] == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target_rate": 1.2, "doses": 5}, "target"),
        ({"target_rate": 0.0, "doses": 5}, "target"),
        ({"target_rate": 0.3, "doses": 0}, "doses"),
        ({"target_rate": 0.3, "doses": 5, "start_dose": 6}, "start_dose"),
        ({"target_rate": 0.3, "doses": 5, "phi1": 0.35}, "phi1"),
    ],
)
def test_bad_parameters(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError, match=field):
        BOIN(**kwargs)  # type: ignore[arg-type]


def test_outcomes_outside_doses() -> None:
    with pytest.raises(InputError, match=r"outside 1\.\.5"):
        BOIN(target_rate=0.3, doses=5).fit("1NNN 7NNN")
    with pytest.raises(InputError, match=r"outside 1\.\.2"):
        BOIN(target_rate=0.3, doses=2).fit(Outcomes.parse("3N"))
