"""An iCalendar file of a treatment plan that a family can import into any calendar.

One all-day event per day with something to do: what to give (dose, capsules, times,
infusions) and what is scheduled (labs, PK samples, scans). `stamp` is the creation
time written into DTSTAMP; the caller passes it (engines read no clock).
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from phaseone.dosing.calendar import CalendarDay, TreatmentPlan


def day_summary(day: CalendarDay) -> str:
    names: list[str] = []
    for a in day.administrations:
        label = a.agent_name + (" IV" if a.infusion is not None else "")
        if label not in names:
            names.append(label)
    if day.assessments:
        names.append("tests")
    if day.refused:
        names.append("DOSE NOT SET: call the study team")
    return f"Course {day.course} day {day.day}: " + ", ".join(names)


def day_description(day: CalendarDay) -> str:
    lines = [f"Dose level {day.level_id}."]
    for a in day.administrations:
        lines.append(f"{a.agent_name} ({a.time}): {a.describe()}")
    for text in day.refused:
        lines.append(f"NOT SET - {text}")
    for s in day.assessments:
        lines.append(f"Scheduled: {s.describe()}")
    return "\n".join(lines)


def plan_to_ics(plan: TreatmentPlan, stamp: dt.datetime) -> bytes:
    """The plan as an RFC 5545 calendar (bytes, CRLF line endings)."""
    cal = Calendar()
    cal.add("prodid", "-//phaseone//dosing calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{plan.protocol.identity.acronym or plan.protocol.id} treatment")
    for day in plan.days():
        if day.is_empty:
            continue
        event = Event()
        event.add("uid", f"{plan.protocol.id}-c{day.course}-d{day.day}-{day.date}@phaseone")
        event.add("dtstamp", stamp)
        event.add("dtstart", day.date)
        event.add("dtend", day.date + dt.timedelta(days=1))
        event.add("summary", day_summary(day))
        event.add("description", day_description(day))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical
