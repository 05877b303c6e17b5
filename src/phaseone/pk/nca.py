"""Run a non-compartmental analysis: profiles + doses + intervals -> parameters.

    result = run_nca(conc, doses)                 # single dose, default parameters
    result.parameters                             # long table, one row per value
    result.lambda_z_points                        # every sample, and whether λz used it
    result.summary()                              # one row per parameter

Times in the results (TMAX, TLST, LAMZLL, LAMZUL) are measured from the dose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phaseone.errors import InputError, Problem
from phaseone.pk.batch import Batch, build_batch
from phaseone.pk.data import Concentrations, Dose, Interval, Route, read_concentrations, read_doses
from phaseone.pk.formulas import ROUTE_MATCH, Column, Context
from phaseone.pk.options import NCAOptions
from phaseone.pk.registry import Kind, closure, default_parameters, registry, unit_for

_ROUTE_NAMES = np.array([Route.EXTRAVASCULAR.value, Route.IV_BOLUS.value, Route.IV_INFUSION.value])
RESULT_COLUMNS = ["subject", "analyte", "interval", "PPTESTCD", "PPTEST", "value", "unit",
                  "exclusion_reason"]


def _kinds(interval: Interval) -> tuple[Kind, ...]:
    if interval.tau is not None:
        return ("single", "tau")
    if math.isinf(interval.end):
        return ("single", "open")
    return ("single", "window")


def _dependents(root: str) -> set[str]:
    return {code for code in registry() if root in closure((code,))}


@dataclass(eq=False)
class NCAResult:
    parameters: pd.DataFrame
    lambda_z_points: pd.DataFrame
    profiles: pd.DataFrame
    options: NCAOptions
    computed: dict[str, list[str]] = field(default_factory=dict)
    """Per interval, the parameters and steps actually computed (for explanation)."""

    def value(self, subject: str, code: str, interval: str | None = None) -> float:
        p = self.parameters
        rows = p[(p["subject"] == subject) & (p["PPTESTCD"] == code)]
        if interval is not None:
            rows = rows[rows["interval"] == interval]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} values for subject {subject!r}, {code}")
        return float(rows["value"].iloc[0])

    def wide(self) -> pd.DataFrame:
        """One row per subject and interval, one column per parameter."""
        return self.parameters.pivot_table(
            index=["subject", "analyte", "interval"], columns="PPTESTCD", values="value",
            sort=False, dropna=False,
        )

    def summary(self) -> pd.DataFrame:
        from phaseone.pk.summary import summarise

        return summarise(self.parameters)

    def to_dict(self) -> dict[str, Any]:
        params = self.parameters.astype(object).where(self.parameters.notna(), None)
        return {
            "options": self.options.describe(),
            "profiles": self.profiles.to_dict(orient="records"),
            "parameters": params.to_dict(orient="records"),
            "lambda_z_points": self.lambda_z_points.to_dict(orient="records"),
        }


def run_nca(
    conc: Concentrations | pd.DataFrame,
    doses: Sequence[Dose] | pd.DataFrame | None = None,
    *,
    intervals: Sequence[Interval] | None = None,
    parameters: Sequence[str] | None = None,
    options: NCAOptions | None = None,
) -> NCAResult:
    """Compute NCA parameters for every profile and interval.

    `parameters` (PPTESTCD codes) applies to intervals that do not list their own; with
    neither, each interval gets the defaults for its kind. Only the requested parameters
    and what they depend on are computed.
    """
    options = options or NCAOptions()
    if isinstance(conc, pd.DataFrame):
        conc = read_concentrations(conc)
    if doses is None:
        dose_list: tuple[Dose, ...] = ()
    elif isinstance(doses, pd.DataFrame):
        dose_list = read_doses(doses)
    else:
        dose_list = tuple(doses)
    if not conc.profiles:
        raise InputError([Problem("conc", "no concentrations given")])
    intervals = tuple(intervals) if intervals else (Interval(),)
    frames, points, profiles = [], [], []
    computed: dict[str, list[str]] = {}
    for interval in intervals:
        codes = interval.parameters or tuple(parameters or ()) or default_parameters(
            _kinds(interval)
        )
        closure(tuple(codes))  # validates the names
        batch = build_batch(conc, dose_list, interval, options.blq)
        if interval.tau is not None or not math.isinf(interval.end) or interval.start:
            batch.full = build_batch(conc, dose_list, interval, options.blq, clip=False)
        ctx = Context(batch, options)
        columns = {code: ctx.get(code) for code in codes}
        _apply_flags(ctx, columns, options)
        frames.append(_long_frame(batch, columns))
        points.append(_points_frame(batch, ctx))
        profiles.append(_profile_frame(batch))
        computed[interval.name] = [*ctx.steps, *ctx.columns]
    return NCAResult(
        parameters=pd.concat(frames, ignore_index=True),
        lambda_z_points=pd.concat(points, ignore_index=True),
        profiles=pd.concat(profiles, ignore_index=True),
        options=options,
        computed=computed,
    )


def _apply_flags(ctx: Context, columns: dict[str, Column], options: NCAOptions) -> None:
    """Opt-in quality limits: failing values keep their number and gain a reason."""
    flags = options.flags
    checks: list[tuple[str, str, float | None, bool]] = [
        ("R2ADJ", "_lambda_z", flags.min_r2adj, True),
        ("LAMZSPNR", "_lambda_z", flags.min_span_ratio, True),
        ("AUCPEO", "AUCIFO", flags.max_aucpext, False),
    ]
    for code, root, limit, is_min in checks:
        if limit is None:
            continue
        col = ctx.columns.get(code) or _force(ctx, code)
        v = col.values
        bad = (v < limit) if is_min else (v > limit)
        if not bad.any():
            continue
        word = "below" if is_min else "above"
        affected = _dependents(root) & set(columns)
        for i in np.flatnonzero(bad):
            note = f"{code} {v[i]:.4g} {word} the limit {limit:g}"
            for a in affected:
                c = columns[a]
                if not np.isnan(c.values[i]) and c.reason[i] == "":
                    c.reason[i] = note


def _force(ctx: Context, code: str) -> Column:
    return ctx.get(code)


def _long_frame(b: Batch, columns: dict[str, Column]) -> pd.DataFrame:
    reg = registry()
    subj = np.array(b.subjects, dtype=object)
    ana = np.array(b.analytes, dtype=object)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in [*RESULT_COLUMNS, "_row", "_order"]}
    for order, (code, col) in enumerate(columns.items()):
        spec = reg[code]
        keep = ROUTE_MATCH[spec.routes](b.route)
        idx = np.flatnonzero(keep)
        k = idx.size
        parts["subject"].append(subj[idx])
        parts["analyte"].append(ana[idx])
        parts["interval"].append(np.full(k, b.interval.name, dtype=object))
        parts["PPTESTCD"].append(np.full(k, code, dtype=object))
        parts["PPTEST"].append(np.full(k, spec.name, dtype=object))
        parts["value"].append(col.values[idx])
        parts["unit"].append(np.full(k, unit_for(spec.unit, b.conc_unit, b.time_unit,
                                                  b.dose_unit), dtype=object))
        parts["exclusion_reason"].append(col.reason[idx])
        parts["_row"].append(idx)
        parts["_order"].append(np.full(k, order))
    data = {k: np.concatenate(v) if v else np.array([]) for k, v in parts.items()}
    sort = np.lexsort((data["_order"], data["_row"]))
    return pd.DataFrame({k: data[k][sort] for k in RESULT_COLUMNS})


def _points_frame(b: Batch, ctx: Context) -> pd.DataFrame:
    rows, cols = np.nonzero(b.observed)
    used = ctx.lz.used[rows, cols] if "_lambda_z" in ctx.steps else np.zeros(rows.size, bool)
    return pd.DataFrame({
        "subject": np.array(b.subjects, dtype=object)[rows],
        "analyte": np.array(b.analytes, dtype=object)[rows],
        "interval": b.interval.name,
        "time": b.t[rows, cols] + b.origin[rows],
        "conc": b.c[rows, cols],
        "used_in_lambda_z": used,
    })


def _profile_frame(b: Batch) -> pd.DataFrame:
    return pd.DataFrame({
        "subject": b.subjects,
        "analyte": b.analytes,
        "interval": b.interval.name,
        "route": np.where(b.has_dose, _ROUTE_NAMES[b.route], "none"),
        "dose": b.dose,
        "dose_unit": b.dose_unit,
        "dose_time": b.origin,
        "infusion_duration": b.duration,
        "c0_method": b.c0_method,
        "administration": b.methods,
    })
