"""A printable HTML roadmap of a treatment plan: a dose summary, then one page per course.

The page is rendered from templates/roadmap.html (Jinja2, autoescaped) and prints on
A4 or US Letter: each course fits one page, with a tick box for every dose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from phaseone.dosing.calendar import CalendarDay, TreatmentPlan
from phaseone.dosing.sheet import AgentDose


@dataclass(frozen=True)
class Column:
    agent_id: str
    name: str
    route: str


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("phaseone.dosing", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _columns(plan: TreatmentPlan) -> list[Column]:
    seen: dict[str, Column] = {}
    for _, sheet in plan.sheets:
        for line in sheet.agents:
            a = line.prescribed.agent
            seen.setdefault(a.id, Column(a.id, a.name, a.route))
    order = [item.agent for item in plan.protocol.course.schedule]
    return sorted(seen.values(), key=lambda c: order.index(c.agent_id))


def _cell(day: CalendarDay, agent_id: str) -> dict[str, Any] | None:
    """One agent's doses on one day; identical doses (morning and evening) share a line."""
    given = [a for a in day.administrations if a.agent_id == agent_id]
    if not given:
        return None
    groups: dict[tuple[str, str], list[str]] = {}
    for a in given:
        if a.infusion is not None:
            key = (f"{a.mg:.1f} mg IV over {a.infusion.hours:g} h", "")
        else:
            key = (f"{a.mg:g} mg", "+".join(f"{n}×{s:g}" for s, n in a.units.units))
        groups.setdefault(key, []).append(_TIME_MARK.get(a.time, a.time) if len(given) > 1 else "")
    return {
        "doses": [
            {"times": times, "text": text, "units": units}
            for (text, units), times in groups.items()
        ]
    }


_TIME_MARK = {"morning": "AM", "evening": "PM", "midday": "noon"}


def short_label(assessment_id: str) -> str:
    """A compact label for a day cell: 'pk-lenalidomide' -> 'PK lenalidomide'."""
    words = [_WORDS.get(w, w) for w in assessment_id.split("-")]
    return " ".join(words)


_WORDS = {"cbc": "CBC", "pk": "PK", "haca": "HACA", "tlda": "TLDA", "ss": "steady state"}


def _legend(plan: TreatmentPlan) -> list[dict[str, Any]]:
    out = []
    for a in plan.protocol.assessments:
        hours = ", ".join(f"{h:g}" for h in a.sample_hours)
        out.append(
            {
                "label": short_label(a.id),
                "name": a.name,
                "hours": hours,
                "assumed": a.provenance_of("days").is_assumed,
            }
        )
    return out


def _line(line: AgentDose) -> dict[str, Any]:
    p, r = line.prescribed, line.rounded
    dev = r.deviation
    return {
        "name": p.agent.name,
        "route": p.agent.route,
        "rule": p.rule,
        "assumed": p.assumed,
        "days": f"days {p.days[0]}-{p.days[-1]}" if len(p.days) > 1 else f"day {p.days[0]}",
        "times": p.times_per_day,
        "prescribed": f"{p.daily_mg:.2f} mg/day",
        "achieved": None if r.achieved_daily_mg is None else f"{r.achieved_daily_mg:.2f} mg/day",
        "achieved_m2": None
        if line.achieved_mg_m2_day is None
        else f"{line.achieved_mg_m2_day:.2f} mg/m²/day",
        "deviation": None if dev is None else f"{dev:+.1%}",
        "status": line.status,
        "message": r.message,
        "infusion": None if line.infusion is None else line.infusion.describe(),
    }


def plan_to_html(plan: TreatmentPlan, generated: dt.date | None = None) -> str:
    """The roadmap as one self-contained HTML page."""
    columns = _columns(plan)
    courses = []
    for course in plan.courses:
        rows = []
        for day in course.days:
            rows.append(
                {
                    "date": day.date,
                    "weekday": day.date.strftime("%a"),
                    "day": day.day,
                    "level": day.level_id,
                    "cells": [_cell(day, c.agent_id) for c in columns],
                    "assessments": [short_label(s.id) for s in day.assessments],
                    "refused": day.refused,
                    "changed": any(m.effective == day.date for m in plan.modifications),
                }
            )
        courses.append(
            {
                "number": course.course,
                "start": course.start,
                "end": course.end,
                "next_start": course.next_start,
                "provisional": course.provisional,
                "levels": list(dict.fromkeys(d.level_id for d in course.days)),
                "rows": rows,
            }
        )
    sheets = [
        {"since": since, "level": sheet.level, "bsa": sheet.bsa,
         "lines": [_line(a) for a in sheet.agents]}
        for since, sheet in plan.sheets
    ]
    return _env().get_template("roadmap.html").render(
        protocol=plan.protocol,
        sheets=sheets,
        columns=columns,
        courses=courses,
        modifications=plan.modifications,
        conditions=plan.start_conditions,
        dosing=plan.protocol.dosing,
        last_course=plan.protocol.course.max_courses,
        generated=generated,
        legend=_legend(plan),
    )
