"""Concentration-time plots: per subject and mean, linear and log scale, PNG or SVG.

Figures are built on `matplotlib.figure.Figure` directly (no pyplot state), so plotting is
deterministic and safe in servers and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from matplotlib.figure import Figure

Scale = Literal["linear", "log"]


def plot_profiles(
    points: pd.DataFrame,
    *,
    scale: Scale = "linear",
    mean: bool = True,
    conc_unit: str = "",
    time_unit: str = "h",
    title: str = "",
    mark_lambda_z: bool = True,
) -> Figure:
    """One line per subject (thin) and the arithmetic mean by nominal time (thick).

    `points` is `NCAResult.lambda_z_points` (subject, time, conc, used_in_lambda_z); points
    used in the terminal slope are drawn filled. On the log scale, zero concentrations are
    left out (they cannot be drawn).
    """
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for subject, group in points.groupby("subject", sort=False):
        g = group.sort_values("time")
        if scale == "log":
            g = g[g["conc"] > 0]
        (line,) = ax.plot(g["time"], g["conc"], lw=0.8, alpha=0.6, marker="o", ms=3,
                          mfc="none", label=str(subject))
        if mark_lambda_z and "used_in_lambda_z" in g:
            used = g[g["used_in_lambda_z"]]
            ax.plot(used["time"], used["conc"], ls="none", marker="o", ms=4,
                    color=line.get_color())
    if mean and points["subject"].nunique() > 1:
        # Actual sampling times differ between subjects: average the k-th sample of each.
        ordered = points.sort_values(["subject", "time"], kind="stable")
        rank = ordered.groupby("subject", sort=False).cumcount()
        by_rank = ordered.groupby(rank)[["time", "conc"]].mean()
        if scale == "log":
            by_rank = by_rank[by_rank["conc"] > 0]
        ax.plot(by_rank["time"].to_numpy(), by_rank["conc"].to_numpy(), color="black", lw=2.2,
                label="mean (by sample number)")
    ax.set_yscale(scale)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel(f"concentration ({conc_unit})" if conc_unit else "concentration")
    ax.set_title(title or f"Concentration-time profiles ({scale} scale)")
    if points["subject"].nunique() <= 12:
        ax.legend(fontsize="small", ncols=2, frameon=False)
    ax.grid(True, which="both", alpha=0.25)
    return fig


def save_plot(fig: Figure, path: str | Path) -> Path:
    """Write a figure; the file suffix (.png or .svg) chooses the format."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        from phaseone.errors import InputError, Problem

        raise InputError([Problem("plot", f"expected a .png or .svg file, got {path.name!r}")])
    # A fixed date keeps SVG output byte-identical between runs.
    metadata = {"Date": None} if fmt == "svg" else {}
    fig.savefig(path, format=fmt, dpi=150, metadata=metadata)
    return path


__all__ = ["plot_profiles", "save_plot"]
