"""The conduct of many trials in calendar time: referrals, screening, slots, waitlists, DLT
windows and the design's decisions, to the time an MTD is declared.

Referrals arrive one at a time (fixed gaps or exponential, at the protocol's assumed
accrual rate); a share fail screening; the others ask for a slot. A slot is open when the
design would enrol now: for a design that decides at each arrival (rolling six, TITE-CRM)
when it neither stops nor holds accrual; for a cohort design (3+3, BOIN, CRM, ...) while
the current cohort has places, the next cohort opening once every outcome of the last one
is known. A patient who finds no open slot joins the waitlist (first come, first served)
and leaves it after `patience_days`. A patient with a DLT (latent uniform below the true
rate) has it at a uniform time inside the window. The trial ends when the design stops and
no outcome is pending.

Every decision comes from the design's own `fit()` (through the calendar-time helpers of
`simulation.timeline`), so the escalation rules are the designs package's. Each trial has
its own child of `SeedSequence(seed)`, so the table does not depend on how trials are split
into chunks or where the chunks run (in this process, a Dask LocalCluster, or a cluster).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from phaseone.designs.base import Design, DesignState
from phaseone.designs.outcomes import Patient
from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import StopReason
from phaseone.simulation.engine import check_truth
from phaseone.simulation.fitpath import stop_reason
from phaseone.simulation.timeline import _Fitter, _mode, _Patient

DAYS_PER_MONTH = 365.25 / 12
MAX_EVENTS = 100_000  # a guard against a trial that never ends
CHUNK = 25  # trials per task


@dataclass(frozen=True)
class Accrual:
    """How patients reach the trial (protocol data; the shipped values are assumed)."""

    referrals_per_month: float = 1.0
    arrival: Literal["fixed", "exponential"] = "exponential"
    screen_failure: float = 0.15
    patience_days: float = 28.0
    window_days: float = 28.0
    assumed: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not self.referrals_per_month > 0:
            problems.append(Problem("referrals_per_month", "expected a positive rate"))
        if self.arrival not in ("fixed", "exponential"):
            problems.append(
                Problem("arrival", f"expected fixed or exponential, got {self.arrival!r}")
            )
        if not 0 <= self.screen_failure < 1:
            problems.append(Problem("screen_failure", "expected a fraction in [0, 1)"))
        if not self.patience_days > 0:
            problems.append(Problem("patience_days", "expected a positive number of days"))
        if not self.window_days > 0:
            problems.append(Problem("window_days", "expected a positive number of days"))
        if problems:
            raise InputError(problems)

    @property
    def gap_days(self) -> float:
        return DAYS_PER_MONTH / self.referrals_per_month


def protocol_accrual(**changes: Any) -> Accrual:
    """The shipped accrual assumptions (simulation/data/conduct.yaml), with `changes`."""
    from importlib import resources

    import yaml

    text = (resources.files("phaseone.simulation") / "data" / "conduct.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    values = {k: data[k] for k in ("referrals_per_month", "arrival", "screen_failure",
                                   "patience_days", "window_days")}  # fmt: skip
    values["assumed"] = data["provenance"]["source"] == "assumed"
    values.update({k: v for k, v in changes.items() if v is not None})
    return Accrual(**values)


def conduct_trial(
    design: Design, truth: NDArray[np.float64], accrual: Accrual, seed: np.random.SeedSequence
) -> dict[str, Any]:
    """One trial's conduct: a row of the tidy table (times in days from the first referral)."""
    arrival_seed, patient_seed, screen_seed = seed.spawn(3)
    rng_a = np.random.default_rng(arrival_seed)
    rng_p = np.random.default_rng(patient_seed)
    rng_s = np.random.default_rng(screen_seed)
    mode = _mode(design)
    fit = _Fitter(design, uses_time=mode == "tite")
    window = accrual.window_days
    patients: list[_Patient] = []
    waitlist: deque[float] = deque()
    waits: list[float] = []
    referred = failed = lost = longest = 0
    area = 0.0  # waitlist length integrated over time
    top_at = math.nan

    def gap() -> float:
        if accrual.arrival == "fixed":
            return accrual.gap_days
        return float(rng_a.exponential(accrual.gap_days))

    def history(now: float) -> list[Patient]:
        return [p.status(now, window) for p in patients]

    def pending(now: float) -> list[float]:
        return [r for p in patients if (r := p.resolves(window)) > now]

    now, next_referral = 0.0, 0.0
    state: DesignState = fit([])
    cohort_left = (state.next_cohort_size or 1) if mode == "cohort" else 0
    cohort_dose = state.recommended_dose or 1
    for _ in range(MAX_EVENTS):
        waiting = pending(now)
        if not state.should_continue and not waiting:
            break
        moments = [next_referral]
        if waiting:
            moments.append(min(waiting))
        if waitlist:
            moments.append(waitlist[0] + accrual.patience_days)
        when = min(moments)
        area += len(waitlist) * (when - now)
        now = when
        while waitlist and waitlist[0] + accrual.patience_days <= now:
            waitlist.popleft()
            lost += 1
        if next_referral <= now:
            referred += 1
            if rng_s.random() < accrual.screen_failure:
                failed += 1
            else:
                waitlist.append(now)
            next_referral = now + gap()
        if mode == "cohort":
            if cohort_left == 0 and not pending(now):
                state = fit(history(now))
                cohort_left = (state.next_cohort_size or 1) if state.should_continue else 0
                cohort_dose = state.recommended_dose or cohort_dose
            while waitlist and cohort_left > 0 and state.should_continue:
                dose = cohort_dose
                _enrol(patients, rng_p, truth, dose, now, window)
                waits.append(now - waitlist.popleft())
                cohort_left -= 1
                if dose == len(truth) and math.isnan(top_at):
                    top_at = now
        else:
            state = fit(history(now))
            while waitlist and state.should_continue and not state.accrual_suspended:
                dose = state.recommended_dose or 1
                _enrol(patients, rng_p, truth, dose, now, window)
                waits.append(now - waitlist.popleft())
                if dose == len(truth) and math.isnan(top_at):
                    top_at = now
                state = fit(history(now))
        longest = max(longest, len(waitlist))
    else:
        raise InputError([Problem("design", "the simulated trial did not end")])
    state = fit(history(now))
    row = _row(state, truth, patients, waits, referred, failed, lost, longest, area, now, top_at)
    row["waitlisted_at_end"] = len(waitlist)
    return row


