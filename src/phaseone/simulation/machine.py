"""An interval design compiled to a finite state machine: one table lookup per cohort.

Without titration every cohort is full, and a trial's state after a cohort (patients and
DLTs per dose, current dose, lowest eliminated dose, or the stop reason) together with
the number of DLTs in the next cohort fixes the next state. The reachable states are few
(about 13,000 for BOIN with 5 doses and 10 cohorts of 3), so they are enumerated once,
breadth first, with the engine's own step for every move (`advance_states`, which the
exact computation uses too): the machine is derived from the rules, not written beside
them. A trial is then a walk through the table, and the end-of-trial selection is
computed once per final state.

The walk is what makes R's stream fast: a trial may start at any offset of the stream,
and walking every offset costs a few integer gathers per cohort (`StateMachine.stream_runner`).
A test checks the machine against the engine (`run_interval`) trial by trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from phaseone.simulation.batch import TrialBatch
from phaseone.simulation.engine import IntervalPlan, advance_states, check_truth
from phaseone.simulation.selection import eliminated_from, isotonic_select

MAX_STATES = 100_000  # above this the build costs more than it saves; the engine runs instead

# What a stream runner returns: uniforms used per candidate start, and how to turn chosen
# candidates (indices into the starts) into trial results.
Taker = Callable[[NDArray[np.int64]], TrialBatch]


@dataclass(frozen=True, eq=False)
class StateMachine:
    """States 0..S-1 (0 is the start); `next_state[s, t]` after a cohort with t DLTs.

    Stopped states lead to themselves. `dose` is the current dose (0-based) of a running
    state; `used` is the patients (and R uniforms) a trial has used on reaching a state."""

    n_doses: int
    cohort_size: int
    n_cohorts: int
    next_state: NDArray[np.int64]  # (S, cohort_size + 1)
    dose: NDArray[np.int64]  # (S,)
    n: NDArray[np.int64]  # (S, doses)
    y: NDArray[np.int64]  # (S, doses)
    stop_reason: NDArray[np.int64]  # (S,) 0 while running
    selected: NDArray[np.int64]  # (S,) the selection of a stopped state (NO_DOSE for none)
    used: NDArray[np.int64]  # (S,) patients so far, = uniforms drawn (cohorts are full)
    _next_row: NDArray[np.int32] = field(init=False, repr=False)
    _dose_by_row: NDArray[np.int32] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        width = self.cohort_size + 1
        rows = (self.next_state * width).astype(np.int32).ravel()
        object.__setattr__(self, "_next_row", rows)
        object.__setattr__(self, "_dose_by_row", np.repeat(self.dose, width).astype(np.int32))

    @property
    def n_states(self) -> int:
        return int(self.dose.size)

    def walk(self, tox: NDArray[np.int32], first_row: NDArray[np.int64]) -> NDArray[np.int64]:
        """Final state of each trial. `tox[r, d]` is the DLT count of a cohort drawn from
        row r of cohort uniforms at dose d; trial i reads rows first_row[i], +1, +2, ..."""
        k = self.n_doses
        # 32-bit indices keep the tables small in cache. A state is held as its row in the
        # flattened `next_state` (id x (cohort size + 1)), which saves a multiplication.
        flat_tox = tox.ravel()
        state = np.zeros(first_row.size, dtype=np.int32)
        at = (first_row * k).astype(np.int32)
        cell = np.empty_like(state)  # scratch, reused every cohort
        for _ in range(self.n_cohorts):
            np.take(self._dose_by_row, state, out=cell)
            cell += at
            np.take(flat_tox, cell, out=cell)
            cell += state
            np.take(self._next_row, cell, out=state)
            at += k
        return state.astype(np.int64) // (self.cohort_size + 1)

    def batch(self, states: NDArray[np.int64]) -> TrialBatch:
        return TrialBatch(
            self.n[states], self.y[states], self.selected[states], self.stop_reason[states]
        )

    def run(
        self, truth: NDArray[np.float64], u: NDArray[np.float64]
    ) -> tuple[TrialBatch, NDArray[np.int64]]:
        """The engine's `run` on rows of uniforms (one row per trial)."""
        check_truth(truth, self.n_doses)
        trials, cs = u.shape[0], self.cohort_size
        cohorts = u[:, : cs * self.n_cohorts].reshape(trials * self.n_cohorts, cs)
        tox = cohort_tox(cohorts, truth)
        final = self.walk(tox, np.arange(trials, dtype=np.int64) * self.n_cohorts)
        return self.batch(final), self.used[final]

    def stream_runner(
        self, truth: NDArray[np.float64]
    ) -> Callable[[NDArray[np.float64], NDArray[np.int64]], tuple[NDArray[np.int64], Taker]]:
        """A runner for `streams.r_stream_trials`: trials at every candidate start of a
        stretch of the stream. Starts are evenly spaced by the cohort size, so cohort j of
        the stretch (from the first start) serves every trial that reaches it."""
        check_truth(truth, self.n_doses)
        cs = self.cohort_size

        def run(
            buffer: NDArray[np.float64], starts: NDArray[np.int64]
        ) -> tuple[NDArray[np.int64], Taker]:
            first = int(starts[0])
            rows = starts.size + self.n_cohorts - 1
            cohorts = buffer[first : first + rows * cs].reshape(rows, cs)
            final = self.walk(cohort_tox(cohorts, truth), (starts - first) // cs)
            return self.used[final], lambda picked: self.batch(final[picked])

        return run


def cohort_tox(cohorts: NDArray[np.float64], truth: NDArray[np.float64]) -> NDArray[np.int32]:
    """DLTs per cohort (row) at each dose: patient j has a DLT at dose d when u_j < p_d."""
    counts = np.zeros((cohorts.shape[0], truth.size), dtype=np.int32)
    for j in range(cohorts.shape[1]):  # a few columns: cheaper than a boolean sum
        counts += cohorts[:, j, None] < truth[None, :]
    return counts


def state_machine(plan: IntervalPlan) -> StateMachine | None:
    """The plan's machine (cached by the plan's contents), or None where it does not apply
    (titration) or would be too large."""
    if plan.titration:
        return None
    lowest = None if plan.stop_lowest_min is None else plan.stop_lowest_min.tobytes()
    key = (
        plan.codes.tobytes(),
        plan.codes.shape,
        plan.n_doses,
        plan.target,
        plan.cohort_size,
        plan.n_cohorts,
        plan.start_dose,
        plan.early_stop_n,
        plan.early_stop_rule,
        lowest,
        plan.bound_mtd,
    )
    if key not in _MACHINES:
        if len(_MACHINES) >= _CACHE_SIZE:
            _MACHINES.pop(next(iter(_MACHINES)))
        _MACHINES[key] = build_machine(plan)
    return _MACHINES[key]


_CACHE_SIZE = 32
_MACHINES: dict[tuple[object, ...], StateMachine | None] = {}


def clear_cache() -> None:
    """Forget every built machine (for benchmarks that time the build)."""
    _MACHINES.clear()


def _unique_rows(rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct rows and, for each input row, the index of its distinct row."""
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.int64)
    packed = np.ascontiguousarray(rows.astype(np.int16))
    view = packed.view(np.dtype((np.void, packed.dtype.itemsize * packed.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel().astype(np.int64)


def build_machine(plan: IntervalPlan, max_states: int = MAX_STATES) -> StateMachine | None:
    """Enumerate the reachable states breadth first, one cohort per level."""
    if plan.titration:
        return None
    k, cs = plan.n_doses, plan.cohort_size
    outcomes = cs + 1
    # Columns of a running state: n (k), y (k), dose, lowest eliminated dose.
    level = np.zeros((1, 2 * k + 2), dtype=np.int64)
    level[0, 2 * k], level[0, 2 * k + 1] = plan.start_dose, k
    level_ids = np.zeros(1, dtype=np.int64)
    count = 1
    rows: list[NDArray[np.int64]] = [level]  # every state's row, in id order
    reasons: list[NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)]
    edges: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []  # (from * outcomes + t, to)
    for cohort in range(plan.n_cohorts):
        if count + level.shape[0] * outcomes > 2 * max_states:
            return None  # give up before the costly step: the machine would be too large
        parent = np.repeat(np.arange(level.shape[0]), outcomes)
        tox = np.tile(np.arange(outcomes), level.shape[0])
        take = np.full(parent.size, cs, dtype=np.int64)
        last = np.full(parent.size, cohort == plan.n_cohorts - 1)
        child, reason = advance_states(plan, level[parent], take, tox, last)
        stopped = reason > 0
        # A stopped state is its counts and reason; its dose no longer matters.
        child[stopped, 2 * k :] = 0
        keyed = np.column_stack([child, reason])
        distinct, inverse = _unique_rows(keyed)
        ids = count + np.arange(distinct.shape[0])
        count += distinct.shape[0]
        if count > max_states:
            return None
        edges.append((level_ids[parent] * outcomes + tox, ids[inverse]))
        rows.append(distinct[:, : 2 * k + 2])
        reasons.append(distinct[:, 2 * k + 2])
        running = distinct[:, 2 * k + 2] == 0
        level, level_ids = distinct[running, : 2 * k + 2], ids[running]
    every = np.concatenate(rows)
    stop_reason = np.concatenate(reasons)
    next_state = np.repeat(np.arange(count), outcomes)  # stopped states stay put
    for source, target in edges:
        next_state[source] = target
    n, y = every[:, :k], every[:, k : 2 * k]
    done = stop_reason > 0
    selected = np.zeros(count, dtype=np.int64)
    first_elim = eliminated_from(n[done], y[done], plan.codes, plan.stop_lowest_min)
    selected[done] = isotonic_select(n[done], y[done], plan.target, first_elim, plan.bound_mtd)
    return StateMachine(
        n_doses=k,
        cohort_size=cs,
        n_cohorts=plan.n_cohorts,
        next_state=next_state.reshape(count, outcomes),
        dose=every[:, 2 * k].copy(),
        n=np.ascontiguousarray(n),
        y=np.ascontiguousarray(y),
        stop_reason=stop_reason,
        selected=selected,
        used=n.sum(axis=1),
    )
