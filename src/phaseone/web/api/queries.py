"""Queries over HTTP: raise, answer (with a correction), close, re-open, list, count.

The rules (roles, site scope, states, audit) are in workflow/queries.py; a correction made
with an answer is checked by the record type's own correction body (web/api/records.py)
and made by the corrections service. The input models here are also the pages' models.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from phaseone.errors import InputError, Problem
from phaseone.store.access import Actor
from phaseone.store.models import DataQuery
from phaseone.web.api.schemas import Body
from phaseone.web.api.types import INT32_MAX, Note, Slug
from phaseone.web.auth import Caller, now, trial_of
from phaseone.workflow import answers, forms, queries

router = APIRouter(tags=["queries"])

QueryId = Annotated[int, Field(ge=1, le=INT32_MAX)]
Words = Annotated[Note, Field(description="The question, the answer or why it is closed.")]


class QueryIn(Body):
    entity: Slug = Field(description="The record type (store table), e.g. lab_results.")
    entity_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    field: Slug = Field(description="The field the question is about, e.g. value.")
    text: Words


class AnswerIn(Body):
    text: Words
    corrected: bool = Field(
        default=False,
        description="Correct the field to `value` with this answer as the reason (through "
        "the record type's correction rules and edit checks).",
    )
    value: str | float | bool | None = Field(
        default=None, description="The corrected value of the query's field."
    )
    override: Note | None = Field(
        default=None, description="Why an edit check's warning on the corrected value is accepted."
    )


class StepIn(Body):
    text: Words


class MessageOut(BaseModel):
    at: dt.datetime
    username: str
    role: str | None
    step: str
    text: str
    correction: dict[str, Any] | None = None


class QueryOut(BaseModel):
    id: int
    site_id: str
    patient_id: int
    entity: str
    entity_id: int
    field: str
    form_type: str
    form_key: str
    value_at_raise: str | None = Field(description="The field's value when raised (JSON).")
    status: Literal["open", "answered", "closed"]
    origin: Literal["manual", "edit_check"]
    check_id: str | None
    raised_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    age_days: int = Field(description="Days from raising to closing, or to now if not closed.")
    messages: list[MessageOut]


class QueryPage(BaseModel):
    items: list[QueryOut]
    total: int
    limit: int
    offset: int


class CountOut(BaseModel):
    key: str = Field(description="Site id, subject code or form type.")
    open: int
    answered: int
    closed: int
    total: int


def query_out(query: DataQuery, moment: dt.datetime) -> dict[str, Any]:
    return {
        "id": query.id,
        "site_id": query.site_id,
        "patient_id": query.patient_id,
        "entity": query.entity,
        "entity_id": query.entity_id,
        "field": query.field,
        "form_type": query.form_type,
        "form_key": query.form_key,
        "value_at_raise": query.value_at_raise,
        "status": query.status,
        "origin": query.origin,
        "check_id": query.check_id,
        "raised_at": query.raised_at,
        "updated_at": query.updated_at,
        "closed_at": query.closed_at,
        "age_days": queries.age_days(query, moment),
        "messages": [
            {
                "at": m.at,
                "username": m.username,
                "role": m.role,
                "step": m.step,
                "text": m.text,
                "correction": m.correction,
            }
            for m in query.messages
        ],
    }


def corrected_value(scope: Any, query_id: int, data: AnswerIn) -> Any:
    """The answer's value checked by the record type's correction body (as a PATCH of that
    one field would be), or InputError naming `value`."""
    if not data.corrected:
        return None
    # Imported here: the record routers are built from every schema (heavy, and cyclic).
    from phaseone.web.api.records import correction_models

    query = queries.get(scope, query_id)
    model = correction_models().get(query.entity)
    if model is None:
        label = forms.spec_of(query.entity).label
        raise InputError([Problem("value", f"a {label} is corrected on its own page")])
    try:
        checked = model.model_validate({query.field: data.value, "reason": data.text})
    except ValidationError as exc:
        found = [
            Problem("value", str(e["msg"])) for e in exc.errors() if e["loc"][:1] == (query.field,)
        ]
        raise InputError(found or [Problem("value", "not a value this field takes")]) from None
    return getattr(checked, query.field)


def answer_with(scope: Any, request: Request, query_id: int, data: AnswerIn) -> DataQuery:
    """The one answering step shared by the API and the page."""
    return answers.answer(
        scope,
        trial_of(request),
        query_id,
        text=data.text,
        now=now(request),
        corrected=data.corrected,
        value=corrected_value(scope, query_id, data),
        override=data.override,
    )


@router.get("/queries", response_model=QueryPage, summary="List queries (newest first)")
def list_queries(
    scope: Caller,
    request: Request,
    status: Annotated[Literal["open", "answered", "closed"] | None, Query()] = None,
    site_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")] = None,
    patient_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    entity: Annotated[str | None, Query(pattern=r"^[a-z_]{1,64}$")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    form_type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> Any:
    flt = queries.QueryFilter(status, site_id, patient_id, entity, entity_id, form_type)
    found, total = queries.list_queries(scope, flt, limit=limit, offset=offset)
    moment = now(request)
    return {
        "items": [query_out(q, moment) for q in found],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.post("/queries", status_code=201, response_model=QueryOut, summary="Raise a query")
def raise_query(scope: Caller, request: Request, data: QueryIn) -> Any:
    found = queries.raise_query(
        scope,
        entity=data.entity,
        entity_id=data.entity_id,
        field=data.field,
        text=data.text,
        now=now(request),
    )
    return query_out(found, now(request))


@router.get(
    "/query-counts",
    response_model=list[CountOut],
    summary="Queries counted by site, patient or form type, in the caller's scope",
)
def count_queries(
    scope: Caller, by: Annotated[Literal["site", "patient", "form"], Query()] = "site"
) -> Any:
    actor: Actor = scope.actor
    return queries.counts_as_dicts(queries.query_counts(scope.session, actor, by=by))


@router.get("/queries/{query_id}", response_model=QueryOut, summary="A query and its thread")
def read_query(scope: Caller, request: Request, query_id: QueryId) -> Any:
    return query_out(queries.get(scope, query_id), now(request))


@router.post("/queries/{query_id}/answer", response_model=QueryOut, summary="Answer (site)")
def answer(scope: Caller, request: Request, query_id: QueryId, data: AnswerIn) -> Any:
    return query_out(answer_with(scope, request, query_id, data), now(request))


@router.post("/queries/{query_id}/close", response_model=QueryOut, summary="Close a query")
def close(scope: Caller, request: Request, query_id: QueryId, data: StepIn) -> Any:
    return query_out(queries.close(scope, query_id, text=data.text, now=now(request)), now(request))


@router.post("/queries/{query_id}/reopen", response_model=QueryOut, summary="Re-open a query")
def reopen(scope: Caller, request: Request, query_id: QueryId, data: StepIn) -> Any:
    found = queries.reopen(scope, query_id, text=data.text, now=now(request))
    return query_out(found, now(request))
