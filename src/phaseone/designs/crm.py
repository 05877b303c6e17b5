"""The continual reassessment method (O'Quigley, Pepe & Fisher 1990; dfcrm 0.2-2.1, Cheung).

One-parameter models with skeleton s (the prior guess of each dose's DLT rate):
- empiric (power): p_k(a) = s_k ** exp(a);
- logistic: p_k(a) = expit(c + exp(a) * x_k) with x_k = logit(s_k) - c, c the intercept.
In both, p_k(0) = s_k. The prior is a ~ Normal(0, prior_sd^2).

The posterior is evaluated on a fixed uniform grid of `a` (by default 4001 points over
+/- 10 prior SDs). The integrands decay smoothly to zero at both ends, so the grid sum is
as accurate as adaptive quadrature (checked against it to 1e-6) and, being a matrix
product, runs across many simulated trials at once (`posterior_mean_from_counts`).

Recommendation (dfcrm `crm`): the dose whose plug-in rate p_k(a_hat) is closest to the
target, the first in dose order on ties. `restrict` (dfcrm `crmsim`): never escalate by
more than one dose above the last cohort's dose, and not at all right after a cohort whose
DLT rate is at or above the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from scipy.stats import norm

from phaseone.designs.base import (
    Assessment,
    DesignState,
    EscalationDesign,
    Posterior,
    Selection,
    check_dose,
    check_probability,
)
from phaseone.designs.outcomes import Counts, Outcomes, Patient
from phaseone.errors import InputError, Problem

Model = Literal["empiric", "logistic"]
Method = Literal["bayes", "mle"]
DEFAULT_SD = math.sqrt(1.34)
MLE_BOUNDS = (-10.0, 10.0)


def check_skeleton(skeleton: tuple[float, ...], path: str = "skeleton") -> None:
    if len(skeleton) < 2:
        raise InputError([Problem(path, f"expected at least 2 doses, got {len(skeleton)}")])
    for i, s in enumerate(skeleton):
        check_probability(s, f"{path}[{i + 1}]")
    for i in range(1, len(skeleton)):
        if skeleton[i] <= skeleton[i - 1]:
            raise InputError(
                [
                    Problem(
                        path,
                        f"must be strictly increasing; dose {i + 1} ({skeleton[i]:g}) is not above "
                        f"dose {i} ({skeleton[i - 1]:g})",
                    )
                ]
            )


def scaled_doses(
    skeleton: tuple[float, ...], model: Model, intercept: float
) -> NDArray[np.float64]:
    s = np.asarray(skeleton, dtype=np.float64)
    if model == "empiric":
        return s
    x = np.asarray(logit(s), dtype=np.float64) - intercept
    if not (x < 0).all():
        raise InputError(
            [
                Problem(
                    "intercept",
                    f"too small for the skeleton: logit(skeleton) - {intercept:g} must be < 0",
                )
            ]
        )
    return x


def prob_tox(
    x: NDArray[np.float64], a: NDArray[np.float64], model: Model, intercept: float
) -> NDArray[np.float64]:
    """p(x, a) with broadcasting: x[..., None] against a grid gives (doses, grid)."""
    if model == "empiric":
        return np.asarray(x ** np.exp(a), dtype=np.float64)
    return np.asarray(expit(intercept + np.exp(a) * x), dtype=np.float64)


@dataclass(frozen=True)
class Grid:
    a: NDArray[np.float64]
    log_prior: NDArray[np.float64]


def make_grid(prior_sd: float, points: int, halfwidth_sd: float) -> Grid:
    a = np.linspace(-halfwidth_sd * prior_sd, halfwidth_sd * prior_sd, points)
    return Grid(a, -0.5 * (a / prior_sd) ** 2)


def normalised(log_post: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalised grid weights along the last axis (uniform spacing cancels)."""
    w = np.exp(log_post - log_post.max(axis=-1, keepdims=True))
    return np.asarray(w / w.sum(axis=-1, keepdims=True), dtype=np.float64)


