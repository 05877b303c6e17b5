"""Queries: a question about one field of one record, and its thread.

A monitor or the operations centre raises a query (open); an edit-check finding a site
overrides with a reason opens one by itself. The site that owns the record answers, with
or without a correction made through the corrections service (answered); the raising side
closes it or re-opens it. Each step is a message in the thread and an audit entry. Who may
do what is in store/access.py (QUERY_RAISERS, QUERY_ANSWERERS, MONITORING_READERS); what a
statistician gets is counts by site or form only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store import records
from phaseone.store.access import (
    MONITORING_READERS,
    QUERY_ANSWERERS,
    QUERY_RAISERS,
    Actor,
    Role,
)
from phaseone.store.audit import canonical_json, jsonable
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import DataQuery, Patient, QueryMessage
from phaseone.store.scope import Scope
from phaseone.workflow import forms

STATUSES = ("open", "answered", "closed")
# The statistician's counts name no patient: by site or by form only.
_DEIDENTIFIED_GROUPINGS = frozenset({"site", "form"})
Grouping = Literal["site", "patient", "form"]

# Which step each status allows, and the status it leads to.
_STEPS: dict[str, tuple[frozenset[str], str]] = {
    "answer": (frozenset({"open"}), "answered"),
    "close": (frozenset({"open", "answered"}), "closed"),
    "reopen": (frozenset({"answered", "closed"}), "open"),
}


def _text(text: str | None, field: str = "text") -> str:
    if text is None or not text.strip():
        raise InputError([Problem(field, "write the question or answer (it cannot be empty)")])
    return text.strip()


def _visible(actor: Actor) -> Select[Any]:
    stmt = select(DataQuery)
    if actor.site_scoped:
        stmt = stmt.where(DataQuery.site_id == actor.site_id)
    return stmt


def _require_reader(scope: Scope) -> None:
    scope.require_role(MONITORING_READERS, "read queries")


def age_days(query: DataQuery, now: dt.datetime) -> int:
    """Whole days from raising to closing (or to now, while not closed)."""
    end = query.closed_at or now
    return max(0, (end - query.raised_at).days)


def get(scope: Scope, query_id: int) -> DataQuery:
    """One query the actor may see, or NotFoundError (also for another site's)."""
    _require_reader(scope)
    found: DataQuery | None = scope.session.scalar(
        _visible(scope.actor).where(DataQuery.id == query_id)
    )
    if found is None:
        raise NotFoundError(f"no query {query_id}")
    return found


def _message(
    scope: Scope, query: DataQuery, step: str, text: str, now: dt.datetime, correction: Any = None
) -> QueryMessage:
    system = step == "raise" and query.origin == "edit_check"
    msg = QueryMessage(
        at=now,
        # A query an edit check opens is the system's question, not the site's.
        user_id=None if system else scope.actor.user_id,
        username=f"edit check {query.check_id}" if system else scope.actor.username,
        role=None if system or scope.actor.role is None else scope.actor.role.value,
        step=step,
        text=text,
        correction=correction,
    )
    query.messages.append(msg)
    return msg


def _audit(scope: Scope, query: DataQuery, step: str, old: str | None, text: str) -> None:
    scope.audit(
        f"query_{step}",
        "queries",
        query.id,
        record_site_id=query.site_id,
        field="status",
        old=old,
        new=query.status,
        has_old=old is not None,
        has_new=True,
        reason=text,
    )


def _open(
    scope: Scope,
    *,
    entity: str,
    obj: Any,
    field: str,
    text: str,
    now: dt.datetime,
    origin: str,
    check_id: str | None = None,
) -> DataQuery:
    kind = forms.form_type_of(entity)
    query = DataQuery(
        site_id=obj.site_id,
        patient_id=obj.patient_id,
        entity=entity,
        entity_id=obj.id,
        field=field,
        form_type=kind.name,
        form_key=forms.form_key(entity, obj),
        value_at_raise=canonical_json(records.content(obj).get(field)),
        status="open",
        origin=origin,
        check_id=check_id,
        raised_by=None if origin == "edit_check" else scope.actor.user_id,
        raised_role=None
        if origin == "edit_check" or not scope.actor.role
        else scope.actor.role.value,
        raised_at=now,
        updated_at=now,
    )
    scope.session.add(query)
    _message(scope, query, "raise", text, now)
    scope.session.flush()
    scope.audit(
        "query_raise",
        "queries",
        query.id,
        record_site_id=query.site_id,
        new={
            "entity": entity,
            "entity_id": obj.id,
            "field": field,
            "form": query.form_key,
            "value": records.content(obj).get(field),
            "origin": origin,
            "check": check_id,
            "status": "open",
        },
        reason=text,
    )
    return query


@dataclass(frozen=True)
class Target:
    """A record a query may be raised on, as the raising form shows it."""

    entity: str
    entity_id: int
    label: str
    patient_id: int
    fields: list[tuple[str, Any]]


def target(scope: Scope, entity: str, entity_id: int) -> Target:
    """The record and the fields a query may name (another site's record is not found)."""
    _require_reader(scope)
    spec = forms.spec_of(entity)
    if not spec.patient_owned:
        raise InputError([Problem("entity", "queries are raised on a patient's records")])
    obj = records.get(scope, spec, entity_id)
    content = records.content(obj)
    shown = [(k, v) for k, v in content.items() if k not in records.IMMUTABLE]
    return Target(entity, obj.id, spec.label, obj.patient_id, shown)


def raise_query(
    scope: Scope, *, entity: str, entity_id: int, field: str, text: str, now: dt.datetime
) -> DataQuery:
    """Open a query on `field` of a record; its value now is kept with the query."""
    spec = forms.spec_of(entity)
    if not spec.patient_owned:
        raise InputError([Problem("entity", "queries are raised on a patient's records")])
    obj = records.get(scope, spec, entity_id)  # first: another site's record is not found
    scope.require_role(QUERY_RAISERS, "raise queries")
    if field not in records.content(obj) or field in records.IMMUTABLE:
        names = sorted(set(records.content(obj)) - records.IMMUTABLE)
        raise InputError([Problem("field", f"not a field of the {spec.label}; one of {names}")])
    return _open(
        scope, entity=entity, obj=obj, field=field, text=_text(text), now=now, origin="manual"
    )


def open_from_override(
    scope: Scope,
    entity: str,
    obj: Any,
    *,
    check_id: str,
    field: str,
    finding: str,
    reason: str,
    now: dt.datetime,
) -> DataQuery | None:
    """The query an accepted edit-check finding opens on the record (the site's reason is
    its first words); None for a record that is not a patient's."""
    if getattr(obj, "patient_id", None) is None:
        return None
    content = records.content(obj)
    target = field if field in content else next(iter(sorted(content)))
    text = f"Edit check {check_id}: {finding}. Overridden by the site: {reason}"
    return _open(
        scope,
        entity=entity,
        obj=obj,
        field=target,
        text=text,
        now=now,
        origin="edit_check",
        check_id=check_id,
    )


def _step(scope: Scope, query: DataQuery, step: str, text: str, now: dt.datetime) -> str:
    allowed, after = _STEPS[step]
    if query.status not in allowed:
        raise ConflictError(f"query {query.id} is {query.status}; it cannot be {step}ed now")
    before = query.status
    query.status = after
    query.updated_at = now
    query.closed_at = now if after == "closed" else None
    return before


def answer(
    scope: Scope,
    query_id: int,
    *,
    text: str,
    now: dt.datetime,
    correct: Callable[[DataQuery], tuple[Any, Any]] | None = None,
) -> DataQuery:
    """The site's answer. `correct(query)`, once the answer is allowed, changes the query's
    field and returns (old, new) (workflow/answers.py does it through the corrections
    service); the change is linked in the thread."""
    query = get(scope, query_id)
    scope.require_role(QUERY_ANSWERERS, "answer queries")
    words = _text(text)
    before = _step(scope, query, "answer", words, now)
    correction = None
    if correct is not None:
        old, new = correct(query)
        correction = {"field": query.field, "old": jsonable(old), "new": jsonable(new)}
    _message(scope, query, "answer", words, now, correction)
    scope.session.flush()
    _audit(scope, query, "answer", before, words)
    return query


def close(scope: Scope, query_id: int, *, text: str, now: dt.datetime) -> DataQuery:
    return _raiser_step(scope, query_id, "close", text, now)


def reopen(scope: Scope, query_id: int, *, text: str, now: dt.datetime) -> DataQuery:
    return _raiser_step(scope, query_id, "reopen", text, now)


def _raiser_step(scope: Scope, query_id: int, step: str, text: str, now: dt.datetime) -> DataQuery:
    query = get(scope, query_id)
    scope.require_role(QUERY_RAISERS, f"{step} queries")
    words = _text(text)
    before = _step(scope, query, step, words, now)
    _message(scope, query, step, words, now)
    scope.session.flush()
    _audit(scope, query, step, before, words)
    return query


@dataclass(frozen=True)
class QueryFilter:
    status: str | None = None
    site_id: str | None = None
    patient_id: int | None = None
    entity: str | None = None
    entity_id: int | None = None
    form_type: str | None = None


def list_queries(
    scope: Scope, flt: QueryFilter, *, limit: int = 100, offset: int = 0
) -> tuple[list[DataQuery], int]:
    """The queries the actor may see, newest first, and how many match in all."""
    _require_reader(scope)
    if flt.status is not None and flt.status not in STATUSES:
        raise InputError([Problem("status", f"one of {', '.join(STATUSES)}")])
    stmt = _visible(scope.actor)
    for name in ("status", "site_id", "patient_id", "entity", "entity_id", "form_type"):
        value = getattr(flt, name)
        if value is not None:
            stmt = stmt.where(getattr(DataQuery, name) == value)
    total = scope.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = scope.session.scalars(
        stmt.order_by(DataQuery.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def open_on(scope: Scope, entity: str, ids: Sequence[int]) -> dict[tuple[int, str], list[int]]:
    """Open or answered queries on these records, as {(record id, field): [query ids]}, for
    showing on the field in a page; empty for a role that does not read queries."""
    return open_on_records(scope, {entity: ids}).get(entity, {})


def open_on_records(
    scope: Scope, ids: Mapping[str, Sequence[int]]
) -> dict[str, dict[tuple[int, str], list[int]]]:
    """`open_on` for several record types at once ({entity: record ids}), in one query."""
    wanted = {entity: set(found) for entity, found in ids.items() if found}
    if not wanted or scope.actor.role not in MONITORING_READERS | {None}:
        return {}
    every = sorted(set().union(*wanted.values()))
    stmt = _visible(scope.actor).where(
        DataQuery.entity.in_(sorted(wanted)),
        DataQuery.entity_id.in_(every),
        DataQuery.status != "closed",
    )
    found: dict[str, dict[tuple[int, str], list[int]]] = {}
    for q in scope.session.scalars(stmt.order_by(DataQuery.id)):
        if q.entity_id in wanted[q.entity]:
            found.setdefault(q.entity, {}).setdefault((q.entity_id, q.field), []).append(q.id)
    return found


@dataclass(frozen=True)
class QueryCount:
    """How many queries one site, patient or form type has in each status."""

    key: str
    open: int
    answered: int
    closed: int

    @property
    def total(self) -> int:
        return self.open + self.answered + self.closed


def query_counts(session: Session, actor: Actor, *, by: Grouping = "site") -> list[QueryCount]:
    """Queries counted by site (site id), patient (subject code) or form (form type), in
    the actor's scope: site staff count their own site's; the statistician may count by
    site or form only; a role outside MONITORING_READERS and the statistician, none."""
    if by not in ("site", "patient", "form"):
        raise InputError([Problem("by", "one of site, patient, form")])
    if actor.role is Role.statistician:
        if by not in _DEIDENTIFIED_GROUPINGS:
            raise PermissionDenied("the statistician counts queries by site or form only")
    elif actor.role is not None and actor.role not in MONITORING_READERS:
        raise PermissionDenied(f"role {actor.role.value} may not read queries")
    column: Any = {
        "site": DataQuery.site_id,
        "patient": Patient.subject_code,
        "form": DataQuery.form_type,
    }[by]
    stmt = select(column, DataQuery.status, func.count()).select_from(DataQuery)
    if by == "patient":
        stmt = stmt.join(Patient, Patient.id == DataQuery.patient_id)
    if actor.site_scoped:
        stmt = stmt.where(DataQuery.site_id == actor.site_id)
    stmt = stmt.group_by(column, DataQuery.status)
    tally: dict[str, dict[str, int]] = {}
    for key, status, n in session.execute(stmt):
        tally.setdefault(str(key), dict.fromkeys(STATUSES, 0))[status] = int(n)
    return [
        QueryCount(key, t["open"], t["answered"], t["closed"]) for key, t in sorted(tally.items())
    ]


def counts_as_dicts(counts: Sequence[QueryCount]) -> list[Mapping[str, Any]]:
    return [
        {"key": c.key, "open": c.open, "answered": c.answered, "closed": c.closed, "total": c.total}
        for c in counts
    ]
