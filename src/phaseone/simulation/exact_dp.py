"""Exact operating characteristics of interval designs by dynamic programming.

A trial's state after each cohort is (patients and DLTs per dose, current dose, lowest
eliminated dose). Starting from the initial state with probability 1, each cohort splits
every running state by the number of DLTs in the cohort (binomial at the current dose's
true rate), applies the same rules as the simulation engine (`engine.advance_states`), and merges
identical states by adding their probabilities. Stopped states are kept with their stop
reason; at the end the end-of-trial selection runs once per distinct final state.

The state space grows with doses and cohorts. `interval_exact` reports how many states it
visited and refuses, with a message, when the running states of one step would exceed
`max_states`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import NO_DOSE, StopReason
from phaseone.simulation.engine import IntervalPlan, advance_states, check_truth
from phaseone.simulation.exact import ExactMoments
from phaseone.simulation.selection import eliminated_from, isotonic_select

DEFAULT_MAX_STATES = 2_000_000


class TooManyStates(InputError):
    """The exact computation would need more states than allowed."""


@dataclass(frozen=True)
class StateCount:
    """How big the exact computation was."""

    peak_running: int  # the most running states after any cohort
    visited: int  # running states summed over cohorts
    final: int  # distinct final states

    def to_dict(self) -> dict[str, int]:
        return {"peak_running": self.peak_running, "visited": self.visited, "final": self.final}


def _merge(
    keys: NDArray[np.int64], prob: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Collapse identical rows of `keys`, adding their probabilities."""
    if keys.shape[0] == 0:
        return keys, prob
    packed = np.ascontiguousarray(keys.astype(np.int16))
    view = packed.view(np.dtype((np.void, packed.dtype.itemsize * packed.shape[1]))).ravel()
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=prob, minlength=first.size).astype(np.float64)
    return keys[first], merged


def interval_exact(
    plan: IntervalPlan,
    truth: NDArray[np.float64],
    overdose_cutoff: float,
    max_states: int = DEFAULT_MAX_STATES,
) -> tuple[ExactMoments, NDArray[np.float64], StateCount]:
    """Exact moments of an interval design; also the selection probabilities including
    no MTD (last entry) and the state counts."""
    truth = np.asarray(truth, dtype=np.float64)
    check_truth(truth, plan.n_doses)
    k, cs = plan.n_doses, plan.cohort_size
    # Columns: n (k), y (k), dose, elim.
    states, prob = _initial(plan, truth)
    done_keys: list[NDArray[np.int64]] = []
    done_prob: list[NDArray[np.float64]] = []
    peak = visited = 0
    for _ in range(plan.n_cohorts):
        if states.shape[0] == 0:
            break
        d = states[:, 2 * k]
        n_now = states[:, :k].sum(axis=1)
        take = np.minimum(plan.max_sample_size - n_now, cs)
        # Split by DLT count t = 0..cs (t > take has probability 0 and is dropped).
        t = np.arange(cs + 1)
        pmf = np.asarray(binom.pmf(t[None, :], take[:, None], truth[d][:, None]), dtype=np.float64)
        rep_rows, rep_t = np.nonzero(pmf > 0)
        p_new = prob[rep_rows] * pmf[rep_rows, rep_t]
        last = (plan.max_sample_size - n_now[rep_rows]) <= cs
        new, reason = advance_states(plan, states[rep_rows], take[rep_rows], rep_t, last)
        halted = reason > 0
        if halted.any():
            keys = np.column_stack([new[halted, : 2 * k], reason[halted]])
            done_keys.append(keys)
            done_prob.append(p_new[halted])
        states, prob = _merge(new[~halted], p_new[~halted])
        peak = max(peak, states.shape[0])
        visited += states.shape[0]
        if states.shape[0] > max_states:
            raise TooManyStates(
                [
                    Problem(
                        "exact",
                        f"more than {max_states:,} trial states ({states.shape[0]:,} after one "
                        "cohort); use simulation for this configuration",
                    )
                ]
            )
    if states.shape[0]:
        keys = np.column_stack(
            [states[:, : 2 * k], np.full(states.shape[0], int(StopReason.MAX_SAMPLE_SIZE))]
        )
        done_keys.append(keys)
        done_prob.append(prob)
    final, fprob = _merge(np.concatenate(done_keys), np.concatenate(done_prob))
    moments = _moments(plan, truth, final, fprob, overdose_cutoff)
    counts = StateCount(peak, visited, int(final.shape[0]))
    return moments, moments.selected, counts


def _initial(
    plan: IntervalPlan, truth: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Running states before the first regular cohort (probabilities alongside)."""
    k = plan.n_doses
    if not plan.titration:
        start = np.zeros((1, 2 * k + 2), dtype=np.int64)
        start[0, 2 * k] = plan.start_dose
        start[0, 2 * k + 1] = k
        return start, np.ones(1)
    raise InputError(
        [Problem("titration", "exact computation with titration is not supported; simulate")]
    )


def _moments(
    plan: IntervalPlan,
    truth: NDArray[np.float64],
    final: NDArray[np.int64],
    prob: NDArray[np.float64],
    cutoff: float,
) -> ExactMoments:
    k = plan.n_doses
    n = final[:, :k]
    y = final[:, k : 2 * k]
    reason = final[:, 2 * k]
    first = eliminated_from(n, y, plan.codes, plan.stop_lowest_min)
    sel = isotonic_select(n, y, plan.target, first, plan.bound_mtd)
    sel = np.where(sel == NO_DOSE, k, sel)
    total = n.sum(axis=1)
    above = truth > cutoff + 1e-12
    over = n[:, above].sum(axis=1)
    return ExactMoments(
        selected=np.bincount(sel, weights=prob, minlength=k + 1).astype(np.float64),
        patients=(prob[:, None] * n).sum(axis=0),
        dlts=(prob[:, None] * y).sum(axis=0),
        size_dist=np.bincount(total, weights=prob).astype(np.float64),
        stops={r: float(prob[reason == r].sum()) for r in StopReason},
        expected_over=float((prob * over).sum()),
        prob_any_over=float(prob[over > 0].sum()),
    )
