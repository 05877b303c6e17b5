"""The vectorised engine for interval designs (BOIN, mTPI-2, Keyboard).

All trials of a batch step together, one cohort at a time: the cohort's DLTs come from
the trials' latent uniforms (patient j of a trial has a DLT at dose d when u_j < p_d), and
the next move is read from the design's (n, y) decision table by fancy indexing. The order
of operations inside a cohort follows BOIN's `get.oc`, so that with R's random stream the
same trials come out:

1. draw a full cohort of uniforms; if the planned sample size is reached, add only the
   patients still allowed and stop (before elimination and the next decision);
2. eliminate the current dose and those above when y reaches the elimination boundary
   (at the lowest dose this stops the trial), then the extra-safe rule at the lowest dose;
3. stop early when n at the current dose reached the early-stop size and the design would
   stay (or cannot move);
4. move: escalate unless at the top or below an eliminated dose; de-escalate unless at 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import StopReason, TrialBatch
from phaseone.simulation.selection import eliminated_from, isotonic_select

E_CODE, S_CODE, D_CODE, DE_CODE = 0, 1, 2, 3


@dataclass(frozen=True, eq=False)
class IntervalPlan:
    """Everything the engine needs to run an interval design (0-based doses).

    `codes[n, y]` is the decision table (0 E, 1 S, 2 D, 3 DE = de-escalate and eliminate);
    `stop_lowest_min[n]` is the extra-safe stop at the lowest dose (stop if y >= it; -1 never).
    """

    name: str
    n_doses: int
    target: float
    codes: NDArray[np.int8]
    cohort_size: int
    n_cohorts: int
    start_dose: int = 0
    early_stop_n: int = 100
    early_stop_rule: Literal["boin", "simple"] = "boin"
    stop_lowest_min: NDArray[np.int64] | None = None
    titration: bool = False
    bound_mtd: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.cohort_size < 1:
            problems.append(Problem("cohort_size", f"expected 1 or more, got {self.cohort_size}"))
        if self.n_cohorts < 1:
            problems.append(Problem("cohorts", f"expected 1 or more, got {self.n_cohorts}"))
        if not 0 <= self.start_dose < self.n_doses:
            problems.append(
                Problem("start_dose", f"expected 1..{self.n_doses}, got {self.start_dose + 1}")
            )
        if self.codes.shape[0] <= self.max_sample_size:
            problems.append(
                Problem(
                    "codes",
                    f"the decision table covers n <= {self.codes.shape[0] - 1}, "
                    f"but up to {self.max_sample_size} patients can be treated",
                )
            )
        if problems:
            raise InputError(problems)

    @property
    def max_sample_size(self) -> int:
        return self.cohort_size * self.n_cohorts

    @property
    def uniforms_per_trial(self) -> int:
        """Latent uniforms one trial may use: titration draws one per dose first, then
        cs - 1 for its first cohort."""
        if self.titration:
            return self.n_doses - 1 + self.max_sample_size
        return self.max_sample_size

    @property
    def r_offset_step(self) -> int:
        """Every trial uses a multiple of this many uniforms."""
        if not self.titration:
            return self.cohort_size
        return math.gcd(self.cohort_size, self.n_doses + self.cohort_size - 1)

    def run(
        self, truth: NDArray[np.float64], u: NDArray[np.float64]
    ) -> tuple[TrialBatch, NDArray[np.int64]]:
        return run_interval(self, truth, u)


def check_truth(truth: NDArray[np.float64], n_doses: int) -> None:
    problems = []
    if truth.shape != (n_doses,):
        problems.append(
            Problem("truth", f"expected {n_doses} true DLT probabilities, got {truth.size}")
        )
    bad = [f"{v:g}" for v in truth.ravel() if not 0.0 <= v <= 1.0 or np.isnan(v)]
    if bad:
        problems.append(Problem("truth", f"probabilities must lie in [0, 1], got {', '.join(bad)}"))
    if problems:
        raise InputError(problems)


def run_interval(
    plan: IntervalPlan,
    truth: NDArray[np.float64],
    u: NDArray[np.float64],
    trace: list[tuple[NDArray[np.int64], NDArray[np.int64]]] | None = None,
) -> tuple[TrialBatch, NDArray[np.int64]]:
    """Run one batch. `u` is (trials, plan.uniforms_per_trial); returns the batch and the
    number of uniforms each trial used (what R's stream would have consumed).

    With `trace`, each regular cohort appends (dose per trial, -1 if the trial had
    stopped; patients' DLT flags per trial, -1 beyond the patients enrolled)."""
    check_truth(truth, plan.n_doses)
    trials = u.shape[0]
    k, cs, top = plan.n_doses, plan.cohort_size, plan.n_doses - 1
    rows = np.arange(trials)
    n = np.zeros((trials, k), dtype=np.int64)
    y = np.zeros((trials, k), dtype=np.int64)
    nf, yf = n.reshape(-1), y.reshape(-1)  # flat views: trial t, dose d at t * k + d
    dose = np.full(trials, plan.start_dose, dtype=np.int64)
    elim = np.full(trials, k, dtype=np.int64)  # lowest eliminated dose (k = none)
    reason = np.zeros(trials, dtype=np.int64)
    used = np.zeros(trials, dtype=np.int64)
    total = np.zeros(trials, dtype=np.int64)
    running = np.ones(trials, dtype=bool)
    pos = 0

    cohorts = plan.n_cohorts
    if plan.titration:
        # One patient per dose from the start until the first DLT (drawn as BOIN draws it:
        # one uniform per dose level, all at once); that dose is then filled to a full
        # cohort (cs - 1 more patients) and the design takes over, as the designs
        # package's Titration modifier does.
        tox0 = u[:, :k] < truth[None, :]
        any_tox = tox0.any(axis=1)
        first = np.where(any_tox, tox0.argmax(axis=1), top)
        n[:] = (np.arange(k)[None, :] <= first[:, None]).astype(np.int64)
        y[rows[any_tox], first[any_tox]] = 1
        dose = first.astype(np.int64)
        extra = (u[:, k : k + cs - 1] < truth[dose][:, None]).sum(axis=1)
        flat = rows * k + dose
        nf[flat] += cs - 1
        yf[flat] += extra
        total = n.sum(axis=1)
        pos = k + cs - 1
        used[:] = pos
        stop, dose, elim = decide(plan, dose, nf[flat], yf[flat], elim)
        reason[:] = stop
        running &= stop == 0
        cohorts -= 1

    slots = np.arange(cs)[None, :]
    for _ in range(cohorts):
        room = plan.max_sample_size - total
        take = np.where(running, np.minimum(room, cs), 0)
        cohort = u[:, pos : pos + cs] < truth[dose][:, None]
        if plan.titration:
            cohort &= slots < take[:, None]
        tox = np.where(running, cohort.sum(axis=1), 0)
        if trace is not None:
            enrolled = slots < take[:, None]
            flags = np.where(enrolled, cohort.astype(np.int64), -1)
            trace.append((np.where(running, dose, -1), flags))
        flat = rows * k + dose
        nf[flat] += take
        yf[flat] += tox
        total += take
        used += np.where(running, cs, 0)
        pos += cs
        last = running & (room <= cs)
        reason[last] = StopReason.MAX_SAMPLE_SIZE
        running &= ~last
        if not running.any():
            break
        stop, moved, elim_now = decide(plan, dose, nf[flat], yf[flat], elim)
        stop = np.where(running, stop, 0)
        halted = stop > 0
        reason[halted] = stop[halted]
        running &= ~halted
        dose = np.where(running, moved, dose)
        elim = np.where(running, elim_now, elim)

    reason[reason == 0] = StopReason.MAX_SAMPLE_SIZE
    first_elim = eliminated_from(n, y, plan.codes, plan.stop_lowest_min)
    selected = isotonic_select(n, y, plan.target, first_elim, plan.bound_mtd)
    return TrialBatch(n, y, selected, reason), used


def decide(
    plan: IntervalPlan,
    d: NDArray[np.int64],
    nd: NDArray[np.int64],
    yd: NDArray[np.int64],
    elim: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """After a cohort at dose `d` leaves `nd` patients and `yd` DLTs there: eliminate, stop
    or move. Returns (stop reason or 0, next dose, lowest eliminated dose)."""
    top = plan.n_doses - 1
    code = plan.codes[nd, yd]

    # Elimination (and, at the lowest dose, stopping).
    eliminate = code == DE_CODE
    elim = np.where(eliminate, np.minimum(elim, d), elim)
    stop = np.where(eliminate & (d == 0), int(StopReason.LOWEST_DOSE_ELIMINATED), 0)
    if plan.stop_lowest_min is not None:
        bound = plan.stop_lowest_min[nd]
        extra = (stop == 0) & (d == 0) & (bound >= 0) & (yd >= bound)
        stop = np.where(extra, int(StopReason.EXTRASAFE), stop)

    # Early stop once enough patients are at the current dose.
    blocked_up = (d == top) | (d + 1 >= elim)
    reached = nd >= plan.early_stop_n
    if plan.early_stop_rule == "boin":
        reached &= (
            (code == S_CODE) | ((d == 0) & (code >= D_CODE)) | (blocked_up & (code == E_CODE))
        )
    stop = np.where((stop == 0) & reached, int(StopReason.EARLY_STOP_N), stop)

    up = (code == E_CODE) & ~blocked_up
    down = (code >= D_CODE) & (d > 0)
    moved = d + up.astype(np.int64) - down.astype(np.int64)
    return stop.astype(np.int64), moved, elim


def advance_states(
    plan: IntervalPlan,
    states: NDArray[np.int64],
    take: NDArray[np.int64],
    tox: NDArray[np.int64],
    last: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Trial states after one more cohort, for the exact computation and the state machine.

    A state row is (patients per dose, DLTs per dose, current dose, lowest eliminated
    dose). Each row treats `take` patients at its current dose, `tox` of them with a DLT;
    where `last` (the maximum sample size is reached) the trial stops before any decision,
    else `decide` eliminates, stops or moves. Returns the new rows and the stop reasons
    (0 while running)."""
    k = plan.n_doses
    new = states.copy()
    d = new[:, 2 * k]
    r = np.arange(new.shape[0])
    new[r, d] += take
    new[r, k + d] += tox
    stop, moved, elim = decide(plan, d, new[r, d], new[r, k + d], new[:, 2 * k + 1])
    reason = np.where(last, int(StopReason.MAX_SAMPLE_SIZE), stop)
    go = reason == 0
    new[:, 2 * k] = np.where(go, moved, d)
    new[:, 2 * k + 1] = np.where(go, elim, new[:, 2 * k + 1])
    return new, reason
