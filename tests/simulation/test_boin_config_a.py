"""BOIN with R's random stream reproduces the published config A trial by trial.

Reference: simFastBOIN vignette (see published.py), which agrees with BOIN::get.oc for the
same seed. Every printed digit must match.
"""

from __future__ import annotations

import collections
from dataclasses import replace

import numpy as np
import pytest

from phaseone.simulation.batch import NO_DOSE, StopReason, TrialBatch
from phaseone.simulation.engine import IntervalPlan, run_interval
from phaseone.simulation.machine import build_machine
from phaseone.simulation.streams import StreamRunner, offset_step, r_stream_trials, window_runner

from .published import (
    CONFIG_A_CROSSTAB,
    CONFIG_A_DLTS,
    CONFIG_A_PATIENTS,
    CONFIG_A_SELECTED,
    CONFIG_A_SELECTED_BOUND,
    CONFIG_A_STOPS,
    CONFIG_A_TRUTH,
    boin_030_codes,
)

LAMBDA_D_030 = 0.3585195  # simFastBOIN vignette, boin_lambda(0.30)


def config_a_plan() -> IntervalPlan:
    return IntervalPlan(
        "boin", 5, 0.30, boin_030_codes(), cohort_size=3, n_cohorts=10, early_stop_n=18
    )


# Both ways of playing R's stream: the engine on every offset, and the state machine.
PATHS = ["engine", "machine"]


def runner(plan: IntervalPlan, path: str) -> StreamRunner:
    truth = np.array(CONFIG_A_TRUTH)
    if path == "engine":
        return window_runner(lambda u: run_interval(plan, truth, u), plan.uniforms_per_trial)
    machine = build_machine(plan)
    assert machine is not None
    return machine.stream_runner(truth)


def run_r(
    plan: IntervalPlan, seed: int = 123, trials: int = 1000, path: str = "engine"
) -> TrialBatch:
    return r_stream_trials(
        runner(plan, path),
        seed,
        trials,
        plan.uniforms_per_trial,
        offset_step(plan.cohort_size, 0),
    )


@pytest.mark.parametrize("path", PATHS)
def test_config_a_every_printed_digit(path: str) -> None:
    batch = run_r(config_a_plan(), path=path)
    assert tuple(np.round(batch.n.mean(axis=0), 2)) == CONFIG_A_PATIENTS
    assert tuple(np.round(batch.y.mean(axis=0), 2)) == CONFIG_A_DLTS
    counts = np.bincount(batch.selected[batch.selected != NO_DOSE], minlength=5)
    assert tuple(int(c) for c in counts) == CONFIG_A_SELECTED
    assert int((batch.selected == NO_DOSE).sum()) == 1
    pct = {r.label: 100 * float((batch.stop_reason == r).mean()) for r in StopReason}
    for label, expected in CONFIG_A_STOPS.items():
        assert round(pct[label], 1) == expected


@pytest.mark.parametrize("path", PATHS)
def test_config_a_bound_mtd_and_crosstab(path: str) -> None:
    free = run_r(config_a_plan(), path=path)
    bounded = run_r(replace(config_a_plan(), bound_mtd=LAMBDA_D_030), path=path)
    counts = np.bincount(bounded.selected[bounded.selected != NO_DOSE], minlength=5)
    assert tuple(int(c) for c in counts) == CONFIG_A_SELECTED_BOUND
    pairs = collections.Counter(zip(free.selected + 1, bounded.selected + 1, strict=True))
    assert {(int(a), int(b)): c for (a, b), c in pairs.items()} == CONFIG_A_CROSSTAB


@pytest.mark.parametrize("path", PATHS)
def test_r_stream_does_not_depend_on_window_size(path: str) -> None:
    plan = config_a_plan()

    def run(window: int) -> TrialBatch:
        return r_stream_trials(runner(plan, path), 9, 300, plan.uniforms_per_trial, 3, window)

    a, b = run(7), run(4096)
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_array_equal(a.selected, b.selected)
