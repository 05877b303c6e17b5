"""Source-data verification and the casebook's signature and lock over HTTP.

The rules are in workflow/sdv.py and workflow/casebook.py; the store refuses any write to
a locked casebook (store/locks.py), whichever door it comes through.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from phaseone.web.api.schemas import Body
from phaseone.web.api.types import INT32_MAX, Reason
from phaseone.web.auth import Caller, keeping_failed_reauthentication, now, policy
from phaseone.web.inputs import SignerIn
from phaseone.workflow import casebook, sdv

router = APIRouter(tags=["monitoring"])

PatientId = Annotated[int, Field(ge=1, le=INT32_MAX)]
FormKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z_]{1,32}:[0-9]{1,10}:[A-Za-z0-9_.-]{1,64}$",
        description="TYPE:PATIENT_ID:PART, e.g. labs:12:2025-03-04 or doses:12:7 (course id).",
    ),
]


class VerifyIn(Body):
    form_key: FormKey


class UnlockIn(Body):
    reason: Reason


class MarkOut(BaseModel):
    form_key: str
    content_hash: str
    verified_name: str
    verified_at: dt.datetime


class FormOut(BaseModel):
    key: str
    form_type: str
    label: str
    records: int
    state: Literal["verified", "changed", "not_verified"] = Field(
        description="'changed': verified once, changed since (the mark no longer holds)."
    )
    mark: MarkOut | None


class ProgressOut(BaseModel):
    key: str = Field(description="Site id or subject code.")
    site_id: str
    forms: int
    verified: int
    changed: int
    not_verified: int
    percent: float


class SignatureOut(BaseModel):
    id: int
    meaning: str
    printed_name: str
    signer_role: str
    signed_at: dt.datetime
    content_hash: str
    status: Literal["valid", "broken"]


class ReleaseOut(BaseModel):
    locked_at: dt.datetime
    released_at: dt.datetime | None
    release_reason: str | None


class CasebookOut(BaseModel):
    patient_id: int
    subject_code: str
    locked: bool
    locked_at: dt.datetime | None
    current_hash: str = Field(description="SHA-256 over all of the patient's records now.")
    signatures: list[SignatureOut]
    released: list[ReleaseOut]


def mark_out(mark: Any) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {
        "form_key": mark.form_key,
        "content_hash": mark.content_hash,
        "verified_name": mark.verified_name,
        "verified_at": mark.verified_at,
    }


def form_out(f: sdv.FormState) -> dict[str, Any]:
    return {
        "key": f.key,
        "form_type": f.form_type,
        "label": f.label,
        "records": f.records,
        "state": f.state,
        "mark": mark_out(f.mark),
    }


def progress_out(p: sdv.Progress) -> dict[str, Any]:
    return {
        "key": p.key,
        "site_id": p.site_id,
        "forms": p.forms,
        "verified": p.verified,
        "changed": p.changed,
        "not_verified": p.not_verified,
        "percent": p.percent,
    }


def casebook_out(state: casebook.CasebookState) -> dict[str, Any]:
    return {
        "patient_id": state.patient_id,
        "subject_code": state.subject_code,
        "locked": state.locked,
        "locked_at": state.locked_at,
        "current_hash": state.current_hash,
        "signatures": [vars(s) for s in state.signatures],
        "released": [
            {
                "locked_at": r.locked_at,
                "released_at": r.released_at,
                "release_reason": r.release_reason,
            }
            for r in state.released
        ],
    }


@router.get(
    "/patients/{patient_id}/forms",
    response_model=list[FormOut],
    summary="A patient's forms and their source-data verification",
)
def patient_forms(scope: Caller, patient_id: PatientId) -> Any:
    return [form_out(f) for f in sdv.patient_forms(scope, patient_id)]


@router.post("/sdv", status_code=201, response_model=FormOut, summary="Mark a form verified")
def verify(scope: Caller, request: Request, data: VerifyIn) -> Any:
    sdv.verify(scope, data.form_key, now=now(request))
    shown = sdv.form_state(scope, data.form_key)
    return form_out(shown) if shown else None


@router.get(
    "/sdv-progress",
    response_model=list[ProgressOut],
    summary="Verified forms per site or per patient",
)
def progress(scope: Caller, by: Annotated[Literal["site", "patient"], Query()] = "site") -> Any:
    return [progress_out(p) for p in sdv.progress(scope, by=by)]


@router.get(
    "/patients/{patient_id}/casebook",
    response_model=CasebookOut,
    summary="The casebook's lock and signatures (broken once anything changed)",
)
def read_casebook(scope: Caller, patient_id: PatientId) -> Any:
    return casebook_out(casebook.state(scope, patient_id))


@router.post(
    "/patients/{patient_id}/casebook/sign",
    response_model=CasebookOut,
    summary="Sign the casebook (site investigator, re-authenticated); it locks",
)
def sign_casebook(scope: Caller, request: Request, patient_id: PatientId, data: SignerIn) -> Any:
    with keeping_failed_reauthentication(scope):
        casebook.sign(
            scope,
            patient_id,
            username=data.username,
            password=data.password,
            policy=policy(request),
            now=now(request),
        )
    return casebook_out(casebook.state(scope, patient_id))


@router.post(
    "/patients/{patient_id}/casebook/unlock",
    response_model=CasebookOut,
    summary="Unlock a signed casebook (study chair or administrator, with a reason)",
)
def unlock_casebook(scope: Caller, request: Request, patient_id: PatientId, data: UnlockIn) -> Any:
    casebook.unlock(scope, patient_id, reason=data.reason, now=now(request))
    return casebook_out(casebook.state(scope, patient_id))
