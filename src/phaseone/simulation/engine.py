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
        """Latent uniforms one trial may use: titration draws one per dose first."""
        return (self.n_doses if self.titration else 0) + self.max_sample_size

    @property
    def r_offset_step(self) -> int:
        """Every trial uses a multiple of this many uniforms."""
        return math.gcd(self.cohort_size, self.n_doses) if self.titration else self.cohort_size

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
    plan: IntervalPlan, truth: NDArray[np.float64], u: NDArray[np.float64]
) -> tuple[TrialBatch, NDArray[np.int64]]:
    """Run one batch. `u` is (trials, plan.uniforms_per_trial); returns the batch and the
    number of uniforms each trial used (what R's stream would have consumed)."""
    check_truth(truth, plan.n_doses)
    trials = u.shape[0]
    k, cs, top = plan.n_doses, plan.cohort_size, plan.n_doses - 1
    rows = np.arange(trials)
    n = np.zeros((trials, k), dtype=np.int64)
    y = np.zeros((trials, k), dtype=np.int64)
    dose = np.full(trials, plan.start_dose, dtype=np.int64)
    elim = np.full(trials, k, dtype=np.int64)  # lowest eliminated dose (k = none)
    reason = np.zeros(trials, dtype=np.int64)
    used = np.zeros(trials, dtype=np.int64)
    pos = 0

    if plan.titration:
        # One patient per dose from the start until the first DLT (as BOIN draws it:
        # one uniform per dose level, all at once).
        tox = u[:, :k] < truth[None, :]
        any_tox = tox.any(axis=1)
        first = np.where(any_tox, tox.argmax(axis=1), top)
        n[:] = (np.arange(k)[None, :] <= first[:, None]).astype(np.int64)
        y[rows[any_tox], first[any_tox]] = 1
        dose = first
        pos = used[:] = k

    running = np.ones(trials, dtype=bool)
    for _ in range(plan.n_cohorts):
        act = np.flatnonzero(running)
        if act.size == 0:
            break
        d = dose[act]
        p = truth[d]
        cohort_tox = u[act, pos : pos + cs] < p[:, None]
        used[act] += cs
        room = plan.max_sample_size - n[act].sum(axis=1)
        last = room <= cs
        take = np.minimum(room, cs)
        tox = (cohort_tox & (np.arange(cs)[None, :] < take[:, None])).sum(axis=1)
        n[act, d] += take
        y[act, d] += tox
        pos += cs
        if last.any():
            reason[act[last]] = StopReason.MAX_SAMPLE_SIZE
            running[act[last]] = False
        keep = ~last
        stop = advance(plan, n, y, dose, elim, act[keep])
        halted = stop > 0
        reason[act[keep][halted]] = stop[halted]
        running[act[keep][halted]] = False

    reason[reason == 0] = StopReason.MAX_SAMPLE_SIZE
    first_elim = eliminated_from(n, y, plan.codes, plan.stop_lowest_min)
    selected = isotonic_select(n, y, plan.target, first_elim, plan.bound_mtd)
    return TrialBatch(n, y, selected, reason), used


def advance(
    plan: IntervalPlan,
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    dose: NDArray[np.int64],
    elim: NDArray[np.int64],
    act: NDArray[np.int64],
) -> NDArray[np.int64]:
    """After a cohort at the current dose of trials `act`: eliminate, stop or move.

    Updates `elim` and `dose` in place; returns the stop reason per trial (0 = go on).
    """
    top = plan.n_doses - 1
    d = dose[act]
    nd, yd = n[act, d], y[act, d]
    code = plan.codes[nd, yd]

    # Elimination (and, at the lowest dose, stopping).
    eliminate = code == DE_CODE
    elim[act[eliminate]] = np.minimum(elim[act[eliminate]], d[eliminate])
    stop = np.zeros(act.size, dtype=np.int64)
    stop[eliminate & (d == 0)] = StopReason.LOWEST_DOSE_ELIMINATED
    if plan.stop_lowest_min is not None:
        bound = plan.stop_lowest_min[nd]
        extra = (stop == 0) & (d == 0) & (bound >= 0) & (yd >= bound)
        stop[extra] = StopReason.EXTRASAFE

    # Early stop once enough patients are at the current dose.
    blocked_up = (d == top) | (d + 1 >= elim[act])
    reached = nd >= plan.early_stop_n
    if plan.early_stop_rule == "boin":
        reached &= (
            (code == S_CODE) | ((d == 0) & (code >= D_CODE)) | (blocked_up & (code == E_CODE))
        )
    stop[(stop == 0) & reached] = StopReason.EARLY_STOP_N

    go = stop == 0
    up = go & (code == E_CODE) & ~blocked_up
    down = go & (code >= D_CODE) & (d > 0)
    dose[act[up]] += 1
    dose[act[down]] -= 1
    return stop
