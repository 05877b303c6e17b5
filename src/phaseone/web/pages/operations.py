"""The operations page: enrolment by site and month, overdue forms, open queries and
missing data, each with a CSV download (workflow/operations.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.store.errors import PermissionDenied
from phaseone.web.auth import now
from phaseone.web.pages import present
from phaseone.web.pages.session import Viewer, render, trial_of
from phaseone.workflow import operations

router = APIRouter(include_in_schema=False)


@router.get("/operations", response_class=HTMLResponse)
def operations_page(request: Request, viewer: Viewer) -> HTMLResponse:
    scope = viewer.scope
    as_of = now(request).date()
    try:
        enrolment = operations.enrolment(scope)
    except PermissionDenied:
        return present.not_found(
            request, viewer, "Operations reports count real dates; they are not de-identified."
        )
    months = sorted({r["month"] for r in enrolment})
    sites = sorted({r["site_id"] for r in enrolment})
    grid = {(r["site_id"], r["month"]): r["registered"] for r in enrolment}
    return render(
        request,
        "operations.html",
        viewer,
        as_of=as_of,
        months=months,
        sites=sites,
        grid=grid,
        overdue=operations.overdue(scope, trial_of(request), as_of),
        queries=operations.open_queries(scope),
        missing=operations.missing(scope),
    )


@router.get("/operations/{report}.csv")
def operations_csv(
    request: Request,
    viewer: Viewer,
    report: Literal["enrolment", "overdue", "queries", "missing"],
) -> Response:
    scope = viewer.scope
    try:
        rows = operations.report(scope, trial_of(request), report, now(request).date())
    except PermissionDenied:
        return present.not_found(request, viewer, "Operations reports are not de-identified.")
    return Response(
        operations.to_csv(rows, operations.COLUMNS[report]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{report}.csv"'},
    )
