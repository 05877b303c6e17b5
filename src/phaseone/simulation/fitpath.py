"""Any composed design, simulated through its own `fit()`: the path with no second copy.

Trials step together, one cohort at a time. Before each cohort every running trial asks
the design what to do given its history so far; trials that share a history share one
`fit()` call (early in a trial most simulated trials do), and the answers are kept for the
whole run. The cohort's DLTs are then drawn for all trials at once from their rows of
latent uniforms: patient j of a trial uses u_j and has a DLT at dose d when u_j < p_d, as
in the compiled engines. The cohort size is the design's `next_cohort_size` when it gives
one (titration, rolling six), else the simulation's.

A trial ends when the design stops (its selection and the rule that stopped it are
recorded) or when the planned maximum sample size is reached (the last cohort is cut to
fit). This is how a design with any modifier simulates; the compiled engines
(`compile.py`) are an optimisation for the modifiers they understand, and a test checks
them equal to this path trial by trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.base import Design, DesignState, Modified
from phaseone.designs.modifiers import StopAtN
from phaseone.designs.outcomes import Outcomes
from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import NO_DOSE, StopReason, TrialBatch
from phaseone.simulation.engine import check_truth


def stop_reason(state: DesignState) -> StopReason:
    """Why a stopped design stopped, from the rules that decided (`state.reasons`)."""
    rules = {r.rule for r in state.reasons}
    if "stop_at_n" in rules:
        return StopReason.MAX_SAMPLE_SIZE
    if "early_stop_n" in rules:
        return StopReason.EARLY_STOP_N
    if state.details.get("lowest_eliminated") == 1:
        return StopReason.LOWEST_DOSE_ELIMINATED
    if "extrasafe" in rules:
        return StopReason.EXTRASAFE
    if state.selection.dose is None:
        return StopReason.NO_DOSE_ACCEPTABLE
    return StopReason.MTD_DECLARED


@dataclass(frozen=True)
class Answer:
    """The part of a fitted state the simulation needs."""

    go: bool
    dose: int  # next dose, 1-based (meaningful when go)
    size: int | None  # the design's next cohort size, if it names one
    selected: int | None  # 1-based selection now
    reason: StopReason | None  # when not go


@dataclass
class Answers:
    """`design.fit` once per distinct history. A history is an outcome string (its key);
    its `Outcomes` extend the parent history's by one cohort, so nothing is re-parsed."""

    design: Design
    cache: dict[str, Answer] = field(default_factory=dict)
    outcomes: dict[str, Outcomes] = field(default_factory=lambda: {"": Outcomes()})

    def __call__(self, history: str) -> Answer:
        answer = self.cache.get(history)
        if answer is None:
            state = self.design.fit(self._outcomes(history))
            go = state.should_continue and state.recommended_dose is not None
            answer = Answer(
                go=go,
                dose=state.recommended_dose or 0,
                size=state.next_cohort_size,
                selected=state.selection.dose,
                reason=None if go else stop_reason(state),
            )
            self.cache[history] = answer
        return answer

    def _outcomes(self, history: str) -> Outcomes:
        known = self.outcomes.get(history)
        if known is not None:
            return known
        parent, _, cohort = history.rpartition(" ")
        letters = cohort.lstrip("0123456789")
        dose = int(cohort[: len(cohort) - len(letters)])
        extended = self._outcomes(parent).then(dose, letters)
        self.outcomes[history] = extended
        return extended


def stop_at_n_of(design: Design) -> int | None:
    """The smallest StopAtN among the design's modifiers, if any."""
    if not isinstance(design, Modified):
        return None
    caps = [m.n for m in design.modifiers if isinstance(m, StopAtN)]
    return min(caps) if caps else None


