"""Operations reports over HTTP: enrolment, overdue forms, open queries, missing data."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from phaseone.web.auth import Caller, now
from phaseone.workflow import operations

router = APIRouter(tags=["operations"])

Report = Literal["enrolment", "overdue", "queries", "missing"]


@router.get(
    "/operations/{report}",
    summary="An operations report as JSON rows or CSV (site staff: their own site)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def read_report(
    scope: Caller,
    request: Request,
    report: Report,
    format: Literal["json", "csv"] = "json",
    grace_days: Annotated[int, Query(ge=0, le=60)] = 3,
) -> Any:
    """`overdue` counts from the service clock: a lab or specimen is late once its calendar
    day plus `grace_days` has passed with nothing entered."""
    rows = operations.report(
        scope, request.app.state.trial, report, now(request).date(), grace_days
    )
    if format == "csv":
        return Response(
            operations.to_csv(rows, operations.COLUMNS[report]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{report}.csv"'},
        )
    return {"report": report, "rows": rows}
