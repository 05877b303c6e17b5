"""Courses over JSON: start the next course, delay a course's day 1, a course's doses planned
vs given per day, its printable roadmap, and dose intensity per course and agent.

Each endpoint calls one service of phaseone.workflow.courses inside the request's one
transaction; the service checks the role and the site, applies the protocol's course rules
and audits the change. The page forms (web/pages/courses.py) validate with these same
input models.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from phaseone.dosing.terms import course_terms
from phaseone.store import records
from phaseone.web.api.enrolment import PatientId
from phaseone.web.api.records import read_models
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import INT32_MAX, ClinicalDate, DoseLevel, Note, Slug
from phaseone.web.auth import Caller, trial_of
from phaseone.web.inputs import BodyWeight
from phaseone.workflow import courses

router = APIRouter(tags=["workflow: courses"])

CourseNumber = Annotated[int, Path(ge=1, le=99, description="The course number.")]
CourseRead = read_models()["courses"]
_CAUSES = ", ".join(t.id for t in course_terms().delay_causes)


class StartCourseIn(Body):
    """The next course: its day 1, the height and weight measured for it, and any change."""

    start_date: ClinicalDate = Field(
        description="Day 1. From the day after the previous course ends; later is a delay."
    )
    height_cm: BodyWeight = Field(description="Height in cm, measured for this course.")
    weight_kg: BodyWeight = Field(description="Weight in kg, measured for this course.")
    number: int | None = Field(
        default=None, ge=1, le=99, description="The course number, checked if given."
    )
    dose_level: DoseLevel | None = Field(
        default=None,
        description="Default the previous course's level; a lower level is a dose "
        "modification and needs `level_reason`.",
    )
    level_reason: Note | None = Field(default=None, description="Why the dose level is lower.")
    delay_cause: Slug | None = Field(
        default=None, description=f"Required when day 1 is late; one of: {_CAUSES}."
    )
    delay_reason: Note | None = Field(default=None, description="The delay in the site's words.")


class DelayIn(Body):
    """Move day 1 of the newest course later (before any dose is recorded on it)."""

    start_date: ClinicalDate = Field(description="The new day 1.")
    delay_cause: Slug = Field(description=f"One of: {_CAUSES}.")
    delay_reason: Note | None = None


class CourseListOut(BaseModel):
    items: list[CourseRead]  # type: ignore[valid-type]
    next: dict[str, Any] = Field(
        description="The next course: its number, the earliest day 1 and default level, or "
        "why there is none (`blocked`)."
    )


class StartedOut(BaseModel):
    course: CourseRead  # type: ignore[valid-type]
    calendar: list[dict[str, Any]] = Field(
        description="The course day by day: the doses planned and the assessments due."
    )


class DayDoseOut(BaseModel):
    day: int
    date: str
    agent_id: str
    planned_mg: float
    given_mg: float | None = Field(description="None while nothing is recorded for the day.")
    status: str


class CourseDosesOut(BaseModel):
    patient_id: int
    course: int
    start_date: str
    end_date: str
    dose_level: int
    height_cm: float | None
    weight_kg: float | None
    bsa_m2: float | None
    level_reason: str | None
    delay_days: int | None
    delay_cause: str | None
    days: list[DayDoseOut]


class IntensityRow(BaseModel):
    subject_code: str
    site_id: str
    course: int
    agent_id: str
    dose_level: int
    registered_level: int
    planned_days: int
    recorded_days: int
    given_days: int
    planned_mg: float
    given_mg: float
    protocol_mg: float = Field(description="The registered level's prescribed amount.")
    intensity: float | None = Field(description="given_mg / planned_mg.")
    relative: float | None = Field(description="given_mg / protocol_mg.")
    full_dose: bool


class IntensityOut(BaseModel):
    items: list[IntensityRow]


def _course(scope: Any, obj: Any) -> dict[str, Any]:
    return records.present_many(scope, courses.COURSES, [obj])[0]


@router.get(
    "/patients/{patient_id}/courses",
    response_model=CourseListOut,
    summary="A patient's courses, and the next one",
)
def list_courses(scope: Caller, request: Request, patient_id: PatientId) -> dict[str, Any]:
    started = courses.course_list(scope, patient_id)
    upcoming = courses.next_course(scope, trial_of(request), patient_id).as_dict()
    if scope.actor.deidentified:
        upcoming["due"] = None  # a real date
    return {"items": [_course(scope, c) for c in started], "next": upcoming}


@router.post(
    "/patients/{patient_id}/courses",
    status_code=201,
    response_model=StartedOut,
    summary="Start the next course (new BSA and doses; a lower level or a delay with reasons)",
)
def start_course(
    scope: Caller, request: Request, patient_id: PatientId, data: StartCourseIn
) -> dict[str, Any]:
    """Needs a registered patient on treatment, the protocol's start conditions met by the
    labs on record, and no more than the protocol's number of courses."""
    course, plan, _ = courses.start_course(
        scope,
        trial_of(request),
        patient_id=patient_id,
        start_date=data.start_date,
        height_cm=data.height_cm,
        weight_kg=data.weight_kg,
        number=data.number,
        dose_level=data.dose_level,
        level_reason=data.level_reason,
        delay_cause_id=data.delay_cause,
        delay_reason=data.delay_reason,
    )
    days = [d.as_dict() for d in plan.courses[0].days if not d.is_empty]
    return {"course": _course(scope, course), "calendar": days}


@router.post(
    "/patients/{patient_id}/courses/{number}/delay",
    response_model=CourseRead,
    summary="Delay day 1 of the newest course (its calendar follows; cause recorded)",
)
def delay_course(
    scope: Caller, request: Request, patient_id: PatientId, number: CourseNumber, data: DelayIn
) -> dict[str, Any]:
    course = courses.delay_course(
        scope,
        trial_of(request),
        patient_id=patient_id,
        course=number,
        start_date=data.start_date,
        delay_cause_id=data.delay_cause,
        delay_reason=data.delay_reason,
    )
    return _course(scope, course)


@router.get(
    "/patients/{patient_id}/courses/{number}/doses",
    response_model=CourseDosesOut,
    summary="A course's doses planned vs given, per day and agent",
)
def course_doses(
    scope: Caller, request: Request, patient_id: PatientId, number: CourseNumber
) -> dict[str, Any]:
    return courses.course_view(scope, trial_of(request), patient_id, number).as_dict()


@router.get(
    "/patients/{patient_id}/courses/{number}/roadmap",
    response_class=HTMLResponse,
    summary="A course's printable roadmap (HTML; not for de-identified roles)",
)
def course_roadmap(
    scope: Caller, request: Request, patient_id: PatientId, number: CourseNumber
) -> HTMLResponse:
    html = courses.course_roadmap(scope, trial_of(request), patient_id, number)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get(
    "/dose-intensity",
    response_model=IntensityOut,
    summary="Dose intensity per patient, course and agent (secondary objective XI)",
)
def dose_intensity(
    scope: Caller,
    request: Request,
    patient_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> dict[str, Any]:
    return {"items": courses.dose_intensity(scope, trial_of(request), patient_id)}
