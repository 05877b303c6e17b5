"""The state machine plays exactly the trials the engine plays.

The machine is enumerated from the engine's own `decide`; here both run the same rows of
uniforms and must agree trial by trial on every count, the selection, the stop reason and
the uniforms used."""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import BOIN, MTPI2, Design, Keyboard, Titration
from phaseone.simulation.compile import interval_plan
from phaseone.simulation.engine import run_interval
from phaseone.simulation.machine import build_machine, state_machine

TRUTHS = [
    (0.05, 0.15, 0.30, 0.45, 0.60),
    (0.30, 0.45, 0.55, 0.65, 0.75),
    (0.01, 0.03, 0.08, 0.15, 0.25),
    (0.55, 0.60, 0.70, 0.80, 0.90),
]

CASES: list[tuple[Design, int, int]] = [
    (BOIN(target_rate=0.30, doses=5, early_stop_n=18), 3, 10),
    (BOIN(target_rate=0.25, doses=5, early_stop_n=12, extrasafe=True, bound_mtd=True), 3, 8),
    (BOIN(target_rate=0.20, doses=5, start_dose=2), 2, 10),
    (BOIN(target_rate=0.30, doses=5, early_stop_n=9, early_stop_rule="simple"), 1, 20),
    (Keyboard(target_rate=0.30, doses=5, early_stop_n=12), 3, 8),
    (MTPI2(target_rate=0.25, doses=5, extrasafe=True), 4, 6),
]


@pytest.mark.parametrize(("design", "cs", "cohorts"), CASES, ids=lambda c: str(c))
@pytest.mark.parametrize("truth", TRUTHS)
def test_machine_equals_engine(
    design: Design, cs: int, cohorts: int, truth: tuple[float, ...]
) -> None:
    plan = interval_plan(design, cohort_size=cs, cohorts=cohorts)
    machine = build_machine(plan)
    assert machine is not None
    p = np.array(truth)
    u = np.random.default_rng(11).random((3000, plan.uniforms_per_trial))
    ours, used = machine.run(p, u)
    ref, ref_used = run_interval(plan, p, u)
    np.testing.assert_array_equal(ours.n, ref.n)
    np.testing.assert_array_equal(ours.y, ref.y)
    np.testing.assert_array_equal(ours.selected, ref.selected)
    np.testing.assert_array_equal(ours.stop_reason, ref.stop_reason)
    np.testing.assert_array_equal(used, ref_used)


def test_no_machine_for_titration_or_too_many_states() -> None:
    titrated = interval_plan(BOIN(target_rate=0.3, doses=5) | Titration(), 3, 10)
    assert state_machine(titrated) is None
    plan = interval_plan(BOIN(target_rate=0.3, doses=5), 3, 10)
    assert build_machine(plan, max_states=100) is None


def test_machine_is_cached_by_contents() -> None:
    design = BOIN(target_rate=0.3, doses=5, early_stop_n=18)
    a = state_machine(interval_plan(design, 3, 10))
    b = state_machine(interval_plan(design, 3, 10))
    assert a is not None and a is b
    assert state_machine(interval_plan(design, 3, 9)) is not a
