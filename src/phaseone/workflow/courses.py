"""Courses 2 to the protocol's last: starting a course, delaying its day 1, its calendar
with doses planned vs given, its printable roadmap, and dose intensity per course and agent.

Course 1 starts at registration (workflow/registration.py). Every later course is the next
number, no earlier than the day after the previous course ends (a later day 1 is a delay,
with its cause); its doses come from the height and weight measured for it; its level is
the previous course's or a lower one with a reason (dosing/modification.py); and it starts
only when the protocol's start conditions are met by the labs on record (dosing/start.py).
Course length, the number of courses, the start conditions and the re-escalation rule are
the protocol's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phaseone.dosing.calendar import CourseCalendar, TreatmentPlan, treatment_plan
from phaseone.dosing.html import plan_to_html
from phaseone.dosing.intensity import DayDose, Given, course_intensity, day_doses, intensity_frame
from phaseone.dosing.modification import course_level
from phaseone.dosing.rules import start_conditions
from phaseone.dosing.sheet import dose_sheet
from phaseone.dosing.start import LabValue, StartCheck, check_start
from phaseone.dosing.terms import delay_cause
from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import (
    Course,
    DoseAdministration,
    LabResult,
    Patient,
    Registration,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.registration import course_plan, courses_of, not_started, registration_of

COURSES = records.SPECS["courses"]


def may_record(scope: Scope) -> bool:
    """Whether the actor may start, delay and record doses of courses."""
    return scope.actor.role is None or scope.actor.role in CLINICAL_WRITERS


def _patient(scope: Scope, patient_id: int) -> Patient:
    found: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    return found


def _registered(scope: Scope, patient: Patient) -> Registration:
    reg = registration_of(scope, patient.id)
    if reg is None:
        raise ConflictError(f"patient {patient.subject_code} is not registered")
    return reg


def treatment_end(scope: Scope, patient_id: int) -> TreatmentEnd | None:
    stmt = select(TreatmentEnd).where(
        TreatmentEnd.patient_id == patient_id, TreatmentEnd.voided.is_(False)
    )
    found: TreatmentEnd | None = scope.session.scalar(stmt)
    return found


def course_of(scope: Scope, patient_id: int, number: int) -> Course:
    """One started course of a patient the actor sees, or an InputError naming `course`."""
    _patient(scope, patient_id)  # another site's patient: not found
    for course in courses_of(scope, patient_id):
        if course.number == number:
            return course
    raise not_started(number)


def _labs(scope: Scope, patient_id: int) -> list[LabValue]:
    stmt = select(LabResult).where(LabResult.patient_id == patient_id, LabResult.voided.is_(False))
    return [
        LabValue(lab.analyte, lab.value, lab.unit, lab.collected_on)
        for lab in scope.session.scalars(stmt)
    ]


@dataclass(frozen=True)
class NextCourse:
    """What the next course of a patient would be, or why there is none."""

    number: int | None
    due: dt.date | None  # the earliest day 1 (the day after the previous course ends)
    level: int | None  # the previous course's level, the default
    blocked: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "due": None if self.due is None else self.due.isoformat(),
            "dose_level": self.level,
            "blocked": self.blocked,
        }


def next_course(scope: Scope, trial: Trial, patient_id: int) -> NextCourse:
    patient = _patient(scope, patient_id)
    if registration_of(scope, patient.id) is None:
        return NextCourse(None, None, None, "not registered")
    end = treatment_end(scope, patient.id)
    if end is not None:
        return NextCourse(None, None, None, f"off treatment since {end.ended_on}")
    started = courses_of(scope, patient.id)
    if not started:
        return NextCourse(None, None, None, "course 1 is voided; correct the course records")
    last = started[-1]
    most = trial.protocol.course.max_courses
    if last.number >= most:
        return NextCourse(None, None, None, f"all {most} protocol courses are started")
    due = last.start_date + dt.timedelta(days=trial.protocol.course.length_days)
    return NextCourse(last.number + 1, due, last.dose_level, None)


def start_course(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    start_date: dt.date,
    height_cm: float,
    weight_kg: float,
    number: int | None = None,
    dose_level: int | None = None,
    level_reason: str | None = None,
    delay_cause_id: str | None = None,
    delay_reason: str | None = None,
) -> tuple[Course, TreatmentPlan, tuple[StartCheck, ...]]:
    """Start the next course of a registered patient (one audited record)."""
    patient = _patient(scope, patient_id)
    scope.require_role(CLINICAL_WRITERS, "start courses")
    reg = _registered(scope, patient)
    end = treatment_end(scope, patient.id)
    if end is not None:
        raise ConflictError(
            f"patient {patient.subject_code} is off treatment since {end.ended_on} "
            f"({end.reason.replace('_', ' ')}); no course can start"
        )
    protocol = trial.protocol
    most = protocol.course.max_courses
    started = courses_of(scope, patient.id)
    if not started:
        raise ConflictError("course 1 is voided; correct the course records first")
    last = started[-1]
    wanted = last.number + 1
    if number is not None and number != wanted:
        raise InputError([Problem("number", f"the next course is course {wanted}")])
    if wanted > most:
        raise InputError(
            [Problem("number", f"course {wanted} is beyond the protocol's {most} courses")]
        )
    problems: list[Problem] = []
    due = last.start_date + dt.timedelta(days=protocol.course.length_days)
    delay = (start_date - due).days
    cause, why = _delay(problems, delay, delay_cause_id, delay_reason, wanted, last.number, due)
    level, level_why = _level(problems, trial, reg, last, dose_level, level_reason, wanted)
    plan = None
    if level is not None:
        try:
            plan = treatment_plan(protocol, level, height_cm, weight_kg, start_date, wanted, wanted)
        except InputError as exc:
            problems.extend(exc.problems)
    checks = check_start(
        start_conditions(protocol), _labs(scope, patient.id), last.start_date, start_date
    )
    for check in checks:
        if not check.met:
            found = (
                check.note
                if check.value is None
                else f"{check.value:g} {check.unit} on {check.collected_on}"
            )
            problems.append(
                Problem("start_date", f"course {wanted} needs {check.text}; found {found}")
            )
    if problems or plan is None or level is None:
        raise InputError(problems)
    course: Course = records.create(
        scope,
        COURSES,
        {
            "patient_id": patient.id,
            "number": wanted,
            "start_date": start_date,
            "dose_level": level,
            "height_cm": height_cm,
            "weight_kg": weight_kg,
            "bsa_m2": plan.sheet.bsa.m2,
            "level_reason": level_why,
            "delay_days": max(delay, 0),
            "delay_cause": cause,
            "delay_reason": why,
            "start_checks": [c.as_dict() for c in checks],
        },
    )
    return course, plan, checks


def _delay(
    problems: list[Problem],
    delay: int,
    cause: str | None,
    reason: str | None,
    number: int,
    previous: int,
    due: dt.date,
) -> tuple[str | None, str | None]:
    """The delay's cause and words: required for a late day 1, refused for an early one."""
    if delay < 0:
        problems.append(
            Problem(
                "start_date",
                f"course {previous} runs until {due - dt.timedelta(days=1)}; course {number} "
                f"can start on {due} or later",
            )
        )
        return None, None
    if delay == 0:
        if cause or (reason and reason.strip()):
            problems.append(Problem("delay_cause", f"course {number} starts on time ({due})"))
        return None, None
    if cause is None:
        problems.append(
            Problem("delay_cause", f"day 1 is {delay} days after {due}; give the delay's cause")
        )
        return None, None
    try:
        term = delay_cause(cause)
    except InputError as exc:
        problems.extend(exc.problems)
        return None, None
    words = reason.strip() if reason and reason.strip() else None
    if term.needs_detail and words is None:
        problems.append(Problem("delay_reason", f"a delay for '{term.label}' needs the reason"))
    return term.id, words


