"""Pages for specimens: the list with timing flags and a collection-time form, and the
core-lab results import with a preview. A thin adapter: forms are parsed into the API's
pydantic models, each step is one workflow call, and the workflow decides who may do what."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from phaseone.errors import InputError, PhaseoneError, Problem
from phaseone.store.access import CENTRAL_LAB_WRITERS
from phaseone.web.api.specimens import MAX_FILE_BYTES, CollectionIn
from phaseone.web.auth import now
from phaseone.web.pages.session import Viewer, check_csrf, render, step, trial_of
from phaseone.workflow import results
from phaseone.workflow import specimens as service

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def parse(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """A form's fields through the API's model; its errors as the workflow's."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v not in ("", None)})
    except ValidationError as exc:
        raise InputError([
            Problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
        ]) from None


@router.get("/specimens", response_class=HTMLResponse)
def specimen_list(
    request: Request, viewer: Viewer, patient_id: Annotated[int | None, Query(ge=1)] = None
) -> HTMLResponse:
    rows = service.listing(viewer.scope, trial_of(request), as_of=now(request).date(),
                           patient_id=patient_id)
    return render(request, "specimens.html", viewer, rows=rows,
                  can_collect=viewer.role in service.SPECIMENS.writers)


@router.post("/specimens/{code}/collection")
def collect(
    viewer: Viewer,
    code: str,
    csrf_token: Text = "",
    collected_on: Text = "",
    collected_time: Text = "",
    reason: Text = "",
) -> Response:
    def action() -> str:
        data = parse(CollectionIn, {"collected_on": collected_on,
                                    "collected_time": collected_time, "reason": reason})
        found = service.by_code(viewer.scope, code)
        service.collect(viewer.scope, specimen_id=found.id, collected_on=data.collected_on,
                        collected_time=data.collected_time, reason=data.reason)
        return f"specimen {found.code} collected"

    return step(viewer, csrf_token, action, ok_url="/specimens")


@router.get("/result-imports", response_class=HTMLResponse)
def import_form(request: Request, viewer: Viewer) -> HTMLResponse:
    return render(request, "result_imports.html", viewer, preview=None, problems=None,
                  can_import=viewer.role in CENTRAL_LAB_WRITERS)


@router.post("/result-imports/preview", response_class=HTMLResponse)
def import_preview(
    request: Request,
    viewer: Viewer,
    file: Annotated[UploadFile, File()],
    csrf_token: Text = "",
) -> HTMLResponse:
    data = file.file.read(MAX_FILE_BYTES + 1)
    name = (file.filename or "upload.csv")[:200]
    context: dict[str, Any] = {"preview": None, "problems": None, "content": None,
                               "file_name": name, "can_import": True}
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
def import_commit(
    viewer: Viewer, csrf_token: Text = "", content: Text = "", file_name: Text = ""
) -> Response:
    def action() -> str:
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InputError([Problem("content", "the previewed file was not sent back")]) from None
        batch, shown = results.commit(viewer.scope, data, file_name or "upload.csv")
        return f"stored {len(shown.rows)} results as import {batch.id}"

    return step(viewer, csrf_token, action, ok_url="/result-imports")
