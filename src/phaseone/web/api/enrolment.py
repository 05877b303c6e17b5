"""The site's side of the workflow over JSON: screening, slot requests, registration and the
records kept during treatment (doses, graded labs, adverse events, end of treatment).

Each endpoint calls one service of phaseone.workflow inside the request's one transaction;
the services check roles and sites, apply the rules and audit every change. The dose level
of a registration is never taken from the client: the server assigns it from the trial's
state and the slot the site holds.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from phaseone.eligibility import PatientRecord, parse_record
from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.store.scope import Scope
from phaseone.trial import SlotPlan
from phaseone.web.api.records import read_models
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import (
    INT32_MAX,
    ClinicalDate,
    DoseLevel,
    EngineData,
    LabValue,
    Measure,
    Name,
    Note,
    Reason,
    ShortText,
    Slug,
)
from phaseone.web.auth import Caller, now, trial_of
from phaseone.workflow import registration, screening, slots, treatment

router = APIRouter(tags=["workflow: sites"])

PatientId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The patient's id.")]
RequestId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The slot request's id.")]
Course = Annotated[int, Field(ge=1, le=99, description="Course number.")]
BodyWeight = Annotated[float, Field(gt=0, le=500, allow_inf_nan=False)]
READ = read_models()
RegistrationRead = READ["registrations"]
CourseRead = READ["courses"]
LabRead = READ["lab_results"]


def present(scope: Scope, table: str, obj: Any) -> dict[str, Any]:
    """A record as the caller may see it (de-identified for the statistician)."""
    return records.present_many(scope, records.SPECS[table], [obj])[0]


# --- screening ------------------------------------------------------------------------------


class ScreeningIn(Body):
    record: EngineData = Field(
        description="The patient's screening record as the eligibility engine reads it "
        "(the format of `phaseone screen`)."
    )
    as_of: ClinicalDate = Field(description="The screening date.")
    dose_level: DoseLevel | None = Field(
        default=None,
        description="Screen for this dose level; default the level open now, which is the "
        "one registration needs.",
    )


def _record_at(data: dict[str, Any], where: str) -> PatientRecord:
    try:
        return parse_record(data)
    except InputError as exc:
        raise InputError(
            [Problem(f"{where}.{p.path}" if p.path else where, p.message) for p in exc.problems]
        ) from None


@router.post(
    "/patients/{patient_id}/screenings",
    status_code=201,
    response_model=READ["screening_evaluations"],
    summary="Screen a patient (every criterion stored with its evidence)",
)
def screen_patient(
    scope: Caller, request: Request, patient_id: PatientId, data: ScreeningIn
) -> dict[str, Any]:
    """The eligibility engine's per-criterion result is stored; the site investigator then
    signs it with `POST /screening-evaluations/{id}/signatures` (`eligibility-confirmed`)."""
    records.get(scope, records.SPECS["patients"], patient_id)  # another site's: 404 first
    scope.require_role(CLINICAL_WRITERS, "screen patients")
    record = _record_at(data.record, "body.record")
    evaluation, _ = screening.screen(
        scope, trial_of(request), patient_id, record, data.as_of, data.dose_level
    )
    return present(scope, "screening_evaluations", evaluation)


# --- slots ----------------------------------------------------------------------------------


class SlotRequestIn(Body):
    reference: ShortText = Field(
        description="The site's own pseudonymous label for the request (no patient data)."
    )
    site_id: Slug | None = Field(
        default=None,
        description="The site asking; site staff ask for their own site (the default), the "
        "study chair on a site's behalf.",
    )


class ReleaseIn(Body):
    reason: Reason


class PriorityIn(Body):
    priority: int = Field(ge=-1000, le=1000, description="Higher goes first on the waitlist.")
    reason: Reason


class SlotRequestOut(BaseModel):
    id: int
    site_id: str
    reference: str
    status: Literal["held", "waitlisted", "registered", "expired", "released", "cancelled"]
    requested_at: dt.datetime
    hold_expires_at: dt.datetime | None
    priority: int
    priority_reason: str | None
    waitlist_position: int | None = Field(description="1-based place on the waitlist.")
    patient_id: int | None
    closed_reason: str | None


class SlotListOut(BaseModel):
    items: list[SlotRequestOut]
    slots_open: int = Field(description="Slots open at the dose level open now.")
    free: int = Field(description="Open slots nobody holds.")
    waitlisted: int = Field(description="Requests waiting, at every site.")


def _slot_view(row: SlotRow, plan: SlotPlan | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "reference": row.reference,
        "status": row.status,
        "requested_at": row.requested_at,
        "hold_expires_at": row.hold_expires_at,
        "priority": row.priority,
        "priority_reason": row.priority_reason,
        "waitlist_position": None if plan is None else plan.position(str(row.id)),
        "patient_id": row.patient_id,
        "closed_reason": row.closed_reason,
    }


@router.get(
    "/slot-requests",
    response_model=SlotListOut,
    summary="Holds and the waitlist (your site's requests; every site's for central roles)",
)
def list_slot_requests(scope: Caller, request: Request) -> dict[str, Any]:
    plan = slots.waitlist(scope, trial_of(request), now(request))
    visible = [r for r in slots.live_requests(scope) if scope.actor.sees_site(r.site_id)]
    return {
        "items": [_slot_view(r, plan) for r in visible],
        "slots_open": plan.slots_open,
        "free": plan.free,
        "waitlisted": len(plan.waitlist),
    }


@router.post(
    "/slot-requests",
    status_code=201,
    response_model=SlotRequestOut,
    summary="Ask for a slot: held if one is free, else first come on the waitlist",
)
def request_slot(scope: Caller, request: Request, data: SlotRequestIn) -> dict[str, Any]:
    row, plan = slots.request_slot(
        scope, trial_of(request), data.reference, now(request), data.site_id
    )
    return _slot_view(row, plan)


@router.get(
    "/slot-requests/{request_id}", response_model=SlotRequestOut, summary="Read a slot request"
)
def read_slot_request(scope: Caller, request: Request, request_id: RequestId) -> dict[str, Any]:
    row = slots.get_request(scope, request_id)
    return _slot_view(row, slots.waitlist(scope, trial_of(request), now(request)))


@router.post(
    "/slot-requests/{request_id}/release",
    response_model=SlotRequestOut,
    summary="Give up a hold or leave the waitlist (the slot passes down the line)",
)
def release_slot(
    scope: Caller, request: Request, request_id: RequestId, data: ReleaseIn
) -> dict[str, Any]:
    plan = slots.release_slot(scope, trial_of(request), request_id, data.reason, now(request))
    return _slot_view(slots.get_request(scope, request_id), plan)


@router.post(
    "/slot-requests/{request_id}/priority",
    response_model=SlotRequestOut,
    summary="Move a request ahead of first-come order (study chair; reason recorded)",
)
def prioritise_slot(
    scope: Caller, request: Request, request_id: RequestId, data: PriorityIn
) -> dict[str, Any]:
    plan = slots.prioritise(
        scope, trial_of(request), request_id, data.priority, data.reason, now(request)
    )
    return _slot_view(slots.get_request(scope, request_id), plan)


# --- registration ---------------------------------------------------------------------------


class RegistrationRequest(Body):
    """No dose level: the server assigns the level open now, from the trial's state."""

    slot_request_id: int = Field(
        ge=1, le=INT32_MAX, description="The slot your site holds (POST /slot-requests)."
    )
    start_date: ClinicalDate = Field(description="Day 1 of protocol therapy (today or later).")
    height_cm: BodyWeight = Field(description="Height in cm, for the body surface area.")
    weight_kg: BodyWeight = Field(description="Weight in kg, for the body surface area.")


