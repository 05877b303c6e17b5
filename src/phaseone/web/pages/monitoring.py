"""Monitoring pages: queries and their threads, source-data verification, the casebook's
signature and lock. Forms are parsed into the API's input models (web/api/queries.py,
web/api/verification.py) and handed to the same workflow services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import NotFoundError
from phaseone.store.access import (
    CASEBOOK_SIGNERS,
    CASEBOOK_UNLOCKERS,
    QUERY_ANSWERERS,
    QUERY_RAISERS,
    SDV_VERIFIERS,
)
from phaseone.store.errors import PermissionDenied
from phaseone.web.api.queries import AnswerIn, QueryIn, StepIn, answer_with
from phaseone.web.api.verification import UnlockIn, VerifyIn
from phaseone.web.auth import now, policy
from phaseone.web.inputs import SignerIn
from phaseone.web.pages import present
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, PageUser, Viewer, render
from phaseone.workflow import casebook, queries, sdv

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]


def record_flags(viewer: PageUser, rows: dict[str, list[Any]]) -> dict[str, Any]:
    """Open queries on these records ({table: rows}), by record and field, and whether the
    viewer may raise one (for the chart and its list pages)."""
    ids = {entity: [r.id for r in found] for entity, found in rows.items()}
    return {
        "open": queries.open_on_records(viewer.scope, ids),
        "can_raise": viewer.may(QUERY_RAISERS),
    }


def chart_flags(viewer: PageUser, chart: Any) -> dict[str, Any]:
    """Open queries on the chart's labs, adverse events and doses (for the patient page)."""
    return record_flags(
        viewer,
        {
            "lab_results": chart.labs,
            "adverse_events": chart.events,
            "dose_administrations": chart.doses,
        },
    )


def course_flags(viewer: PageUser, view: Any) -> dict[tuple[int, str], list[int]]:
    """Open queries on a course's doses, by (course day, agent), for the course page."""
    found = queries.open_on(viewer.scope, "dose_administrations", [d.id for d in view.doses])
    where = {d.id: (d.course_day, d.agent_id) for d in view.doses}
    flags: dict[tuple[int, str], list[int]] = {}
    for (dose_id, _field), ids in found.items():
        flags.setdefault(where[dose_id], []).extend(ids)
    return flags


# --- queries ------------------------------------------------------------------------------


