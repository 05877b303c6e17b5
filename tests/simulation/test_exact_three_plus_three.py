"""Exact 3+3 operating characteristics against simFastBOIN's published oc_3p3 output.

Tolerance: half a unit in the last printed digit. Invariants come from simFastBOIN's own
tests (tests/testthat), simFastBOIN 1.3.2 and the vignette's "Comparing with the 3+3
design" section.
"""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.errors import InputError
from phaseone.simulation.exact import three_plus_three_exact

from .published import (
    TPT_EXPAND_SELECTED_PCT,
    TPT_EXPAND_TOTAL_PATIENTS,
    TPT_OVERDOSE_CUTOFF,
    TPT_PREVIOUS_DLTS,
    TPT_PREVIOUS_NO_MTD_PCT,
    TPT_PREVIOUS_OVERDOSE,
    TPT_PREVIOUS_PATIENTS,
    TPT_PREVIOUS_SELECTED_PCT,
    TPT_PREVIOUS_TOTAL_DLTS,
    TPT_PREVIOUS_TOTAL_PATIENTS,
    TPT_TRUTH,
)


def test_previous_rule_matches_published() -> None:
    oc = three_plus_three_exact(TPT_TRUTH, "previous", overdose_cutoff=TPT_OVERDOSE_CUTOFF)
    sel = [100 * f.value for f in oc.selection]
    np.testing.assert_allclose(sel, TPT_PREVIOUS_SELECTED_PCT, atol=0.05)
    assert 100 * oc.no_mtd.value == pytest.approx(TPT_PREVIOUS_NO_MTD_PCT, abs=0.05)
    np.testing.assert_allclose([f.value for f in oc.patients], TPT_PREVIOUS_PATIENTS, atol=0.05)
    np.testing.assert_allclose([f.value for f in oc.dlts], TPT_PREVIOUS_DLTS, atol=0.05)
    assert oc.sample_size.value == pytest.approx(TPT_PREVIOUS_TOTAL_PATIENTS, abs=0.05)
    assert oc.total_dlts.value == pytest.approx(TPT_PREVIOUS_TOTAL_DLTS, abs=0.05)
    over = TPT_PREVIOUS_OVERDOSE
    assert 100 * oc.share_patients_overdosed.value == pytest.approx(
        over["share_patients"], abs=0.05
    )
    assert 100 * oc.prob_any_overdosed.value == pytest.approx(over["any_patient"], abs=0.05)
    assert 100 * oc.prob_select_overdose.value == pytest.approx(over["select"], abs=0.05)
    assert all(f.se == 0 for f in oc.selection)


def test_expand_rule_matches_published() -> None:
    oc = three_plus_three_exact(TPT_TRUTH, "expand")
    sel = [100 * f.value for f in oc.selection]
    np.testing.assert_allclose(sel, TPT_EXPAND_SELECTED_PCT, atol=0.05)
    assert oc.sample_size.value == pytest.approx(TPT_EXPAND_TOTAL_PATIENTS, abs=0.005)


@pytest.mark.parametrize("rule", ["previous", "expand"])
def test_size_distribution_is_a_distribution_with_the_right_mean(rule: str) -> None:
    oc = three_plus_three_exact(TPT_TRUTH, rule)  # type: ignore[arg-type]
    dist = oc.sample_size_distribution
    assert sum(dist.values()) == pytest.approx(1.0, abs=1e-12)
    assert sum(k * v for k, v in dist.items()) == pytest.approx(oc.sample_size.value, abs=1e-12)
    assert sum(f.value for f in oc.patients) == pytest.approx(oc.sample_size.value, abs=1e-12)


def test_simfastboin_invariants() -> None:
    prev = three_plus_three_exact([0.0, 1.0], "previous")
    assert [f.value for f in prev.selection] == [1.0, 0.0]
    assert [f.value for f in prev.patients] == [3.0, 3.0]
    exp = three_plus_three_exact([0.0, 1.0], "expand")
    assert [f.value for f in exp.patients] == [6.0, 3.0]
    none = three_plus_three_exact([1.0, 1.0], "previous")
    assert none.no_mtd.value == 1.0
    assert [f.value for f in none.patients] == [3.0, 0.0]


def test_bad_truth_is_rejected() -> None:
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        three_plus_three_exact([0.1, 1.2])
