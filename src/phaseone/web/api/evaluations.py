"""Disease evaluations, the computed responses, follow-up and survival over JSON.

Each endpoint parses its body into the input model shared with the pages (web/inputs.py,
whose evaluation is the response engine's own model) and calls one service of
phaseone.workflow (evaluations, followup) inside the request's one transaction; the
services check roles and sites, apply the rules and audit every change.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from phaseone.response.frames import patient_dict, rate_rows
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import INT32_MAX, Reason
from phaseone.web.auth import Caller, now, trial_of
from phaseone.web.inputs import EvaluationCorrectionIn, EvaluationIn
from phaseone.workflow import evaluations as service
from phaseone.workflow import followup

router = APIRouter(tags=["workflow: evaluations and follow-up"])

PatientId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The patient's id.")]
EvaluationId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The evaluation's id.")]


class VoidIn(Body):
    reason: Reason


@router.get("/patients/{patient_id}/evaluations",
            summary="A patient's evaluations with computed component, overall and best response")
def list_evaluations(scope: Caller, request: Request, patient_id: PatientId) -> dict[str, Any]:
    return service.present(scope, trial_of(request), patient_id)


@router.post("/patients/{patient_id}/evaluations", status_code=201,
             summary="Record a disease evaluation (baseline, scheduled or unscheduled)")
def record_evaluation(scope: Caller, request: Request, patient_id: PatientId,
                      data: EvaluationIn) -> dict[str, Any]:
    trial = trial_of(request)
    row = service.record(scope, trial, patient_id=patient_id, evaluation=data.evaluation,
                         course=data.course, disease_at_entry=data.disease_at_entry,
                         today=now(request).date())
    shown = service.present(scope, trial, patient_id)
    return {"id": row.id, **shown}


@router.put("/evaluations/{evaluation_id}",
            summary="Correct an evaluation's measurements (with a reason; audited)")
def correct_evaluation(scope: Caller, request: Request, evaluation_id: EvaluationId,
                       data: EvaluationCorrectionIn) -> dict[str, Any]:
    trial = trial_of(request)
    row = service.correct(scope, trial, evaluation_id=evaluation_id,
                          evaluation=data.evaluation, course=data.course,
                          disease_at_entry=data.disease_at_entry, reason=data.reason,
                          today=now(request).date())
    return {"id": row.id, **service.present(scope, trial, row.patient_id)}


@router.post("/evaluations/{evaluation_id}/void", summary="Void an evaluation entered in error")
def void_evaluation(scope: Caller, evaluation_id: EvaluationId, data: VoidIn) -> dict[str, Any]:
    row = service.void(scope, evaluation_id=evaluation_id, reason=data.reason)
    return {"id": row.id, "voided": True}


@router.get("/response", summary="Responses per patient and rates per dose level (exact CIs)")
def response_table(scope: Caller, request: Request) -> dict[str, Any]:
    trial = trial_of(request)
    found = service.responses(scope, trial)
    return {
        "criteria": service.criteria(trial).id,
        "responders": list(trial.protocol.response.responders),
        "rates": rate_rows(service.rates(scope, trial)),
        "patients": [patient_dict(r) for _, r in found],
    }


@router.get("/survival", summary="Event-free and overall survival (Kaplan-Meier summaries)")
def survival(scope: Caller, request: Request) -> dict[str, Any]:
    trial = trial_of(request)
    settings = trial.protocol.survival
    out: dict[str, Any] = {}
    for endpoint in settings.endpoints if settings else ():
        result = followup.survival(scope, trial, endpoint.id)
        out[endpoint.id] = None if result is None else {
            "name": endpoint.name,
            "method": result.method,
            "summary": result.summary_rows(),
        }
    return out


@router.get("/patients/{patient_id}/follow-up",
            summary="A patient's follow-up as the survival engine reads it")
def follow_up_record(scope: Caller, request: Request, patient_id: PatientId) -> dict[str, Any]:
    from phaseone.store import records

    records.get(scope, records.SPECS["patients"], patient_id)  # scoping first
    found = followup.follow_up_records(scope, trial_of(request), [patient_id])
    return found[0][1].model_dump(mode="json") if found else {}


@router.get("/follow-up/schedule", summary="Follow-up visits due after treatment, with overdue")
def visit_schedule(
    scope: Caller,
    request: Request,
    as_of: Annotated[dt.date | None, Query(description="Flags as of this date.")] = None,
) -> list[dict[str, Any]]:
    rows = followup.visit_schedule(scope, trial_of(request),
                                   as_of=as_of or now(request).date())
    return [
        {
            "patient_id": p.patient_id,
            "patient": p.subject_code,
            "off_treatment": p.off_treatment,
            "visits": [
                {"month": v.month, "due": v.due, "window_end": v.window_end, "done": v.done,
                 "overdue": v.overdue}
                for v in p.visits
            ],
        }
        for p in rows
    ]
