"""Survival pictures: Kaplan-Meier curves with the at-risk table, and a swimmer plot.

Built on `matplotlib.figure.Figure` (no pyplot state); save with phaseone.pk.plots.save_plot
(.png or .svg). matplotlib is imported inside each function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from phaseone.outcomes.records import FollowUpRecord
from phaseone.outcomes.survival import SurvivalResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from phaseone.response.inrc import PatientResponse


def km_plot(
    result: SurvivalResult,
    family: str | None = None,
    *,
    unit_days: float = 30.4375,
    unit: str = "months",
    title: str = "",
) -> Figure:
    """Step curves with censoring ticks and log(-log) bands; numbers at risk beneath.

    `family` picks the curves: "all", "disease_at_entry" or "dose_level"; by default the
    first stratification the result has, else all patients. Bands are drawn for up to
    three curves, where they stay readable.
    """
    from matplotlib.figure import Figure

    families = [c.family for c in result.curves if c.family != "all"]
    wanted = family or (families[0] if families else "all")
    chosen = [c for c in result.curves if c.family == wanted] or list(result.curves[:1])
    fig = Figure(figsize=(7.5, 5.2 + 0.2 * len(chosen)), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=(4, 0.6 + 0.25 * len(chosen)))
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    end = max(float(c.km.time.max()) for c in chosen) / unit_days
    step = max(1.0, float(np.ceil(end / 6 / 3) * 3))  # months: a multiple of 3
    ticks = np.arange(0.0, end + 1e-9, step)
    for row, c in enumerate(chosen):
        km = c.km
        x = np.concatenate([[0.0], km.time / unit_days])
        y = np.concatenate([[1.0], km.survival])
        (line,) = ax.step(x, y, where="post", lw=1.5, label=f"{c.stratum} (n={km.n})")
        lo = np.concatenate([[1.0], np.nan_to_num(km.lower, nan=0.0)])
        hi = np.concatenate([[1.0], np.nan_to_num(km.upper, nan=0.0)])
        if len(chosen) <= 3:
            ax.fill_between(x, lo, hi, step="post", alpha=0.12, color=line.get_color())
        cens = km.n_censor > 0
        ax.plot(km.time[cens] / unit_days, km.survival[cens], "|", ms=8, color=line.get_color())
        for t in ticks:
            table.text(t, row, str(km.at_risk(t * unit_days)), ha="center", va="center",
                       fontsize=8, color=line.get_color())  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("probability")
    ax.set_title(title or f"{result.endpoint.name} ({result.method})", fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    table.set_yticks(range(len(chosen)), [c.stratum for c in chosen], fontsize=7)
    table.set_ylim(len(chosen) - 0.5, -0.5)
    table.set_xticks(ticks, [f"{t:g}" for t in ticks])
    table.set_xlabel(f"{unit} from {result.endpoint.origin.replace('_', ' ')}")
    table.set_title("number at risk", fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        table.spines[side].set_visible(False)
    return fig


def swimmer(
    records: Sequence[FollowUpRecord],
    responses: Mapping[str, PatientResponse] | None = None,
    *,
    course_days: int = 28,
    title: str = "",
) -> Figure:
    """One lane per patient: follow-up bar coloured by dose level, course ticks, responses,
    events, and an arrow when follow-up is ongoing (no death, not off study)."""
    from matplotlib.figure import Figure

    from phaseone.response.plots import COLOURS

    fig = Figure(figsize=(8, 1.5 + 0.3 * len(records)), layout="constrained")
    ax = fig.add_subplot()
    levels = sorted({r.dose_level for r in records if r.dose_level is not None})
    palette = ["#4575b4", "#74add1", "#abd9e9", "#fdae61", "#f46d43", "#a50026"]
    colour: dict[int | None, str] = {lv: palette[i % len(palette)] for i, lv in enumerate(levels)}
    seen: set[str] = set()
    for y, r in enumerate(records):
        deaths = [e.date for e in r.events if e.kind == "death"]
        end = deaths[0] if deaths else r.last_known_alive
        length = (end - r.registration_date).days
        label = "level ?" if r.dose_level is None else f"level {r.dose_level}"
        ax.barh(y, length, color=colour.get(r.dose_level, "#999999"), height=0.6,
                label=None if label in seen else label)  # fmt: skip
        seen.add(label)
        for k in range(1, (r.courses or 0) + 1):
            ax.plot(k * course_days, y, "|", color="white", ms=7)
        for e in r.events:
            mark = {"death": "X", "second_malignancy": "D"}.get(e.kind, "v")
            ax.plot((e.date - r.registration_date).days, y, mark, color="black", ms=6)
        if responses and r.patient_id in responses:
            for ev in responses[r.patient_id].evaluations[1:]:
                ax.plot(ev.day, y + 0.33, "o", ms=5, color=COLOURS[ev.response],
                        markeredgecolor="black", markeredgewidth=0.3)  # fmt: skip
        if not deaths and r.off_study_date is None:
            ax.annotate("", xy=(length + 25, y), xytext=(length, y),
                        arrowprops={"arrowstyle": "->", "lw": 1})  # fmt: skip
    ax.set_yticks(range(len(records)), [r.patient_id for r in records], fontsize=7)
    ax.set_xlabel("days from registration")
    ax.set_title(title or "Swimmer: follow-up, responses (dots), events (v PD, X death)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