def posterior_mean_from_counts(
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    skeleton: tuple[float, ...],
    model: Model = "empiric",
    prior_sd: float = DEFAULT_SD,
    intercept: float = 3.0,
    points: int = 4001,
    halfwidth_sd: float = 10.0,
) -> NDArray[np.float64]:
    """Posterior mean of `a` for many trials at once: n, y have shape (trials, doses)."""
    grid = make_grid(prior_sd, points, halfwidth_sd)
    p = prob_tox(
        scaled_doses(skeleton, model, intercept)[:, None], grid.a[None, :], model, intercept
    )
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p), np.log1p(-p)
    ll = np.asarray(y, dtype=np.float64) @ _finite(log_p) + np.asarray(
        n - y, dtype=np.float64
    ) @ _finite(log_q)
    w = normalised(ll + grid.log_prior)
    return np.asarray(w @ grid.a, dtype=np.float64)


def _finite(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isfinite(values), values, -1e300)


@dataclass(frozen=True)
class Fit:
    """The model fitted to one set of (dose, DLT, weight) observations."""

    estimate: float
    method: str
    post_mean: float
    post_var: float
    ptox: NDArray[np.float64]
    weights: NDArray[np.float64] = field(repr=False)
    grid_probs: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class CRM(EscalationDesign):
    skeleton: tuple[float, ...]
    target_rate: float
    model: Model = "empiric"
    method: Method = "bayes"
    prior_sd: float = DEFAULT_SD
    intercept: float = 3.0
    restrict: bool = True
    start_dose: int = 1
    conf_level: float = 0.90
    grid_points: int = 4001
    grid_halfwidth_sd: float = 10.0
    name: str = "crm"

    def __post_init__(self) -> None:
        object.__setattr__(self, "skeleton", tuple(float(s) for s in self.skeleton))
        check_skeleton(self.skeleton)
        check_probability(self.target_rate, "target")
        check_probability(self.conf_level, "conf_level")
        check_dose(self.start_dose, len(self.skeleton), "start_dose")
        if not self.prior_sd > 0:
            raise InputError(
                [Problem("prior_sd", f"expected a positive number, got {self.prior_sd:g}")]
            )
        if self.grid_points < 101:
            raise InputError([Problem("grid_points", "expected at least 101 points")])
        scaled_doses(self.skeleton, self.model, self.intercept)

    @property
    def n_doses(self) -> int:
        return len(self.skeleton)

    @property
    def target(self) -> float:
        return self.target_rate

    def describe(self) -> str:
        return (
            f"CRM({self.model}, {self.method}, target={self.target_rate:g}, doses={self.n_doses})"
        )

    # --- the model ---------------------------------------------------------------------

    def observations(
        self, outcomes: Outcomes
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
        """(dose index, DLT 0/1, weight) per patient in the likelihood; pending are left out."""
        used = [p for p in outcomes.patients if p.evaluable]
        return _arrays(used, [1.0] * len(used))

    def fit_model(
        self, level: NDArray[np.int64], tox: NDArray[np.float64], w: NDArray[np.float64]
    ) -> Fit:
        x = scaled_doses(self.skeleton, self.model, self.intercept)
        grid = make_grid(self.prior_sd, self.grid_points, self.grid_halfwidth_sd)
        probs = prob_tox(x[:, None], grid.a[None, :], self.model, self.intercept)  # (doses, G)
        pk = probs[level]  # (patients, G)
        with np.errstate(divide="ignore"):
            ll = (
                tox[:, None] * _finite(np.log(pk))
                + (1 - tox[:, None]) * _finite(np.log1p(-w[:, None] * pk))
            ).sum(axis=0)
        weights = normalised(ll + grid.log_prior)
        mean = float(weights @ grid.a)
        var = float(weights @ grid.a**2) - mean**2
        estimate, method = mean, "bayes"
        if self.method == "mle":
            if 0 < tox.sum() < len(tox):
                estimate, method = _mle(x, level, tox, w, self.model, self.intercept), "mle"
            else:
                method = "bayes (the MLE does not exist without both DLT and non-DLT outcomes)"
        ptox = prob_tox(x, np.array(estimate), self.model, self.intercept)
        return Fit(estimate, method, mean, var, ptox, weights, probs)

    def recommend(self, ptox: NDArray[np.float64]) -> int:
        return int(np.argmin(np.abs(ptox - self.target_rate))) + 1

    def restriction(self, outcomes: Outcomes) -> tuple[int, str] | None:
        """The highest dose `restrict` allows next, with why; None if unrestricted."""
        last = outcomes.last_cohort()
        if not self.restrict or not last:
            return None
        d = last[0].dose
        seen = [p for p in last if p.evaluable]
        if seen and sum(p.dlt for p in seen) / len(last) >= self.target_rate:
            return (
                d,
                f"the last cohort at dose {d} had a DLT rate at or above the target: no escalation",
            )
        return min(
            d + 1, self.n_doses
        ), f"no skipping: at most one dose above the last cohort's dose {d}"

    def assess(self, outcomes: Outcomes, counts: Counts) -> Assessment:
        level, tox, w = self.observations(outcomes)
        fit = self.fit_model(level, tox, w)
        model_rec = self.recommend(fit.ptox)
        lower, upper = self.intervals(fit)
        details = {
            "estimate": fit.estimate,
            "method": fit.method,
            "posterior_mean": fit.post_mean,
            "posterior_var": fit.post_var,
            "ptox": [float(v) for v in fit.ptox],
            "interval_level": self.conf_level,
            "ptox_lower": lower,
            "ptox_upper": upper,
            "weights": [float(v) for v in w],
        }
        selection = Selection(
            model_rec,
            "crm",
            f"plug-in estimate {fit.ptox[model_rec - 1]:.4f} at dose {model_rec} is closest to "
            f"the target "
            f"{self.target_rate:g}",
            tuple(float(v) for v in fit.ptox),
        )
        return Assessment(
            admissible=(True,) * self.n_doses,
            estimates=tuple(float(v) for v in fit.ptox),
            selection=selection,
            posterior=_grid_posterior(fit),
            details=details,
        )

    def decide(self, state: DesignState, counts: Counts) -> DesignState:
        """The model's recommendation (the selection), capped by `restrict`."""
        model_rec = state.selection.dose
        assert model_rec is not None  # the CRM always recommends a dose
        ptox = state.details["ptox"]
        state = state.with_reason(
            "model",
            f"{state.details['method']} estimate a = {state.details['estimate']:.4f}; dose "
            f"{model_rec} has p = {ptox[model_rec - 1]:.4f}, closest to {self.target_rate:g}",
            recommended_dose=model_rec,
        )
        limit = self.restriction(state.outcomes)
        if limit is not None and model_rec > limit[0]:
            state = state.with_reason("restrict", limit[1], recommended_dose=limit[0])
        return state

    def intervals(self, fit: Fit) -> tuple[list[float], list[float]]:
        """Equal-tailed posterior intervals for each dose's DLT rate, from the grid."""
        cdf = np.cumsum(fit.weights)
        lo_q, hi_q = (1 - self.conf_level) / 2, (1 + self.conf_level) / 2
        grid = make_grid(self.prior_sd, self.grid_points, self.grid_halfwidth_sd).a
        a_lo = float(np.interp(lo_q, cdf, grid))
        a_hi = float(np.interp(hi_q, cdf, grid))
        x = scaled_doses(self.skeleton, self.model, self.intercept)
        # p decreases in a for both models, so the upper end of a gives the lower end of p.
        lower = prob_tox(x, np.array(a_hi), self.model, self.intercept)
        upper = prob_tox(x, np.array(a_lo), self.model, self.intercept)
        return [float(v) for v in lower], [float(v) for v in upper]

    def normal_intervals(self, fit: Fit) -> tuple[list[float], list[float]]:
        """dfcrm's intervals: a_hat +/- z * posterior SD, mapped through the model."""
        z = float(norm.ppf(0.5 + self.conf_level / 2))
        sd = math.sqrt(max(fit.post_var, 0.0))
        x = scaled_doses(self.skeleton, self.model, self.intercept)
        lower = prob_tox(x, np.array(fit.estimate + z * sd), self.model, self.intercept)
        upper = prob_tox(x, np.array(fit.estimate - z * sd), self.model, self.intercept)
        return [float(v) for v in lower], [float(v) for v in upper]


def _arrays(
    patients: list[Patient], weights: list[float]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    level = np.array([p.dose - 1 for p in patients], dtype=np.int64)
    tox = np.array([1.0 if p.dlt else 0.0 for p in patients], dtype=np.float64)
    return level, tox, np.array(weights, dtype=np.float64)


def _grid_posterior(fit: Fit) -> Posterior:
    def exceeds(threshold: float) -> NDArray[np.float64]:
        return np.asarray((fit.grid_probs > threshold) @ fit.weights, dtype=np.float64)

    return Posterior(exceeds)


def _mle(
    x: NDArray[np.float64],
    level: NDArray[np.int64],
    tox: NDArray[np.float64],
    w: NDArray[np.float64],
    model: Model,
    intercept: float,
) -> float:
    def negative_ll(a: float) -> float:
        p = prob_tox(x[level], np.array(a), model, intercept)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = float(np.sum(tox * _finite(np.log(p)) + (1 - tox) * _finite(np.log1p(-w * p))))
        return -ll

    result = minimize_scalar(
        negative_ll, bounds=MLE_BOUNDS, method="bounded", options={"xatol": 1e-10}
    )
    return float(result.x)


def get_prior(
    halfwidth: float,
    target: float,
    nu: int,
    n_levels: int,
    model: Model = "empiric",
    intercept: float = 3.0,
) -> tuple[float, ...]:
    """A skeleton by indifference intervals (Lee & Cheung 2009; dfcrm `getprior`).

    Dose `nu` gets the target. Walking outwards, each neighbour is placed so that the
    parameter value at which one dose's rate is target + halfwidth is the value at which
    the next lower dose's rate is target - halfwidth: their indifference intervals touch.
    """
    check_probability(target, "target")
    if not 0 < halfwidth < min(target, 1 - target):
        raise InputError(
            [
                Problem(
                    "halfwidth",
                    f"expected 0 < halfwidth < {min(target, 1 - target):g}, got {halfwidth:g}",
                )
            ]
        )
    if not 1 <= nu <= n_levels:
        raise InputError([Problem("nu", f"dose {nu} is outside 1..{n_levels}")])
    lo, hi = target - halfwidth, target + halfwidth
    if model == "empiric":
        # s ** exp(b) = r  <=>  exp(b) = log(r) / log(s).
        s = [0.0] * n_levels
        s[nu - 1] = target
        for k in range(nu - 1, 0, -1):
            scale = math.log(hi) / math.log(s[k])
            s[k - 1] = math.exp(math.log(lo) / scale)
        for k in range(nu - 1, n_levels - 1):
            scale = math.log(lo) / math.log(s[k])
            s[k + 1] = math.exp(math.log(hi) / scale)
        return tuple(s)
    # logistic: c + exp(b) * x = logit(r)  <=>  exp(b) = (logit(r) - c) / x.
    x = [0.0] * n_levels
    x[nu - 1] = float(logit(target)) - intercept
    for k in range(nu - 1, 0, -1):
        scale = (float(logit(hi)) - intercept) / x[k]
        x[k - 1] = (float(logit(lo)) - intercept) / scale
    for k in range(nu - 1, n_levels - 1):
        scale = (float(logit(lo)) - intercept) / x[k]
        x[k + 1] = (float(logit(hi)) - intercept) / scale
    return tuple(float(expit(intercept + v)) for v in x)
