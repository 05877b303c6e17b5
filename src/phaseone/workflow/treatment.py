"""What sites record after registration: doses (planned vs given), labs (graded as they are
entered), adverse events, end of treatment, off study, follow-up and clinical events."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import lazyload

from phaseone.dosing.terms import course_terms, end_reason
from phaseone.errors import InputError, Problem
from phaseone.labs import analyte as lookup_analyte
from phaseone.safety.ctcae import LabGrade, grade_value
from phaseone.safety.events import ATTRIBUTIONS
from phaseone.safety.ranges import default_ranges, resolve_range
from phaseone.safety.terms import find_term, suggestions
from phaseone.store import locks, records
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import ConflictError
from phaseone.store.models import (
    AdverseEvent,
    ClinicalEvent,
    Course,
    DoseAdministration,
    FollowUp,
    LabResult,
    Patient,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.workflow import corrections, edits
from phaseone.workflow.context import Trial
from phaseone.workflow.registration import (
    STARTED_COURSE,
    course_plan,
    courses_of,
    not_started,
    registration_of,
    started_course,
)

TREATMENT_END = records.EntitySpec(
    "treatment_ends", "end of treatment", TreatmentEnd, CLINICAL_WRITERS
)
# Controlled terms with their CDISC disposition term: dosing/data/course_terms.yaml.
OFF_TREATMENT_REASONS = tuple(t.id for t in course_terms().end_reasons)


# A write's one read before it writes: the patient, the course the record is entered
# against (None when that course is not started) and whether the casebook is locked. The
# course's own join to its patient is not made: the patient is in the same row.
_PATIENT_COURSE = (
    select(Patient, Course, locks.LOCKED)
    .outerjoin(Course, and_(Course.patient_id == Patient.id, *STARTED_COURSE))
    .where(Patient.id == bindparam("patient_id"))
    .options(lazyload(Course.patient))
)


def _patient_and_course(
    scope: Scope, patient_id: int, number: int | None
) -> tuple[Patient, Course | None]:
    """The patient (as `records.get` gives it: NotFoundError for another site's) and its
    course `number` (InputError if not started), read in one query with the casebook's
    lock, which `records.create` then checks without reading it again."""
    row = scope.session.execute(
        _PATIENT_COURSE, {"patient_id": patient_id, "number": number or 0}
    ).first()
    # The site rule is records.get's: the patient is now in the session, so no query.
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    assert row is not None  # records.get found it
    if not row.casebook_locked:
        locks.note_unlocked(scope.session, patient_id)
    if number is None:
        return patient, None
    if row.Course is None:
        raise not_started(number)
    return patient, row.Course


def _registered(scope: Scope, patient_id: int) -> Patient:
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    if registration_of(scope, patient_id) is None:
        raise ConflictError(f"patient {patient.subject_code} is not registered")
    return patient


# The input field each store column is entered as (for errors named as the caller typed).
DOSE_FIELDS = {"given_dose": "given_mg", "course_day": "day", "administered_on": "day"}
AE_FIELDS = {"onset_date": "onset", "resolved_date": "resolved"}


def planned_mg(trial: Trial, course: Course, day: int, agent_id: str) -> float | None:
    """The planned amount of an agent on a course day (all intakes of the day), or None."""
    plan = course_plan(trial, course)
    for d in plan.courses[0].days:
        if d.day == day:
            amounts = [a.mg for a in d.administrations if a.agent_id == agent_id]
            return round(sum(amounts), 4) if amounts else None
    return None


def record_dose(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    course: int,
    day: int,
    agent_id: str,
    given: bool = True,
    given_mg: float | None = None,
    reason: str | None = None,
    how_taken: str | None = None,
    today: dt.date | None = None,
    override: str | None = None,
) -> DoseAdministration:
    """A dose given (or not) on a course day; the planned amount comes from the calendar.

    Anything other than the planned dose, given, needs a reason (the EXADJ of SDTM). The
    protocol's edit checks apply (a date after `today`, a dose above the plan beyond the
    tolerance, a second administration on the day); `override` is the reason that accepts
    a check's warning, audited with the record.
    """
    _registered(scope, patient_id)
    row = started_course(scope, patient_id, course)
    planned = planned_mg(trial, row, day, agent_id)
    if planned is None:
        raise InputError(
            [Problem("day", f"{agent_id} is not planned on course {course} day {day}")]
        )
    amount = planned if (given and given_mg is None) else (given_mg if given else 0.0)
    if amount is None or not math.isfinite(amount) or amount < 0:
        raise InputError([Problem("given_mg", "expected the amount given in mg, 0 or more")])
    differs = not given or abs(amount - planned) > 1e-9
    if differs and not (reason and reason.strip()):
        raise InputError(
            [Problem("reason", "a dose not given as planned needs the reason for the change")]
        )
    values = {
        "patient_id": patient_id,
        "course_id": row.id,
        "agent_id": agent_id,
        "course_day": day,
        "administered_on": row.start_date + dt.timedelta(days=day - 1),
        "planned_dose": planned,
        "given_dose": amount,
        "unit": "mg",
        "given": given,
        "adjustment_reason": reason.strip() if differs and reason else None,
        "how_taken": how_taken,
    }
    accepted = edits.apply(
        scope,
        trial,
        "dose_administrations",
        values,
        today=today,
        override=override,
        names=DOSE_FIELDS,
    )
    dose: DoseAdministration = records.create(scope, records.SPECS["dose_administrations"], values)
    edits.record_overrides(scope, "dose_administrations", dose, accepted, override)
    return dose


def age_years(patient: Patient, on: dt.date) -> float:
    return (on - patient.birth_date).days / 365.25


@dataclass(frozen=True)
class GradedLab:
    grade: LabGrade | None
    lln: float | None
    uln: float | None
    range_source: str | None
    problem: str | None

    def as_dict(self) -> dict[str, Any]:
        g = self.grade
        return {
            "grade": None if g is None else g.grade,
            "term": None if g is None else g.term,
            "rule": None if g is None else g.rule,
            "version": None if g is None else g.version,
            "lln": self.lln,
            "uln": self.uln,
            "range_source": self.range_source,
            "problem": self.problem,
        }


def grade_lab(
    trial: Trial,
    analyte_id: str,
    value: float,
    unit: str,
    *,
    age: float | None,
    sex: str | None,
    lln: float | None = None,
    uln: float | None = None,
) -> GradedLab:
    """The CTCAE grade of one value. Limits not given come from the pediatric normal-range
    table (converted to the value's unit); a value that cannot be graded says why."""
    source = "entered"
    try:
        spec = lookup_analyte(analyte_id)
        if lln is None and uln is None:
            found = resolve_range(spec.id, age, _sex_word(sex), (default_ranges(),))
            if found is not None:
                factor = spec.to_canonical(1.0, unit)
                lln, uln = found.lln / factor, found.uln / factor
                source = found.source
        graded = grade_value(spec.id, value, unit, version=trial.ctcae_version, lln=lln, uln=uln)
    except InputError as exc:
        return GradedLab(None, lln, uln, None, "; ".join(p.message for p in exc.problems))
    return GradedLab(graded, lln, uln, source, None)


def _sex_word(sex: str | None) -> str | None:
    return {"F": "female", "M": "male"}.get(sex or "", sex)


def record_lab(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    analyte_id: str,
    value: float,
    unit: str,
    collected_on: dt.date,
    course: int | None = None,
    lln: float | None = None,
    uln: float | None = None,
    today: dt.date | None = None,
) -> tuple[LabResult, GradedLab]:
    """A lab value, stored with the limits it was graded against; the protocol's edit
    checks apply (possible limits of the analyte, a date after `today`)."""
    patient, course_row = _patient_and_course(scope, patient_id, course)
    spec = lookup_analyte(analyte_id)
    spec.to_canonical(value, unit)  # rejects a unit the analyte does not take, by name
    graded = grade_lab(
        trial,
        spec.id,
        value,
        unit,
        age=age_years(patient, collected_on),
        sex=patient.sex,
        lln=lln,
        uln=uln,
    )
    values = {
        "patient_id": patient_id,
        "course_id": None if course_row is None else course_row.id,
        "analyte": spec.id,
        "value": value,
        "unit": unit,
        "collected_on": collected_on,
        "lower_normal": graded.lln,
        "upper_normal": graded.uln,
    }
    edits.apply(scope, trial, "lab_results", values, today=today)
    row: LabResult = records.create(scope, records.SPECS["lab_results"], values)
    return row, graded


def record_adverse_event(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    term: str,
    grade: int,
    onset: dt.date,
    attribution: dict[str, str],
    verbatim: str | None = None,
    resolved: dt.date | None = None,
    serious: bool = False,
    course: int | None = None,
    flags: tuple[str, ...] = (),
    today: dt.date | None = None,
) -> AdverseEvent:
    """An adverse event by CTCAE term and grade, with attribution to each agent."""
    _registered(scope, patient_id)
    version = trial.ctcae_version
    found = find_term(term, version)
    problems: list[Problem] = []
    if found is None:
        hint = ", ".join(suggestions(term, version)) or "none close"
        problems.append(Problem("term", f"not a CTCAE v{version} term (did you mean: {hint})"))
    elif grade not in found.grades:
        allowed = ", ".join(str(g) for g in sorted(found.grades))
        problems.append(Problem("grade", f"{found.term} has grades {allowed} in CTCAE v{version}"))
    agents = {a.id for a in trial.protocol.agents}
    for agent, value in attribution.items():
        if agent not in agents:
            problems.append(Problem(f"attribution.{agent}", "not an agent of this protocol"))
        elif value not in ATTRIBUTIONS:
            problems.append(
                Problem(f"attribution.{agent}", f"expected one of {', '.join(ATTRIBUTIONS)}")
            )
    if resolved is not None and resolved < onset:
        problems.append(Problem("resolved", "cannot be before the onset"))
    if problems:
        raise InputError(problems)
    assert found is not None
    # Kept (not just its id): the store checks the reference against the same object.
    course_row = None if course is None else started_course(scope, patient_id, course)
    values = {
        "patient_id": patient_id,
        "course_id": None if course_row is None else course_row.id,
        "term_verbatim": verbatim or found.term,
        "meddra_term": found.term,
        "meddra_code": str(found.meddra),
        "grade": grade,
        "ctcae_version": version,
        "onset_date": onset,
        "resolved_date": resolved,
        "serious": serious,
        "attribution": attribution,
        "grading_detail": {"soc": found.soc, "flags": list(flags)},
    }
    edits.apply(scope, trial, "adverse_events", values, today=today, names=AE_FIELDS)
    event: AdverseEvent = records.create(scope, records.SPECS["adverse_events"], values)
    return event


def end_treatment(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    ended_on: dt.date,
    reason: str,
    detail: str | None = None,
    today: dt.date | None = None,
) -> TreatmentEnd:
    """The patient comes off protocol treatment (follow-up goes on until off study).

    "Completed therapy" needs every protocol course started; any other reason ends
    treatment early. The end date is no earlier than day 1 of the last course started.
    With `today`, the protocol's edit checks apply (no date after today)."""
    _registered(scope, patient_id)
    term = end_reason(reason)
    started = courses_of(scope, patient_id)
    most = trial.protocol.course.max_courses
    problems: list[Problem] = []
    if term.all_courses and (not started or started[-1].number < most):
        done = started[-1].number if started else 0
        problems.append(
            Problem(
                "reason",
                f"{term.label} needs all {most} courses; {done} started: give the reason "
                "treatment ends early",
            )
        )
    if started and ended_on < started[-1].start_date:
        problems.append(
            Problem(
                "ended_on",
                f"course {started[-1].number} started on {started[-1].start_date}; "
                "treatment cannot end before it",
            )
        )
    text = detail.strip() if detail and detail.strip() else None
    if term.needs_detail and text is None:
        problems.append(Problem("detail", f"'{term.label}' needs the detail"))
    if problems:
        raise InputError(problems)
    values = {"patient_id": patient_id, "ended_on": ended_on, "reason": term.id, "detail": text}
    edits.apply(scope, trial, "treatment_ends", values, today=today)
    end: TreatmentEnd = records.create(scope, TREATMENT_END, values)
    return end


def clinical_event(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    kind: str,
    on: dt.date,
    cause: str | None = None,
    detail: str | None = None,
    today: dt.date | None = None,
) -> ClinicalEvent:
    """Progression, relapse, death, or going off study (with its reason as `cause`): the
    record API's entry with its checks (corrections.create), under named arguments."""
    event: ClinicalEvent = corrections.create(
        scope,
        trial,
        "clinical_events",
        {
            "patient_id": patient_id,
            "kind": kind,
            "event_date": on,
            "cause": cause,
            "detail": detail,
        },
        today=today,
    )
    return event


def follow_up(
    scope: Scope,
    *,
    patient_id: int,
    contact_date: dt.date,
    vital_status: str,
    disease_status: str | None = None,
    notes: str | None = None,
) -> FollowUp:
    row: FollowUp = records.create(
        scope,
        records.SPECS["follow_ups"],
        {
            "patient_id": patient_id,
            "contact_date": contact_date,
            "vital_status": vital_status,
            "disease_status": disease_status,
            "notes": notes,
        },
    )
    return row
