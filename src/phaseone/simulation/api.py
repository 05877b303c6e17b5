"""`simulate` and `compare`: operating characteristics by simulation.

Trials run in fixed-size chunks. Chunk k draws its latent uniforms from child k of
`SeedSequence(seed)`, so the result depends only on the seed and the number of trials,
not on which machine or Dask worker runs a chunk. Chunk results are summed in chunk
order. With `rng="r"` the trials instead come from R's `set.seed(seed); runif(...)`
stream, in R's order (for trial-by-trial parity with BOIN::get.oc).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.base import Design
from phaseone.designs.interval import IntervalDesign
from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import TrialBatch
from phaseone.simulation.compile import Unwrapped, interval_plan, unwrap
from phaseone.simulation.engine import IntervalPlan, check_truth
from phaseone.simulation.fitpath import FitPlan, fit_plan
from phaseone.simulation.machine import StateMachine, state_machine
from phaseone.simulation.plan import Plan
from phaseone.simulation.results import OCStats, OperatingCharacteristics, Thresholds
from phaseone.simulation.rng import chunk_seeds
from phaseone.simulation.streams import StreamRunner, r_stream_trials, window_runner
from phaseone.simulation.timeline import Timeline, TimelinePlan, needs_timeline

CHUNK_TRIALS = 50_000
MAX_TRIALS = 100_000_000
Progress = Callable[[int, int], None]  # (trials done, trials in all)
RngKind = Literal["numpy", "r"]


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of trials; picklable so a Dask worker can run it."""

    index: int
    plan: Plan | TimelinePlan
    truth: NDArray[np.float64]
    seed: np.random.SeedSequence
    trials: int
    width: int
    thresholds: Thresholds
    keep_trials: bool


def run_chunk(task: ChunkTask) -> tuple[int, OCStats, TrialBatch | None]:
    if isinstance(task.plan, TimelinePlan):
        batch = task.plan.run_seeded(task.truth, task.seed, task.trials)
    else:
        u = np.random.default_rng(task.seed).random((task.trials, task.width))
        batch, _ = fastest(task.plan).run(task.truth, u)
    stats = OCStats.from_batch(batch, task.truth, task.thresholds)
    return task.index, stats, batch if task.keep_trials else None


def fastest(plan: Plan) -> Plan | StateMachine:
    """The interval design's state machine where it has one (checked equal to the engine
    trial by trial), else the plan itself."""
    if isinstance(plan, IntervalPlan):
        machine = state_machine(plan)
        if machine is not None:
            return machine
    return plan


class Backend(Protocol):
    """Runs chunk tasks; returns their results in any order."""

    def map(
        self, tasks: Sequence[ChunkTask], progress: Progress | None
    ) -> list[tuple[int, OCStats, TrialBatch | None]]: ...


class LocalBackend:
    """Runs chunks one after another in this process."""

    def map(
        self, tasks: Sequence[ChunkTask], progress: Progress | None
    ) -> list[tuple[int, OCStats, TrialBatch | None]]:
        total = sum(t.trials for t in tasks)
        out = []
        done = 0
        for task in tasks:
            out.append(run_chunk(task))
            done += task.trials
            if progress is not None:
                progress(done, total)
        return out


def as_plan(
    design: Design | Plan,
    cohort_size: int | None,
    cohorts: int | None,
    timeline: Timeline | None = None,
) -> Plan | TimelinePlan:
    if isinstance(design, Design) and (timeline is not None or needs_timeline(design)):
        if cohorts is not None or cohort_size is not None:
            design = _with_max_n(design, cohort_size, cohorts)
        return TimelinePlan(design, timeline or Timeline())
    if isinstance(design, Design):
        compiled = compile_plan(design, cohort_size, cohorts)
        return compiled if compiled is not None else fit_plan(design, cohort_size, cohorts)
    return design


