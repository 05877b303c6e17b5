"""Specimens, manifests, core-lab result imports and the trial's PK over JSON.

Each endpoint parses its body into the pydantic model below and calls one service of
phaseone.workflow (specimens, results, trial_pk) inside the request's one transaction; the
services check roles and sites, apply the rules and audit every change.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import Field

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import (
    INT32_MAX,
    ClinicalDate,
    ClockTime,
    Note,
    Reason,
    ShortText,
    Slug,
)
from phaseone.web.auth import Caller, now, trial_of
from phaseone.workflow import results, trial_pk
from phaseone.workflow import specimens as service

router = APIRouter(tags=["workflow: specimens"])

PatientId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The patient's id.")]
ResultId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The result's id.")]
ShipmentId = Annotated[int, Path(ge=1, le=INT32_MAX, description="The shipment's id.")]
SpecimenCode = Annotated[
    str, Path(pattern=r"^[A-Za-z]-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$", description="Label id.")
]
Course = Annotated[int, Field(ge=1, le=99, description="Course number.")]
MAX_FILE_BYTES = 5 * 1024 * 1024
Status = Literal["planned", "collected", "missed", "processed", "shipped", "received"]
Flag = Literal["missed", "overdue", "early", "late", "out_of_window"]


class ScheduleIn(Body):
    course: Course


class UnscheduledIn(Body):
    course: Course
    assessment_id: Slug
    day: int = Field(ge=1, le=367, description="Course day of the extra sample.")


class CollectionIn(Body):
    collected_on: ClinicalDate
    collected_time: ClockTime | None = Field(
        default=None, description="Required for timed (PK) samples."
    )
    reason: Reason | None = Field(default=None, description="Required to change a collection.")


class MissedIn(Body):
    reason: Reason


class ProcessingIn(Body):
    processed_on: ClinicalDate
    note: Note | None = None


class ShipmentIn(Body):
    codes: list[ShortText] = Field(min_length=1, max_length=500)
    shipped_on: ClinicalDate
    carrier: ShortText | None = None
    tracking: ShortText | None = None


class VoidIn(Body):
    reason: Reason


class ReceiptIn(Body):
    received_on: ClinicalDate
    conditions: dict[ShortText, ShortText] = Field(
        default_factory=dict, description="Specimen id -> condition on arrival (default good)."
    )


# --- specimens ------------------------------------------------------------------------------


@router.post("/patients/{patient_id}/specimens", status_code=201,
             summary="Plan a course's specimens from the protocol")
def schedule(scope: Caller, request: Request, patient_id: PatientId,
             data: ScheduleIn) -> list[dict[str, Any]]:
    made = service.schedule_course(scope, trial_of(request), patient_id=patient_id,
                                   course=data.course)
    return [service.present(scope, s) for s in made]


@router.post("/patients/{patient_id}/specimens/unscheduled", status_code=201,
             summary="Add an unscheduled specimen")
def unscheduled(scope: Caller, request: Request, patient_id: PatientId,
                data: UnscheduledIn) -> dict[str, Any]:
    made = service.add_unscheduled(scope, trial_of(request), patient_id=patient_id,
                                   course=data.course, assessment_id=data.assessment_id,
                                   day=data.day)
    return service.present(scope, made)


@router.get("/specimens", summary="List specimens with their timing flags")
def list_specimens(
    scope: Caller,
    request: Request,
    patient_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    status: Status | None = None,
    flag: Flag | None = None,
    as_of: Annotated[dt.date | None, Query(description="Flags as of this date.")] = None,
) -> list[dict[str, Any]]:
    return service.listing(scope, trial_of(request), as_of=as_of or now(request).date(),
                           patient_id=patient_id, status=status, flag=flag)


@router.get("/specimens/{code}", summary="Read a specimen by its label id")
def read_specimen(scope: Caller, code: SpecimenCode) -> dict[str, Any]:
    return service.present(scope, service.by_code(scope, code))


@router.get("/specimens/{code}/label", response_class=HTMLResponse,
            summary="A printable label")
def label(scope: Caller, request: Request, code: SpecimenCode) -> str:
    return service.label_html(service.by_code(scope, code), trial_of(request))


@router.post("/specimens/{code}/collection", summary="Record the collection date and time")
def collect(scope: Caller, code: SpecimenCode, data: CollectionIn) -> dict[str, Any]:
    found = service.by_code(scope, code)
    done = service.collect(scope, specimen_id=found.id, collected_on=data.collected_on,
                           collected_time=data.collected_time, reason=data.reason)
    return service.present(scope, done)


@router.post("/specimens/{code}/missed", summary="Record a missed specimen")
def missed(scope: Caller, code: SpecimenCode, data: MissedIn) -> dict[str, Any]:
    found = service.by_code(scope, code)
    return service.present(scope, service.miss(scope, specimen_id=found.id, reason=data.reason))


@router.post("/specimens/{code}/processing", summary="Record the site's processing")
def processing(scope: Caller, code: SpecimenCode, data: ProcessingIn) -> dict[str, Any]:
    found = service.by_code(scope, code)
    done = service.process(scope, specimen_id=found.id, processed_on=data.processed_on,
                           note=data.note)
    return service.present(scope, done)


# --- manifests --------------------------------------------------------------------------------


def _shipment(scope: Any, shipment_id: int) -> dict[str, Any]:
    row = service.shipment(scope, shipment_id)
    return {
        "id": row.id, "code": row.code, "site_id": row.site_id, "lab": row.lab,
        "status": row.status, "shipped_on": row.shipped_on, "carrier": row.carrier,
        "tracking": row.tracking, "received_on": row.received_on,
        "specimens": [service.present(scope, s) for s in service.manifest(scope, row.id)],
    }


@router.post("/shipments", status_code=201, summary="Ship specimens on a manifest")
def ship(scope: Caller, data: ShipmentIn) -> dict[str, Any]:
    row = service.ship(scope, codes=data.codes, shipped_on=data.shipped_on,
                       carrier=data.carrier, tracking=data.tracking)
    return _shipment(scope, row.id)


@router.get("/shipments", summary="List manifests")
def list_shipments(scope: Caller) -> list[dict[str, Any]]:
    return [_shipment(scope, s.id) for s in service.visible_shipments(scope)]


@router.get("/shipments/{shipment_id}", summary="Read a manifest")
def read_shipment(scope: Caller, shipment_id: ShipmentId) -> dict[str, Any]:
    return _shipment(scope, shipment_id)


@router.post("/shipments/{shipment_id}/receipt", summary="Record the central lab's receipt")
def receipt(scope: Caller, shipment_id: ShipmentId, data: ReceiptIn) -> dict[str, Any]:
    service.receive(scope, shipment_id=shipment_id, received_on=data.received_on,
                    conditions=data.conditions)
    return _shipment(scope, shipment_id)


# --- core-lab results -------------------------------------------------------------------------


def _read(upload: UploadFile) -> bytes:
    data = upload.file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError([Problem("file", f"larger than {MAX_FILE_BYTES // 1024 // 1024} MB")])
    return data


def _name(upload: UploadFile, file_name: str | None) -> str:
    return (file_name or upload.filename or "upload.csv")[:200]


UploadIn = Annotated[UploadFile, File(description="CSV: specimen_id, analyte, value, unit.")]
FileName = Annotated[str | None, Form(max_length=200)]


@router.post("/result-imports/preview", summary="Validate a core-lab file; store nothing")
def preview(scope: Caller, file: UploadIn, file_name: FileName = None) -> dict[str, Any]:
    return results.preview(scope, _read(file), _name(file, file_name)).as_dict()


@router.post("/result-imports", status_code=201,
             summary="Import a core-lab file: every row or none")
def commit(scope: Caller, file: UploadIn, file_name: FileName = None) -> dict[str, Any]:
    batch, checked = results.commit(scope, _read(file), _name(file, file_name))
    return {"id": batch.id, **checked.as_dict()}


@router.get("/specimens/{code}/results", summary="A specimen's results")
def specimen_results(scope: Caller, code: SpecimenCode) -> list[dict[str, Any]]:
    found = service.by_code(scope, code)
    return [records.view(r, scope.actor) for r in results.results_of(scope, found.id)]


@router.post("/specimen-results/{result_id}/void", summary="Void a stored result")
def void_result(scope: Caller, result_id: ResultId, data: VoidIn) -> dict[str, Any]:
    return records.view(results.void_result(scope, result_id, data.reason), scope.actor)


# --- PK ---------------------------------------------------------------------------------------


def _records(frame: Any) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


@router.get("/pk/lenalidomide", summary="Lenalidomide course-1 NCA by dose level")
def pk_lenalidomide(scope: Caller, request: Request) -> dict[str, Any]:
    got = trial_pk.lenalidomide(scope, trial_of(request))
    return {
        "parameters": _records(got.nca.parameters),
        "by_level": _records(got.by_level),
        "proportionality": {k: v.as_dict() for k, v in got.proportionality.items()},
        "options": got.nca.options.describe(),
    }


@router.get("/pk/isotretinoin", summary="Isotretinoin day-28 steady-state NCA")
def pk_isotretinoin(scope: Caller, request: Request) -> dict[str, Any]:
    got = trial_pk.isotretinoin(scope, trial_of(request))
    return {"parameters": _records(got.parameters), "options": got.options.describe()}


@router.get("/pk/dinutuximab", summary="Dinutuximab peak and trough vs historical values")
def pk_dinutuximab(scope: Caller, request: Request) -> dict[str, Any]:
    got = trial_pk.dinutuximab(scope, trial_of(request))
    return {"per_course": _records(got.per_course), "comparison": _records(got.comparison)}
