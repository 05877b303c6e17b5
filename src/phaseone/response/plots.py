"""Response pictures: waterfall of the best relative MIBG bone-score change, spider of sums.

Built on `matplotlib.figure.Figure` (no pyplot state); save with phaseone.pk.plots.save_plot
(.png or .svg). matplotlib is imported inside each function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from phaseone.response.inrc import PatientResponse

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {
    "CR": "#1a9850",
    "PR": "#91cf60",
    "MR": "#d9ef8b",
    "SD": "#fee08b",
    "PD": "#d73027",
    "NE": "#bdbdbd",
}


def waterfall(patients: Sequence[PatientResponse], title: str = "") -> Figure:
    """One bar per patient with a baseline bone score: best relative change, coloured by BOR."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows = [
        (p.patient_id, p.best_relative_bone_change, p.best)
        for p in patients
        if p.best_relative_bone_change is not None
    ]
    rows.sort(key=lambda r: -(r[1] or 0.0))
    fig = Figure(figsize=(max(5.0, 0.35 * len(rows) + 2), 4.2), layout="constrained")
    ax = fig.add_subplot()
    xs = range(len(rows))
    ax.bar(xs, [100 * (r[1] or 0.0) for r in rows], color=[COLOURS[r[2]] for r in rows])
    ax.axhline(-50, ls="--", lw=0.8, color="grey")  # PR: relative score <= 0.5
    ax.axhline(20, ls=":", lw=0.8, color="grey")  # PD: relative score >= 1.2
    ax.axhline(0, lw=0.8, color="black")
    ax.set_xticks(list(xs), [r[0] for r in rows], rotation=90, fontsize=7)
    ax.set_ylabel("best change in MIBG bone score (%)")
    ax.set_title(title or "Waterfall: best relative MIBG bone score change")
    present = sorted({r[2] for r in rows}, key=list(COLOURS).index)
    ax.legend(handles=[Patch(color=COLOURS[c], label=c) for c in present], fontsize=7)
    return fig


def spider(patients: Sequence[PatientResponse], title: str = "") -> Figure:
    """Sum of soft-tissue diameters over time, relative to baseline, one line per patient."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    shown: set[str] = set()
    for p in patients:
        points = [(e.day, e.soft_tissue_sum_mm) for e in p.evaluations if e.soft_tissue_sum_mm]
        if len(points) < 2 or not points[0][1]:
            continue
        base = points[0][1] or 1.0
        xs = [d for d, _ in points]
        ys = [100 * ((s or 0.0) - base) / base for _, s in points]
        ax.plot(xs, ys, marker="o", ms=3, lw=1, color=COLOURS[p.best])
        shown.add(p.best)
    ax.axhline(-30, ls="--", lw=0.8, color="grey")  # PR: -30%
    ax.axhline(20, ls=":", lw=0.8, color="grey")  # PD: +20%
    ax.axhline(0, lw=0.8, color="black")
    ax.set_xlabel("days from registration")
    ax.set_ylabel("change in sum of diameters (%)")
    ax.set_title(title or "Spider: sum of soft-tissue diameters")
    present = sorted(shown, key=list(COLOURS).index)
    if present:
        handles = [Patch(color=COLOURS[c], label=f"best {c}") for c in present]
        ax.legend(handles=handles, fontsize=7)
    return fig
