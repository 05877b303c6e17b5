"""The simulate/compare API: reproducible, common random numbers, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from phaseone.designs import BOIN, CRM, Keyboard, StopAtN, ThreePlusThree
from phaseone.errors import InputError
from phaseone.simulation.api import CHUNK_TRIALS, compare, simulate

TRUTH = (0.05, 0.15, 0.30, 0.45, 0.60)
BOIN30 = BOIN(target_rate=0.30, doses=5, early_stop_n=18)


def test_same_seed_same_result_different_seed_different_result() -> None:
    a = simulate(BOIN30, TRUTH, 3000, seed=5, cohort_size=3, cohorts=10)
    b = simulate(BOIN30, TRUTH, 3000, seed=5, cohort_size=3, cohorts=10)
    c = simulate(BOIN30, TRUTH, 3000, seed=6, cohort_size=3, cohorts=10)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()


def test_chunks_add_up_to_the_whole() -> None:
    n = CHUNK_TRIALS + 1234
    oc = simulate(BOIN30, TRUTH, n, seed=1, cohort_size=3, cohorts=10, keep_trials=True)
    frame = oc.trials_frame()
    assert len(frame) == n
    assert oc.n_trials == n
    np.testing.assert_allclose(oc.sample_size.value, frame["patients"].mean())
    sel = (frame["selected"] == 3).mean()
    assert oc.selection[2].value == pytest.approx(sel)


def test_standard_errors_are_binomial_and_by_every_figure() -> None:
    oc = simulate(BOIN30, TRUTH, 4000, seed=3, cohort_size=3, cohorts=10)
    p = oc.selection[2].value
    assert oc.selection[2].se == pytest.approx(np.sqrt(p * (1 - p) / 4000))
    frame = oc.to_frame()
    assert {"selected_pct_se", "patients_se", "dlts_se"} <= set(frame.columns)
    summary = oc.summary_frame()
    assert (summary["se"] >= 0).all()
    json.dumps(oc.to_dict())  # plain JSON


def test_common_random_numbers_compare_designs_on_the_same_patients() -> None:
    kb = Keyboard(target_rate=0.30, doses=5, early_stop_n=18)
    a, b = compare([BOIN30, kb], TRUTH, 2000, seed=9, cohort_size=3, cohorts=10, keep_trials=True)
    ta, tb = a.trials_frame(), b.trials_frame()
    # Both designs treat the first cohort at dose 1 with the same three patients.
    first_a = ta["y1"].where(ta["n1"] == 3)
    assert len(ta) == len(tb) == 2000
    same_first = (ta["n1"] == 3) & (tb["n1"] == 3)
    assert (ta.loc[same_first, "y1"] == tb.loc[same_first, "y1"]).all()
    assert first_a.notna().any()


def test_crm_runs_and_selects_near_the_target() -> None:
    design = CRM(skeleton=(0.05, 0.10, 0.20, 0.30, 0.45, 0.60), target_rate=0.25) | StopAtN(24)
    oc = simulate(design, (0.05, 0.10, 0.20, 0.30, 0.45, 0.60), 300, seed=1, cohort_size=3)
    best = int(np.argmax([f.value for f in oc.selection]))
    assert best in (2, 3)
    assert oc.sample_size.value == 24


@pytest.mark.parametrize(
    ("truth", "message"),
    [
        ((0.1, 0.2, 1.3, 0.4, 0.5), r"\[0, 1\]"),
        ((0.1, -0.2, 0.3, 0.4, 0.5), r"\[0, 1\]"),
        ((0.1, 0.2, 0.3), "expected 5"),
    ],
)
def test_bad_truth_is_a_clear_error(truth: tuple[float, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate(BOIN30, truth, 10, seed=1, cohort_size=3, cohorts=10)


def test_bad_trial_counts_and_cohorts_are_clear_errors() -> None:
    with pytest.raises(InputError, match="trials"):
        simulate(BOIN30, TRUTH, 0, seed=1, cohort_size=3, cohorts=10)
    with pytest.raises(InputError, match="cohorts"):
        simulate(BOIN30, TRUTH, 10, seed=1, cohort_size=3, cohorts=0)
    with pytest.raises(InputError, match="cohorts"):
        simulate(BOIN30, TRUTH, 10, seed=1, cohort_size=3)
    with pytest.raises(InputError, match="numpy stream"):
        simulate(ThreePlusThree(doses=5), TRUTH, 10, seed=1, rng="r")
    with pytest.raises(InputError, match="rng"):
        simulate(BOIN30, TRUTH, 10, seed=1, cohort_size=3, cohorts=10, rng="mt")  # type: ignore[arg-type]
