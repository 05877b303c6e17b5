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

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.store.scope import Scope
from phaseone.trial import SlotPlan
from phaseone.web.api.records import read_models
from phaseone.web.api.types import INT32_MAX
from phaseone.web.auth import Caller, now, trial_of
from phaseone.web.inputs import (
    AdverseEventReport,
    DoseIn,
    LabIn,
    OffTreatmentIn,
    PriorityIn,
    RegistrationRequest,
    ReleaseIn,
    ScreeningIn,
    SlotRequestIn,
)
from phaseone.workflow import registration, screening, slots, treatment, visibility

router = APIRouter(tags=["workflow: sites"])

PatientId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The patient's id.")]
RequestId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The slot request's id.")]
READ = read_models()
RegistrationRead = READ["registrations"]
CourseRead = READ["courses"]
LabRead = READ["lab_results"]


def present(scope: Scope, table: str, obj: Any) -> dict[str, Any]:
    """A record as the caller may see it (de-identified for the statistician)."""
    return records.present_many(scope, records.SPECS[table], [obj])[0]


def present_created(scope: Scope, obj: Any) -> dict[str, Any]:
    """A record this request has just created: nothing can have signed it yet, so its
    signatures are not looked up (one query less on every write)."""
    return records.present(obj, scope.actor)


# --- screening ------------------------------------------------------------------------------


def _in_body(exc: InputError) -> InputError:
    """The screening service's record problems, named where the body holds them."""
    return InputError([Problem(f"body.{p.path}", p.message) for p in exc.problems])


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
    try:
        evaluation, _ = screening.screen(
            scope, trial_of(request), patient_id, data.record, data.as_of, data.dose_level
        )
    except InputError as exc:
        raise _in_body(exc) from None
    return present(scope, "screening_evaluations", evaluation)


class ScreeningRecordOut(BaseModel):
    id: int
    patient_id: int
    site_id: str
    record: dict[str, Any] = Field(description="The patient record as entered.")
    as_of: dt.date | None
    dose_level: int | None
    evaluation_id: int | None = Field(
        description="The screening that read this record; null for a draft."
    )
    created_at: dt.datetime | None
    deidentified: bool


def _entered(scope: Scope, row: Any) -> dict[str, Any]:
    values = records.view(row, scope.actor)
    if not visibility.shows_real_dates(scope):
        values["created_at"] = None  # when it was typed dates the patient's screening
    return {k: values[k] for k in ScreeningRecordOut.model_fields}


@router.post(
    "/patients/{patient_id}/screening-drafts",
    status_code=201,
    response_model=ScreeningRecordOut,
    summary="Save a screening record without screening it (a draft; audited)",
)
def save_screening_draft(scope: Caller, patient_id: PatientId, data: ScreeningIn) -> dict[str, Any]:
    """The record is read as a screening reads it (a mistyped value is refused, an
    incomplete record is a valid draft); it is the patient's open draft until screened."""
    try:
        row = screening.save_draft(scope, patient_id, data.record, data.as_of, data.dose_level)
    except InputError as exc:
        raise _in_body(exc) from None
    return _entered(scope, row)


@router.get(
    "/patients/{patient_id}/screening-record",
    response_model=ScreeningRecordOut | None,
    summary="The newest record entered for screening: the open draft, else the last screened",
)
def read_screening_record(scope: Caller, patient_id: PatientId) -> dict[str, Any] | None:
    row = screening.entered_record(scope, patient_id)
    return None if row is None else _entered(scope, row)


# --- slots ----------------------------------------------------------------------------------


class SlotRequestOut(BaseModel):
    id: int
    site_id: str
    reference: str
    status: Literal["held", "waitlisted", "registered", "expired", "released", "cancelled"]
    requested_at: dt.datetime | None = Field(
        description="Withheld (null) from a de-identified role, as every trial-level time."
    )
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


def _slot_view(scope: Scope, row: SlotRow, plan: SlotPlan | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "reference": row.reference,
        "status": row.status,
        "requested_at": visibility.real_time(scope, row.requested_at),
        "hold_expires_at": visibility.real_time(scope, row.hold_expires_at),
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
        "items": [_slot_view(scope, r, plan) for r in visible],
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
    return _slot_view(scope, row, plan)


@router.get(
    "/slot-requests/{request_id}", response_model=SlotRequestOut, summary="Read a slot request"
)
def read_slot_request(scope: Caller, request: Request, request_id: RequestId) -> dict[str, Any]:
    row = slots.get_request(scope, request_id)
    return _slot_view(scope, row, slots.waitlist(scope, trial_of(request), now(request)))


@router.post(
    "/slot-requests/{request_id}/release",
    response_model=SlotRequestOut,
    summary="Give up a hold or leave the waitlist (the slot passes down the line)",
)
def release_slot(
    scope: Caller, request: Request, request_id: RequestId, data: ReleaseIn
) -> dict[str, Any]:
    plan = slots.release_slot(scope, trial_of(request), request_id, data.reason, now(request))
    return _slot_view(scope, slots.get_request(scope, request_id), plan)


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
    return _slot_view(scope, slots.get_request(scope, request_id), plan)


# --- registration ---------------------------------------------------------------------------


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
        today=now(request).date(),
        override=data.override,
    )
    return present_created(scope, dose)


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
        today=now(request).date(),
    )
    return {"lab": present_created(scope, lab), "grading": graded.as_dict()}


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
        today=now(request).date(),
    )
    return present_created(scope, event)


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
        patient_id=patient_id,
        ended_on=data.ended_on,
        reason=data.reason,
        detail=data.detail,
        trial=trial_of(request),
        today=now(request).date(),
    )
    shown = records.present(end, scope.actor)
    return {name: shown[name] for name in OffTreatmentOut.model_fields}
