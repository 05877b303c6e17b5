"""The vectorised engine for the CRM (one-parameter empiric or logistic model, Bayes).

All trials enrol a cohort at a time. After each cohort the posterior mean of the model
parameter is computed on the design's quadrature grid for all trials at once (a matrix
product of the per-dose counts with the grid's log-likelihood table), once per distinct
(n, y) state: early in a trial most simulated trials share a state. The next dose is the
one whose plug-in DLT rate is closest to the target, capped by dfcrm's `restrict` rule.
The final selection is the model's recommendation after the last cohort.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from phaseone.designs.base import Design
from phaseone.designs.crm import CRM, make_grid, prob_tox, scaled_doses
from phaseone.errors import InputError, Problem
from phaseone.simulation.batch import StopReason, TrialBatch
from phaseone.simulation.compile import refuse_others, unwrap
from phaseone.simulation.engine import check_truth


@dataclass(frozen=True, eq=False)
class CRMPlan:
    design: CRM
    cohort_size: int
    n_cohorts: int

    @property
    def name(self) -> str:
        return self.design.describe()

    @property
    def n_doses(self) -> int:
        return self.design.n_doses

    @property
    def target(self) -> float:
        return self.design.target_rate

    @property
    def max_sample_size(self) -> int:
        return self.cohort_size * self.n_cohorts

    @property
    def uniforms_per_trial(self) -> int:
        return self.max_sample_size

    @property
    def r_offset_step(self) -> int:
        return self.max_sample_size

    def run(
        self, truth: NDArray[np.float64], u: NDArray[np.float64]
    ) -> tuple[TrialBatch, NDArray[np.int64]]:
        # The posterior's matrix products are small (states x doses x grid): spreading them
        # over BLAS threads costs more in hand-offs than it gains, several times so on a busy
        # machine, so the whole run uses one BLAS thread.
        with threadpool_limits(limits=1, user_api="blas"):
            return run_crm(self, truth, u)


def crm_plan(design: Design, cohort_size: int | None, cohorts: int | None) -> CRMPlan:
    parts = unwrap(design)
    refuse_others(parts)
    base = parts.base
    if not isinstance(base, CRM):
        raise InputError([Problem("design", f"{base.describe()} is not a CRM")])
    if base.method != "bayes":
        raise InputError(
            [Problem("method", "the CRM simulation engine runs the Bayes estimate only")]
        )
    if parts.titration is not None:
        raise InputError([Problem("titration", "titration applies to interval designs only")])
    cs = 1 if cohort_size is None else cohort_size
    if cohorts is None:
        if parts.stop_at_n is None:
            raise InputError([Problem("cohorts", "give the number of cohorts (or max_n)")])
        cohorts = math.ceil(parts.stop_at_n / cs)
    if cs < 1 or cohorts < 1:
        raise InputError([Problem("cohorts", "cohort size and cohorts must be 1 or more")])
    return CRMPlan(base, cs, cohorts)


@dataclass(frozen=True, eq=False)
class GridTables:
    """The design's quadrature grid with its log-likelihood tables, computed once."""

    a: NDArray[np.float64]
    log_prior: NDArray[np.float64]
    log_p: NDArray[np.float64]  # (doses, grid)
    log_q: NDArray[np.float64]
    x: NDArray[np.float64]

    @classmethod
    def of(cls, design: CRM) -> GridTables:
        grid = make_grid(design.prior_sd, design.grid_points, design.grid_halfwidth_sd)
        x = scaled_doses(design.skeleton, design.model, design.intercept)
        p = prob_tox(x[:, None], grid.a[None, :], design.model, design.intercept)
        with np.errstate(divide="ignore"):
            log_p, log_q = np.log(p), np.log1p(-p)
        # Same convention as the designs package: log(0) counts as a huge negative.
        return cls(grid.a, grid.log_prior, _finite(log_p), _finite(log_q), x)

    def posterior_mean(self, n: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.float64]:
        counts = np.concatenate([y, n - y], axis=1).astype(np.float64)
        ll = counts @ self.log_pq
        ll += self.log_prior
        ll -= ll.max(axis=1, keepdims=True)
        # Weights below e^-700 cannot change a sum that includes the maximum (1.0); clip
        # them so exp() never enters the slow subnormal range.
        np.maximum(ll, -700.0, out=ll)
        np.exp(ll, out=ll)
        moments = ll @ self.a_one  # (states, 2): sum of w * a and sum of w
        return np.asarray(moments[:, 0] / moments[:, 1], dtype=np.float64)

    @functools.cached_property
    def log_pq(self) -> NDArray[np.float64]:
        return np.concatenate([self.log_p, self.log_q], axis=0)

    @functools.cached_property
    def a_one(self) -> NDArray[np.float64]:
        return np.column_stack([self.a, np.ones_like(self.a)])


