"""Trials in calendar time: arrivals, DLT windows, waiting, and trial duration.

Patients arrive one at a time, `arrival_days` apart (fixed) or with exponential gaps of
that mean. Each is followed for `window_days`; a patient with a DLT (latent uniform
u < p at the dose given) has it at a uniform time inside the window, so a DLT can be
known before the window ends.

How a design uses time:
- cohort designs (3+3, BOIN, mTPI-2, Keyboard, CRM) enrol a cohort of the size the
  design asks for, then wait until every patient in it is evaluable;
- rolling six decides at every arrival from enrolled, DLT and pending counts, and holds
  accrual when its grid says so;
- TITE-CRM decides at every arrival using partial follow-up of pending patients.
An arrival while accrual is on hold is turned away (not queued). The trial ends when
the design stops; its duration runs from the first enrolment to that decision, or to the
end of the last window when the design stops for its maximum sample size.

Every decision comes from the design's own `fit()`, so the rules are the designs
package's, not a copy. Decisions that ignore follow-up time are cached by history.
This path loops over trials in Python: it is for durations and waiting designs, not for
the sub-second throughput of the table-driven engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.base import Design, DesignState, Modified
from phaseone.designs.outcomes import Outcomes, Patient
from phaseone.designs.rolling_six import RollingSix
from phaseone.designs.tite import TITECRM
from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import NO_DOSE, TrialBatch
from phaseone.simulation.compile import unwrap
from phaseone.simulation.engine import check_truth
from phaseone.simulation.fitpath import stop_reason

Arrival = Literal["fixed", "exponential"]
MAX_DECISIONS = 10_000  # a guard against a design that never stops


@dataclass(frozen=True)
class Timeline:
    """Calendar-time settings."""

    arrival: Arrival = "exponential"
    arrival_days: float = 7.0
    window_days: float = 28.0

    def __post_init__(self) -> None:
        problems = []
        if self.arrival not in ("fixed", "exponential"):
            problems.append(
                Problem("arrival", f"expected fixed or exponential, got {self.arrival!r}")
            )
        if not self.arrival_days > 0:
            problems.append(Problem("arrival_days", "expected a positive number of days"))
        if not self.window_days > 0:
            problems.append(Problem("window_days", "expected a positive number of days"))
        if problems:
            raise InputError(problems)


@dataclass
class _Patient:
    dose: int  # 1-based
    start: float
    dlt_at: float | None  # day of the DLT, if any

    def status(self, now: float, window: float) -> Patient:
        if self.dlt_at is not None and self.dlt_at <= now:
            return Patient(self.dose, "T", self.dlt_at - self.start)
        if now >= self.start + window:
            return Patient(self.dose, "N", window)
        return Patient(self.dose, "P", now - self.start)

    def resolves(self, window: float) -> float:
        return self.dlt_at if self.dlt_at is not None else self.start + window


def _mode(design: Design) -> Literal["cohort", "rolling", "tite"]:
    base = unwrap_base(design)
    if isinstance(base, RollingSix):
        return "rolling"
    if isinstance(base, TITECRM):
        return "tite"
    return "cohort"


def unwrap_base(design: Design) -> Design:
    return design.base if isinstance(design, Modified) else design


class _Fitter:
    """design.fit with a cache keyed by the history without follow-up days, for designs
    whose decisions do not depend on them."""

    def __init__(self, design: Design, uses_time: bool) -> None:
        self.design = design
        self.uses_time = uses_time
        self.cache: dict[tuple[tuple[int, str], ...], DesignState] = {}

    def __call__(self, patients: list[Patient]) -> DesignState:
        if self.uses_time:
            return self.design.fit(Outcomes(tuple(patients)))
        key = tuple((p.dose, p.status) for p in patients)
        state = self.cache.get(key)
        if state is None:
            state = self.design.fit(Outcomes(tuple(patients)))
            self.cache[key] = state
        return state


def run_timeline(
    design: Design,
    truth: NDArray[np.float64],
    timeline: Timeline,
    seeds: list[np.random.SeedSequence],
    progress: Callable[[int], None] | None = None,
) -> TrialBatch:
    """Simulate one trial per seed in calendar time."""
    check_truth(truth, design.n_doses)
    base = unwrap(design).base
    if unwrap(design).titration is not None:
        raise InputError([Problem("titration", "not supported in calendar-time simulation")])
    mode = _mode(design)
    fitter = _Fitter(design, uses_time=mode == "tite")
    k = design.n_doses
    trials = len(seeds)
    n = np.zeros((trials, k), dtype=np.int64)
    y = np.zeros((trials, k), dtype=np.int64)
    selected = np.full(trials, NO_DOSE, dtype=np.int64)
    reason = np.zeros(trials, dtype=np.int64)
    duration = np.zeros(trials, dtype=np.float64)
    start_dose = int(getattr(base, "start_dose", 1))
    for t, seed in enumerate(seeds):
        patient_seed, arrival_seed = seed.spawn(2)
        rng_p = np.random.default_rng(patient_seed)
        rng_a = np.random.default_rng(arrival_seed)
        state, end = _one_trial(fitter, mode, truth, timeline, rng_p, rng_a, start_dose)
        enrolled = state.treated
        n[t] = enrolled
        y[t] = state.tox
        selected[t] = NO_DOSE if state.selection.dose is None else state.selection.dose - 1
        reason[t] = stop_reason(state)
        duration[t] = end
        if progress is not None:
            progress(t + 1)
    return TrialBatch(n, y, selected, reason, duration)


def _one_trial(
    fit: _Fitter,
    mode: Literal["cohort", "rolling", "tite"],
    truth: NDArray[np.float64],
    tl: Timeline,
    rng_p: np.random.Generator,
    rng_a: np.random.Generator,
    start_dose: int,
) -> tuple[DesignState, float]:
    window = tl.window_days
    patients: list[_Patient] = []

    def gap() -> float:
        if tl.arrival == "fixed":
            return tl.arrival_days
        return float(rng_a.exponential(tl.arrival_days))

    def history(now: float) -> list[Patient]:
        return [p.status(now, window) for p in patients]

    def enrol(dose: int, when: float) -> None:
        u_tox, u_time = rng_p.random(2)
        dlt_at = when + u_time * window if u_tox < truth[dose - 1] else None
        patients.append(_Patient(dose, when, dlt_at))

    now = 0.0
    first: float | None = None
    state = fit([])
    dose = start_dose
    for _ in range(MAX_DECISIONS):
        if mode == "cohort":
            if not state.should_continue:
                break
            size = state.next_cohort_size or 1
            dose = state.recommended_dose or dose
            for j in range(size):
                if j or patients:
                    now += gap()
                enrol(dose, now)
                first = now if first is None else first
            # Wait for every outcome of the cohort.
            now = max(now, max(p.resolves(window) for p in patients[-size:]))
            state = fit(history(now))
            continue
        # Rolling six and TITE-CRM: decide at each arrival.
        if not state.should_continue:
            break
        if state.accrual_suspended:
            pending = [p.resolves(window) for p in patients if p.resolves(window) > now]
            if not pending:
                break
            resume = min(pending)
            state = fit(history(resume))
            while now < resume:  # arrivals while on hold are turned away
                now += gap()
            if state.accrual_suspended or not state.should_continue:
                now = max(now, resume)
                state = fit(history(now))
                continue
            state = fit(history(now))
            if not state.should_continue or state.accrual_suspended:
                continue
        dose = state.recommended_dose or dose
        if patients:
            nxt = now + gap()
            # Outcomes that resolve before the next arrival may stop the trial.
            resolving = sorted(
                p.resolves(window) for p in patients if now < p.resolves(window) <= nxt
            )
            stopped = False
            for when in resolving:
                probe = fit(history(when))
                if not probe.should_continue:
                    now, state, stopped = when, probe, True
                    break
            if stopped:
                break
            now = nxt
            state = fit(history(now))
            if not state.should_continue or state.accrual_suspended:
                continue
            dose = state.recommended_dose or dose
        enrol(dose, now)
        first = now if first is None else first
        state = fit(history(now))
    else:
        raise InputError([Problem("design", "the simulated trial did not stop")])
    if mode != "cohort" and state.should_continue is False and patients:
        rules = [r.rule for r in state.reasons]
        if "stop_at_n" in rules:
            # Stopped enrolling at the maximum: the final analysis waits for every window.
            now = max(now, max(p.resolves(window) for p in patients))
            state = fit(history(now))
    start = 0.0 if first is None else first
    return state, now - start


@dataclass(frozen=True, eq=False)
class TimelinePlan:
    """A design simulated in calendar time (per-trial seeds instead of uniform rows)."""

    design: Design
    timeline: Timeline

    @property
    def name(self) -> str:
        return self.design.describe()

    @property
    def n_doses(self) -> int:
        return self.design.n_doses

    @property
    def target(self) -> float:
        t = self.design.target
        return 1 / 3 if t is None else t

    def run_seeded(
        self,
        truth: NDArray[np.float64],
        seed: np.random.SeedSequence,
        trials: int,
        progress: Callable[[int], None] | None = None,
    ) -> TrialBatch:
        return run_timeline(self.design, truth, self.timeline, seed.spawn(trials), progress)


def needs_timeline(design: Design) -> bool:
    """Rule-based designs that wait for outcomes have no table-driven engine here."""
    from phaseone.designs.three_plus_three import ThreePlusThree

    return isinstance(unwrap_base(design), RollingSix | ThreePlusThree | TITECRM)
