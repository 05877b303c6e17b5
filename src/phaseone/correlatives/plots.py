"""Correlative plots: spaghetti plots over study day and box plots of change by group and day.

Built on `matplotlib.figure.Figure` directly (no pyplot state), so output is deterministic
and safe in servers and tests. One panel per analyte (and specimen type).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from phaseone.correlatives.immune import Change
from phaseone.errors import InputError, Problem

Series = Mapping[str, Sequence[tuple[int, float]]]  # patient -> (day, value) points

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def spaghetti(panels: Mapping[str, tuple[Series, Mapping[str, str]]], *, ylabel: str = "",
              log: bool = False, order: Sequence[str] = ()) -> Figure:
    """One line per patient over study day, coloured by group; one panel per key.

    `panels` maps a title to (series, patient -> group name); `order` fixes the groups'
    colours (as in the box plots), other groups follow alphabetically. On a log scale
    values at or below zero are not drawn.
    """
    n = max(len(panels), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows), layout="constrained")
    for i, (title, (series, group_of)) in enumerate(panels.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        present = set(group_of.values())
        names = [g for g in order if g in present] + sorted(present - set(order))
        colour = {g: _COLOURS[k % len(_COLOURS)] for k, g in enumerate(names)}
        shown: set[str] = set()
        for patient, points in series.items():
            pts = sorted(p for p in points if not log or p[1] > 0)
            group = group_of.get(patient, "")
            label = group if group not in shown else None
            shown.add(group)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=0.9,
                    alpha=0.8, color=colour.get(group, "grey"), label=label)
        if log:
            ax.set_yscale("log")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("study day")
        ax.set_ylabel(ylabel)
        if names:
            ax.legend(fontsize="small", frameon=False)
    return fig


def change_boxes(changes: Sequence[Change], group_order: Sequence[str]) -> Figure:
    """Box plots of change from baseline by group at each post-baseline day, per analyte."""
    keys = sorted({(c.analyte, c.specimen_type, c.unit) for c in changes})
    n = max(len(keys), 1)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(5.5 * cols, 3.6 * rows), layout="constrained")
    for i, (analyte, specimen_type, unit) in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        mine = [c for c in changes if (c.analyte, c.specimen_type, c.unit)
                == (analyte, specimen_type, unit) and c.change is not None]
        days = sorted({c.study_day for c in mine})
        width = 0.8 / max(len(group_order), 1)
        for k, group in enumerate(group_order):
            data = [[float(c.change) for c in mine if c.group == group and c.study_day == d
                     and c.change is not None] for d in days]
            positions = [j + (k - (len(group_order) - 1) / 2) * width for j in range(len(days))]
            kept = [(p, v) for p, v in zip(positions, data, strict=True) if v]
            if not kept:
                continue
            box = ax.boxplot([v for _, v in kept], positions=[p for p, _ in kept],
                             widths=width * 0.9, patch_artist=True, manage_ticks=False)
            for patch in box["boxes"]:
                patch.set_facecolor(_COLOURS[k % len(_COLOURS)])
                patch.set_alpha(0.5)
            ax.plot([], [], color=_COLOURS[k % len(_COLOURS)], lw=6, alpha=0.5, label=group)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(range(len(days)), [str(d) for d in days])
        ax.set_xlabel("study day")
        ax.set_ylabel(f"change from baseline ({unit})")
        ax.set_title(f"{analyte} ({specimen_type})", fontsize="medium")
        ax.legend(fontsize="small", frameon=False)
    return fig


def save(fig: Figure, path: Path) -> None:
    """Write a figure as PNG or SVG, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise InputError([Problem("--plot", f"expected a .png or .svg file, got {path}")])
    if suffix == ".svg":
        fig.savefig(path, format="svg", metadata={"Date": None})
    else:
        fig.savefig(path, format="png", dpi=120, metadata={"Software": None})


def data_uri(fig: Figure) -> str:
    """A figure as an SVG data URI for a page or a report: the same bytes for the same data
    (no date, element ids from a fixed salt)."""
    import base64
    import io

    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "phaseone", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

