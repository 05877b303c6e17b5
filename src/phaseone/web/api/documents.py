"""Exports and reports over HTTP, for the roles allowed to have them; each download is
audited (by the snapshot read or the meeting-pack read it makes)."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
import io
import tempfile
import zipfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from phaseone.exports import snapshot
from phaseone.exports.package import write, write_fhir, write_odm
from phaseone.reports import render
from phaseone.reports.study import frame_html
from phaseone.web.api.types import INT32_MAX
from phaseone.web.auth import Caller, now, trial_of
from phaseone.workflow.meeting import meeting_pack
from phaseone.workflow.reporting import study_report

router = APIRouter(tags=["exports and reports"])


class ExportFormat(StrEnum):
    sdtm = "sdtm"
    adam = "adam"
    odm = "odm"
    fhir = "fhir"


class DocumentFormat(StrEnum):
    html = "html"
    pdf = "pdf"


AsOf = Annotated[dt.date | None, Query(description="Data as of this date (default: today).")]
Deidentified = Annotated[
    bool, Query(description="Shift dates per patient and leave out identifiers.")
]


def _attachment(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/exports/{export_format}",
    summary="The trial's data in CDISC or HL7 form, as a zip (audited)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(
    scope: Caller,
    request: Request,
    export_format: ExportFormat,
    deidentified: Deidentified = False,
) -> Response:
    trial = trial_of(request)
    created = now(request)
    snap = snapshot.read(
        scope, trial.protocol, purpose=f"{export_format.value} export", deidentify=deidentified
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        if export_format is ExportFormat.odm:
            write_odm(scope, snap, out, created=created)
        elif export_format is ExportFormat.fhir:
            write_fhir(snap, out, created=created)
        else:
            write(snap, export_format.value, out, created=created)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for item in sorted(out.iterdir()):
                archive.write(item, item.name)
    name = f"{trial.protocol.id}-{export_format.value}-{created:%Y%m%d}.zip"
    return _attachment(buffer.getvalue(), "application/zip", name)


def _document(text: str, fmt: DocumentFormat, stem: str) -> Response:
    if fmt is DocumentFormat.pdf:
        return _attachment(render.pdf(text), "application/pdf", f"{stem}.pdf")
    return _attachment(text.encode("utf-8"), "text/html; charset=utf-8", f"{stem}.html")


@router.get(
    "/reports/study",
    summary="The final study report as of a data cut-off (audited)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
)
def study(
    scope: Caller,
    request: Request,
    as_of: AsOf = None,
    fmt: Annotated[DocumentFormat, Query(alias="format")] = DocumentFormat.pdf,
    deidentified: Deidentified = False,
) -> Response:
    stamp = now(request)
    day = as_of or stamp.date()
    report = study_report(scope, trial_of(request), day, deidentify=deidentified)
    text = render.html(
        "study.html",
        report=report,
        generated=stamp.strftime("%Y-%m-%d %H:%M UTC"),
        footer=f"{report.protocol.id} study report, data as of {day}",
        frame_html=frame_html,
    )
    return _document(text, fmt, f"{report.protocol.id}-study-report-{day}")


@router.get(
    "/reports/meeting",
    summary="The dose-escalation meeting pack for a decision (audited)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
)
def meeting(
    scope: Caller,
    request: Request,
    decision: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    as_of: AsOf = None,
    fmt: Annotated[DocumentFormat, Query(alias="format")] = DocumentFormat.pdf,
) -> Response:
    stamp = now(request)
    day = as_of or stamp.date()
    pack = meeting_pack(scope, trial_of(request), day, decision)
    text = render.html(
        "meeting.html",
        pack=pack,
        generated=stamp.strftime("%Y-%m-%d %H:%M UTC"),
        footer=f"{pack.protocol_id} meeting pack, data as of {day}",
    )
    return _document(text, fmt, f"{pack.protocol_id}-meeting-{day}")
