"""Plots of a conduct simulation: how long trials take, how long patients wait for a slot,
how long the waitlist gets. matplotlib's object API; PNG or SVG by the file name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from phaseone.errors import InputError, Problem

PANELS = (
    ("days_to_decision", "Days from the first referral to the design's decision"),
    ("days_to_top_dose", "Days to the first patient on the top dose"),
    ("max_wait_days", "Longest wait for a slot in a trial (days)"),
    ("max_waitlist", "Longest waitlist in a trial (patients)"),
)


def plot_conduct(table: pd.DataFrame, path: Path) -> Path:
    """Histograms of the conduct measures, one panel each, to `path` (.png or .svg)."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError([Problem("plot", f"expected a .png or .svg file, got {path.name}")])
    fig = Figure(figsize=(10, 6.5))
    axes = fig.subplots(2, 2, squeeze=False)
    for ax, (column, title) in zip(axes.flat, PANELS, strict=True):
        values = table[column].dropna()
        if column == "max_waitlist":
            counts = values.astype(int).value_counts().sort_index()
            ax.bar(counts.index, counts.to_numpy(), width=0.8)
        elif len(values):
            ax.hist(values, bins=30)
        ax.set_title(f"{title} (n = {len(values)})", fontsize=9)
        ax.set_ylabel("trials", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    return path
