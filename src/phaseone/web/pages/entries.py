"""What sites record on a patient's chart during treatment: doses, labs (with a grade
preview as the value is typed), adverse events, end of treatment, events and follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError

from phaseone.errors import NotFoundError
from phaseone.store import records
from phaseone.web.api.records import VoidIn, correction_models
from phaseone.web.api.types import ClinicalDate, LabValue
from phaseone.web.auth import now
from phaseone.web.inputs import (
    AdverseEventReport,
    ClinicalEventReport,
    DoseIn,
    FollowUpReport,
    LabIn,
    OffTreatmentIn,
)
from phaseone.web.pages import chart_records
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.patients import patient_step
from phaseone.web.pages.session import Viewer, trial_of
from phaseone.workflow import corrections, treatment

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]


@router.post("/patients/{patient_id}/doses")
def record_dose(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(DoseIn, fields)
        dose = treatment.record_dose(
            viewer.scope,
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
        return (
            f"Day {data.day}: {data.agent_id} planned {dose.planned_dose:g} mg, "
            f"given {dose.given_dose:g} mg."
        )

    return patient_step(
        request, viewer, patient_id, act, form="dose", fields=fields, anchor="calendar"
    )


@router.post("/patients/{patient_id}/labs")
def record_lab(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(LabIn, fields)
        lab, graded = treatment.record_lab(
            viewer.scope,
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
        g = graded.grade
        shown = "not graded" if g is None else f"CTCAE grade {g.grade}"
        return f"Lab saved: {lab.analyte} {lab.value:g} {lab.unit} ({shown})."

    return patient_step(request, viewer, patient_id, act, form="lab", fields=fields, anchor="labs")


@router.post("/patients/{patient_id}/adverse-events")
def record_ae(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(AdverseEventReport, fields)
        event = treatment.record_adverse_event(
            viewer.scope,
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
        return f"Adverse event saved: {event.meddra_term} grade {event.grade}."

    return patient_step(
        request,
        viewer,
        patient_id,
        act,
        form="ae",
        fields=fields,
        anchor="adverse-events",
    )


@router.post("/patients/{patient_id}/off-treatment")
def off_treatment(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(OffTreatmentIn, fields)
        treatment.end_treatment(
            viewer.scope,
            patient_id=patient_id,
            ended_on=data.ended_on,
            reason=data.reason,
            detail=data.detail,
            trial=trial_of(request),
            today=now(request).date(),
        )
        return "Off treatment recorded."

    return patient_step(
        request, viewer, patient_id, act, form="off", fields=fields, anchor="status"
    )


@router.post("/patients/{patient_id}/events")
def patient_event(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(ClinicalEventReport, fields)
        treatment.clinical_event(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            kind=data.kind,
            on=data.event_date,
            cause=data.cause,
            detail=data.detail,
            today=now(request).date(),
        )
        return f"Recorded: {data.kind.replace('_', ' ')}."

    return patient_step(
        request, viewer, patient_id, act, form="event", fields=fields, anchor="status"
    )


@router.post("/patients/{patient_id}/follow-up")
def patient_follow_up(
    request: Request, viewer: Viewer, patient_id: int, fields: Fields
) -> Response:
    def act() -> str:
        data = parse(FollowUpReport, fields)
        treatment.follow_up(
            viewer.scope,
            patient_id=patient_id,
            contact_date=data.contact_date,
            vital_status=data.vital_status,
            disease_status=data.disease_status,
            notes=data.notes,
        )
        return "Follow-up recorded."

    return patient_step(
        request,
        viewer,
        patient_id,
        act,
        form="follow-up",
        fields=fields,
        anchor="status",
    )


_VALUE: TypeAdapter[float] = TypeAdapter(LabValue)
_DAY: TypeAdapter[dt.date] = TypeAdapter(ClinicalDate)


@router.get("/grade")
def grade_preview(
    request: Request,
    viewer: Viewer,
    patient: int,
    analyte: str,
    value: str,
    unit: str,
    on: str = "",
) -> JSONResponse:
    """The CTCAE grade of a value as it is typed (nothing is stored)."""
    trial = trial_of(request)
    try:
        row = records.get(viewer.scope, records.SPECS["patients"], patient)
    except NotFoundError:
        return JSONResponse({"problem": "no such patient"}, status_code=404)
    try:
        number = _VALUE.validate_python(value)
        day = _DAY.validate_python(on) if on else now(request).date()
    except ValidationError:
        return JSONResponse({"grade": None, "problem": "type a number (and a valid date)"})
    graded = treatment.grade_lab(
        trial, analyte, number, unit, age=treatment.age_years(row, day), sex=row.sex
    )
    return JSONResponse(graded.as_dict())


# --- corrections ----------------------------------------------------------------------------
# Each record's correction page (chart_records) posts here; a refused form comes back on it.


def _correction_step(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    kind: str,
    record_id: int,
    act: Any,
    *,
    form: str,
    fields: dict[str, Any],
) -> Response:
    response = submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}",
        form=form,
        fields=fields,
        show_again=lambda failed, code: chart_records.show_correction(
            request, viewer, patient_id, kind, record_id, failed, code
        ),
    )
    if response.status_code == 303:
        response.headers["location"] += f"#{chart_records.KINDS[kind].anchor}"
    return response


@router.post("/patients/{patient_id}/{kind}/{record_id}/correct")
def correct_record(
    request: Request, viewer: Viewer, patient_id: int, kind: str, record_id: int, fields: Fields
) -> Response:
    """Change fields of a lab, adverse event or dose, with the reason (audited old -> new)."""
    table = chart_records.kind_of(kind).table

    def act() -> str:
        data = parse(correction_models()[table], fields)
        given = data.model_fields_set - {"reason", "override"}
        corrections.correct(
            viewer.scope,
            trial_of(request),
            table,
            record_id,
            data.model_dump(include=given),
            data.reason,  # type: ignore[attr-defined]
            today=now(request).date(),
            override=data.override,  # type: ignore[attr-defined]
        )
        return f"Corrected (audited with the reason): {kind.replace('-', ' ')} {record_id}."

    return _correction_step(
        request,
        viewer,
        patient_id,
        kind,
        record_id,
        act,
        form=f"correct-{kind}-{record_id}",
        fields=fields,
    )


@router.post("/patients/{patient_id}/{kind}/{record_id}/void")
def void_record(
    request: Request, viewer: Viewer, patient_id: int, kind: str, record_id: int, fields: Fields
) -> Response:
    """Withdraw a lab, adverse event or dose, with the reason (the row stays, marked void)."""
    table = chart_records.kind_of(kind).table

    def act() -> str:
        data = parse(VoidIn, fields)
        corrections.void(viewer.scope, table, record_id, data.reason)
        return f"Voided (audited with the reason): {kind.replace('-', ' ')} {record_id}."

    return _correction_step(
        request,
        viewer,
        patient_id,
        kind,
        record_id,
        act,
        form=f"void-{kind}-{record_id}",
        fields=fields,
    )


# The chart's list pages and correction pages, mounted with entries (after the evaluation
# pages, whose own routes are more specific than the generic record routes).
router.include_router(chart_records.router)
