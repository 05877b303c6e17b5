"""The audit trail page: filters, keyset pages, changes read old -> new, a link to each
record, and CSV or JSON-lines downloads of the filtered view (workflow/auditing.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import InputError, PhaseoneError
from phaseone.store.access import ACCOUNT_MANAGERS
from phaseone.web.admin_inputs import AuditExportIn, AuditQueryIn
from phaseone.web.pages.forms import parse, status_of
from phaseone.web.pages.session import Failed, PageUser, Viewer, back, render
from phaseone.workflow import auditing

router = APIRouter(include_in_schema=False)

FILTERS = ("patient_id", "site_id", "username", "entity", "entity_id", "action", "since", "until")
# Record types whose page is the patient's chart, and those with a page of their own.
_ON_CHART = frozenset(auditing.PATIENT_TABLES) - {"courses", "specimens", "specimen_results"}


def record_link(entry: auditing.EntryView, viewer: PageUser) -> str | None:
    """The page showing the record an entry is about (None: no page, or not the viewer's)."""
    if entry.patient_id is not None and not entry.deidentified:
        if entry.entity == "courses":
            return f"/patients/{entry.patient_id}/courses"
        if entry.entity in ("specimens", "specimen_results"):
            return "/specimens"
        if entry.entity in _ON_CHART:
            return f"/patients/{entry.patient_id}"
    if entry.entity == "users" and entry.entity_id and viewer.may(ACCOUNT_MANAGERS):
        return f"/admin/users/{entry.entity_id}"
    return None


def _typed(request: Request) -> dict[str, Any]:
    return {k: v for k, v in request.query_params.items() if v.strip()}


def _url(base: str, typed: dict[str, Any], **extra: Any) -> str:
    keep = {k: v for k, v in typed.items() if k in FILTERS}
    keep.update({k: v for k, v in extra.items() if v is not None})
    return base + ("?" + urlencode(keep) if keep else "")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: Viewer) -> HTMLResponse:
    typed = _typed(request)
    verify = typed.pop("verify", None) is not None
    scope = viewer.scope
    try:
        data = parse(AuditQueryIn, typed)
        page = auditing.browse(scope, auditing.AuditQuery(**data.model_dump()))
    except PhaseoneError as exc:
        scope.session.rollback()
        problems = tuple(getattr(exc, "problems", ()) or ())
        if not isinstance(exc, InputError):
            raise
        shown = {k: v for k, v in typed.items() if k in FILTERS}
        return render(
            request,
            "audit.html",
            viewer,
            status_code=status_of(exc),
            entries=[],
            older_url=None,
            newer_url=None,
            typed=shown,
            export_csv=None,
            export_jsonl=None,
            check=None,
            verify_url=None,
            link=lambda e: None,
            failed=Failed("filter", shown, problems),
        )
    return render(
        request,
        "audit.html",
        viewer,
        entries=page.entries,
        older_url=None if page.older is None else _url("/audit", typed, before=page.older),
        newer_url=None if page.newer is None else _url("/audit", typed, after=page.newer),
        typed={k: v for k, v in typed.items() if k in FILTERS},
        export_csv=_url("/audit/export", typed, format="csv"),
        export_jsonl=_url("/audit/export", typed, format="jsonl"),
        check=_verify(viewer) if verify else None,
        verify_url=_url("/audit", typed, verify="1"),
        link=lambda e: record_link(e, viewer),
    )


def _verify(viewer: PageUser) -> Any:
    """Recompute the hash chain (on request only: it reads the whole trail)."""
    return auditing.verify_chain(viewer.scope)


@router.get("/audit/export")
def audit_export(request: Request, viewer: Viewer) -> Response:
    typed = _typed(request)
    try:
        data = parse(AuditExportIn, typed)
        fields = data.model_dump(exclude={"format", "before", "after", "limit"})
        rows = auditing.export(viewer.scope, auditing.AuditQuery(**fields), data.format)
        body = auditing.export_text(rows, data.format)
    except PhaseoneError as exc:
        viewer.scope.session.rollback()
        return back(_url("/audit", typed), error=str(exc))
    media = "text/csv; charset=utf-8" if data.format == "csv" else "application/x-ndjson"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-trail.{data.format}"'},
    )
