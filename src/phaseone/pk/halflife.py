"""Terminal slope (λz) by automatic point selection, vectorised across profiles.

For each profile, the candidate fits regress ln C on t over the last k eligible points,
for every k from the minimum upward. Running sums taken from the end of each row give all
candidates of all profiles in a few array operations. The best fit has the highest
adjusted R²; fits within the tolerance of it are ties, and the one with most points wins.
The PKNCA and WinNonlin conventions differ in the order of the slope check and in whether
an IV bolus may start the fit at Tmax (see LambdaZRule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phaseone.pk.batch import BOLUS, Batch
from phaseone.pk.data import BoolArray, FloatArray
from phaseone.pk.options import LambdaZControls, LambdaZRule


@dataclass(eq=False)
class LambdaZFit:
    lamz: FloatArray
    r2: FloatArray
    r2adj: FloatArray
    npoints: FloatArray
    first: FloatArray
    last: FloatArray
    clast_pred: FloatArray
    log_intercept: FloatArray
    """ln C predicted at t = 0 (relative to the dose)."""
    used: BoolArray
    reason: np.ndarray


def _rev_cumsum(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a[:, ::-1], axis=1)[:, ::-1]


def fit_lambda_z(
    b: Batch, tmax: FloatArray, tlast: FloatArray, clast: FloatArray, controls: LambdaZControls
) -> LambdaZFit:
    t, c = b.t, b.c
    n_rows, m = t.shape
    meas = b.observed & (c > 0)
    tm = tmax[:, None]
    after = t > tm
    if controls.rule is LambdaZRule.WINNONLIN:
        after |= (b.route == BOLUS)[:, None] & (t >= tm)
    eligible = meas & after & (t >= b.duration[:, None]) & ~b.lz_exclude
    if controls.earliest_time is not None:
        eligible &= t >= controls.earliest_time
    forced_rows = np.asarray((b.lz_include & meas).any(axis=1), dtype=bool)
    eligible = np.where(forced_rows[:, None], b.lz_include & meas, eligible)

    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(eligible, t - tlast[:, None], 0.0)
        y = np.where(eligible, np.log(c / clast[:, None]), 0.0)
    e = eligible.astype(float)
    k = _rev_cumsum(e)
    sx, sy = _rev_cumsum(x), _rev_cumsum(y)
    sxx, sxy, syy = _rev_cumsum(x * x), _rev_cumsum(x * y), _rev_cumsum(y * y)
    total = k[:, :1] if m else np.zeros((n_rows, 1))

    cand = eligible & (k >= controls.min_points)
    if controls.max_points is not None:
        cand &= k <= controls.max_points
    cand &= ~forced_rows[:, None] | (k == total)

    with np.errstate(divide="ignore", invalid="ignore"):
        vxx = sxx - sx * sx / k
        vxy = sxy - sx * sy / k
        vyy = syy - sy * sy / k
        slope = vxy / vxx
        r2 = np.where(vyy > 0, vxy * vxy / (vxx * vyy), 0.0)
        r2 = np.minimum(r2, 1.0)
        adj = np.where(k > 2, 1 - (1 - r2) * (k - 1) / (k - 2), r2)
    adj_c = np.where(cand, adj, -np.inf)
    tol = controls.adj_r2_tolerance
    falling = cand & (slope < 0)
    if controls.rule is LambdaZRule.PKNCA:
        best = adj_c.max(axis=1, initial=-np.inf)
        ok = falling & (adj > best[:, None] - tol)
    else:
        best = np.where(falling, adj, -np.inf).max(axis=1, initial=-np.inf)
        ok = falling & (adj > best[:, None] - tol)
    found = np.asarray(ok.any(axis=1), dtype=bool)
    j = np.argmax(ok, axis=1)
    rows = np.arange(n_rows)

    def pick(a: np.ndarray) -> FloatArray:
        return np.where(found, a[rows, j], np.nan) if m else np.full(n_rows, np.nan)

    lamz = -pick(slope)
    npts = pick(k)
    intercept_c = pick((sy - slope * sx) / np.where(k > 0, k, 1.0))
    used = eligible & (np.arange(m)[None, :] >= j[:, None]) & found[:, None]
    last_used = np.where(used, t, -np.inf).max(axis=1, initial=-np.inf)

    reason = np.full(n_rows, "", dtype=object)
    too_few = ~cand.any(axis=1)
    reason[too_few] = (
        f"fewer than {controls.min_points} usable measurable points after Tmax for the "
        "terminal slope"
    )
    rising = ~found & ~too_few
    if controls.rule is LambdaZRule.PKNCA:
        reason[rising] = (
            "no declining terminal phase: the best-fitting window (adjusted R²) does not "
            "have a negative slope"
        )
    else:
        reason[rising] = "no declining terminal phase: no candidate fit has a negative slope"
    reason[forced_rows & too_few] = "fewer than the minimum number of points were forced into λz"
    return LambdaZFit(
        lamz=lamz,
        r2=pick(r2),
        r2adj=pick(adj),
        npoints=npts,
        first=pick(t),
        last=np.where(found, last_used, np.nan),
        clast_pred=clast * np.exp(intercept_c),
        log_intercept=np.log(clast) + intercept_c + lamz * tlast,
        used=used,
        reason=reason,
    )
