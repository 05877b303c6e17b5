"""Kaplan-Meier estimates with log(-log) intervals, Greenwood or Peto standard errors.

lifelines fits the curve (the event table and the product-limit estimate). The interval is
computed here from one formula for both variance choices, so the Peto option (the COG
convention) is not a second copy of the Greenwood path:

    theta = log(-log S),   se(theta) = se(log S) / |log S|,
    S_lower = exp(-exp(theta + z se(theta))),   S_upper = exp(-exp(theta - z se(theta)))
    Greenwood: var(log S) = sum d / (n (n - d))            (R survfit, lifelines)
    Peto:      var(log S) = (1 - S) / n(t)                 (Peto et al., Br J Cancer 1977)

where n(t) is the number at risk at t. Quantiles (the median) follow R's survfit rule: the
first time the curve is at or below 0.5, or the midpoint of a flat stretch at exactly 0.5;
the interval applies the same rule to the upper and lower curves. Parity with R
`survival::survfit(conf.type = "log-log")` is pinned in tests/outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

SeMethod = Literal["greenwood", "peto"]
_TOL = math.sqrt(np.finfo(float).eps)  # R's tolerance for "exactly 0.5"

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class KaplanMeier:
    """One Kaplan-Meier curve at each distinct time (event or censoring)."""

    label: str
    n: int
    events: int
    time: FloatArray
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    survival: FloatArray
    std_err: FloatArray  # standard error of S
    lower: FloatArray
    upper: FloatArray
    conf_level: float
    se_method: SeMethod

    @property
    def median(self) -> float:
        return quantile_time(self.time, self.survival, 0.5)

    @property
    def median_ci(self) -> tuple[float, float]:
        return (
            quantile_time(self.time, self.lower, 0.5),
            quantile_time(self.time, self.upper, 0.5),
        )

    def at(self, t: float) -> tuple[float, float, float, int]:
        """(S, lower, upper, number at risk) at time t (the curve is right-continuous)."""
        i = int(np.searchsorted(self.time, t, side="right")) - 1
        at_risk = int(self.n_risk[i + 1]) if i + 1 < len(self.time) else 0
        if i < 0:
            return 1.0, 1.0, 1.0, self.n
        return float(self.survival[i]), float(self.lower[i]), float(self.upper[i]), at_risk

    def at_risk(self, t: float) -> int:
        """Number still at risk at time t (followed to t or beyond)."""
        i = int(np.searchsorted(self.time, t, side="left"))
        return int(self.n_risk[i]) if i < len(self.time) else 0


def quantile_time(time: FloatArray, curve: FloatArray, p: float = 0.5) -> float:
    """First time `curve` <= p; the midpoint to the next drop if it sits exactly at p."""
    below = np.nonzero(curve <= p + _TOL)[0]
    if len(below) == 0:
        return math.nan
    i = int(below[0])
    if abs(curve[i] - p) < _TOL:
        later = np.nonzero(curve[i:] < p - _TOL)[0]
        if len(later) == 0:
            return math.nan  # flat at p to the end: R leaves the upper end undefined
        return float((time[i] + time[i + int(later[0])]) / 2)
    return float(time[i])


def kaplan_meier(
    durations: Sequence[float] | FloatArray,
    events: Sequence[bool] | NDArray[np.bool_],
    *,
    label: str = "all",
    se_method: SeMethod = "greenwood",
    conf_level: float = 0.95,
) -> KaplanMeier:
    """Fit one curve; `durations` in any unit, `events` True for an event, False censored."""
    from lifelines import KaplanMeierFitter  # heavy import kept inside
    from scipy.stats import norm

    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape or t.ndim != 1 or len(t) == 0:
        raise ValueError("durations and events must be non-empty and of equal length")
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ValueError("durations must be finite and >= 0")
    fitter = KaplanMeierFitter().fit(t, e, label=label)
    table = fitter.event_table
    keep = (table["observed"] + table["censored"]) > 0
    table = table[keep]
    time = table.index.to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=np.int64)
    n_event = table["observed"].to_numpy(dtype=np.int64)
    n_censor = table["censored"].to_numpy(dtype=np.int64)
    surv = fitter.survival_function_.loc[time].to_numpy(dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        if se_method == "greenwood":
            var_log = np.cumsum(n_event / (n_risk * (n_risk - n_event)))
        elif se_method == "peto":
            var_log = (1 - surv) / n_risk
        else:
            raise ValueError(f"unknown se_method {se_method!r}; expected greenwood or peto")
        se_log = np.sqrt(var_log)
        z = float(norm.ppf(1 - (1 - conf_level) / 2))
        log_s = np.log(surv)
        theta = np.log(-log_s)
        spread = z * se_log / np.abs(log_s)
        lower = np.exp(-np.exp(theta + spread))
        upper = np.exp(-np.exp(theta - spread))
    one = surv >= 1 - 1e-15
    lower[one], upper[one] = 1.0, 1.0
    zero = surv <= 0
    lower[zero], upper[zero] = np.nan, np.nan
    return KaplanMeier(
        label=label,
        n=len(t),
        events=int(e.sum()),
        time=time,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        survival=surv,
        std_err=surv * se_log,
        lower=lower,
        upper=upper,
        conf_level=conf_level,
        se_method=se_method,
    )
