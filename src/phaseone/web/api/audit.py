"""The audit trail over HTTP: read (paged), export (JSON lines), verify, signature meanings.

Reading and exporting are themselves audited by phaseone.store.trail.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from phaseone.store import audit, signatures, trail
from phaseone.store.access import AUDIT_READERS
from phaseone.web.api.records import AuditOut
from phaseone.web.api.types import INT32_MAX
from phaseone.web.auth import Caller

router = APIRouter(tags=["audit"])

Timestamp = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z?)?$",
        description="UTC, ISO 8601 (e.g. 2025-01-31T00:00:00Z).",
    ),
]
Name = Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")]


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


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


def _filter(
    since: str | None,
    until: str | None,
    user_id: int | None,
    action: str | None,
    entity: str | None,
    entity_id: str | None,
    site_id: str | None,
) -> trail.AuditFilter:
    return trail.AuditFilter(since, until, user_id, action, entity, entity_id, site_id)


UserFilter = Annotated[int | None, Query(ge=1, le=INT32_MAX)]
EntityId = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
SiteFilter = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


@router.get("/audit", response_model=AuditPage, summary="Read the audit trail (audited)")
def read_audit(
    scope: Caller,
    since: Timestamp = None,
    until: Timestamp = None,
    user_id: UserFilter = None,
    action: Name = None,
    entity: Name = None,
    entity_id: EntityId = None,
    site_id: SiteFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Any:
    flt = _filter(since, until, user_id, action, entity, entity_id, site_id)
    items, total = trail.read(scope, flt, limit=limit, offset=offset)
    end = offset + limit
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": end if end < total else None,
    }


@router.get(
    "/audit/export",
    summary="Export the audit trail as JSON lines (audited)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_audit(
    scope: Caller,
    since: Timestamp = None,
    until: Timestamp = None,
    user_id: UserFilter = None,
    action: Name = None,
    entity: Name = None,
    entity_id: EntityId = None,
    site_id: SiteFilter = None,
) -> StreamingResponse:
    flt = _filter(since, until, user_id, action, entity, entity_id, site_id)
    # Materialise inside the request's transaction, so the export and its audit commit together.
    lines = [json.dumps(audit.jsonable(rec)) + "\n" for rec in trail.export(scope, flt)]

    def body() -> Iterator[str]:
        yield from lines

    return StreamingResponse(body(), media_type="application/x-ndjson")


@router.get("/audit/verify", response_model=VerifyOut, summary="Recompute the hash chain")
def verify_audit(scope: Caller) -> Any:
    scope.require_role(AUDIT_READERS, "verify the audit trail")
    result = audit.verify(scope.session)
    scope.audit("audit_verify", "audit_records", None, new=result.as_dict())
    return result.as_dict()


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
