"""The trial's documents from the pages: the study report, the meeting pack of each pending
decision, and each export as a zip, for the roles the services allow (`reports.downloads`
makes them as the JSON API does; each download is audited by the read it makes)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import InputError, Problem
from phaseone.reports import downloads
from phaseone.web.auth import now
from phaseone.web.pages import present
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import adjudication

router = APIRouter(include_in_schema=False)
REPORT_FORM = "report"


def show_documents(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    can_report = viewer.may(downloads.REPORT_READERS)
    can_pack = viewer.may(downloads.PACK_READERS)
    if not downloads.any_for(viewer.role):
        return present.not_found(request, viewer, "The trial's documents are not for your role.")
    moment = now(request)
    return render(
        request,
        "documents.html",
        viewer,
        status_code=status_code,
        can_report=can_report,
        can_export=viewer.may(downloads.EXPORT_READERS),
        can_pack=can_pack,
        pending=adjudication.open_decisions(viewer.scope) if can_pack else [],
        today=moment.date().isoformat(),
        deidentified=viewer.scope.actor.deidentified,
        failed=failed,
    )


@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_documents(request, viewer)


def _as_of(text: str | None, request: Request) -> dt.date:
    if not text:
        return now(request).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError([Problem("as_of", "expected a date like 2026-03-01")]) from None


def _attachment(made: downloads.Download) -> Response:
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


@router.get("/documents/report.{fmt}")
def report_download(
    request: Request, viewer: Viewer, fmt: str, as_of: str | None = None
) -> Response:
    if not viewer.may(downloads.REPORT_READERS):
        return present.not_found(request, viewer, "The study report is not for your role.")
    try:
        day = _as_of(as_of, request)
        made = downloads.study_report_file(viewer.scope, trial_of(request), day, now(request), fmt)
    except InputError as exc:
        failed = Failed(REPORT_FORM, {"as_of": as_of or ""}, tuple(exc.problems))
        return show_documents(request, viewer, failed, 422)
    return _attachment(made)


@router.get("/documents/meeting.{fmt}")
def meeting_download(
    request: Request, viewer: Viewer, fmt: str, decision: int | None = None
) -> Response:
    if not viewer.may(downloads.PACK_READERS):
        return present.not_found(request, viewer, "The meeting pack is not for your role.")
    moment = now(request)
    made = downloads.meeting_pack_file(
        viewer.scope, trial_of(request), moment.date(), moment, fmt, decision
    )
    return _attachment(made)


@router.get("/documents/exports/{kind}.zip")
def export_download(request: Request, viewer: Viewer, kind: str) -> Response:
    if not viewer.may(downloads.EXPORT_READERS):
        return present.not_found(request, viewer, "The trial's exports are not for your role.")
    made = downloads.export_zip(viewer.scope, trial_of(request), kind, now(request))
    return _attachment(made)
