"""The audit trail over HTTP: browse (keyset pages), export (CSV or JSON lines), verify,
signature meanings. Reading and exporting are themselves audited (workflow/auditing.py)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from phaseone.store import signatures
from phaseone.web.admin_inputs import AuditExportIn, AuditQueryIn
from phaseone.web.api.records import AuditFields
from phaseone.web.auth import Caller
from phaseone.workflow import auditing
from phaseone.workflow.auditing import export_text

router = APIRouter(tags=["audit"])

class ChangeOut(BaseModel):
    field: str
    old: str | None
    new: str | None


class AuditEntryOut(AuditFields):
    patient_id: int | None
    subject_code: str | None
    changes: list[ChangeOut]
    deidentified: bool


class AuditPage(BaseModel):
    items: list[AuditEntryOut] = Field(description="Newest first.")
    older: int | None = Field(description="Pass as `before` for the next older page.")
    newer: int | None = Field(description="Pass as `after` for the next newer page.")


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    first_bad_seq: int | None
    problem: str | None
    missing_triggers: list[str]


class MeaningOut(BaseModel):
    id: str
    text: str
    entity: str
    roles: list[str]


def audit_query(data: AuditQueryIn) -> auditing.AuditQuery:
    return auditing.AuditQuery(**data.model_dump())


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Read the audit trail, newest first, in keyset pages (audited)",
)
def read_audit(scope: Caller, query: Annotated[AuditQueryIn, Query()]) -> Any:
    """Site staff see entries about their own site's records; the statistician sees
    entries about patients' records, de-identified."""
    page = auditing.browse(scope, audit_query(query))
    return {
        "items": [e.as_dict() for e in page.entries],
        "older": page.older,
        "newer": page.newer,
    }


@router.get(
    "/audit/export",
    summary="Export the filtered audit trail as CSV or JSON lines (audited)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def export_audit(scope: Caller, query: Annotated[AuditExportIn, Query()]) -> StreamingResponse:
    fields = query.model_dump(exclude={"format", "before", "after", "limit"})
    rows = auditing.export(scope, auditing.AuditQuery(**fields), query.format)
    # Materialised inside the request's transaction, so the export and its audit commit
    # together.
    body = export_text(rows, query.format)
    media = "text/csv" if query.format == "csv" else "application/x-ndjson"
    name = f"audit-trail.{query.format}"
    return StreamingResponse(
        iter([body]),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/audit/verify", response_model=VerifyOut, summary="Recompute the hash chain")
def verify_audit(scope: Caller) -> Any:
    return auditing.verify_chain(scope).as_dict()


@router.get(
    "/signature-meanings",
    response_model=list[MeaningOut],
    tags=["signatures"],
    summary="What a signature can mean, on what, and by whom",
)
def list_meanings(scope: Caller) -> Any:
    return [
        {"id": m.id, "text": m.text, "entity": m.entity, "roles": sorted(r.value for r in m.roles)}
        for m in signatures.meanings().values()
    ]
