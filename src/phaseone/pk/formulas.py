"""How each registered parameter is computed, for all profiles of a batch at once.

`Context.get(code)` computes a parameter (and, through it, only its declared
dependencies) once. A formula may read only what its registry entry declares; reading
anything else is a programming error caught at once. Each value carries a reason when it
is missing (NaN) or flagged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from phaseone.pk.auc import auc_between, cumulative, segment_areas
from phaseone.pk.batch import EV, Batch
from phaseone.pk.data import FloatArray
from phaseone.pk.halflife import LambdaZFit, fit_lambda_z
from phaseone.pk.options import NCAOptions
from phaseone.pk.registry import registry

NO_MEASURABLE = "no measurable concentration"


@dataclass(eq=False)
class Column:
    values: FloatArray
    reason: np.ndarray


@dataclass(eq=False)
class Core:
    cmax: FloatArray
    tmax: FloatArray
    clast: FloatArray
    tlast: FloatArray
    tlag: FloatArray
    last_col: np.ndarray
    has_obs: np.ndarray
    has_meas: np.ndarray


@dataclass(eq=False)
class Areas:
    auclast: FloatArray
    aucall: FloatArray
    aumclast: FloatArray
    back: FloatArray


class Context:
    def __init__(self, batch: Batch, options: NCAOptions) -> None:
        self.b = batch
        self.options = options
        self.columns: dict[str, Column] = {}
        self.steps: dict[str, Any] = {}
        self._stack: list[str] = []
        self._full: Context | None = None

    @property
    def full(self) -> Context:
        """The context over all samples (for areas that reach outside the window)."""
        if self.b.full is None:
            return self
        if self._full is None:
            self._full = Context(self.b.full, self.options)
        return self._full

    def _check(self, name: str) -> None:
        if not self._stack:
            return
        top = self._stack[-1]
        declared = STEP_DEPENDS[top] if top in STEP_DEPENDS else registry()[top].depends
        if name not in declared:
            raise RuntimeError(f"{self._stack[-1]} reads {name} but does not declare it")

    def get(self, code: str) -> Column:
        self._check(code)
        if code not in self.columns:
            self._stack.append(code)
            try:
                self.columns[code] = FORMULAS[code](self)
            finally:
                self._stack.pop()
        return self.columns[code]

    def step(self, name: str) -> Any:
        self._check(name)
        if name not in self.steps:
            self._stack.append(name)
            try:
                self.steps[name] = STEPS[name](self)
            finally:
                self._stack.pop()
        return self.steps[name]

    @property
    def core(self) -> Core:
        core: Core = self.step("_core")
        return core

    @property
    def areas(self) -> Areas:
        areas: Areas = self.step("_auc")
        return areas

    @property
    def lz(self) -> LambdaZFit:
        fit: LambdaZFit = self.step("_lambda_z")
        return fit

    def dose(self) -> tuple[FloatArray, np.ndarray]:
        b = self.b
        reason = np.where(
            ~b.has_dose, "no dose recorded for this profile",
            np.where(np.isnan(b.dose), "dose amount not recorded", ""),
        ).astype(object)
        return b.dose, reason


# --- intermediate steps ---------------------------------------------------------------


def _core(ctx: Context) -> Core:
    b = ctx.b
    n, m = b.t.shape
    rows = np.arange(n)
    obs_c = np.where(b.observed, b.c, -np.inf)
    has_obs = np.asarray(b.observed.any(axis=1), dtype=bool)
    imax = np.argmax(obs_c, axis=1)
    cmax = np.where(has_obs, obs_c[rows, imax], np.nan)
    meas = b.observed & (b.c > 0)
    has_meas = np.asarray(meas.any(axis=1), dtype=bool)
    tmax = np.where(has_meas, b.t[rows, imax], np.nan)
    last = m - 1 - np.argmax(meas[:, ::-1], axis=1)
    tlast = np.where(has_meas, b.t[rows, last], np.nan)
    clast = np.where(has_meas, b.c[rows, last], np.nan)
    first = np.argmax(meas, axis=1)
    # Lag: the sample before the first measurable one (0 when the first sample is measurable).
    prev_obs = b.observed & (np.arange(m)[None, :] < first[:, None])
    prev_col = m - 1 - np.argmax(prev_obs[:, ::-1], axis=1)
    tlag = np.where(prev_obs.any(axis=1), b.t[rows, prev_col], 0.0)
    tlag = np.where(has_meas, np.maximum(tlag, 0.0), np.nan)
    return Core(cmax, tmax, clast, tlast, tlag, last, has_obs, has_meas)


def _auc(ctx: Context) -> Areas:
    b, core = ctx.b, ctx.core
    n, m = b.t.shape
    rows = np.arange(n)
    auc_seg, aumc_seg = segment_areas(b.t, b.c, b.valid, core.tmax, ctx.options.auc_method)
    cum_auc, cum_aumc = cumulative(auc_seg), cumulative(aumc_seg)
    last_valid = b.valid.sum(axis=1) - 1
    auclast = np.where(core.has_meas, cum_auc[rows, core.last_col], 0.0)
    aumclast = np.where(core.has_meas, cum_aumc[rows, core.last_col], 0.0)
    aucall = np.where(last_valid >= 0, cum_auc[rows, np.maximum(last_valid, 0)], np.nan)
    no_obs = ~core.has_obs
    auclast[no_obs] = np.nan
    aumclast[no_obs] = np.nan
    back = np.where(b.valid[:, 0] & ~b.observed[:, 0], auc_seg[:, 0], 0.0) if m > 1 else np.zeros(n)
    return Areas(auclast, aucall, aumclast, back)


def _lambda_z(ctx: Context) -> LambdaZFit:
    core = ctx.core
    return fit_lambda_z(ctx.b, core.tmax, core.tlast, core.clast, ctx.options.lambda_z)


STEPS: dict[str, Callable[[Context], Any]] = {
    "_core": _core, "_auc": _auc, "_lambda_z": _lambda_z
}
STEP_DEPENDS: dict[str, tuple[str, ...]] = {
    "_core": (), "_auc": ("_core",), "_lambda_z": ("_core",)
}


# --- helpers ----------------------------------------------------------------------------


def _blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def derived(values: FloatArray, *sources: Column, reason: str = "") -> Column:
    """A value computed from other parameters; a missing value inherits the first reason."""
    r = _blank(len(values))
    for src in sources:
        r = np.where((r == "") & (src.reason != ""), src.reason, r)
    r = np.where(np.isnan(values), np.where(r == "", reason or "not computable", r), "")
    return Column(values, r.astype(object))


def _from_core(values: FloatArray, ctx: Context) -> Column:
    r = np.where(np.isnan(values), NO_MEASURABLE, "").astype(object)
    r[~ctx.core.has_obs] = "no concentration in the interval"
    return Column(values, r)


def _lz(ctx: Context, values: FloatArray) -> Column:
    fit = ctx.lz
    return Column(values, np.where(np.isnan(values), fit.reason, "").astype(object))


def _per_dose(ctx: Context, values: FloatArray, *sources: Column) -> Column:
    dose, why = ctx.dose()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = values / dose
    col = derived(out, *sources)
    col.reason = np.where(np.isnan(out) & (why != ""), why, col.reason).astype(object)
    return col


def _dose_over(ctx: Context, denominator: FloatArray, *sources: Column) -> Column:
    dose, why = ctx.dose()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = dose / denominator
    col = derived(out, *sources)
    col.reason = np.where(np.isnan(out) & (why != ""), why, col.reason).astype(object)
    return col


def _mrt(ctx: Context, auc: Column, aumc: Column) -> Column:
    with np.errstate(divide="ignore", invalid="ignore"):
        # For an infusion, half the duration is the mean time spent in the infusion.
        values = aumc.values / auc.values - ctx.b.duration / 2
    return derived(values, auc, aumc)


def _pct(part: FloatArray, whole: Column, *sources: Column) -> Column:
    with np.errstate(divide="ignore", invalid="ignore"):
        return derived(100 * part / whole.values, whole, *sources)


def _window_auc(ctx: Context, start: FloatArray, end: FloatArray) -> Column:
    ctx.step("_core")
    ctx.step("_lambda_z")
    full = ctx.full
    b, core, fit = full.b, full.core, full.lz
    out = np.full(b.n, np.nan)
    reason = _blank(b.n)
    method = ctx.options.auc_method
    for i in range(b.n):
        v = b.valid[i]
        t, c = b.t[i][v], b.c[i][v]
        if not core.has_obs[i]:
            reason[i] = "no concentration in the interval"
            continue
        if not np.isfinite(end[i]):
            reason[i] = "the interval has no end; use AUCIFO for the area to infinity"
            continue
        out[i] = auc_between(
            float(start[i]), float(end[i]), t, c, float(core.tmax[i]), method,
            float(fit.lamz[i]), float(core.tlast[i]), float(core.clast[i]),
        )
        if math.isnan(out[i]):
            reason[i] = (
                "the interval ends after the last measurable concentration and there is "
                f"no terminal slope ({fit.reason[i]})" if end[i] > core.tlast[i]
                else "the interval starts before the first sample"
            )
    return Column(out, reason)


# --- formulas ---------------------------------------------------------------------------


def _cmax(ctx: Context) -> Column:
    return _from_core(ctx.core.cmax, ctx)


def _tmax(ctx: Context) -> Column:
    return _from_core(ctx.core.tmax, ctx)


def _clst(ctx: Context) -> Column:
    return _from_core(ctx.core.clast, ctx)


def _tlst(ctx: Context) -> Column:
    return _from_core(ctx.core.tlast, ctx)


def _tlag(ctx: Context) -> Column:
    return _from_core(ctx.core.tlag, ctx)


def _c0(ctx: Context) -> Column:
    ctx.step("_core")
    c0 = ctx.b.c0
    return Column(c0, np.where(np.isnan(c0), "no post-dose concentration", "").astype(object))


def _area(ctx: Context, values: FloatArray) -> Column:
    r = np.where(np.isnan(values), "no concentration in the interval", "").astype(object)
    return Column(values, r)


def _lambda(ctx: Context) -> Column:
    return _lz(ctx, ctx.lz.lamz)


def _half_life(ctx: Context) -> Column:
    lamz = ctx.get("LAMZ")
    with np.errstate(divide="ignore"):
        return derived(math.log(2) / lamz.values, lamz)


def _corrxy(ctx: Context) -> Column:
    r2, lamz = ctx.get("R2"), ctx.get("LAMZ")
    return derived(-np.sign(lamz.values) * np.sqrt(r2.values), r2, lamz)


def _span(ctx: Context) -> Column:
    lo, hi, hl = ctx.get("LAMZLL"), ctx.get("LAMZUL"), ctx.get("LAMZHL")
    return derived((hi.values - lo.values) / hl.values, lo, hi, hl)


def _aucif(ctx: Context, clast_code: str) -> Column:
    last, cl, lamz = ctx.get("AUCLST"), ctx.get(clast_code), ctx.get("LAMZ")
    return derived(last.values + cl.values / lamz.values, last, cl, lamz)


def _aumcif(ctx: Context, clast_code: str) -> Column:
    last, cl, tl, lamz = (ctx.get(c) for c in ("AUMCLST", clast_code, "TLST", "LAMZ"))
    lz = lamz.values
    values = last.values + tl.values * cl.values / lz + cl.values / (lz * lz)
    return derived(values, last, cl, tl, lamz)


def _vz(ctx: Context, auc_code: str) -> Column:
    auc, lamz = ctx.get(auc_code), ctx.get("LAMZ")
    return _dose_over(ctx, auc.values * lamz.values, auc, lamz)


def _vss(ctx: Context, mrt_code: str, cl_code: str) -> Column:
    mrt, cl = ctx.get(mrt_code), ctx.get(cl_code)
    return derived(mrt.values * cl.values, mrt, cl)


def _aucint(ctx: Context) -> Column:
    return _window_auc(ctx, ctx.b.start, ctx.b.end)


def _auctau(ctx: Context) -> Column:
    b = ctx.b
    tau = b.interval.tau if b.interval.tau is not None else math.nan
    col = _window_auc(ctx, b.start, b.start + tau)
    if b.interval.tau is None:
        col.reason[:] = "AUCTAU needs an interval with tau"
    return col


def _cmin(ctx: Context) -> Column:
    b = ctx.b
    values = np.where(b.observed, b.c, np.inf).min(axis=1, initial=np.inf)
    values = np.where(np.isfinite(values), values, np.nan)
    return _from_core(values, ctx)


def _ctrough(ctx: Context) -> Column:
    b = ctx.b
    ctx.step("_core")
    at_dose = b.observed & (np.abs(b.t) < 1e-9)
    values = np.where(at_dose.any(axis=1), np.where(at_dose, b.c, 0.0).sum(axis=1), np.nan)
    return Column(values, np.where(np.isnan(values), "no pre-dose sample at the dose time",
                                   "").astype(object))


def _cavg(ctx: Context) -> Column:
    auc = ctx.get("AUCTAU")
    tau = ctx.b.interval.tau if ctx.b.interval.tau is not None else math.nan
    return derived(auc.values / tau, auc)


def _flucp(ctx: Context) -> Column:
    cmax, cmin, cavg = ctx.get("CMAX"), ctx.get("CMIN"), ctx.get("CAVG")
    with np.errstate(divide="ignore", invalid="ignore"):
        return derived(100 * (cmax.values - cmin.values) / cavg.values, cmax, cmin, cavg)


def _swing(ctx: Context) -> Column:
    cmax, cmin = ctx.get("CMAX"), ctx.get("CMIN")
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (cmax.values - cmin.values) / cmin.values
    values = np.where(np.isfinite(values), values, np.nan)
    return derived(values, cmax, cmin, reason="Cmin is zero")


def _ptr(ctx: Context) -> Column:
    cmax, ctr = ctx.get("CMAX"), ctx.get("CTROUGH")
    with np.errstate(divide="ignore", invalid="ignore"):
        values = cmax.values / ctr.values
    values = np.where(np.isfinite(values), values, np.nan)
    return derived(values, cmax, ctr, reason="Ctrough is zero")


def _cl(ctx: Context, auc_code: str) -> Column:
    auc = ctx.get(auc_code)
    return _dose_over(ctx, auc.values, auc)


def _pct_extrap(ctx: Context, last_code: str, inf_code: str) -> Column:
    last, inf = ctx.get(last_code), ctx.get(inf_code)
    return _pct(inf.values - last.values, inf, last)


def _pct_back(ctx: Context, inf_code: str) -> Column:
    return _pct(ctx.areas.back, ctx.get(inf_code))


FORMULAS: dict[str, Callable[[Context], Column]] = {
    "CMAX": _cmax,
    "TMAX": _tmax,
    "CMAXD": lambda ctx: _per_dose(ctx, ctx.get("CMAX").values, ctx.get("CMAX")),
    "CLST": _clst,
    "TLST": _tlst,
    "TLAG": _tlag,
    "C0": _c0,
    "AUCLST": lambda ctx: _area(ctx, ctx.areas.auclast),
    "AUCALL": lambda ctx: _area(ctx, ctx.areas.aucall),
    "AUMCLST": lambda ctx: _area(ctx, ctx.areas.aumclast),
    "MRTEVLST": lambda ctx: _mrt(ctx, ctx.get("AUCLST"), ctx.get("AUMCLST")),
    "MRTIVLST": lambda ctx: _mrt(ctx, ctx.get("AUCLST"), ctx.get("AUMCLST")),
    "LAMZ": _lambda,
    "LAMZHL": _half_life,
    "LAMZNPT": lambda ctx: _lz(ctx, ctx.lz.npoints),
    "LAMZLL": lambda ctx: _lz(ctx, ctx.lz.first),
    "LAMZUL": lambda ctx: _lz(ctx, ctx.lz.last),
    "R2": lambda ctx: _lz(ctx, ctx.lz.r2),
    "R2ADJ": lambda ctx: _lz(ctx, ctx.lz.r2adj),
    "CORRXY": _corrxy,
    "LAMZSPNR": _span,
    "CLSTP": lambda ctx: _lz(ctx, ctx.lz.clast_pred),
    "AUCIFO": lambda ctx: _aucif(ctx, "CLST"),
    "AUCIFP": lambda ctx: _aucif(ctx, "CLSTP"),
    "AUCIFOD": lambda ctx: _per_dose(ctx, ctx.get("AUCIFO").values, ctx.get("AUCIFO")),
    "AUCIFPD": lambda ctx: _per_dose(ctx, ctx.get("AUCIFP").values, ctx.get("AUCIFP")),
    "AUCPEO": lambda ctx: _pct_extrap(ctx, "AUCLST", "AUCIFO"),
    "AUCPEP": lambda ctx: _pct_extrap(ctx, "AUCLST", "AUCIFP"),
    "AUCPBEO": lambda ctx: _pct_back(ctx, "AUCIFO"),
    "AUCPBEP": lambda ctx: _pct_back(ctx, "AUCIFP"),
    "AUMCIFO": lambda ctx: _aumcif(ctx, "CLST"),
    "AUMCIFP": lambda ctx: _aumcif(ctx, "CLSTP"),
    "AUMCPEO": lambda ctx: _pct_extrap(ctx, "AUMCLST", "AUMCIFO"),
    "AUMCPEP": lambda ctx: _pct_extrap(ctx, "AUMCLST", "AUMCIFP"),
    "MRTEVIFO": lambda ctx: _mrt(ctx, ctx.get("AUCIFO"), ctx.get("AUMCIFO")),
    "MRTEVIFP": lambda ctx: _mrt(ctx, ctx.get("AUCIFP"), ctx.get("AUMCIFP")),
    "MRTIVIFO": lambda ctx: _mrt(ctx, ctx.get("AUCIFO"), ctx.get("AUMCIFO")),
    "MRTIVIFP": lambda ctx: _mrt(ctx, ctx.get("AUCIFP"), ctx.get("AUMCIFP")),
    "CLFO": lambda ctx: _cl(ctx, "AUCIFO"),
    "CLFP": lambda ctx: _cl(ctx, "AUCIFP"),
    "CLO": lambda ctx: _cl(ctx, "AUCIFO"),
    "CLP": lambda ctx: _cl(ctx, "AUCIFP"),
    "VZFO": lambda ctx: _vz(ctx, "AUCIFO"),
    "VZFP": lambda ctx: _vz(ctx, "AUCIFP"),
    "VZO": lambda ctx: _vz(ctx, "AUCIFO"),
    "VZP": lambda ctx: _vz(ctx, "AUCIFP"),
    "VSSO": lambda ctx: _vss(ctx, "MRTIVIFO", "CLO"),
    "VSSP": lambda ctx: _vss(ctx, "MRTIVIFP", "CLP"),
    "AUCINT": _aucint,
    "AUCTAU": _auctau,
    "CMIN": _cmin,
    "CTROUGH": _ctrough,
    "CAVG": _cavg,
    "FLUCP": _flucp,
    "SWING": _swing,
    "PTROUGHR": _ptr,
    "CLFTAU": lambda ctx: _cl(ctx, "AUCTAU"),
    "CLTAU": lambda ctx: _cl(ctx, "AUCTAU"),
}

ROUTE_MATCH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "any": lambda r: np.ones(r.shape, dtype=bool),
    "ev": lambda r: r == EV,
    "iv": lambda r: r != EV,
    "bolus": lambda r: r == 1,
    "infusion": lambda r: r == 2,
}
