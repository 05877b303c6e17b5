"""Summaries across subjects, by the statistic each parameter declares in the registry:
geometric mean and geometric CV% for exposure, median and range for times, arithmetic
mean and SD otherwise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from phaseone.pk.registry import registry

SUMMARY_COLUMNS = ["analyte", "interval", "PPTESTCD", "unit", "n", "n_missing", "statistic",
                   "center", "spread_low", "spread_high"]


def _stat(values: np.ndarray, kind: str) -> tuple[str, float, float, float]:
    if values.size == 0:
        return kind, math.nan, math.nan, math.nan
    if kind == "median_range":
        return "median (min, max)", float(np.median(values)), float(values.min()), float(
            values.max())
    if kind == "geomean_cv":
        pos = values[values > 0]
        if pos.size != values.size or pos.size == 0:
            return "geometric mean (CV%): values <= 0 present", math.nan, math.nan, math.nan
        logs = np.log(pos)
        sd = float(logs.std(ddof=1)) if pos.size > 1 else math.nan
        cv = 100 * math.sqrt(math.exp(sd * sd) - 1) if not math.isnan(sd) else math.nan
        return "geometric mean (CV%)", float(np.exp(logs.mean())), cv, math.nan
    sd = float(values.std(ddof=1)) if values.size > 1 else math.nan
    return "mean (SD)", float(values.mean()), sd, math.nan


def summarise(parameters: pd.DataFrame) -> pd.DataFrame:
    """One row per analyte, interval and parameter. Flagged values (with a reason) are
    left out of the statistics and counted in n_missing."""
    reg = registry()
    rows = []
    for (analyte, interval, code), group in parameters.groupby(
        ["analyte", "interval", "PPTESTCD"], sort=False
    ):
        usable = group["value"].notna() & (group["exclusion_reason"] == "")
        values = group.loc[usable, "value"].to_numpy(dtype=float)
        stat, center, lo, hi = _stat(values, reg[str(code)].summary)
        rows.append([analyte, interval, code, group["unit"].iloc[0], int(values.size),
                     int((~usable).sum()), stat, center, lo, hi])
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
