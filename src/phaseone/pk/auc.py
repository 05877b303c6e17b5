"""Areas under the concentration (AUC) and first-moment (AUMC) curves.

Segment rules (t1, C1) -> (t2, C2), dt = t2 - t1:
  linear:  AUC = dt (C1 + C2) / 2;          AUMC = dt (t1 C1 + t2 C2) / 2
  log:     k = ln(C1 / C2) / dt;  AUC = (C1 - C2) / k;
           AUMC = (t1 C1 - t2 C2) / k + (C1 - C2) / k²
The log rule applies to falling segments with both ends > 0: always for linup-logdown, and
from Tmax on for linlog. A segment from 0 to 0 adds nothing.
"""

from __future__ import annotations

import math

import numpy as np

from phaseone.pk.data import BoolArray, FloatArray
from phaseone.pk.options import AUCMethod


def log_segments(
    t1: np.ndarray, c1: np.ndarray, c2: np.ndarray, tmax: np.ndarray, method: AUCMethod
) -> np.ndarray:
    """Which segments use the log trapezoid."""
    falling = (c2 < c1) & (c2 > 0)
    if method is AUCMethod.LINEAR:
        return np.zeros_like(falling)
    if method is AUCMethod.LINLOG:
        return falling & (t1 >= tmax)
    return falling


def segment_areas(
    t: FloatArray, c: FloatArray, valid: BoolArray, tmax: FloatArray, method: AUCMethod
) -> tuple[FloatArray, FloatArray]:
    """AUC and AUMC of every segment between consecutive valid columns (0 elsewhere)."""
    t1, t2, c1, c2 = t[:, :-1], t[:, 1:], c[:, :-1], c[:, 1:]
    ok = valid[:, :-1] & valid[:, 1:]
    dt = t2 - t1
    use_log = ok & log_segments(t1, c1, c2, tmax[:, None], method)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = np.where(ok, dt * (c1 + c2) / 2, 0.0)
        aumc = np.where(ok, dt * (t1 * c1 + t2 * c2) / 2, 0.0)
        if use_log.any():
            k = np.log(c1 / c2) / dt
            auc = np.where(use_log, (c1 - c2) / k, auc)
            aumc = np.where(use_log, (t1 * c1 - t2 * c2) / k + (c1 - c2) / (k * k), aumc)
    return auc, aumc


def cumulative(segments: FloatArray) -> FloatArray:
    """Area from the first column to each column (column 0 is 0)."""
    out = np.zeros((segments.shape[0], segments.shape[1] + 1))
    np.cumsum(segments, axis=1, out=out[:, 1:])
    return out


# --- one profile, any window -----------------------------------------------------------


def _conc_at(
    x: float, t: FloatArray, c: FloatArray, tmax: float, method: AUCMethod,
    lamz: float, tlast: float, clast: float,
) -> float:
    """Concentration at time x: interpolated inside the data (log where the AUC rule is
    log), extrapolated with λz after the last measurable concentration."""
    if x > tlast + 1e-12:
        return clast * math.exp(-lamz * (x - tlast)) if math.isfinite(lamz) else math.nan
    i = int(np.searchsorted(t, x, side="right")) - 1
    if i < 0:
        return math.nan
    if math.isclose(t[i], x, rel_tol=0, abs_tol=1e-12) or i + 1 >= len(t):
        return float(c[i]) if math.isclose(t[i], x, rel_tol=0, abs_tol=1e-12) else math.nan
    f = (x - t[i]) / (t[i + 1] - t[i])
    if log_segments(np.array(t[i]), np.array(c[i]), np.array(c[i + 1]), np.array(tmax), method):
        return float(c[i] * (c[i + 1] / c[i]) ** f)
    return float(c[i] + f * (c[i + 1] - c[i]))


def auc_between(
    a: float, b: float, t: FloatArray, c: FloatArray, tmax: float, method: AUCMethod,
    lamz: float, tlast: float, clast: float,
) -> float:
    """AUC from a to b for one profile (valid points only, sorted).

    Inside the data the segment rules apply, with the concentration at a and b
    interpolated; after the last measurable concentration the λz curve is integrated
    (NaN if there is no λz). Before the first sample the AUC is undefined (NaN).
    """
    if not b > a or len(t) == 0 or a < t[0] - 1e-12:
        return math.nan
    inner_end = min(b, tlast)
    area = 0.0
    if inner_end > a:
        keep = (t > a) & (t < inner_end)
        xs = np.concatenate(([a], t[keep], [inner_end]))
        ca = _conc_at(a, t, c, tmax, method, lamz, tlast, clast)
        cb = _conc_at(inner_end, t, c, tmax, method, lamz, tlast, clast)
        ys = np.concatenate(([ca], c[keep], [cb]))
        seg, _ = segment_areas(
            xs[None, :], ys[None, :], np.ones((1, len(xs)), dtype=bool), np.array([tmax]), method
        )
        area += float(seg.sum())
    if b > tlast:
        if not math.isfinite(lamz):
            return math.nan
        lo = max(a, tlast)
        area += clast / lamz * (math.exp(-lamz * (lo - tlast)) - math.exp(-lamz * (b - tlast)))
    return area
