"""3+3 against its closed form (notes §2.3) and the simFastBOIN vignette's printed exact
operating characteristics (notes §12.3, "Comparing with the 3+3 design")."""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import Decision, ThreePlusThree
from phaseone.designs.paths import dose_paths

TRUE = [0.05, 0.15, 0.25, 0.45, 0.60]


def closed_form_previous(p: list[float]) -> dict[str, np.ndarray]:
    """Notes §2.3, written out independently of the design code."""
    p_arr = np.asarray(p)
    p0 = (1 - p_arr) ** 3
    p1 = 3 * p_arr * (1 - p_arr) ** 2
    e = p0 + p1 * p0
    reach = np.concatenate([[1.0], np.cumprod(e)[:-1]])
    select = np.empty(len(p))
    select[:-1] = reach[:-1] * e[:-1] * (1 - e[1:])
    select[-1] = reach[-1] * e[-1]
    return {
        "select": select,
        "no_mtd": np.array(1 - e[0]),
        "n": reach * (3 + 3 * p1),
        "dlt": reach * 3 * p_arr * (1 + p1),
    }


def exact(rule: str, p: list[float]):
    return dose_paths(
        ThreePlusThree(doses=len(p), mtd_rule=rule), [3] * (2 * len(p))
    ).operating_characteristics(p)


def test_paths_equal_closed_form() -> None:
    oc = exact("previous", TRUE)
    cf = closed_form_previous(TRUE)
    assert oc.select == pytest.approx(cf["select"], abs=1e-12)
    assert oc.no_mtd == pytest.approx(float(cf["no_mtd"]), abs=1e-12)
    assert oc.expected_n == pytest.approx(cf["n"], abs=1e-12)
    assert oc.expected_tox == pytest.approx(cf["dlt"], abs=1e-12)
    assert oc.total_probability == pytest.approx(1.0, abs=1e-12)


def test_previous_rule_matches_printed_figures() -> None:
    # simFastBOIN vignette, oc_3p3 default (rule "previous"), rounded as printed.
    oc = exact("previous", TRUE)
    assert oc.select * 100 == pytest.approx([18.1, 31.7, 36.4, 10.2, 0.9], abs=0.05)
    assert oc.no_mtd * 100 == pytest.approx(2.7, abs=0.05)
    assert oc.expected_n == pytest.approx([3.4, 3.9, 3.4, 2.0, 0.4], abs=0.05)
    assert oc.expected_n.sum() == pytest.approx(13.1, abs=0.05)
    assert oc.expected_tox == pytest.approx([0.2, 0.6, 0.8, 0.9, 0.3], abs=0.05)
    assert oc.expected_tox.sum() == pytest.approx(2.8, abs=0.05)
    # Overdose summary (true rate above 1/3: DL4, DL5).
    assert oc.expected_n[3:].sum() / oc.expected_n.sum() * 100 == pytest.approx(18.6, abs=0.05)
    assert oc.select[3:].sum() * 100 == pytest.approx(11.1, abs=0.05)
    paths = dose_paths(ThreePlusThree(doses=5, mtd_rule="previous"), [3] * 10)
    probs = paths.probabilities(TRUE)
    reach = sum(probs[leaf.index] for leaf in paths.leaves() if sum(leaf.state.treated[3:]) > 0)
    assert reach * 100 == pytest.approx(47.5, abs=0.05)


def test_expand_rule_matches_printed_figures() -> None:
    oc = exact("expand", TRUE)
    assert oc.select * 100 == pytest.approx([19.7, 34.4, 35.3, 7.5, 0.5], abs=0.05)
    assert oc.expected_n.sum() == pytest.approx(15.52, abs=0.005)


@pytest.mark.parametrize(
    ("p", "rule", "select", "patients"),
    [
        # simFastBOIN tests/testthat invariants (notes §12.3).
        ([0.0, 1.0], "previous", [1.0, 0.0], [3, 3]),
        ([0.0, 1.0], "expand", [1.0, 0.0], [6, 3]),
        ([1.0, 1.0], "previous", [0.0, 0.0], [3, 0]),
        ([1.0, 1.0], "expand", [0.0, 0.0], [3, 0]),
    ],
)
def test_degenerate_curves(
    p: list[float], rule: str, select: list[float], patients: list[int]
) -> None:
    oc = exact(rule, p)
    assert oc.select == pytest.approx(select)
    assert oc.expected_n == pytest.approx(patients)


def test_live_rules() -> None:
    design = ThreePlusThree(doses=4)
    assert design.fit("1NNN").recommended_dose == 2
    assert design.fit("1NNT").recommended_dose == 1
    assert design.fit("1NNT 1NNN").recommended_dose == 2
    # 2/3 at dose 2: walk down to dose 1 (only 3 patients) and expand it.
    state = design.fit("1NNN 2NTT")
    assert (state.recommended_dose, state.should_continue) == (1, True)
    assert state.admissible == (True, False, False, False)
    done = design.fit("1NNN 2NTT 1NNT")
    assert not done.should_continue
    assert done.mtd().dose == 1
    assert done.evaluable[0] == 6
    # "previous" declares dose 1 at once, with 3 patients.
    prev = ThreePlusThree(doses=4, mtd_rule="previous").fit("1NNN 2NTT")
    assert (prev.should_continue, prev.mtd().dose) == (False, 1)
    # Dose 1 too toxic: no MTD.
    none = design.fit("1TTN")
    assert not none.should_continue and none.mtd().dose is None


def test_top_dose_is_expanded_to_six() -> None:
    design = ThreePlusThree(doses=2)
    state = design.fit("1NNN 2NNN")
    assert (state.recommended_dose, state.should_continue) == (2, True)
    final = design.fit("1NNN 2NNN 2NNT")
    assert not final.should_continue and final.mtd().dose == 2
    assert "maximum administered dose" in final.mtd().detail


def test_table() -> None:
    table = ThreePlusThree(doses=3).decision_table(6)
    assert table.decide(3, 0) is Decision.ESCALATE
    assert table.decide(3, 1) is Decision.STAY
    assert table.decide(3, 2) is Decision.ELIMINATE
    assert table.decide(6, 1) is Decision.ESCALATE
    assert table.decide(6, 2) is Decision.ELIMINATE
