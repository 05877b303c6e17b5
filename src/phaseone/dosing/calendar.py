"""Day-by-day treatment calendars: what to give and what to sample, on which date.

Study day 1 of a course is the first day of that course's therapy; course k starts
(k - 1) x course length days after course 1 when nothing is delayed. Later courses are
planned with today's height and weight and marked provisional when the protocol
recalculates doses at each course start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from phaseone.dosing.capsules import Combination
from phaseone.dosing.infusion import InfusionPlan
from phaseone.dosing.rules import StartCondition, start_conditions
from phaseone.dosing.sheet import DoseSheet, dose_sheet, time_labels
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Assessment, Protocol


@dataclass(frozen=True)
class Administration:
    """One intake of one agent on one day."""

    agent_id: str
    agent_name: str
    route: str
    time: str
    mg: float
    units: Combination
    form: str
    level_id: int
    infusion: InfusionPlan | None = None

    def describe(self) -> str:
        if self.infusion is not None:
            return f"{self.mg:.2f} mg IV {self.infusion.describe()}"
        how = self.units.describe(self.form) if self.units.units else f"{self.mg:g} mg"
        return f"{self.mg:g} mg ({how})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent_id,
            "name": self.agent_name,
            "route": self.route,
            "time": self.time,
            "mg": self.mg,
            "units": [
                {"strength_mg": s, "count": n, "form": self.form} for s, n in self.units.units
            ],
            "level": self.level_id,
            "infusion": None if self.infusion is None else self.infusion.as_dict(),
        }


@dataclass(frozen=True)
class ScheduledAssessment:
    id: str
    name: str
    kind: str
    items: tuple[str, ...]
    sample_hours: tuple[float, ...]
    note: str | None
    assumed: bool

    def describe(self) -> str:
        text = self.name
        if self.sample_hours:
            text += " (samples at " + ", ".join(f"{h:g}" for h in self.sample_hours) + " h)"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "items": list(self.items),
            "sample_hours": list(self.sample_hours),
            "note": self.note,
            "assumed": self.assumed,
        }


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    course: int
    day: int
    level_id: int
    administrations: tuple[Administration, ...]
    assessments: tuple[ScheduledAssessment, ...]
    refused: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.administrations or self.assessments or self.refused)

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "course": self.course,
            "day": self.day,
            "level": self.level_id,
            "administrations": [a.as_dict() for a in self.administrations],
            "assessments": [a.as_dict() for a in self.assessments],
            "refused": list(self.refused),
        }


@dataclass(frozen=True)
class CourseCalendar:
    course: int
    start: dt.date
    days: tuple[CalendarDay, ...]
    provisional: bool

    @property
    def end(self) -> dt.date:
        return self.days[-1].date

    @property
    def next_start(self) -> dt.date:
        return self.end + dt.timedelta(days=1)


@dataclass(frozen=True)
class Modification:
    """A move to a specific lower dose level from one date on, and why."""

    from_level: int
    to_level: int
    effective: dt.date
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "from_level": self.from_level,
            "to_level": self.to_level,
            "effective": self.effective.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TreatmentPlan:
    """All planned courses for one child, with the doses in force on each date."""

    protocol: Protocol
    sheets: tuple[tuple[dt.date, DoseSheet], ...]
    courses: tuple[CourseCalendar, ...]
    start_conditions: tuple[StartCondition, ...]
    modifications: tuple[Modification, ...] = field(default=())

    @property
    def sheet(self) -> DoseSheet:
        """The dose sheet the plan started with."""
        return self.sheets[0][1]

    def sheet_on(self, date: dt.date) -> DoseSheet:
        current = self.sheets[0][1]
        for since, sheet in self.sheets:
            if since <= date:
                current = sheet
        return current

    def day(self, date: dt.date) -> CalendarDay:
        for course in self.courses:
            for d in course.days:
                if d.date == date:
                    return d
        raise KeyError(date)

    def days(self) -> list[CalendarDay]:
        return [d for c in self.courses for d in c.days]

    def as_dict(self) -> dict[str, Any]:
        dosing = self.protocol.dosing
        return {
            "protocol": self.protocol.id,
            "protocol_version": self.protocol.version,
            "dose_sheets": [
                {"from": since.isoformat(), **sheet.as_dict()} for since, sheet in self.sheets
            ],
            "modifications": [m.as_dict() for m in self.modifications],
            "recalculation": {
                "each_course": dosing.recalculate_each_course,
                "weight_change_above": dosing.recalculate_weight_change,
            },
            "next_course_conditions": [
                {"rule": c.rule, "text": c.text, "params": c.params, "assumed": c.assumed}
                for c in self.start_conditions
            ],
            "courses": [
                {
                    "course": c.course,
                    "start": c.start.isoformat(),
                    "end": c.end.isoformat(),
                    "provisional": c.provisional,
                    "days": [d.as_dict() for d in c.days if not d.is_empty],
                }
                for c in self.courses
            ],
        }


def check_date(value: object, name: str = "start") -> dt.date:
    """A calendar date (a date or 'YYYY-MM-DD' text); raise InputError naming `name`."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError([Problem(name, f"expected a date as YYYY-MM-DD, got {value!r}")])


