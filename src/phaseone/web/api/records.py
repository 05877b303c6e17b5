"""One router per record type: list, create, read, correct, void, history, sign.

Bodies come from schemas.py; the correction (PATCH) body and the response model are derived
from the creation body so that the three never drift apart. Every rule (scoping, roles,
reasons, audit, signatures) is applied by phaseone.store.records, not here.

Registrations, courses, DLT determinations and escalation decisions are made only by the
workflow (web/api/enrolment.py, web/api/courses.py, web/api/adjudication.py): their routers
here have no creation, and their workflow signatures (determination, decision) are given
through the workflow too.
"""

# No `from __future__ import annotations`: FastAPI must see the derived models themselves.

import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from phaseone.store import records, signatures, trail
from phaseone.web.api import schemas
from phaseone.web.api.types import INT32_MAX, Note, Reason, ShortText, Slug
from phaseone.web.auth import Caller, keeping_failed_reauthentication, now, policy, trial_of
from phaseone.workflow import corrections


class SignatureOut(BaseModel):
    id: int
    meaning_id: str
    meaning: str
    printed_name: str
    signer_role: str
    signed_at: dt.datetime | None = Field(
        description="Shifted like the record's dates for a de-identified role; withheld "
        "(null) from it on trial-level records."
    )
    content_hash: str = Field(description="SHA-256 of the record's content when it was signed.")
    status: Literal["valid", "broken"] = Field(
        description="'broken' once the signed content has changed or the record was voided."
    )


class CriterionOut(BaseModel):
    criterion_id: str
    result: str
    rule_version: str | None = None
    evidence: dict[str, Any] | None = None


class AuditFields(BaseModel):
    """What every view of an audit entry shows: who, when, what, old and new, why."""

    seq: int
    at: str
    user_id: int | None
    username: str
    role: str | None
    user_site_id: str | None
    action: str
    entity: str
    entity_id: str | None
    record_site_id: str | None
    field: str | None
    old_value: Any = None
    new_value: Any = None
    reason: str | None
    source: str


class AuditOut(AuditFields):
    client_ip: str | None
    prev_hash: str
    row_hash: str


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meaning_id: Slug = Field(description="One of GET /api/v1/signature-meanings.")
    username: ShortText = Field(description="The signer's own username, entered again.")
    password: str = Field(min_length=1, max_length=1024, description="The signer's password.")


