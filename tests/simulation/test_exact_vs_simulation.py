"""Exact results agree with simulation within 3 standard errors, and exact 3+3 with the
BOIN-style dynamic programme's own bookkeeping."""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import BOIN, MTPI2, Keyboard
from phaseone.errors import InputError
from phaseone.simulation.api import simulate
from phaseone.simulation.compile import interval_plan
from phaseone.simulation.exact_api import exact_oc
from phaseone.simulation.exact_dp import interval_exact

CASES = [
    (BOIN(target_rate=0.30, doses=5, early_stop_n=18), (0.05, 0.15, 0.30, 0.45, 0.60), 10),
    (BOIN(target_rate=0.25, doses=4, extrasafe=True), (0.30, 0.40, 0.50, 0.60), 8),
    (Keyboard(target_rate=0.30, doses=4, early_stop_n=12), (0.10, 0.25, 0.40, 0.55), 8),
    (MTPI2(target_rate=0.20, doses=4), (0.05, 0.10, 0.20, 0.35), 6),
]


@pytest.mark.parametrize(("design", "truth", "cohorts"), CASES)
def test_exact_within_three_standard_errors(design, truth, cohorts) -> None:  # type: ignore[no-untyped-def]
    exact = exact_oc(design, truth, cohort_size=3, cohorts=cohorts)
    # A fixed seed: deterministic; a real discrepancy shows up as many standard errors.
    sim = simulate(design, truth, 40_000, seed=2024, cohort_size=3, cohorts=cohorts)
    assert exact.method == "exact"
    assert sum(f.value for f in exact.selection) + exact.no_mtd.value == pytest.approx(1.0)
    for e, s in zip(exact.selection, sim.selection, strict=True):
        assert abs(e.value - s.value) <= 3 * s.se + 1e-12
    for e, s in zip(exact.patients, sim.patients, strict=True):
        assert abs(e.value - s.value) <= 3 * s.se + 1e-12
    for e, s in zip(exact.dlts, sim.dlts, strict=True):
        assert abs(e.value - s.value) <= 3 * s.se + 1e-12
    assert abs(exact.sample_size.value - sim.sample_size.value) <= 3 * sim.sample_size.se
    assert exact.details["states"]["final"] > 0


def test_state_count_is_reported_and_large_spaces_are_refused() -> None:
    plan = interval_plan(BOIN(target_rate=0.3, doses=6), 1, 40)
    with pytest.raises(InputError, match="trial states"):
        interval_exact(plan, np.full(6, 0.3), 0.3, max_states=1_000)
