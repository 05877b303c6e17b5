"""Correlative plots: spaghetti plots over study day and box plots of change by group and day.

Built on `matplotlib.figure.Figure` directly (no pyplot state), so output is deterministic
and safe in servers and tests. One panel per analyte (and specimen type).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from phaseone.correlatives.immune import Change
from phaseone.errors import InputError, Problem

Series = Mapping[str, Sequence[tuple[int, float]]]  # patient -> (day, value) points

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


# Margins around and between panels, in inches: room for tick labels, an axis label and a
# title. Fixed margins, because a layout engine that measures every label doubles the time
# a many-panel figure takes to draw.
_LEFT, _RIGHT, _TOP, _BOTTOM, _BETWEEN_X, _BETWEEN_Y = 0.8, 0.15, 0.35, 0.5, 0.85, 0.85


def panel_grid(panel_width: float, panel_height: float, rows: int, cols: int) -> Figure:
    """An empty figure for `rows` x `cols` panels of the given size (inches), margins fixed."""
    width, height = panel_width * cols, panel_height * rows
    fig = Figure(figsize=(width, height))
    axes_w = (width - _LEFT - _RIGHT - _BETWEEN_X * (cols - 1)) / cols
    axes_h = (height - _TOP - _BOTTOM - _BETWEEN_Y * (rows - 1)) / rows
    fig.subplots_adjust(left=_LEFT / width, right=1 - _RIGHT / width,
                        bottom=_BOTTOM / height, top=1 - _TOP / height,
                        wspace=_BETWEEN_X / axes_w, hspace=_BETWEEN_Y / axes_h)
    return fig


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
    fig = panel_grid(4.2, 3.4, rows, cols)
    for i, (title, (series, group_of)) in enumerate(panels.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        present = set(group_of.values())
        names = [g for g in order if g in present] + sorted(present - set(order))
        colour = {g: _COLOURS[k % len(_COLOURS)] for k, g in enumerate(names)}
        # One collection of lines and one of points per group, not an artist per patient:
        # a panel of a hundred patients then draws in a few milliseconds.
        lines: dict[str, list[list[tuple[int, float]]]] = {}
        for patient, points in series.items():
            pts = sorted(p for p in points if not log or p[1] > 0)
            if pts:
                lines.setdefault(group_of.get(patient, ""), []).append(pts)
        for group in [g for g in names if g in lines] + sorted(set(lines) - set(names)):
            c = colour.get(group, "grey")
            ax.add_collection(LineCollection(lines[group], colors=c, linewidths=0.9, alpha=0.8,
                                             label=group or None))
            xy = [p for pts in lines[group] for p in pts]
            ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=9, color=c, alpha=0.8)
        if log:  # before autoscaling, so a panel with nothing above zero keeps log limits
            ax.set_yscale("log")
        ax.autoscale_view()
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("study day")
        ax.set_ylabel(ylabel)
        if lines:
            ax.legend(fontsize="small", frameon=False)
    return fig


def change_boxes(changes: Sequence[Change], group_order: Sequence[str]) -> Figure:
    """Box plots of change from baseline by group at each post-baseline day, per analyte."""
    keys = sorted({(c.analyte, c.specimen_type, c.unit) for c in changes})
    n = max(len(keys), 1)
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig = panel_grid(5.5, 3.6, rows, cols)
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


def data_uri(fig: Figure, fmt: str = "svg") -> str:
    """A figure as a data URI for a page or a report, the same bytes for the same data: SVG
    (no date, element ids from a fixed salt) or PNG (no software tag), which a PDF renderer
    draws far faster than an SVG of many paths."""
    import base64
    import io

    import matplotlib

    buffer = io.BytesIO()
    if fmt == "png":
        fig.savefig(buffer, format="png", dpi=130, metadata={"Software": None})
    else:
        with matplotlib.rc_context({"svg.hashsalt": "phaseone", "svg.fonttype": "path"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    mime = "image/png" if fmt == "png" else "image/svg+xml"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
