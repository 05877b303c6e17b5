"""Plots of a scenario grid: selection and patients per dose, one panel per scenario.

matplotlib's object API (no pyplot state); the file type (PNG or SVG) follows the
file name. Bars are grouped by dose, one bar per design, with the true DLT rate on a
second axis so the reader sees where the true MTD lies.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from phaseone.errors import InputError, Problem

MEASURES = {"selected": "Selected as MTD (%)", "patients": "Mean patients treated"}


def plot_grid(tidy: pd.DataFrame, truths: dict[str, tuple[float, ...]], path: Path) -> Path:
    """Write the grid figure to `path` (.png or .svg)."""
    if path.suffix.lower() not in (".png", ".svg"):
        raise InputError([Problem("plot", f"expected a .png or .svg file, got {path.name}")])
    scenarios = list(dict.fromkeys(tidy["scenario"]))
    labels = list(dict.fromkeys(tidy["label"]))
    # A bare Figure (no pyplot): no global state, no display backend.
    fig = Figure(figsize=(10, 2.8 * len(scenarios)))
    axes = fig.subplots(len(scenarios), 2, squeeze=False)
    width = 0.8 / max(len(labels), 1)
    for row, scenario in enumerate(scenarios):
        truth = truths[scenario]
        doses = np.arange(1, len(truth) + 1)
        for col, (measure, title) in enumerate(MEASURES.items()):
            ax = axes[row][col]
            for j, label in enumerate(labels):
                part = tidy[
                    (tidy["scenario"] == scenario)
                    & (tidy["label"] == label)
                    & (tidy["measure"] == measure)
                    & (tidy["dose"] != "none")
                ]
                values = part["value"].to_numpy(dtype=float)
                if measure == "selected":
                    values = 100 * values
                ax.bar(doses + (j - (len(labels) - 1) / 2) * width, values, width, label=label)
            ax.set_xticks(doses)
            ax.set_xlabel("dose level")
            ax.set_title(f"{scenario}: {title}", fontsize=9)
            twin = ax.twinx()
            twin.plot(doses, truth, "k.--", linewidth=0.8)
            twin.set_ylim(0, max(1.0, math.ceil(max(truth) * 10) / 10))
            twin.set_ylabel("true DLT rate", fontsize=8)
            if row == 0 and col == 0:
                ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    return path
