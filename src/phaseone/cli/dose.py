"""`phaseone dose`: one child's doses and treatment calendar at a dose level."""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from phaseone.cli.output import console, print_json
from phaseone.dosing import modify_dose_level, treatment_plan
from phaseone.dosing.calendar import CalendarDay, TreatmentPlan
from phaseone.dosing.html import plan_to_html, short_label
from phaseone.dosing.ics import plan_to_ics
from phaseone.dosing.sheet import AgentDose, DoseSheet
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol


class DoseFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"
    html = "html"


STATUS_STYLE = {"ok": "green", "flagged": "yellow", "refused": "bold red"}


def dose(
    protocol_ref: str = typer.Option(
        "nant-2011-04", "--protocol", metavar="ID|FILE", help="Bundled protocol id or file."
    ),
    level: int = typer.Option(..., "--level", help="Dose level id (see `protocol show`)."),
    height_cm: float | None = typer.Option(None, "--height-cm", help="Height in cm."),
    weight_kg: float | None = typer.Option(
        None, "--weight-kg", help="Weight in kg, measured at the same visit as the height."
    ),
    start: str = typer.Option(
        ..., "--start", metavar="YYYY-MM-DD", help="Date of day 1 of the (first) course."
    ),
    course: int | None = typer.Option(
        None, "--course", help="Only this course, starting on --start. Default: every course."
    ),
    modify_to: int | None = typer.Option(
        None, "--modify-to", help="Move to this lower dose level (with --modify-from, --reason)."
    ),
    modify_from: str | None = typer.Option(
        None, "--modify-from", metavar="YYYY-MM-DD", help="First date on the lower level."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the dose level changes."),
    fmt: DoseFormat = typer.Option(
        DoseFormat.table, "--format", help="table (people), json, ics (calendar), html (print)."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file instead of standard output."
    ),
) -> None:
    """Compute body surface area, each agent's prescribed dose, the capsules and infusion
    that deliver it (with the achieved mg/m2/day and deviation), and a day-by-day calendar
    of doses and scheduled tests for every course.

    A dose that cannot be given within the protocol's tolerance is reported as REFUSED,
    never silently changed. Doses for courses after the first are provisional: they are
    recalculated from the height and weight measured at each course start.

    Example: phaseone dose --level 3 --height-cm 110 --weight-kg 18.5 --start 2027-01-04
    """
    protocol = resolve_protocol(protocol_ref)
    first = course if course is not None else 1
    plan = treatment_plan(
        protocol,
        level,
        height_cm,
        weight_kg,
        start,
        first_course=first,
        last_course=course,
    )
    if modify_to is not None or modify_from is not None or reason is not None:
        if modify_to is None or modify_from is None:
            raise InputError(
                [Problem("modify_to", "--modify-to, --modify-from and --reason go together")]
            )
        plan = modify_dose_level(plan, modify_to, modify_from, reason)

    if fmt is DoseFormat.json:
        _write_json(output, plan)
    elif fmt is DoseFormat.ics:
        data = plan_to_ics(plan, dt.datetime.now(dt.UTC).replace(microsecond=0))
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
            console.print(f"wrote {output}")
    elif fmt is DoseFormat.html:
        html = plan_to_html(plan, dt.date.today())
        if output is None:
            sys.stdout.write(html)
        else:
            output.write_text(html, encoding="utf-8")
            console.print(f"wrote {output}")
    else:
        print_plan(plan)


def _write_json(output: Path | None, plan: TreatmentPlan) -> None:
    if output is None:
        print_json(plan.as_dict())
        return
    output.write_text(json.dumps(plan.as_dict(), indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {output}")


def _to_give(line: AgentDose) -> str:
    r = line.rounded
    if r.status == "refused":
        return "REFUSED"
    amounts = list(dict.fromkeys(r.day_mg(d) for d in r.days))
    if line.infusion is not None:
        return f"{amounts[0]:.2f} mg IV"
    times = line.prescribed.times_per_day
    each = [c.mg for c in r.per_day[r.days[0]]]
    if times > 1:
        return f"{each[0]:g} mg x{times}/day"
    if len(amounts) == 1:
        return f"{amounts[0]:g} mg/day"
    return " / ".join(f"{a:g}" for a in amounts) + " mg alt. days"


def print_sheet(sheet: DoseSheet, since: dt.date | None = None) -> None:
    title = f"Dose level {sheet.level.id}" + (f" from {since}" if since else "")
    if sheet.level.provenance.is_assumed:
        title += " [black on yellow] assumed [/]"
    console.print(f"[bold]{title}[/]  {sheet.bsa.explain()}")
    table = Table("agent", "days", "prescribed", "to give", "mg/m2/d", "dev", "status")
    for line in sheet.agents:
        p, r = line.prescribed, line.rounded
        achieved = line.achieved_mg_m2_day
        dev = r.deviation
        table.add_row(
            f"{p.agent.name} {p.agent.route}",
            f"{p.days[0]}-{p.days[-1]}",
            f"{p.daily_mg:.2f} mg/d",
            _to_give(line),
            "-" if achieved is None else f"{achieved:.2f}",
            "-" if dev is None else f"{dev:+.1%}",
            f"[{STATUS_STYLE[line.status]}]{line.status}[/]",
        )
    console.print(table)
    for line in sheet.agents:
        p = line.prescribed
        note = f"{p.agent.name}: {p.rule}; {line.rounded.message}"
        if line.infusion is not None:
            note += f"; {line.infusion.describe()}"
        style = "red" if line.status == "refused" else "dim"
        console.print(f"[{style}]- {note}[/]", highlight=False)


def _cell(day: CalendarDay, agent_id: str) -> str:
    given = [a for a in day.administrations if a.agent_id == agent_id]
    if not given:
        return ""
    first = given[0]
    if first.infusion is not None:
        return f"{first.mg:.1f} mg/{first.infusion.hours:g}h"
    text = f"{first.mg:g} mg"
    return text + (f" x{len(given)}" if len(given) > 1 else "")


def print_plan(plan: TreatmentPlan) -> None:
    for i, (since, sheet) in enumerate(plan.sheets):
        print_sheet(sheet, since if i else None)
    for m in plan.modifications:
        console.print(
            f"[bold]Modified[/] from {m.effective}: level {m.from_level} -> {m.to_level} "
            f"({m.reason})"
        )
    conditions = "; ".join(c.text for c in plan.start_conditions) or "none stated"
    console.print(f"Next course starts when: {conditions}")

    if len(plan.courses) > 1:
        overview = Table("course", "day 1", "last day", "level", "", title="Courses")
        for c in plan.courses:
            levels = " -> ".join(str(v) for v in dict.fromkeys(d.level_id for d in c.days))
            overview.add_row(
                str(c.course),
                c.start.isoformat(),
                c.end.isoformat(),
                levels,
                "provisional" if c.provisional else "",
            )
        console.print(overview)

    agents = list(dict.fromkeys(a.agent_id for s in plan.sheets for a in s[1].agents))
    names = {a.agent_id: a.prescribed.agent.name[:12] for _, s in plan.sheets for a in s.agents}
    c = plan.courses[0]
    days = Table(
        "date",
        "day",
        *(names[a] for a in agents),
        "tests",
        title=f"Course {c.course}, day by day",
        show_lines=False,
    )
    for d in c.days:
        tests = ", ".join(short_label(s.id) for s in d.assessments)
        if d.refused:
            tests = "[bold red]DOSE NOT SET[/] " + tests
        days.add_row(d.date.strftime("%a %d %b"), str(d.day), *(_cell(d, a) for a in agents), tests)
    console.print(days)
    if len(plan.courses) > 1:
        console.print(
            "[dim]Other courses: --course N, or --format html for the printable roadmap.[/]"
        )
