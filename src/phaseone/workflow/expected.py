"""Forms a patient's calendar expects: a registry of providers, each naming what is due
from the protocol's calendar and not entered, as of a day.

A provider is a function (scope, trial, as_of, grace_days) -> expected forms that are
overdue, registered by name with `@provider`. Labs, specimens and disease evaluations are
registered here, and the operations report lists whatever is registered without change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from phaseone.store import records
from phaseone.store.models import Course, DiseaseEvaluation, LabResult, TreatmentEnd
from phaseone.store.scope import Scope
from phaseone.workflow import evaluations, specimens, treatment
from phaseone.workflow.context import Trial


@dataclass(frozen=True)
class Expected:
    """One form the calendar expects and that is not (properly) entered."""

    form: str  # the provider's name: labs, specimens, evaluations, ...
    patient_id: int
    subject_code: str
    site_id: str
    course: int | None
    due_on: dt.date
    what: str
    status: str  # overdue (not entered after its grace) or missed (recorded as not done)

    def days_late(self, as_of: dt.date) -> int:
        return (as_of - self.due_on).days

    def as_dict(self, as_of: dt.date) -> dict[str, Any]:
        return {**self.__dict__, "days_late": self.days_late(as_of)}


Provider = Callable[[Scope, Trial, dt.date, int], Iterable[Expected]]
PROVIDERS: dict[str, Provider] = {}


def provider(name: str) -> Callable[[Provider], Provider]:
    """Register a provider of expected forms under `name`."""

    def register(func: Provider) -> Provider:
        PROVIDERS[name] = func
        return func

    return register


def overdue(scope: Scope, trial: Trial, as_of: dt.date, grace_days: int = 3) -> list[Expected]:
    """Every registered provider's overdue forms the actor may see, oldest due first."""
    found = [e for p in PROVIDERS.values() for e in p(scope, trial, as_of, grace_days)]
    return sorted(found, key=lambda e: (e.due_on, e.site_id, e.subject_code, e.form, e.what))


def _treatment_ends(scope: Scope) -> dict[int, dt.date]:
    query = (
        records.visible(scope, treatment.TREATMENT_END)
        .with_only_columns(TreatmentEnd.patient_id, TreatmentEnd.ended_on)
        .where(TreatmentEnd.voided.is_(False))
    )
    return {pid: ended for pid, ended in scope.session.execute(query)}


@provider("labs")
def overdue_labs(scope: Scope, trial: Trial, as_of: dt.date, grace_days: int) -> list[Expected]:
    """Lab assessments on the course calendar's days (protocol `assessments` of kind lab
    with analytes) with no result of any of their analytes within `grace_days` of the day,
    once those days have passed. Days after the end of treatment, or on or after the next
    course's start, are not expected."""
    assessments = [a for a in trial.protocol.assessments if a.kind == "lab" and a.items]
    if not assessments:
        return []
    courses = _courses(scope)
    ends = _treatment_ends(scope)
    starts = {(c.patient_id, c.number): c.start_date for c in courses}
    labs: dict[int, list[tuple[str, dt.date]]] = {}
    lab_rows = scope.session.execute(
        records.visible(scope, records.SPECS["lab_results"])
        .with_only_columns(LabResult.patient_id, LabResult.analyte, LabResult.collected_on)
        .where(LabResult.voided.is_(False))
    )
    for pid, analyte, collected in lab_rows:
        labs.setdefault(pid, []).append((analyte.casefold(), collected))
    window = dt.timedelta(days=grace_days)
    out = []
    for course in courses:
        next_start = starts.get((course.patient_id, course.number + 1))
        ended = ends.get(course.patient_id)
        for a in assessments:
            if a.courses != "all" and course.number not in a.courses:
                continue
            items = {i.casefold() for i in a.items}
            for day in a.days:
                due = course.start_date + dt.timedelta(days=day - 1)
                if due + window >= as_of:
                    continue  # not late yet
                if (next_start and due >= next_start) or (ended and due > ended):
                    continue
                done = any(
                    name in items and abs((got - due).days) <= grace_days
                    for name, got in labs.get(course.patient_id, ())
                )
                if not done:
                    out.append(
                        Expected(
                            "labs",
                            course.patient_id,
                            course.patient.subject_code,
                            course.site_id,
                            course.number,
                            due,
                            f"{a.name} (course {course.number} day {day})",
                            "overdue",
                        )
                    )
    return out


def _courses(scope: Scope) -> list[Course]:
    return list(
        scope.session.scalars(
            records.visible(scope, records.SPECS["courses"])
            .where(Course.voided.is_(False))
            .order_by(Course.patient_id, Course.number)
        )
    )


@provider("evaluations")
def overdue_evaluations(
    scope: Scope, trial: Trial, as_of: dt.date, grace_days: int
) -> list[Expected]:
    """The disease evaluations the protocol schedules after a course (the schedule a
    scheduled evaluation is checked against, workflow/evaluations.py), due on the
    assessment's first day of that course and not recorded `grace_days` after it. A course
    not started, or a day after the end of treatment, expects none."""
    schedule = evaluations.scheduled_assessments(trial)
    if not schedule:
        return []
    entered = {
        (pid, number)
        for pid, number in scope.session.execute(
            records.visible(scope, evaluations.EVALUATIONS)
            .with_only_columns(DiseaseEvaluation.patient_id, DiseaseEvaluation.course_number)
            .where(DiseaseEvaluation.voided.is_(False), DiseaseEvaluation.kind == "scheduled")
        )
    }
    ends = _treatment_ends(scope)
    window = dt.timedelta(days=grace_days)
    out = []
    for course in _courses(scope):
        a = schedule.get(course.number)
        if a is None or (course.patient_id, course.number) in entered:
            continue
        day = min(a.days)
        due = course.start_date + dt.timedelta(days=day - 1)
        ended = ends.get(course.patient_id)
        if due + window >= as_of or (ended and due > ended):
            continue  # not late yet, or not expected
        out.append(
            Expected(
                "evaluations",
                course.patient_id,
                course.patient.subject_code,
                course.site_id,
                course.number,
                due,
                f"{a.name} (after course {course.number}, day {day})",
                "overdue",
            )
        )
    return out


@provider("specimens")
def overdue_specimens(
    scope: Scope, trial: Trial, as_of: dt.date, grace_days: int
) -> list[Expected]:
    """Planned specimens still not collected after their window, and those recorded as
    missed (workflow/specimens.py's flags)."""
    out = []
    for row in specimens.listing(scope, trial, as_of=as_of):
        flags = set(row.get("flags", ()))
        status = "missed" if "missed" in flags else "overdue" if "overdue" in flags else None
        if status is None:
            continue
        out.append(
            Expected(
                "specimens",
                row["patient_id"],
                row["subject_code"],
                row["site_id"],
                row["course_number"],
                row["planned_on"],
                f"{row['assessment_id']} {row['specimen_type']} (course {row['course_number']} "
                f"day {row['course_day']}{_hour(row.get('sample_hour'))}) {row['code']}",
                status,
            )
        )
    return out


def _hour(hour: float | None) -> str:
    return "" if hour is None else f", {hour:g} h"