def _plain(annotation: Any) -> Any:
    """The annotation without validators or constraints (responses are not re-validated)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _plain(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = tuple(_plain(arg) for arg in typing.get_args(annotation))
        return typing.Union[members]  # noqa: UP007 - built from a runtime tuple
    return annotation


# A screening made by the workflow carries the eligibility engine's verdict; one entered as
# a record carries met / not_met / unknown (and so can never be registered on).
ScreeningOverall = Literal["eligible", "ineligible", "incomplete", "met", "not_met", "unknown"]
READ_AS: dict[str, Any] = {"criteria": list[CriterionOut], "overall": ScreeningOverall}


def read_model(body: type[BaseModel], spec: records.EntitySpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, info in body.model_fields.items():
        annotation = READ_AS.get(name) or _plain(info.annotation)
        fields[name] = (annotation | None, None)
    if spec.patient_owned:
        fields["site_id"] = (str, ...)
    fields.update(
        id=(int, ...),
        # Shifted like the record's dates for a de-identified role; withheld (null) from it
        # on trial-level records.
        created_at=(dt.datetime | None, ...),
        updated_at=(dt.datetime | None, ...),
        voided=(bool, ...),
        void_reason=(str | None, None),
        deidentified=(bool, Field(description="True when identifiers are withheld, dates shifted")),
        signatures=(list[SignatureOut], []),
    )
    name = body.__name__.removesuffix("In")
    return create_model(name, **fields)


def update_model(body: type[BaseModel], spec: records.EntitySpec) -> type[BaseModel]:
    """The correction body: any creatable field except the fixed and the server-assigned
    ones, plus a reason."""
    fields: dict[str, Any] = {}
    for name, info in body.model_fields.items():
        if name in records.IMMUTABLE or name in spec.assigned:
            continue
        fields[name] = (info.annotation, FieldInfo.merge_field_infos(info, default=None))
    fields["reason"] = (Reason, ...)
    fields["override"] = (
        Note | None,
        Field(default=None, description="The reason that accepts an edit check's warning."),
    )
    name = body.__name__.removesuffix("In") + "Correction"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def page_model(read: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        read.__name__ + "Page",
        items=(list[read], ...),  # type: ignore[valid-type]
        total=(int, ...),
        limit=(int, ...),
        offset=(int, ...),
        next_offset=(int | None, None),
    )


Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=INT32_MAX, description="Records to skip.")]
PatientFilter = Annotated[int | None, Query(ge=1, le=INT32_MAX)]
SiteFilter = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
RecordId = Annotated[int, Field(ge=1, le=INT32_MAX)]


@dataclass(frozen=True)
class Exposed:
    """A record type as the API offers it: its path, store table and body (the fields)."""

    path: str
    table: str
    body: type[BaseModel]
    create: bool = True  # False: only the workflow creates it
    sign: bool = True  # False: its signature is a workflow step


def record_router(exposed: Exposed) -> APIRouter:
    spec, path, body = records.SPECS[exposed.table], exposed.path, exposed.body
    label = spec.label
    router = APIRouter(prefix=f"/{path}", tags=[label])
    Read = read_models()[exposed.table]
    Correction = correction_models()[exposed.table]
    PageOut = page_model(Read)

    def page(
        scope: Any, filters: dict[str, Any], voided: bool, limit: int, offset: int
    ) -> dict[str, Any]:
        found = records.list_records(
            scope, spec, filters, limit=limit, offset=offset, include_voided=voided
        )
        end = offset + limit
        return {
            "items": records.present_many(scope, spec, found.items),
            "total": found.total,
            "limit": limit,
            "offset": offset,
            "next_offset": end if end < found.total else None,
        }

    if spec.patient_owned:

        @router.get("", response_model=PageOut, summary=f"List {label}s")
        def list_owned(
            scope: Caller,
            patient_id: PatientFilter = None,
            site_id: SiteFilter = None,
            include_voided: bool = False,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> dict[str, Any]:
            filters = {"patient_id": patient_id, "site_id": site_id}
            return page(scope, filters, include_voided, limit, offset)

    elif spec.site_bound:

        @router.get("", response_model=PageOut, summary=f"List {label}s")
        def list_sited(
            scope: Caller,
            site_id: SiteFilter = None,
            include_voided: bool = False,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> dict[str, Any]:
            return page(scope, {"site_id": site_id}, include_voided, limit, offset)

    else:

        @router.get("", response_model=PageOut, summary=f"List {label}s")
        def list_all(
            scope: Caller, include_voided: bool = False, limit: Limit = 50, offset: Offset = 0
        ) -> dict[str, Any]:
            return page(scope, {}, include_voided, limit, offset)

    def one(scope: Any, obj: Any) -> dict[str, Any]:
        return records.present_many(scope, spec, [obj])[0]

    if exposed.create:

        @router.post("", status_code=201, response_model=Read, summary=f"Create a {label}")
        def create(scope: Caller, request: Request, data: body) -> dict[str, Any]:  # type: ignore[valid-type]
            values = data.model_dump()  # type: ignore[attr-defined]
            made = corrections.create(
                scope,
                trial_of(request),
                spec.name,
                values,
                today=now(request).date(),
                override=values.get("adjustment_reason"),
            )
            return one(scope, made)

    @router.get("/{record_id}", response_model=Read, summary=f"Read a {label}")
    def read(scope: Caller, record_id: RecordId) -> dict[str, Any]:
        return one(scope, records.get(scope, spec, record_id))

    @router.patch("/{record_id}", response_model=Read, summary=f"Correct a {label}")
    def correct(
        scope: Caller,
        request: Request,
        record_id: RecordId,
        data: Correction,  # type: ignore[valid-type]
    ) -> dict[str, Any]:
        """Each changed field is audited old -> new with the reason; the protocol's edit
        checks apply to the corrected record (`override` accepts a check's warning)."""
        given = data.model_fields_set - {"reason", "override"}  # type: ignore[attr-defined]
        changes = data.model_dump(include=given)  # type: ignore[attr-defined]
        fixed = corrections.correct(
            scope,
            trial_of(request),
            spec.name,
            record_id,
            changes,
            data.reason,  # type: ignore[attr-defined]
            today=now(request).date(),
            override=data.override,  # type: ignore[attr-defined]
        )
        return one(scope, fixed)

    @router.post("/{record_id}/void", response_model=Read, summary=f"Void a {label}")
    def void(scope: Caller, record_id: RecordId, data: VoidIn) -> dict[str, Any]:
        return one(scope, corrections.void(scope, spec.name, record_id, data.reason))

    @router.get(
        "/{record_id}/history", response_model=list[AuditOut], summary=f"History of a {label}"
    )
    def history(scope: Caller, record_id: RecordId) -> list[dict[str, Any]]:
        return trail.history(scope, spec.name, record_id)

    if exposed.sign:

        @router.post(
            "/{record_id}/signatures",
            status_code=201,
            response_model=SignatureOut,
            summary=f"Sign a {label} (re-enter your credentials)",
        )
        def sign(
            scope: Caller, record_id: RecordId, data: SignIn, request: Request
        ) -> dict[str, Any]:
            with keeping_failed_reauthentication(scope):
                sig, obj = signatures.sign(
                    scope,
                    entity=spec.name,
                    record_id=record_id,
                    meaning_id=data.meaning_id,
                    username=data.username,
                    password=data.password,
                    policy=policy(request),
                )
            return records.signature_view(sig, records.content_hash(spec.name, obj), obj.voided)

    return router


# In the order the API document lists them.
EXPOSED: tuple[Exposed, ...] = (
    Exposed("patients", "patients", schemas.PatientIn),
    Exposed("screening-evaluations", "screening_evaluations", schemas.ScreeningEvaluationIn),
    Exposed("registrations", "registrations", schemas.RegistrationIn, create=False),
    # Courses 2-12 start through the workflow (POST /patients/{id}/courses), course 1 at
    # registration: the level, the doses and the delay are checked there.
    Exposed("courses", "courses", schemas.CourseIn, create=False),
    Exposed("dose-administrations", "dose_administrations", schemas.DoseAdministrationIn),
    Exposed("lab-results", "lab_results", schemas.LabResultIn),
    Exposed("adverse-events", "adverse_events", schemas.AdverseEventIn),
    Exposed(
        "dlt-determinations",
        "dlt_determinations",
        schemas.DltDeterminationIn,
        create=False,
        sign=False,
    ),
    Exposed("clinical-events", "clinical_events", schemas.ClinicalEventIn),
    Exposed("follow-ups", "follow_ups", schemas.FollowUpIn),
    Exposed(
        "escalation-decisions",
        "escalation_decisions",
        schemas.EscalationDecisionIn,
        create=False,
        sign=False,
    ),
)


@functools.cache
def read_models() -> dict[str, type[BaseModel]]:
    """The response model of each record type by store table (shared with the workflow)."""
    return {e.table: read_model(e.body, records.SPECS[e.table]) for e in EXPOSED}


@functools.cache
def correction_models() -> dict[str, type[BaseModel]]:
    """The correction body of each record type by store table (shared with the pages)."""
    return {e.table: update_model(e.body, records.SPECS[e.table]) for e in EXPOSED}


@functools.cache
def routers() -> tuple[APIRouter, ...]:
    """The record routers, built once per process (every app includes the same ones)."""
    return tuple(record_router(exposed) for exposed in EXPOSED)