def compile_plan(design: Design, cohort_size: int | None, cohorts: int | None) -> Plan | None:
    """The compiled engine's plan where it plays exactly the trials `fit()` plays (a test
    checks every combination accepted here), else None: the caller then simulates
    through `fit()`."""
    parts = unwrap(design)
    if parts.others:
        return None
    base = parts.base
    if isinstance(base, IntervalDesign):
        cs = 3 if cohort_size is None else cohort_size
        cohorts = _cohorts_within_stop_at_n(parts, cs, cohorts)
        if cohorts is None:
            return None
        if parts.titration is not None:
            # The engine fills the titration dose to its own cohort size and draws every
            # titration patient before its first check of the maximum.
            inner = parts.stop_at_n_before_titration
            if (
                parts.titration.cohort_size != cs
                or cs < 2
                or cs * cohorts < base.n_doses + cs - 1
                or (inner is not None and inner <= base.n_doses)
            ):
                return None
        return interval_plan(design, cs, cohorts)
    from phaseone.designs.crm import CRM
    from phaseone.designs.tite import TITECRM

    if isinstance(base, CRM) and not isinstance(base, TITECRM):
        if base.method != "bayes" or parts.titration is not None:
            return None
        cs = 1 if cohort_size is None else cohort_size
        cohorts = _cohorts_within_stop_at_n(parts, cs, cohorts)
        if cohorts is None:
            return None
        from phaseone.simulation.crm_engine import crm_plan

        return crm_plan(design, cs, cohorts)
    return None


def _cohorts_within_stop_at_n(parts: Unwrapped, cs: int, cohorts: int | None) -> int | None:
    """The cohorts the engine runs so that its maximum is the design's StopAtN (or the
    cohorts asked for, when they end first); None when only `fit()` can follow the
    StopAtN (it would cut a cohort short)."""
    cap = parts.stop_at_n
    if cap is None:
        return cohorts
    if cohorts is not None and cs * cohorts <= cap:
        return cohorts
    return cap // cs if cap % cs == 0 else None


def r_stream_runner(plan: Plan, truth: NDArray[np.float64]) -> StreamRunner:
    """How trials are played on R's stream: through the interval design's state machine
    where it has one (checked equal to the engine), else through the plan's engine."""
    fast = fastest(plan)
    if isinstance(fast, StateMachine):
        return fast.stream_runner(truth)
    return window_runner(lambda u: plan.run(truth, u), plan.uniforms_per_trial)


def _with_max_n(design: Design, cohort_size: int | None, cohorts: int | None) -> Design:
    """Calendar-time runs take the sample size from the design (StopAtN); cohorts given
    on top become a StopAtN of cohorts x cohort size."""
    from phaseone.designs.modifiers import StopAtN

    if cohorts is None:
        return design
    if cohorts < 1:
        raise InputError([Problem("cohorts", f"expected 1 or more, got {cohorts}")])
    return design | StopAtN(cohorts * (cohort_size or 1))


def default_thresholds(
    plan: Plan | TimelinePlan, overdose_cutoff: float | None, margin: float
) -> Thresholds:
    cutoff = plan.target if overdose_cutoff is None else overdose_cutoff
    return Thresholds(cutoff, plan.target + margin)