class RegistrationOut(BaseModel):
    registration: RegistrationRead  # type: ignore[valid-type]
    course: CourseRead  # type: ignore[valid-type]
    calendar: list[dict[str, Any]] = Field(
        description="Course 1, day by day: the doses planned and the assessments due."
    )


@router.post(
    "/patients/{patient_id}/registration",
    status_code=201,
    response_model=RegistrationOut,
    summary="Register a screened patient on the held slot (dose level assigned by the server)",
)
def register_patient(
    scope: Caller, request: Request, patient_id: PatientId, data: RegistrationRequest
) -> dict[str, Any]:
    """Needs a live hold of the patient's site and the newest screening eligible, signed by
    the site investigator and made for the level open now. The level comes from the trial's
    history; course 1 and its calendar follow from height and weight."""
    reg, course, plan = registration.register(
        scope,
        trial_of(request),
        patient_id=patient_id,
        slot_request_id=data.slot_request_id,
        start_date=data.start_date,
        height_cm=data.height_cm,
        weight_kg=data.weight_kg,
        now=now(request),
    )
    days = [d.as_dict() for d in plan.courses[0].days if not d.is_empty]
    if scope.actor.deidentified:
        days = []  # real dates; the statistician reads the course record instead
    return {
        "registration": present(scope, "registrations", reg),
        "course": present(scope, "courses", course),
        "calendar": days,
    }


