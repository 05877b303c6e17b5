"""The vectorised engines make exactly the decisions `design.fit()` makes.

Random trials are run through the fast path with a trace of every cohort; each trial's
history is then replayed through the designs package one cohort at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

from phaseone.designs import BOIN, CRM, MTPI2, Design, Keyboard, StopAtN, Titration
from phaseone.simulation.batch import NO_DOSE, StopReason
from phaseone.simulation.compile import interval_plan
from phaseone.simulation.crm_engine import crm_plan, run_crm
from phaseone.simulation.engine import run_interval

TRUTHS = [
    (0.05, 0.15, 0.30, 0.45, 0.60),
    (0.30, 0.45, 0.55, 0.65, 0.75),
    (0.01, 0.03, 0.08, 0.15, 0.25),
    (0.55, 0.60, 0.70, 0.80, 0.90),
]

DESIGNS: list[Design] = [
    BOIN(target_rate=0.30, doses=5, early_stop_n=18),
    BOIN(target_rate=0.25, doses=5, early_stop_n=12, extrasafe=True, bound_mtd=True),
    BOIN(target_rate=0.20, doses=5, start_dose=2),
    Keyboard(target_rate=0.30, doses=5, early_stop_n=12),
    MTPI2(target_rate=0.25, doses=5, extrasafe=True),
]


def outcome_string(doses: list[int], flags: list[list[int]]) -> str:
    return " ".join(
        f"{d + 1}" + "".join("T" if f else "N" for f in fl if f >= 0)
        for d, fl in zip(doses, flags, strict=True)
    )


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.describe())
@pytest.mark.parametrize("truth", TRUTHS)
def test_interval_engine_matches_fit(design: Design, truth: tuple[float, ...]) -> None:
    plan = interval_plan(design, cohort_size=3, cohorts=8)
    rng = np.random.default_rng(abs(hash((design.describe(), truth))) % 2**32)
    u = rng.random((40, plan.uniforms_per_trial))
    trace: list[tuple[np.ndarray, np.ndarray]] = []
    batch, _ = run_interval(plan, np.array(truth), u, trace)
    for t in range(batch.n_trials):
        doses: list[int] = []
        flags: list[list[int]] = []
        for c, (dose, fl) in enumerate(trace):
            if dose[t] < 0:
                break
            doses.append(int(dose[t]))
            flags.append([int(f) for f in fl[t]])
            state = design.fit(outcome_string(doses, flags))
            nxt = trace[c + 1][0][t] if c + 1 < len(trace) else -1
            if nxt >= 0:
                assert state.should_continue, (t, c)
                assert state.recommended_dose == nxt + 1, (t, c, outcome_string(doses, flags))
            elif batch.stop_reason[t] != StopReason.MAX_SAMPLE_SIZE:
                assert not state.should_continue, (t, c, outcome_string(doses, flags))
        final = design.fit(outcome_string(doses, flags)).selection.dose
        ours = None if batch.selected[t] == NO_DOSE else int(batch.selected[t]) + 1
        assert ours == final, (t, outcome_string(doses, flags))


@pytest.mark.parametrize("truth", TRUTHS[:2])
@pytest.mark.parametrize("restrict", [True, False])
def test_crm_engine_matches_fit(truth: tuple[float, ...], restrict: bool) -> None:
    design = CRM(skeleton=(0.05, 0.12, 0.25, 0.40, 0.55), target_rate=0.25, restrict=restrict)
    plan = crm_plan(design | StopAtN(12), cohort_size=2, cohorts=None)
    u = np.random.default_rng(7).random((12, plan.uniforms_per_trial))
    batch, _ = run_crm(plan, np.array(truth), u)
    # Replay: rebuild each trial's doses from the fits, drawing the same uniforms.
    for t in range(batch.n_trials):
        dose = design.start_dose - 1
        parts: list[str] = []
        for c in range(plan.n_cohorts):
            cohort = u[t, 2 * c : 2 * c + 2] < truth[dose]
            parts.append(f"{dose + 1}" + "".join("T" if x else "N" for x in cohort))
            dose = design.fit(" ".join(parts)).recommended_dose - 1
        n = np.zeros(5, dtype=np.int64)
        for part in parts:
            n[int(part[0]) - 1] += len(part) - 1
        np.testing.assert_array_equal(batch.n[t], n)
        assert batch.selected[t] + 1 == design.fit(" ".join(parts)).selection.dose


@pytest.mark.parametrize("truth", TRUTHS)
def test_titration_matches_the_titration_modifier(truth: tuple[float, ...]) -> None:
    design = BOIN(target_rate=0.30, doses=5, early_stop_n=18) | Titration(3)
    plan = interval_plan(design, cohort_size=3, cohorts=8)
    u = np.random.default_rng(5).random((40, plan.uniforms_per_trial))
    trace: list[tuple[np.ndarray, np.ndarray]] = []
    batch, _ = run_interval(plan, np.array(truth), u, trace)
    k = 5
    for t in range(batch.n_trials):
        # Titration: one patient per dose until the first DLT, then fill to 3.
        parts = []
        for d in range(k):
            dlt = u[t, d] < truth[d]
            parts.append(f"{d + 1}{'T' if dlt else 'N'}")
            if dlt:
                break
        top = len(parts) - 1
        fill = ["T" if x < truth[top] else "N" for x in u[t, k : k + 2]]
        parts.append(f"{top + 1}{''.join(fill)}")
        state = design.fit(" ".join(parts))
        for c, (dose, fl) in enumerate(trace):
            if dose[t] < 0:
                break
            assert state.recommended_dose == dose[t] + 1, (t, c, " ".join(parts))
            parts.append(f"{dose[t] + 1}" + "".join("T" if f else "N" for f in fl[t] if f >= 0))
            state = design.fit(" ".join(parts))
        ours = None if batch.selected[t] == NO_DOSE else int(batch.selected[t]) + 1
        assert ours == state.selection.dose, (t, " ".join(parts))