def _level(
    problems: list[Problem],
    trial: Trial,
    reg: Registration,
    last: Course,
    requested: int | None,
    reason: str | None,
    number: int,
) -> tuple[int | None, str | None]:
    try:
        return course_level(
            trial.protocol,
            registered=reg.dose_level,
            previous=last.dose_level,
            requested=requested,
            reason=reason,
            course=number,
        )
    except InputError as exc:
        problems.extend(exc.problems)
        return None, None


def delay_course(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    course: int,
    start_date: dt.date,
    delay_cause_id: str,
    delay_reason: str | None = None,
) -> Course:
    """Move day 1 of a started course later; its whole calendar follows.

    Only before anything is recorded on the course's days (no dose, and no later course):
    the change is audited field by field with the delay as its reason."""
    patient = _patient(scope, patient_id)
    scope.require_role(CLINICAL_WRITERS, "delay courses")
    row = course_of(scope, patient.id, course)
    if treatment_end(scope, patient.id) is not None:
        raise ConflictError(f"patient {patient.subject_code} is off treatment")
    started = courses_of(scope, patient.id)
    if started[-1].number != row.number:
        raise ConflictError(f"course {started[-1].number} has started; course {course} is fixed")
    doses = scope.session.scalar(
        select(DoseAdministration.id).where(
            DoseAdministration.course_id == row.id, DoseAdministration.voided.is_(False)
        )
    )
    if doses is not None:
        raise ConflictError(
            f"doses are recorded on course {course}; void them before moving its day 1"
        )
    moved = (start_date - row.start_date).days
    if moved <= 0:
        raise InputError(
            [Problem("start_date", f"a delay moves day 1 later than {row.start_date}")]
        )
    term = delay_cause(delay_cause_id)
    words = delay_reason.strip() if delay_reason and delay_reason.strip() else None
    if term.needs_detail and words is None:
        raise InputError([Problem("delay_reason", f"a delay for '{term.label}' needs the reason")])
    total = (row.delay_days or 0) + moved
    why = f"course {course} day 1 delayed {moved} days: {term.label}" + (
        f" ({words})" if words else ""
    )
    changed: Course = records.update(
        scope,
        COURSES,
        row.id,
        {
            "start_date": start_date,
            "delay_days": total,
            "delay_cause": term.id,
            "delay_reason": words,
        },
        why,
    )
    return changed


