"""mTPI-2 and Keyboard decision tables.

mTPI-2: the decisions of Figure 3 in Guo et al. (2017), https://doi.org/10.1016/j.cct.2017.04.006,
as encoded in escalation's tests/testthat/test_mtpi2.R (target 0.3, epsilon 0.05/0.05,
exclusion certainty 0.95)."""

from __future__ import annotations

import pytest

from phaseone.designs import MTPI2, Keyboard
from phaseone.designs.keyboard import keys

# (outcomes, recommended dose or None, admissible) — five doses.
ALL = (True,) * 5
ONLY_1 = (True, False, False, False, False)
FIGURE_3 = [
    ("1NNN", 2, ALL),
    ("1NNT", 1, ALL),
    ("1NTT", 1, ALL),
    ("1TTT", None, (False,) * 5),
    ("1NNN 1NNT", 2, ALL),
    ("1NNN 1NTT", 1, ALL),
    ("1NNN 1TTT", 1, ALL),
    ("1NNT 1TTT", None, (False,) * 5),
    ("1NNN 1NNN 1NTT", 2, ALL),
    ("1NNN 1NNN 1TTT", 1, ALL),
    ("1NNN 1NTT 1TTT", None, (False,) * 5),
    ("2NNN", 3, ALL),
    ("2NNT", 2, ALL),
    ("2NTT", 1, ALL),
    ("2TTT", 1, ONLY_1),
    ("2NNN 2NNT", 3, ALL),
    ("2NNN 2NTT", 2, ALL),
    ("2NNN 2TTT", 1, ALL),
    ("2NNT 2TTT", 1, ONLY_1),
    ("2NNN 2NNN 2NTT", 3, ALL),
    ("2NNN 2NNN 2TTT", 2, ALL),
    ("2NNN 2NNT 2TTT", 1, ALL),
    ("2NNN 2NTT 2TTT", 1, ONLY_1),
    ("5NNN", 5, ALL),
    ("5NNT", 5, ALL),
    ("5NTT", 4, ALL),
    ("5TTT", 4, (True, True, True, True, False)),
]


@pytest.mark.parametrize(("outcomes", "dose", "admissible"), FIGURE_3)
def test_mtpi2_figure_3(outcomes: str, dose: int | None, admissible: tuple[bool, ...]) -> None:
    state = MTPI2(target_rate=0.3, doses=5).fit(outcomes)
    assert state.recommended_dose == dose
    assert state.should_continue == (dose is not None)
    assert state.admissible == admissible


def test_keys_tile_zero_to_one() -> None:
    edges, target_key = keys(0.3, 0.05, 0.05)
    assert edges[0] == 0 and edges[-1] == 1
    assert (edges[target_key], edges[target_key + 1]) == pytest.approx((0.25, 0.35))
    widths = edges[1:] - edges[:-1]
    assert (widths > 0).all() and (widths <= 0.1 + 1e-12).all()


def test_keyboard_table_shape_and_monotone() -> None:
    table = Keyboard(target_rate=0.25, doses=4).decision_table(12)
    codes = table.codes
    for n in range(1, 13):
        row = [int(c) for c in codes[n, : n + 1]]
        assert row == sorted(row), n  # more DLTs never lead to a higher dose
    # 0 of 3 escalates; 3 of 3 eliminates (P(p > 0.25 | 3/3) > 0.95).
    assert table.decide(3, 0).value == "E"
    assert table.decide(3, 3).value == "DE"


def test_keyboard_and_mtpi2_share_the_interval_rule() -> None:
    k = Keyboard(target_rate=0.3, doses=5).decision_table(20).codes
    m = MTPI2(target_rate=0.3, doses=5).decision_table(20).codes
    assert (k == m).all()