# --- during treatment -----------------------------------------------------------------------


class DoseIn(Body):
    course: Course = 1
    day: int = Field(ge=1, le=366, description="Course day.")
    agent_id: Slug
    given: bool = True
    given_mg: Measure | None = Field(
        default=None, description="Amount given in mg; default the planned amount."
    )
    reason: Note | None = Field(
        default=None, description="Required when the dose was not given as planned."
    )
    how_taken: Literal["swallowed", "chewed", "opened", "infused", "other"] | None = None


@router.post(
    "/patients/{patient_id}/doses",
    status_code=201,
    response_model=READ["dose_administrations"],
    summary="Record a dose given or not (planned amount from the calendar)",
)
def record_dose(
    scope: Caller, request: Request, patient_id: PatientId, data: DoseIn
) -> dict[str, Any]:
    dose = treatment.record_dose(
        scope,
        trial_of(request),
        patient_id=patient_id,
        course=data.course,
        day=data.day,
        agent_id=data.agent_id,
        given=data.given,
        given_mg=data.given_mg,
        reason=data.reason,
        how_taken=data.how_taken,
    )
    return present(scope, "dose_administrations", dose)


class LabIn(Body):
    analyte: ShortText
    value: LabValue
    unit: ShortText
    collected_on: ClinicalDate
    course: Course | None = None
    lower_normal: LabValue | None = Field(
        default=None, description="Default: the pediatric normal range for age and sex."
    )
    upper_normal: LabValue | None = None


class LabOut(BaseModel):
    lab: LabRead  # type: ignore[valid-type]
    grading: dict[str, Any] = Field(
        description="The CTCAE grade, term, rule and the limits used (or why none)."
    )


@router.post(
    "/patients/{patient_id}/labs",
    status_code=201,
    response_model=LabOut,
    summary="Record a lab value, graded by CTCAE on entry",
)
def record_lab(scope: Caller, request: Request, patient_id: PatientId, data: LabIn) -> Any:
    lab, graded = treatment.record_lab(
        scope,
        trial_of(request),
        patient_id=patient_id,
        analyte_id=data.analyte,
        value=data.value,
        unit=data.unit,
        collected_on=data.collected_on,
        course=data.course,
        lln=data.lower_normal,
        uln=data.upper_normal,
    )
    return {"lab": present(scope, "lab_results", lab), "grading": graded.as_dict()}


class AdverseEventReport(Body):
    term: Name = Field(description="The CTCAE term (the protocol's CTCAE version).")
    grade: int = Field(ge=1, le=5)
    onset: ClinicalDate
    attribution: dict[Slug, Slug] = Field(
        max_length=20, description="Per agent: unrelated, unlikely, possible, probable, definite."
    )
    verbatim: Note | None = None
    resolved: ClinicalDate | None = None
    serious: bool = False
    course: Course | None = None


@router.post(
    "/patients/{patient_id}/adverse-events",
    status_code=201,
    response_model=READ["adverse_events"],
    summary="Record an adverse event by CTCAE term and grade, attributed per agent",
)
def record_adverse_event(
    scope: Caller, request: Request, patient_id: PatientId, data: AdverseEventReport
) -> dict[str, Any]:
    event = treatment.record_adverse_event(
        scope,
        trial_of(request),
        patient_id=patient_id,
        term=data.term,
        grade=data.grade,
        onset=data.onset,
        attribution=dict(data.attribution),
        verbatim=data.verbatim,
        resolved=data.resolved,
        serious=data.serious,
        course=data.course,
    )
    return present(scope, "adverse_events", event)


class OffTreatmentIn(Body):
    ended_on: ClinicalDate
    reason: Slug = Field(description="One of: " + ", ".join(treatment.OFF_TREATMENT_REASONS))
    detail: Note | None = None


class OffTreatmentOut(BaseModel):
    id: int
    patient_id: int
    site_id: str
    ended_on: dt.date | None
    reason: str
    detail: str | None
    deidentified: bool


@router.post(
    "/patients/{patient_id}/off-treatment",
    status_code=201,
    response_model=OffTreatmentOut,
    summary="Take a registered patient off protocol treatment, with the reason",
)
def off_treatment(
    scope: Caller, request: Request, patient_id: PatientId, data: OffTreatmentIn
) -> dict[str, Any]:
    end = treatment.end_treatment(
        scope,
        trial_of(request),
        patient_id=patient_id,
        ended_on=data.ended_on,
        reason=data.reason,
        detail=data.detail,
    )
    shown = records.present(end, scope.actor)
    return {name: shown[name] for name in OffTreatmentOut.model_fields}
