"""Exports and reports over HTTP, for the roles allowed to have them; each download is
audited (by the snapshot read or the meeting-pack read it makes). The files are made by
`reports.downloads`, as the pages make them."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from phaseone.reports import downloads
from phaseone.web.api.types import INT32_MAX
from phaseone.web.auth import Caller, now, trial_of

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


def _attachment(download: downloads.Download) -> Response:
    return Response(
        download.content,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
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
    made = downloads.export_zip(
        scope, trial_of(request), export_format.value, now(request), deidentify=deidentified
    )
    return _attachment(made)


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
    made = downloads.study_report_file(
        scope,
        trial_of(request),
        as_of or stamp.date(),
        stamp,
        fmt.value,
        deidentify=deidentified,
    )
    return _attachment(made)


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
    made = downloads.meeting_pack_file(
        scope, trial_of(request), as_of or stamp.date(), stamp, fmt.value, decision
    )
    return _attachment(made)
