"""Profiles laid out as padded 2-D arrays (one row per profile) for vectorised NCA.

Building a batch applies, in order: the interval window, point exclusions, the BLQ rules,
and the concentration at the dose time (observed, 0 before an extravascular dose or an
infusion, back-extrapolated C0 for an IV bolus). Rows are then sorted by time with unused
cells (NaN) at the end, so consecutive valid columns are the AUC segments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from phaseone.pk.data import BoolArray, Concentrations, Dose, FloatArray, Interval, Route, doses_for
from phaseone.pk.options import BLQAction, BLQRules

ROUTE_CODES = {Route.EXTRAVASCULAR: 0, Route.IV_BOLUS: 1, Route.IV_INFUSION: 2}
EV, BOLUS, INFUSION = 0, 1, 2
_TIME_EPS = 1e-9


@dataclass(eq=False)
class Batch:
    """All profiles of one interval. Times are relative to the dose (or interval start)."""

    subjects: list[str]
    analytes: list[str]
    interval: Interval
    start: FloatArray
    """Interval start relative to origin."""
    t: FloatArray
    c: FloatArray
    valid: BoolArray
    observed: BoolArray
    lz_include: BoolArray
    lz_exclude: BoolArray
    origin: FloatArray
    """Absolute time of the dose (or interval start) each row is relative to."""
    end: FloatArray
    """Interval end relative to origin (inf for open intervals)."""
    dose: FloatArray
    has_dose: BoolArray
    route: np.ndarray
    duration: FloatArray
    c0: FloatArray
    c0_method: np.ndarray
    conc_unit: str
    time_unit: str
    dose_unit: str
    methods: list[str]
    full: Batch | None = None
    """The same profiles without the interval window, for interpolation at its ends."""

    @property
    def n(self) -> int:
        return len(self.subjects)


def _pick_dose(doses: list[Dose], interval: Interval) -> Dose | None:
    if not doses:
        return None
    if interval.start is None:
        return doses[0]
    before = [d for d in doses if d.time <= interval.start + _TIME_EPS]
    if before:
        return before[-1]
    inside = [d for d in doses if d.time < interval.end]
    return inside[0] if inside else None


def build_batch(
    conc: Concentrations, doses: Sequence[Dose], interval: Interval, blq: BLQRules,
    clip: bool = True,
) -> Batch:
    """Lay out the profiles for one interval. With `clip` False every sample is kept (for
    areas that interpolate or extrapolate at the interval's ends)."""
    profiles = conc.profiles
    n = len(profiles)
    width = max((len(p.times) for p in profiles), default=0) + 1
    t = np.full((n, width), np.nan)
    c = np.full((n, width), np.nan)
    blqf = np.zeros((n, width), dtype=bool)
    lloq = np.full((n, width), np.nan)
    inc = np.zeros((n, width), dtype=bool)
    exc = np.zeros((n, width), dtype=bool)
    origin = np.zeros(n)
    end = np.full(n, math.inf)
    start_rel = np.zeros(n)
    amount = np.full(n, np.nan)
    has_dose = np.zeros(n, dtype=bool)
    route = np.zeros(n, dtype=np.int64)
    duration = np.zeros(n)
    methods: list[str] = []
    dose_unit = doses[0].unit if doses else "mg"
    by_subject: dict[str, list[Dose]] = {}
    for d in doses:
        by_subject.setdefault(d.subject, []).append(d)
    for i, p in enumerate(profiles):
        dose = _pick_dose(doses_for(by_subject.get(p.subject, []), p.subject, p.analyte), interval)
        # Times are measured from the dose (or the interval start when there is none).
        if dose is not None:
            origin[i] = dose.time
            has_dose[i] = True
            amount[i] = np.nan if dose.amount is None else dose.amount
            route[i] = ROUTE_CODES[dose.route]
            duration[i] = dose.duration
            methods.append(dose.method)
        else:
            origin[i] = interval.start if interval.start is not None else 0.0
            methods.append("")
        end[i] = interval.end - origin[i]
        lo = interval.start if interval.start is not None else origin[i]
        start_rel[i] = lo - origin[i]
        keep = ~p.excluded
        if clip:
            keep &= (p.times >= lo - _TIME_EPS) & (p.times <= interval.end + _TIME_EPS)
        k = int(keep.sum())
        t[i, :k] = p.times[keep] - origin[i]
        c[i, :k] = p.conc[keep]
        blqf[i, :k] = p.blq[keep]
        lloq[i, :k] = p.lloq[keep]
        inc[i, :k] = p.lambda_z_include[keep]
        exc[i, :k] = p.lambda_z_exclude[keep]
    valid = ~np.isnan(t)
    c, valid = _apply_blq(c, valid, blqf, lloq, blq)
    observed = valid.copy()
    c0 = np.full(n, np.nan)
    c0_method = np.full(n, "", dtype=object)
    t, c, valid, observed, inc, exc = _dose_time_point(
        t, c, valid, observed, inc, exc, route, c0, c0_method, interval.tau is not None,
        (start_rel <= _TIME_EPS) | (not clip),
    )
    first = profiles[0] if profiles else None
    return Batch(
        subjects=[p.subject for p in profiles], analytes=[p.analyte for p in profiles],
        interval=interval, start=start_rel, t=t, c=c, valid=valid, observed=observed,
        lz_include=inc, lz_exclude=exc, origin=origin, end=end, dose=amount, has_dose=has_dose,
        route=route,
        duration=duration, c0=c0, c0_method=c0_method,
        conc_unit=first.conc_unit if first else "mg/L",
        time_unit=first.time_unit if first else "h", dose_unit=dose_unit, methods=methods,
    )


def _apply_blq(
    c: FloatArray, valid: BoolArray, blq: BoolArray, lloq: FloatArray, rules: BLQRules
) -> tuple[FloatArray, BoolArray]:
    """Replace or drop BLQ (flagged, or zero) samples by their position in the profile."""
    blq_like = valid & (blq | ~(c > 0))
    if not blq_like.any():
        return c, valid
    meas = valid & ~blq_like
    m = c.shape[1]
    col = np.arange(m)[None, :]
    any_meas = meas.any(axis=1)
    first = np.where(any_meas, np.argmax(meas, axis=1), m)[:, None]
    last = np.where(any_meas, m - 1 - np.argmax(meas[:, ::-1], axis=1), m)[:, None]
    c = c.copy()
    valid = valid.copy()
    for where, action in (
        (blq_like & (col < first), rules.first),
        (blq_like & (col > first) & (col < last), rules.middle),
        (blq_like & (col > last), rules.last),
    ):
        if action is BLQAction.DROP:
            valid &= ~where
        elif action is BLQAction.ZERO:
            c[where] = 0.0
        elif action is BLQAction.LLOQ:
            c[where] = lloq[where]
        else:
            c[where] = lloq[where] / 2
    # A replacement needs a known LLOQ; without one the sample is dropped, not invented.
    valid &= ~np.isnan(c)
    return c, valid


def _sort_rows(order_key: FloatArray, *arrays: np.ndarray) -> list[np.ndarray]:
    idx = np.argsort(order_key, axis=1, kind="stable")
    return [np.take_along_axis(a, idx, axis=1) for a in arrays]


def _dose_time_point(
    t: FloatArray, c: FloatArray, valid: BoolArray, observed: BoolArray,
    inc: BoolArray, exc: BoolArray, route: np.ndarray, c0: FloatArray, c0_method: np.ndarray,
    steady_state: bool, dose_in_window: BoolArray,
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray, BoolArray, BoolArray]:
    """Make sure every row has a concentration at time 0 (the dose) for the AUC.

    Without a sample at the dose time: an IV bolus takes C0; other routes take 0 after a
    single dose, or the interval's lowest concentration at steady state (PKNCA's
    "start_cmin"), since the pre-dose level is not zero there.
    """
    t, c, valid, observed, inc, exc = _sort_rows(
        np.where(valid, t, np.inf), t, c, valid, observed, inc, exc
    )
    n, m = t.shape
    rows = np.arange(n)
    at_zero = valid[:, 0] & (np.abs(t[:, 0]) < _TIME_EPS) if m else np.zeros(n, dtype=bool)
    bolus = (route == BOLUS) & dose_in_window
    # Back-extrapolation for a bolus: log-linear through the first two post-dose points.
    post = valid & (t > _TIME_EPS) & (c > 0)
    n_post = post.sum(axis=1)
    i1 = np.argmax(post, axis=1)
    post2 = post.copy()
    post2[rows, i1] = False
    i2 = np.argmax(post2, axis=1)
    t1, c1 = t[rows, i1], c[rows, i1]
    t2, c2 = t[rows, i2], c[rows, i2]
    with np.errstate(divide="ignore", invalid="ignore"):
        logslope = (n_post >= 2) & (c1 > c2) & (c2 > 0)
        k = np.log(c1 / c2) / (t2 - t1)
        back = np.where(logslope, c1 * np.exp(k * t1), np.where(n_post >= 1, c1, np.nan))
    observed_c0 = at_zero & bolus & (c[:, 0] > 0)
    c0[:] = np.where(bolus, np.where(observed_c0, c[:, 0], back), np.nan)
    c0_method[:] = np.where(
        ~bolus, "", np.where(observed_c0, "observed", np.where(logslope, "logslope", "c1"))
    )
    if steady_state:
        lowest = np.where(valid, c, np.inf).min(axis=1, initial=np.inf)
        start = np.where(np.isfinite(lowest), lowest, np.nan)
    else:
        start = np.zeros(n)
    value = np.where(bolus, c0, start)
    # A bolus with a zero observed at dose time takes C0 in its place.
    fix = at_zero & bolus & ~observed_c0 & ~np.isnan(c0)
    c[fix, 0] = c0[fix]
    observed[fix, 0] = False
    need = ~at_zero & ~np.isnan(value) & dose_in_window
    spare = m - 1
    t[need, spare] = 0.0
    c[need, spare] = value[need]
    valid[need, spare] = True
    observed[need, spare] = False
    inc[need, spare] = False
    exc[need, spare] = False
    return tuple(  # type: ignore[return-value]
        _sort_rows(np.where(valid, t, np.inf), t, c, valid, observed, inc, exc)
    )