@dataclass(frozen=True, eq=False)
class FitPlan:
    """A design simulated through `fit()`, on rows of latent uniforms (one per patient)."""

    design: Design
    cohort_size: int
    max_sample_size: int

    def __post_init__(self) -> None:
        if self.cohort_size < 1:
            raise InputError(
                [Problem("cohort_size", f"expected 1 or more, got {self.cohort_size}")]
            )
        if self.max_sample_size < 1:
            raise InputError(
                [
                    Problem(
                        "cohorts",
                        f"expected a maximum sample size of 1 or more, got {self.max_sample_size}",
                    )
                ]
            )

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

    @property
    def uniforms_per_trial(self) -> int:
        return self.max_sample_size

    @property
    def r_offset_step(self) -> int:
        return 1

    def run(
        self, truth: NDArray[np.float64], u: NDArray[np.float64]
    ) -> tuple[TrialBatch, NDArray[np.int64]]:
        return run_fit(self, truth, u)


def fit_plan(design: Design, cohort_size: int | None, cohorts: int | None) -> FitPlan:
    """The fit-path plan: the maximum sample size is cohorts x cohort size, else the
    design's StopAtN."""
    cs = 3 if cohort_size is None else cohort_size
    if cohorts is not None:
        if cohorts < 1:
            raise InputError([Problem("cohorts", f"expected 1 or more, got {cohorts}")])
        return FitPlan(design, cs, cs * cohorts)
    cap = stop_at_n_of(design)
    if cap is None:
        raise InputError([Problem("cohorts", "give the number of cohorts (or a StopAtN maximum)")])
    return FitPlan(design, cs, cap)


def run_fit(
    plan: FitPlan, truth: NDArray[np.float64], u: NDArray[np.float64]
) -> tuple[TrialBatch, NDArray[np.int64]]:
    """Run one batch; returns it and the uniforms (patients) each trial used."""
    check_truth(truth, plan.n_doses)
    trials, k = u.shape[0], plan.n_doses
    if u.shape[1] < plan.max_sample_size:
        raise InputError(
            [
                Problem(
                    "width", f"expected {plan.max_sample_size} uniforms per trial, got {u.shape[1]}"
                )
            ]
        )
    answers = Answers(plan.design)
    history = [""] * trials
    n = np.zeros((trials, k), dtype=np.int64)
    y = np.zeros((trials, k), dtype=np.int64)
    total = np.zeros(trials, dtype=np.int64)
    selected = np.full(trials, NO_DOSE, dtype=np.int64)
    reason = np.zeros(trials, dtype=np.int64)
    running = np.arange(trials)
    while running.size:
        said = [answers(history[trial]) for trial in running.tolist()]
        full = total[running] >= plan.max_sample_size
        go = np.array([a.go for a in said], dtype=bool) & ~full
        for i in np.flatnonzero(~go).tolist():
            trial, a = int(running[i]), said[i]
            selected[trial] = NO_DOSE if a.selected is None else a.selected - 1
            reason[trial] = StopReason.MAX_SAMPLE_SIZE if full[i] else (a.reason or 0)
        keep = np.flatnonzero(go).tolist()
        running = running[keep]
        if not running.size:
            break
        dose = np.array([said[i].dose - 1 for i in keep], dtype=np.int64)
        size = np.array([said[i].size or plan.cohort_size for i in keep], dtype=np.int64)
        size = np.minimum(size, plan.max_sample_size - total[running])
        slots = np.arange(int(size.max()))
        enrolled = slots[None, :] < size[:, None]
        column = np.minimum(total[running][:, None] + slots[None, :], u.shape[1] - 1)
        dlt = (u[running[:, None], column] < truth[dose][:, None]) & enrolled
        n[running, dose] += size
        y[running, dose] += dlt.sum(axis=1)
        total[running] += size
        for i, row in enumerate(running.tolist()):
            letters = "".join("T" if f else "N" for f in dlt[i, : size[i]].tolist())
            cohort = f"{dose[i] + 1}{letters}"
            history[row] = f"{history[row]} {cohort}" if history[row] else cohort
    return TrialBatch(n, y, selected, reason), total.copy()
