"""End-of-trial selection for interval designs, for many trials at once.

BOIN's `select.mtd` rule: re-apply elimination to the final data; among treated,
non-eliminated doses, shrink the DLT rate to (y + 0.05) / (n + 0.1), smooth it by weighted
isotonic regression (pool-adjacent-violators, pooling the first violation each pass), add
k * 1e-10 to the k-th candidate to break ties, and choose the estimate closest to the
target (first minimum). With a bound (boundMTD), estimates at or above it are excluded.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from phaseone.simulation.batch import NO_DOSE

DE_CODE = 3


def eliminated_from(
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    codes: NDArray[np.int8],
    stop_lowest_min: NDArray[np.int64] | None,
) -> NDArray[np.int64]:
    """Per trial: the lowest eliminated dose (0-based), or n_doses when none is."""
    k = n.shape[1]
    elim = codes[n, y] == DE_CODE
    first: NDArray[np.int64] = np.where(elim.any(axis=1), elim.argmax(axis=1), k).astype(np.int64)
    if stop_lowest_min is not None:
        bound = stop_lowest_min[n[:, 0]]
        first[(bound >= 0) & (y[:, 0] >= bound)] = 0
    return first


def isotonic_select(
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    target: float,
    first_eliminated: NDArray[np.int64],
    bound: float | None = None,
) -> NDArray[np.int64]:
    """The selected dose per trial (0-based; NO_DOSE for none)."""
    trials, k = n.shape
    cols = np.arange(k)
    cand = (n > 0) & (cols[None, :] < first_eliminated[:, None])
    selected = np.full(trials, NO_DOSE, dtype=np.int64)
    rows = np.flatnonzero(cand.any(axis=1))
    if rows.size == 0:
        return selected
    c = cand[rows]
    count = c.sum(axis=1)
    if (c == (cols[None, :] < count[:, None])).all():
        # Candidates are doses 0..m-1 in every trial: no packing needed.
        dose_of = np.broadcast_to(cols, c.shape)
        valid = c
        nn = n[rows].astype(np.float64)
        yy = y[rows].astype(np.float64)
    else:
        # Pack each trial's candidates to the left; padding holds +inf and never pools.
        order = np.argsort(~c, axis=1, kind="stable")
        dose_of = np.take_along_axis(np.broadcast_to(cols, c.shape), order, axis=1)
        valid = np.take_along_axis(c, order, axis=1)
        nn = np.take_along_axis(n[rows], order, axis=1).astype(np.float64)
        yy = np.take_along_axis(y[rows], order, axis=1).astype(np.float64)
    phat = np.where(valid, (yy + 0.05) / (nn + 0.1), np.inf)
    var = (yy + 0.05) * (nn - yy + 0.05) / ((nn + 0.1) ** 2 * (nn + 0.1 + 1))
    weight = np.where(valid, 1.0 / np.where(valid, var, 1.0), 0.0)
    iso = _pava_first_violation(phat, weight)
    iso = iso + np.arange(1, k + 1)[None, :] * 1e-10
    if bound is not None:
        iso = np.where(iso < bound, iso, np.inf)
    dist = np.where(np.isfinite(iso), np.abs(iso - target), np.inf)
    best = dist.argmin(axis=1)
    ok = np.isfinite(dist[np.arange(rows.size), best])
    selected[rows[ok]] = dose_of[np.arange(rows.size), best][ok]
    return selected


def _pava_first_violation(x: NDArray[np.float64], w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted isotonic regression, row by row, pooling the first violating pair each pass
    (as BOIN does), so pooled values come out bit-identical within a block."""
    x = x.copy()
    trials, k = x.shape
    level = np.broadcast_to(np.arange(k), x.shape).copy()
    active = np.arange(trials)
    while active.size:
        xa = x[active]
        viol = xa[:, 1:] < xa[:, :-1]
        has = viol.any(axis=1)
        active = active[has]
        if active.size == 0:
            break
        i = viol[has].argmax(axis=1)
        lv = level[active]
        l1 = lv[np.arange(active.size), i]
        l2 = lv[np.arange(active.size), i + 1]
        pool = (lv == l1[:, None]) | (lv == l2[:, None])
        xs, ws = x[active], w[active]
        num = (np.where(pool, xs, 0.0) * np.where(pool, ws, 0.0)).sum(axis=1)
        den = np.where(pool, ws, 0.0).sum(axis=1)
        x[active] = np.where(pool, (num / den)[:, None], xs)
        level[active] = np.where(pool, l1[:, None], lv)
    return x