def _enrol(
    patients: list[_Patient], rng: np.random.Generator, truth: NDArray[np.float64], dose: int,
    now: float, window: float,
) -> None:  # fmt: skip
    u_tox, u_time = rng.random(2)
    dlt_at = now + u_time * window if u_tox < truth[dose - 1] else None
    patients.append(_Patient(dose, now, dlt_at))


def _row(
    state: DesignState, truth: NDArray[np.float64], patients: list[_Patient], waits: list[float],
    referred: int, failed: int, lost: int, longest: int, area: float, end: float,
    top_at: float,
) -> dict[str, Any]:  # fmt: skip
    first = patients[0].start if patients else math.nan
    reason = StopReason(stop_reason(state))
    row: dict[str, Any] = {
        "selected": state.selection.dose if state.selection.dose is not None else 0,
        "stop_reason": reason.label,
        "enrolled": len(patients),
        "dlts": sum(1 for p in patients if p.dlt_at is not None),
        "referred": referred,
        "screen_failures": failed,
        "lost_from_waitlist": lost,
        "waited": sum(1 for w in waits if w > 0),
        "mean_wait_days": float(np.mean(waits)) if waits else math.nan,
        "max_wait_days": max(waits) if waits else math.nan,
        "max_waitlist": longest,
        "mean_waitlist": area / end if end > 0 else 0.0,
        "days_to_top_dose": top_at,
        "days_to_decision": end,
        "days_enrolling": end - first,
    }
    for level in range(1, len(truth) + 1):
        row[f"n_{level}"] = sum(1 for p in patients if p.dose == level)
        row[f"dlt_{level}"] = sum(1 for p in patients if p.dose == level and p.dlt_at is not None)
    return row


@dataclass(frozen=True)
class ConductTask:
    """A chunk of trials (picklable, for a Dask worker)."""

    index: int
    design: Design
    truth: tuple[float, ...]
    accrual: Accrual
    seeds: tuple[np.random.SeedSequence, ...]
    first: int  # the trial number of the first seed


def run_conduct_chunk(task: ConductTask) -> tuple[int, list[dict[str, Any]]]:
    truth = np.asarray(task.truth, dtype=np.float64)
    rows = []
    for k, seed in enumerate(task.seeds):
        row = conduct_trial(task.design, truth, task.accrual, seed)
        rows.append({"trial": task.first + k, **row})
    return task.index, rows


Progress = Callable[[int, int], None]


class ConductBackend:
    """Where the chunks run: `map` returns (index, rows) in any order."""

    def map(
        self, tasks: Sequence[ConductTask], progress: Progress | None
    ) -> list[tuple[int, list[dict[str, Any]]]]:
        total = sum(len(t.seeds) for t in tasks)
        out, done = [], 0
        for task in tasks:
            out.append(run_conduct_chunk(task))
            done += len(task.seeds)
            if progress is not None:
                progress(done, total)
        return out


def simulate_conduct(
    design: Design,
    truth: Sequence[float],
    accrual: Accrual,
    trials: int,
    seed: int,
    *,
    backend: Any = None,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> pd.DataFrame:
    """`trials` trials' conduct, one row each (trial, selected level, stop reason, counts,
    waits, waitlist lengths, days to the top dose and to the decision, n and DLTs per
    level). `backend`: None runs here; a `DaskBackend` runs the chunks on Dask."""
    p = np.asarray(truth, dtype=np.float64)
    check_truth(p, design.n_doses)
    if trials < 1:
        raise InputError([Problem("trials", "expected at least one trial")])
    seeds = np.random.SeedSequence(seed).spawn(trials)
    tasks = [
        ConductTask(i, design, tuple(float(x) for x in p), accrual,
                    tuple(seeds[start : start + chunk]), start)
        for i, start in enumerate(range(0, trials, chunk))
    ]  # fmt: skip
    runner = backend if backend is not None else ConductBackend()
    if hasattr(runner, "map_calls"):
        results = runner.map_calls(run_conduct_chunk, tasks, [len(t.seeds) for t in tasks],
                                   progress)  # fmt: skip
    else:
        results = runner.map(tasks, progress)
    rows = [row for _, chunk_rows in sorted(results, key=lambda r: r[0]) for row in chunk_rows]
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median and 10th/90th percentiles of the conduct measures, one row per measure."""
    measures = ["days_to_decision", "days_to_top_dose", "enrolled", "referred",
                "lost_from_waitlist", "mean_wait_days", "max_wait_days", "max_waitlist",
                "mean_waitlist"]  # fmt: skip
    rows = []
    for name in measures:
        values = table[name].dropna()
        rows.append({
            "measure": name, "trials": len(values),
            "p10": values.quantile(0.1) if len(values) else math.nan,
            "median": values.median() if len(values) else math.nan,
            "p90": values.quantile(0.9) if len(values) else math.nan,
            "mean": values.mean() if len(values) else math.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)
