"""Pages for specimens: the list with timing flags and a collection-time form, and the
core-lab results import with a preview. A thin adapter: forms are parsed into the API's
pydantic models, each step is one workflow call, and the workflow decides who may do what."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import InputError, PhaseoneError, Problem
from phaseone.store.access import CENTRAL_LAB_WRITERS
from phaseone.web.api.specimens import MAX_FILE_BYTES, CollectionIn
from phaseone.web.auth import now
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, check_csrf, render, trial_of
from phaseone.workflow import results
from phaseone.workflow import specimens as service

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
Fields = Annotated[dict[str, Any], Depends(posted)]


def show_specimens(
    request: Request,
    viewer: Viewer,
    patient_id: int | None = None,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    rows = service.listing(
        viewer.scope, trial_of(request), as_of=now(request).date(), patient_id=patient_id
    )
    return render(
        request,
        "specimens.html",
        viewer,
        status_code=status_code,
        rows=rows,
        can_collect=viewer.role in service.SPECIMENS.writers,
        failed=failed,
    )


@router.get("/specimens", response_class=HTMLResponse)
def specimen_list(
    request: Request, viewer: Viewer, patient_id: Annotated[int | None, Query(ge=1)] = None
) -> HTMLResponse:
    return show_specimens(request, viewer, patient_id)


@router.post("/specimens/{code}/collection")
def collect(request: Request, viewer: Viewer, code: str, fields: Fields) -> Response:
    def action() -> str:
        data = parse(CollectionIn, fields)
        found = service.by_code(viewer.scope, code)
        service.collect(
            viewer.scope,
            specimen_id=found.id,
            collected_on=data.collected_on,
            collected_time=data.collected_time,
            reason=data.reason,
        )
        return f"specimen {found.code} collected"

    return submit(
        viewer,
        action,
        ok_url="/specimens",
        form=f"collect-{code}",
        fields=fields,
        show_again=lambda failed, status: show_specimens(request, viewer, None, failed, status),
    )


def show_imports(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    return render(
        request,
        "result_imports.html",
        viewer,
        status_code=status_code,
        preview=None,
        problems=list(failed.problems) or None,
        file_name=failed.values.get("file_name", ""),
        can_import=viewer.role in CENTRAL_LAB_WRITERS,
    )


@router.get("/result-imports", response_class=HTMLResponse)
def import_form(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_imports(request, viewer)


@router.post("/result-imports/preview", response_class=HTMLResponse)
def import_preview(
    request: Request,
    viewer: Viewer,
    file: Annotated[UploadFile, File()],
    csrf_token: Text = "",
) -> HTMLResponse:
    data = file.file.read(MAX_FILE_BYTES + 1)
    name = (file.filename or "upload.csv")[:200]
    context: dict[str, Any] = {
        "preview": None,
        "problems": None,
        "content": None,
        "file_name": name,
        "can_import": True,
    }
    try:
        check_csrf(viewer, csrf_token)
        if len(data) > MAX_FILE_BYTES:
            raise InputError([Problem("file", f"larger than {MAX_FILE_BYTES} bytes")])
        context["preview"] = results.preview(viewer.scope, data, name)
        context["content"] = base64.b64encode(data).decode()
    except PhaseoneError as exc:
        viewer.scope.session.rollback()
        context["problems"] = getattr(exc, "problems", None) or [Problem("", str(exc))]
    return render(request, "result_imports.html", viewer, **context)


@router.post("/result-imports/commit")
def import_commit(request: Request, viewer: Viewer, fields: Fields) -> Response:
    def action() -> str:
        content, name = fields.get("content", ""), fields.get("file_name", "")
        try:
            data = base64.b64decode(content if isinstance(content, str) else "", validate=True)
        except (binascii.Error, ValueError):
            raise InputError([Problem("content", "the previewed file was not sent back")]) from None
        file_name = name if isinstance(name, str) and name else "upload.csv"
        batch, shown = results.commit(viewer.scope, data, file_name[:200])
        return f"stored {len(shown.rows)} results as import {batch.id}"

    return submit(
        viewer,
        action,
        ok_url="/result-imports",
        form="import",
        fields=fields,
        show_again=lambda failed, status: show_imports(request, viewer, failed, status),
    )