def simulate(
    design: Design | Plan,
    truth: Sequence[float] | NDArray[np.float64],
    n_trials: int = 10_000,
    seed: int = 1,
    *,
    cohort_size: int | None = None,
    cohorts: int | None = None,
    rng: RngKind = "numpy",
    overdose_cutoff: float | None = None,
    margin: float = 0.1,
    keep_trials: bool = False,
    backend: Backend | None = None,
    progress: Progress | None = None,
    width: int | None = None,
    timeline: Timeline | None = None,
) -> OperatingCharacteristics:
    """Simulate `n_trials` trials of `design` under the true DLT rates `truth`.

    `overdose_cutoff` (default: the target) defines doses above the true MTD;
    `margin` defines "selected a dose above target + margin". `keep_trials` keeps every
    trial's counts in `result.trials`. `width` forces the number of latent uniforms per
    trial (used by `compare` so that designs see the same patients). With `timeline`
    (and always for 3+3, rolling six and TITE-CRM) trials run in calendar time and the
    result includes trial duration.
    """
    plan = as_plan(design, cohort_size, cohorts, timeline)
    p = np.asarray(truth, dtype=np.float64)
    check_truth(p, plan.n_doses)
    if not 1 <= n_trials <= MAX_TRIALS:
        raise InputError([Problem("trials", f"expected 1..{MAX_TRIALS:,}, got {n_trials}")])
    thresholds = default_thresholds(plan, overdose_cutoff, margin)
    details: dict[str, object] = {"seed": seed, "rng": rng, "design": plan.name}
    if isinstance(plan, TimelinePlan):
        if rng != "numpy":
            raise InputError([Problem("rng", "calendar-time runs use the numpy stream only")])
        details["timeline"] = {
            "arrival": plan.timeline.arrival,
            "arrival_days": plan.timeline.arrival_days,
            "window_days": plan.timeline.window_days,
        }
        w = 0
    else:
        w = plan.uniforms_per_trial if width is None else max(width, plan.uniforms_per_trial)
    if rng == "r" and isinstance(plan, FitPlan):
        raise InputError(
            [
                Problem(
                    "rng",
                    f"R's stream is for designs with a compiled engine (parity with R "
                    f"packages); {plan.name} simulates through fit() with the numpy stream",
                )
            ]
        )
    if rng == "r" and not isinstance(plan, TimelinePlan):
        batch = r_stream_trials(
            r_stream_runner(plan, p), seed, n_trials, plan.uniforms_per_trial, plan.r_offset_step
        )
        stats = OCStats.from_batch(batch, p, thresholds)
        if progress is not None:
            progress(n_trials, n_trials)
        oc = OperatingCharacteristics.from_stats(plan.name, p, stats, thresholds, details)
        return oc.with_trials(batch if keep_trials else None)
    if rng != "numpy":
        raise InputError([Problem("rng", f"expected 'numpy' or 'r', got {rng!r}")])
    sizes = [CHUNK_TRIALS] * (n_trials // CHUNK_TRIALS)
    if n_trials % CHUNK_TRIALS:
        sizes.append(n_trials % CHUNK_TRIALS)
    seeds = chunk_seeds(seed, len(sizes))
    tasks = [
        ChunkTask(i, plan, p, seeds[i], m, w, thresholds, keep_trials) for i, m in enumerate(sizes)
    ]
    results = sorted((backend or LocalBackend()).map(tasks, progress), key=lambda r: r[0])
    stats = results[0][1]
    for _, s, _ in results[1:]:
        stats = stats + s
    kept = [b for _, _, b in results if b is not None]
    oc = OperatingCharacteristics.from_stats(plan.name, p, stats, thresholds, details)
    return oc.with_trials(TrialBatch.concat(kept) if kept else None)


def compare(
    designs: Sequence[Design | Plan],
    truth: Sequence[float] | NDArray[np.float64],
    n_trials: int = 10_000,
    seed: int = 1,
    **kwargs: object,
) -> list[OperatingCharacteristics]:
    """Simulate several designs on the same simulated patients (common random numbers):
    trial t of every design draws its patients' latent uniforms from the same row."""
    cohort_size = kwargs.pop("cohort_size", None)
    cohorts = kwargs.pop("cohorts", None)
    timeline = kwargs.pop("timeline", None)
    plans = [as_plan(d, cohort_size, cohorts, timeline) for d in designs]  # type: ignore[arg-type]
    width = max(
        (pl.uniforms_per_trial for pl in plans if not isinstance(pl, TimelinePlan)), default=0
    )
    return [
        simulate(pl, truth, n_trials, seed, width=width, **kwargs)  # type: ignore[arg-type]
        for pl in plans
    ]