def check_course(protocol: Protocol, value: object, name: str = "course") -> int:
    most = protocol.course.max_courses
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InputError([Problem(name, f"expected a course number 1-{most}, got {value!r}")])
    return value


def treatment_plan(
    protocol: Protocol,
    level: object,
    height_cm: object,
    weight_kg: object,
    start: object,
    first_course: object = 1,
    last_course: object | None = None,
) -> TreatmentPlan:
    """Plan courses first_course..last_course (default: to the last course) from `start`,
    the date of day 1 of `first_course`."""
    problems: list[Problem] = []
    start_date = _collect(problems, lambda: check_date(start, "start"))
    first = _collect(problems, lambda: check_course(protocol, first_course, "course"))
    last = protocol.course.max_courses if last_course is None else last_course
    last_n = _collect(problems, lambda: check_course(protocol, last, "last_course"))
    sheet = _collect(problems, lambda: dose_sheet(protocol, level, height_cm, weight_kg))
    if problems or start_date is None or first is None or last_n is None or sheet is None:
        raise InputError(problems)
    if last_n < first:
        raise InputError([Problem("last_course", f"course {last_n} is before course {first}")])
    return build_plan(protocol, ((start_date, sheet),), start_date, first, last_n, ())


def _collect(problems: list[Problem], make: Any) -> Any:
    try:
        return make()
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def build_plan(
    protocol: Protocol,
    sheets: tuple[tuple[dt.date, DoseSheet], ...],
    start: dt.date,
    first: int,
    last: int,
    modifications: tuple[Modification, ...],
) -> TreatmentPlan:
    """Lay the courses out on dates, using on each date the dose sheet then in force."""
    conditions = tuple(start_conditions(protocol))
    length = protocol.course.length_days
    courses: list[CourseCalendar] = []
    plan = TreatmentPlan(protocol, sheets, (), conditions, modifications)
    for course in range(first, last + 1):
        course_start = start + dt.timedelta(days=(course - first) * length)
        days = tuple(
            _day(
                protocol,
                plan.sheet_on(course_start + dt.timedelta(days=d - 1)),
                course,
                d,
                course_start + dt.timedelta(days=d - 1),
            )
            for d in range(1, length + 1)
        )
        provisional = protocol.dosing.recalculate_each_course and course > first
        courses.append(CourseCalendar(course, course_start, days, provisional))
    return TreatmentPlan(protocol, sheets, tuple(courses), conditions, modifications)


def _day(protocol: Protocol, sheet: DoseSheet, course: int, day: int, date: dt.date) -> CalendarDay:
    given: list[Administration] = []
    refused: list[str] = []
    for line in sheet.agents:
        p = line.prescribed
        if day not in p.days:
            continue
        if line.status == "refused":
            refused.append(f"{p.agent.name}: {line.rounded.message}")
            continue
        labels = time_labels(p.times_per_day)
        for time, combo in zip(labels, line.rounded.per_day[day], strict=True):
            given.append(
                Administration(
                    p.agent.id,
                    p.agent.name,
                    p.agent.route,
                    time,
                    combo.mg,
                    combo,
                    line.form,
                    sheet.level.id,
                    line.infusion,
                )
            )
    return CalendarDay(
        date,
        course,
        day,
        sheet.level.id,
        tuple(given),
        tuple(_assessments(protocol, sheet, course, day)),
        tuple(refused),
    )


def _assessments(
    protocol: Protocol, sheet: DoseSheet, course: int, day: int
) -> list[ScheduledAssessment]:
    out = []
    for a in protocol.assessments:
        if not _applies(a, sheet, course, day):
            continue
        assumed = a.provenance_of("days").is_assumed or a.provenance_of("courses").is_assumed
        out.append(
            ScheduledAssessment(a.id, a.name, a.kind, a.items, a.sample_hours, a.note, assumed)
        )
    return out


def _applies(a: Assessment, sheet: DoseSheet, course: int, day: int) -> bool:
    if a.courses != "all" and course not in a.courses:
        return False
    if day not in a.days:
        return False
    # Drug-specific samples only where the level gives that drug (e.g. isotretinoin PK).
    return a.agent is None or a.agent in sheet.level.doses