# --- reading: calendars, roadmaps, intensity -------------------------------------------------


def _given(scope: Scope, course: Course) -> tuple[list[DoseAdministration], list[Given]]:
    stmt = (
        select(DoseAdministration)
        .where(DoseAdministration.course_id == course.id, DoseAdministration.voided.is_(False))
        .order_by(DoseAdministration.course_day, DoseAdministration.id)
    )
    rows = list(scope.session.scalars(stmt))
    given = [
        Given(d.course_day, d.agent_id, float(d.given_dose or 0.0) if d.given else 0.0)
        for d in rows
        if d.course_day is not None
    ]
    return rows, given


@dataclass(frozen=True)
class CourseView:
    """One course as the pages and the API show it: the stored course, its calendar and, per
    day and agent, the dose planned and the dose given."""

    patient: Patient
    course: Course
    plan: TreatmentPlan
    doses: tuple[DoseAdministration, ...]
    days: tuple[DayDose, ...]
    shift_days: int  # 0, or the patient's date shift for de-identified readers

    @property
    def calendar(self) -> CourseCalendar:
        return self.plan.courses[0]

    def date(self, day: int) -> dt.date:
        return self.course.start_date + dt.timedelta(days=day - 1 + self.shift_days)

    def as_dict(self) -> dict[str, Any]:
        c = self.course
        return {
            "patient_id": self.patient.id,
            "course": c.number,
            "start_date": self.date(1).isoformat(),
            "end_date": self.date(len(self.calendar.days)).isoformat(),
            "dose_level": c.dose_level,
            "height_cm": c.height_cm,
            "weight_kg": c.weight_kg,
            "bsa_m2": c.bsa_m2,
            "level_reason": None if self.shift_days else c.level_reason,
            "delay_days": c.delay_days,
            "delay_cause": c.delay_cause,
            "days": [
                {
                    "day": d.day,
                    "date": self.date(d.day).isoformat(),
                    "agent_id": d.agent_id,
                    "planned_mg": d.planned_mg,
                    "given_mg": d.given_mg,
                    "status": d.status,
                }
                for d in self.days
            ],
        }


def course_view(scope: Scope, trial: Trial, patient_id: int, number: int) -> CourseView:
    patient = _patient(scope, patient_id)
    row = course_of(scope, patient.id, number)
    plan = course_plan(trial, row)
    rows, given = _given(scope, row)
    shift = patient.date_shift_days if scope.actor.deidentified else 0
    days = tuple(day_doses(plan.courses[0], given))
    return CourseView(patient, row, plan, tuple(rows), days, shift)


def patient(scope: Scope, patient_id: int) -> Patient:
    """A patient the actor sees (another site's: not found)."""
    return _patient(scope, patient_id)


def course_list(scope: Scope, patient_id: int) -> list[Course]:
    """The started courses of a patient the actor sees (stored rows: real dates)."""
    return courses_of(scope, _patient(scope, patient_id).id)


def presented_courses(scope: Scope, patient_id: int) -> list[dict[str, Any]]:
    """The started courses as the actor may see them (de-identified for the statistician)."""
    return records.present_many(scope, COURSES, course_list(scope, patient_id))


def course_roadmap(scope: Scope, trial: Trial, patient_id: int, number: int) -> str:
    """The printable roadmap of one course (HTML), for the site and the family.

    It carries real dates, so de-identified readers do not get it."""
    if scope.actor.deidentified:
        raise PermissionDenied("the roadmap carries real dates; read the course calendar instead")
    row = course_of(scope, patient_id, number)
    return plan_to_html(course_plan(trial, row))


def dose_intensity(
    scope: Scope, trial: Trial, patient_id: int | None = None
) -> list[dict[str, Any]]:
    """Dose intensity per patient, course and agent for every registered patient the actor
    sees (one patient with `patient_id`): the data of secondary objective XI."""
    stmt = select(Registration).where(Registration.voided.is_(False))
    if patient_id is not None:
        stmt = stmt.where(Registration.patient_id == _patient(scope, patient_id).id)
    if scope.actor.site_scoped:
        stmt = stmt.where(Registration.site_id == scope.actor.site_id)
    rows: list[dict[str, Any]] = []
    for reg in scope.session.scalars(stmt.order_by(Registration.patient_id)):
        for course in courses_of(scope, reg.patient_id):
            rows.extend(_course_rows(scope, trial, reg, course))
    return rows


def _course_rows(
    scope: Scope, trial: Trial, reg: Registration, course: Course
) -> Sequence[dict[str, Any]]:
    plan = course_plan(trial, course)
    reference = dose_sheet(trial.protocol, reg.dose_level, course.height_cm, course.weight_kg)
    _, given = _given(scope, course)
    found = course_intensity(plan.courses[0], course.dose_level, reference, given)
    who = {"subject_code": reg.patient.subject_code, "site_id": reg.site_id}
    return [who | row.as_dict() for row in found]


def dose_intensity_frame(scope: Scope, trial: Trial, patient_id: int | None = None) -> Any:
    """`dose_intensity` as a pandas DataFrame (one row per patient, course and agent)."""
    return intensity_frame(dose_intensity(scope, trial, patient_id))