@router.get("/queries", response_class=HTMLResponse)
def query_list(
    request: Request,
    viewer: Viewer,
    status: Annotated[str | None, Query(pattern=r"^(open|answered|closed)$")] = None,
    patient_id: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    scope = viewer.scope
    try:
        found, total = queries.list_queries(
            scope, queries.QueryFilter(status=status, patient_id=patient_id), offset=offset
        )
        by_site = queries.query_counts(scope.session, scope.actor, by="site")
        by_form = queries.query_counts(scope.session, scope.actor, by="form")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    moment = now(request)
    return render(
        request,
        "queries.html",
        viewer,
        rows=[{"q": q, "age": queries.age_days(q, moment)} for q in found],
        total=total,
        offset=offset,
        status=status,
        by_site=by_site,
        by_form=by_form,
    )


def show_new(
    request: Request,
    viewer: PageUser,
    entity: str,
    entity_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        found = queries.target(viewer.scope, entity, entity_id)
    except (NotFoundError, PermissionDenied) as exc:
        return present.not_found(request, viewer, str(exc))
    return render(
        request,
        "query_new.html",
        viewer,
        status_code=status_code,
        target=found,
        field=request.query_params.get("field", ""),
        failed=failed,
    )


@router.get("/queries/new", response_class=HTMLResponse)
def new_query(
    request: Request,
    viewer: Viewer,
    entity: Annotated[str, Query(pattern=r"^[a-z_]{1,64}$")],
    entity_id: Annotated[int, Query(ge=1, le=2_147_483_647)],
) -> HTMLResponse:
    return show_new(request, viewer, entity, entity_id)


@router.post("/queries")
def raise_query(request: Request, viewer: Viewer, fields: Fields) -> Response:
    made: dict[str, int] = {}

    def act() -> str:
        data = parse(QueryIn, fields)
        found = queries.raise_query(
            viewer.scope,
            entity=data.entity,
            entity_id=data.entity_id,
            field=data.field,
            text=data.text,
            now=now(request),
        )
        made["id"] = found.id
        return f"Query {found.id} raised on {data.field}."

    entity = str(fields.get("entity", ""))
    raw_id = str(fields.get("entity_id", ""))
    record_id = int(raw_id) if raw_id.isdigit() else 0
    response = submit(
        viewer,
        act,
        ok_url="/queries",
        form="raise",
        fields=fields,
        show_again=lambda failed, code: show_new(request, viewer, entity, record_id, failed, code),
    )
    if "id" in made:
        response.headers["location"] = response.headers["location"].replace(
            "/queries?", f"/queries/{made['id']}?", 1
        )
    return response


def show_query(
    request: Request,
    viewer: PageUser,
    query_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        found = queries.get(viewer.scope, query_id)
    except (NotFoundError, PermissionDenied) as exc:
        return present.not_found(request, viewer, str(exc))
    return render(
        request,
        "query.html",
        viewer,
        status_code=status_code,
        q=found,
        age=queries.age_days(found, now(request)),
        can_answer=viewer.may(QUERY_ANSWERERS) and found.status == "open",
        can_close=viewer.may(QUERY_RAISERS) and found.status != "closed",
        can_reopen=viewer.may(QUERY_RAISERS) and found.status != "open",
        failed=failed,
    )


@router.get("/queries/{query_id}", response_class=HTMLResponse)
def query_page(request: Request, viewer: Viewer, query_id: int) -> HTMLResponse:
    return show_query(request, viewer, query_id)


def _query_step(
    request: Request, viewer: PageUser, query_id: int, fields: dict[str, Any], name: str
) -> Response:
    def act() -> str:
        if name == "answer":
            answer_with(viewer.scope, request, query_id, parse(AnswerIn, fields))
            return f"Query {query_id} answered."
        data = parse(StepIn, fields)
        step = queries.close if name == "close" else queries.reopen
        step(viewer.scope, query_id, text=data.text, now=now(request))
        return f"Query {query_id} {'closed' if name == 'close' else 're-opened'}."

    return submit(
        viewer,
        act,
        ok_url=f"/queries/{query_id}",
        form=name,
        fields=fields,
        show_again=lambda failed, code: show_query(request, viewer, query_id, failed, code),
    )


@router.post("/queries/{query_id}/answer")
def answer(request: Request, viewer: Viewer, query_id: int, fields: Fields) -> Response:
    return _query_step(request, viewer, query_id, fields, "answer")


@router.post("/queries/{query_id}/close")
def close(request: Request, viewer: Viewer, query_id: int, fields: Fields) -> Response:
    return _query_step(request, viewer, query_id, fields, "close")


@router.post("/queries/{query_id}/reopen")
def reopen(request: Request, viewer: Viewer, query_id: int, fields: Fields) -> Response:
    return _query_step(request, viewer, query_id, fields, "reopen")


# --- source-data verification and the casebook ------------------------------------------


@router.get("/sdv", response_class=HTMLResponse)
def sdv_progress(request: Request, viewer: Viewer) -> HTMLResponse:
    try:
        by_site = sdv.progress(viewer.scope, by="site")
        by_patient = sdv.progress(viewer.scope, by="patient")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    return render(request, "sdv.html", viewer, by_site=by_site, by_patient=by_patient)


def show_monitoring(
    request: Request,
    viewer: PageUser,
    patient_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        forms = sdv.patient_forms(viewer.scope, patient_id)
        book = casebook.state(viewer.scope, patient_id)
        open_queries, _ = queries.list_queries(
            viewer.scope, queries.QueryFilter(patient_id=patient_id, status="open")
        )
    except (NotFoundError, PermissionDenied) as exc:
        return present.not_found(request, viewer, str(exc))
    return render(
        request,
        "monitoring.html",
        viewer,
        status_code=status_code,
        patient_id=patient_id,
        forms=forms,
        book=book,
        open_queries=open_queries,
        can_verify=viewer.may(SDV_VERIFIERS),
        can_sign=viewer.may(CASEBOOK_SIGNERS) and not book.locked,
        can_unlock=viewer.may(CASEBOOK_UNLOCKERS) and book.locked,
        failed=failed,
    )


@router.get("/patients/{patient_id}/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, viewer: Viewer, patient_id: int) -> HTMLResponse:
    return show_monitoring(request, viewer, patient_id)


def _patient_step(
    request: Request, viewer: PageUser, patient_id: int, fields: dict[str, Any], form: str, act: Any
) -> Response:
    return submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}/monitoring",
        form=form,
        fields=fields,
        show_again=lambda failed, code: show_monitoring(request, viewer, patient_id, failed, code),
    )


@router.post("/patients/{patient_id}/sdv")
def verify(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(VerifyIn, fields)
        sdv.verify(viewer.scope, data.form_key, now=now(request))
        return f"Form {data.form_key} verified against source."

    return _patient_step(request, viewer, patient_id, fields, "verify", act)


@router.post("/patients/{patient_id}/casebook/sign")
def sign(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(SignerIn, fields)
        casebook.sign(
            viewer.scope,
            patient_id,
            username=data.username,
            password=data.password,
            policy=policy(request),
            now=now(request),
        )
        return "Casebook signed; it is locked."

    return _patient_step(request, viewer, patient_id, fields, "sign", act)


@router.post("/patients/{patient_id}/casebook/unlock")
def unlock(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(UnlockIn, fields)
        casebook.unlock(viewer.scope, patient_id, reason=data.reason, now=now(request))
        return "Casebook unlocked (audited with the reason); its signature breaks on any change."

    return _patient_step(request, viewer, patient_id, fields, "unlock", act)
