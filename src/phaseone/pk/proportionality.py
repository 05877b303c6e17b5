"""Dose proportionality by the power model: ln(exposure) = a + b ln(dose).

b = 1 is proportionality. The estimate of b and its two-sided confidence interval come
from ordinary least squares on the log scale (Gough et al., Drug Inf J 1995;29:1039-48;
Smith et al., Pharm Res 2000;17:1278-83, who judge proportionality by whether the 90%
interval for b lies within 1 +- ln(theta)/ln(r) for a dose ratio r). With few patients
per level the interval is wide; it is reported, never turned into a verdict here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PowerModel:
    n: int
    slope: float  # b
    intercept: float  # a
    slope_se: float
    level: float
    lower: float
    upper: float
    reason: str | None = None  # why nothing could be estimated

    def as_dict(self) -> dict[str, object]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in self.__dict__.items()}


def power_model(doses: Sequence[float], exposures: Sequence[float],
                level: float = 0.90) -> PowerModel:
    """Fit ln(exposure) on ln(dose); pairs with a non-positive or missing value are left
    out. Fewer than three pairs, or a single distinct dose, give NaN with the reason."""
    x = np.asarray(doses, dtype=float)
    y = np.asarray(exposures, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    x, y = np.log(x[keep]), np.log(y[keep])
    n = int(x.size)
    nan = math.nan
    if n < 3:
        return PowerModel(n, nan, nan, nan, level, nan, nan, "fewer than 3 positive pairs")
    if np.ptp(x) == 0:
        return PowerModel(n, nan, nan, nan, level, nan, nan, "only one dose")
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (y - y.mean())).sum() / sxx)
    a = float(y.mean() - b * xm)
    resid = y - (a + b * x)
    s2 = float((resid**2).sum() / (n - 2))
    se = math.sqrt(s2 / sxx)
    t = float(stats.t.ppf(0.5 + level / 2, n - 2))
    return PowerModel(n, b, a, se, level, b - t * se, b + t * se)