def _finite(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isfinite(values), values, -1e300)


def _state_keys(n: NDArray[np.int64], y: NDArray[np.int64], max_n: int) -> NDArray[np.int64]:
    """One integer per (n, y) row when it fits in 63 bits, for a fast np.unique."""
    bits = max(int(max_n).bit_length(), 1)
    cols = np.concatenate([n, y], axis=1)
    if bits * cols.shape[1] > 63:
        raise OverflowError
    shifts = np.arange(cols.shape[1], dtype=np.int64) * bits
    return np.asarray((cols << shifts).sum(axis=1), dtype=np.int64)


def posterior_ptox(
    plan: CRMPlan, tables: GridTables, n: NDArray[np.int64], y: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Plug-in DLT rates per trial and dose at the posterior mean, one fit per distinct state."""
    d = plan.design
    try:
        keys = _state_keys(n, y, plan.max_sample_size)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        un, uy = n[first], y[first]
    except OverflowError:
        both = np.concatenate([n, y], axis=1)
        uniq, inverse = np.unique(both, axis=0, return_inverse=True)
        un, uy = uniq[:, : plan.n_doses], uniq[:, plan.n_doses :]
    a_hat = tables.posterior_mean(un, uy)
    ptox = prob_tox(tables.x[None, :], a_hat[:, None], d.model, d.intercept)
    return np.asarray(ptox[inverse.ravel()], dtype=np.float64)


def run_crm(
    plan: CRMPlan, truth: NDArray[np.float64], u: NDArray[np.float64]
) -> tuple[TrialBatch, NDArray[np.int64]]:
    check_truth(truth, plan.n_doses)
    trials, k, cs = u.shape[0], plan.n_doses, plan.cohort_size
    rows = np.arange(trials)
    n = np.zeros((trials, k), dtype=np.int64)
    y = np.zeros((trials, k), dtype=np.int64)
    dose = np.full(trials, plan.design.start_dose - 1, dtype=np.int64)
    target = plan.target
    tables = GridTables.of(plan.design)
    ptox = np.empty((trials, k))
    for c in range(plan.n_cohorts):
        take = min(cs, plan.max_sample_size - c * cs)
        tox = (u[:, c * cs : c * cs + take] < truth[dose][:, None]).sum(axis=1)
        n[rows, dose] += take
        y[rows, dose] += tox
        ptox = posterior_ptox(plan, tables, n, y)
        best = np.abs(ptox - target).argmin(axis=1)
        if plan.design.restrict:
            limit = np.where(tox / take >= target, dose, np.minimum(dose + 1, k - 1))
            best = np.minimum(best, limit)
        dose = best
    # The last cohort's fit is the final analysis.
    selected = np.abs(ptox - target).argmin(axis=1).astype(np.int64)
    reason = np.full(trials, int(StopReason.MAX_SAMPLE_SIZE), dtype=np.int64)
    used = np.full(trials, plan.uniforms_per_trial, dtype=np.int64)
    return TrialBatch(n, y, selected, reason), used
