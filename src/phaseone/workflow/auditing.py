"""Browsing the audit trail: filters, keyset pages, field-level changes, the record each
entry is about, and exports, all within the actor's scope.

One rule decides what each role sees of the trail: site staff only entries about their own
site's records; the statistician only entries about patients' records, de-identified as
every other view of theirs (identifiers and free text withheld, dates moved by the patient's
own offset, no date-range filter on real times); the chair, monitors and the administrator
everything. Every read and every export is itself audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.sql.elements import ColumnElement

from phaseone.errors import InputError, Problem
from phaseone.store import audit, records
from phaseone.store.access import AUDIT_READERS, Role
from phaseone.store.models import AuditRecord, Base, Patient, PatientOwned
from phaseone.store.scope import Scope

# Every role browses the trail; what each sees is decided by `_visible` below.
AUDIT_BROWSERS = frozenset(Role)
MAX_PAGE = 500
# The columns of an export, in order (CSV header and JSON keys alike).
EXPORT_COLUMNS = (
    "seq",
    "at",
    "username",
    "role",
    "user_site_id",
    "action",
    "entity",
    "entity_id",
    "patient_id",
    "subject_code",
    "record_site_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "source",
)
WITHHELD = "(withheld)"


def _patient_tables() -> dict[str, Any]:
    """Every table whose rows belong to one patient, by name (the patients table included)."""
    found: dict[str, Any] = {"patients": Patient}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, PatientOwned):
            found[str(cls.__table__.name)] = cls  # type: ignore[attr-defined]
    return found


PATIENT_TABLES = _patient_tables()


@dataclass(frozen=True)
class AuditQuery:
    """What to show: every filter is optional; `before`/`after` are keyset cursors (seq)."""

    patient_id: int | None = None
    site_id: str | None = None
    user_id: int | None = None
    username: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    since: dt.date | None = None  # UTC day, inclusive
    until: dt.date | None = None  # UTC day, inclusive
    before: int | None = None
    after: int | None = None
    limit: int = 50

    def filters(self) -> dict[str, Any]:
        """The filters as plain data (what an audited read or export records)."""
        names = ("patient_id", "site_id", "user_id", "username", "entity", "entity_id", "action")
        out: dict[str, Any] = {n: getattr(self, n) for n in names if getattr(self, n) is not None}
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        return out


@dataclass(frozen=True)
class Change:
    """One field as it was and as it became (None: no value on that side)."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class EntryView:
    seq: int
    at: str
    user_id: int | None
    username: str
    role: str | None
    user_site_id: str | None
    action: str
    entity: str
    entity_id: str | None
    record_site_id: str | None
    field: str | None
    old_value: Any
    new_value: Any
    reason: str | None
    source: str
    patient_id: int | None
    subject_code: str | None
    changes: tuple[Change, ...]
    deidentified: bool = False

    def as_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["changes"] = [c.__dict__ for c in self.changes]
        return values

    def export_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in EXPORT_COLUMNS}
        for name in ("old_value", "new_value"):
            if row[name] is not None and not isinstance(row[name], str):
                row[name] = json.dumps(row[name], sort_keys=True, ensure_ascii=False)
        return row


@dataclass(frozen=True)
class AuditPage:
    entries: list[EntryView]
    # Cursors for the next older and the next newer page (None: there is none).
    older: int | None
    newer: int | None
    filters: Mapping[str, Any] = field(default_factory=dict)


# --- the one rule of what an actor sees -----------------------------------------------------


def _visible(scope: Scope) -> list[ColumnElement[bool]]:
    actor = scope.actor
    if actor.site_scoped:
        return [AuditRecord.record_site_id == actor.site_id]
    if actor.deidentified:
        return [AuditRecord.entity.in_(sorted(PATIENT_TABLES))]
    return []


def _check(scope: Scope, query: AuditQuery) -> None:
    scope.require_role(AUDIT_BROWSERS, "read the audit trail")
    problems = []
    if scope.actor.deidentified and (query.since or query.until):
        message = "dates are shifted per patient in your view; a date range is not available"
        problems += [Problem(name, message) for name in ("since", "until") if getattr(query, name)]
    if query.since and query.until and query.until < query.since:
        problems.append(Problem("until", "must be on or after since"))
    if not 1 <= query.limit <= MAX_PAGE:
        problems.append(Problem("limit", f"expected 1 to {MAX_PAGE}"))
    if query.before is not None and query.after is not None:
        problems.append(Problem("after", "give before or after, not both"))
    if problems:
        raise InputError(problems)
    if query.patient_id is not None:
        # Another site's patient is just not found, as everywhere else.
        records.get(scope, records.SPECS["patients"], query.patient_id)


def _about_patient(patient_id: int) -> ColumnElement[bool]:
    clauses = [and_(AuditRecord.entity == "patients", AuditRecord.entity_id == str(patient_id))]
    for name, model in PATIENT_TABLES.items():
        if model is Patient:
            continue
        ids = select(cast(model.id, String)).where(model.patient_id == patient_id)
        clauses.append(and_(AuditRecord.entity == name, AuditRecord.entity_id.in_(ids)))
    return or_(*clauses)


def _conditions(scope: Scope, query: AuditQuery) -> list[ColumnElement[bool]]:
    where = _visible(scope)
    if query.patient_id is not None:
        where.append(_about_patient(query.patient_id))
    if query.site_id is not None:
        where.append(AuditRecord.record_site_id == query.site_id)
    if query.user_id is not None:
        where.append(AuditRecord.user_id == query.user_id)
    if query.username is not None:
        where.append(AuditRecord.username == query.username.strip().lower())
    for name in ("entity", "entity_id", "action"):
        value = getattr(query, name)
        if value is not None:
            where.append(getattr(AuditRecord, name) == value)
    if query.since is not None:
        where.append(AuditRecord.at >= query.since.isoformat())
    if query.until is not None:
        where.append(AuditRecord.at < (query.until + dt.timedelta(days=1)).isoformat())
    return where


# --- presentation: who the entry is about, and what changed ---------------------------------


@dataclass(frozen=True)
class _Owner:
    patient_id: int
    subject_code: str
    shift_days: int


def _owners(scope: Scope, rows: list[AuditRecord]) -> dict[tuple[str, str], _Owner]:
    """The patient each entry's record belongs to, looked up once per table for a page."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        if row.entity in PATIENT_TABLES and row.entity_id and row.entity_id.isdigit():
            wanted.setdefault(row.entity, set()).add(int(row.entity_id))
    patient_of: dict[tuple[str, str], int] = {}
    for name, ids in wanted.items():
        model = PATIENT_TABLES[name]
        if model is Patient:
            patient_of.update({(name, str(i)): i for i in ids})
            continue
        for rid, pid in scope.session.execute(
            select(model.id, model.patient_id).where(model.id.in_(ids))
        ):
            patient_of[(name, str(rid))] = pid
    patients = {
        pid: _Owner(pid, code, shift)
        for pid, code, shift in scope.session.execute(
            select(Patient.id, Patient.subject_code, Patient.date_shift_days).where(
                Patient.id.in_(set(patient_of.values()))
            )
        )
    }
    return {key: patients[pid] for key, pid in patient_of.items() if pid in patients}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def changes_of(field_name: str | None, old: Any, new: Any) -> tuple[Change, ...]:
    """Field-level changes read old -> new: one field, or each differing key of two records."""
    if field_name is not None:
        return (Change(field_name, _text(old), _text(new)),)
    if isinstance(old, dict) or isinstance(new, dict):
        before = old if isinstance(old, dict) else {}
        after = new if isinstance(new, dict) else {}
        keys = sorted(set(before) | set(after))
        return tuple(
            Change(k, _text(before.get(k)), _text(after.get(k)))
            for k in keys
            if before.get(k) != after.get(k)
        )
    if old is None and new is None:
        return ()
    return (Change("value", _text(old), _text(new)),)


def _shift_text(value: Any, days: int) -> Any:
    """An ISO date or date-time moved by `days`; anything else unchanged."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return (day + dt.timedelta(days=days)).isoformat()
    return value


def _deidentify_value(table: Any, name: str, value: Any, days: int) -> Any:
    column = table.columns.get(name)
    phi = None if column is None else column.info.get("phi")
    if value is None:
        return None
    if phi in ("identifier", "text"):
        return WITHHELD
    if isinstance(value, dict):
        return {k: _deidentify_value(table, k, v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_deidentify_value(table, name, v, days) for v in value]
    return _shift_text(value, days)


def _view(row: AuditRecord, owner: _Owner | None, deidentify: bool) -> EntryView:
    old = None if row.old_value is None else json.loads(row.old_value)
    new = None if row.new_value is None else json.loads(row.new_value)
    at, reason, code = row.at, row.reason, None if owner is None else owner.subject_code
    if deidentify:
        days = 0 if owner is None else owner.shift_days
        table = PATIENT_TABLES[row.entity].__table__
        if row.field is not None:
            old = _deidentify_value(table, row.field, old, days)
            new = _deidentify_value(table, row.field, new, days)
        else:
            old = None if old is None else _deidentify_value(table, "", old, days)
            new = None if new is None else _deidentify_value(table, "", new, days)
        # The day of the entry moves with the patient's dates; its time of day says nothing.
        at = str(_shift_text(row.at, days))
        reason = None if reason is None else WITHHELD
    return EntryView(
        seq=row.seq,
        at=at,
        user_id=row.user_id,
        username=row.username,
        role=row.role,
        user_site_id=row.user_site_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        record_site_id=row.record_site_id,
        field=row.field,
        old_value=old,
        new_value=new,
        reason=reason,
        source=row.source,
        patient_id=None if owner is None else owner.patient_id,
        subject_code=code,
        changes=changes_of(row.field, old, new),
        deidentified=deidentify,
    )


def _views(scope: Scope, rows: list[AuditRecord]) -> list[EntryView]:
    owners = _owners(scope, rows)
    hide = scope.actor.deidentified
    return [_view(r, owners.get((r.entity, r.entity_id or "")), hide) for r in rows]


# --- reading and exporting ------------------------------------------------------------------


def browse(scope: Scope, query: AuditQuery) -> AuditPage:
    """One page of matching entries, newest first, with cursors to the older and newer
    pages (keyset on the chain's sequence number: as fast on page 1000 as on page 1).
    The read is audited."""
    _check(scope, query)
    where = _conditions(scope, query)
    stmt = select(AuditRecord).where(*where)
    if query.after is not None:
        stmt = stmt.where(AuditRecord.seq > query.after).order_by(AuditRecord.seq.asc())
    else:
        if query.before is not None:
            stmt = stmt.where(AuditRecord.seq < query.before)
        stmt = stmt.order_by(AuditRecord.seq.desc())
    rows = list(scope.session.scalars(stmt.limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    ascending = query.after is not None
    if ascending:
        rows.reverse()
    older = newer = None
    if rows:
        first, last = rows[0].seq, rows[-1].seq
        if more if not ascending else _exists(scope, where, AuditRecord.seq < last):
            older = last
        if more if ascending else (
            query.before is not None and _exists(scope, where, AuditRecord.seq > first)
        ):
            newer = first
    filters = query.filters()
    scope.audit(
        "audit_read",
        "audit_records",
        None,
        new={**filters, "before": query.before, "after": query.after, "returned": len(rows)},
    )
    return AuditPage(_views(scope, rows), older, newer, filters)


def _exists(scope: Scope, where: list[ColumnElement[bool]], extra: ColumnElement[bool]) -> bool:
    stmt = select(AuditRecord.seq).where(*where, extra).limit(1)
    return scope.session.scalar(stmt) is not None


def export(scope: Scope, query: AuditQuery, fmt: str) -> Iterator[dict[str, Any]]:
    """Every matching entry, oldest first, as export rows. The checks run and the export is
    audited at once; the rows are read as the caller iterates (in the same transaction)."""
    if fmt not in ("csv", "jsonl"):
        raise InputError([Problem("format", "expected csv or jsonl")])
    _check(scope, query)
    where = _conditions(scope, query)
    scope.audit("audit_export", "audit_records", None, new={**query.filters(), "format": fmt})
    stmt = select(AuditRecord).where(*where).order_by(AuditRecord.seq)
    return _rows(scope, stmt.execution_options(yield_per=1000))


def _rows(scope: Scope, stmt: Any) -> Iterator[dict[str, Any]]:
    batch: list[AuditRecord] = []
    for row in scope.session.scalars(stmt):
        batch.append(row)
        if len(batch) == 1000:
            yield from (v.export_row() for v in _views(scope, batch))
            batch = []
    yield from (v.export_row() for v in _views(scope, batch))


def verify_chain(scope: Scope) -> audit.Verification:
    """Recompute the whole hash chain (the chair, monitors, administrators); audited."""
    scope.require_role(AUDIT_READERS, "verify the audit trail")
    result = audit.seal_and_verify(scope.session)
    scope.audit("audit_verify", "audit_records", None, new=result.as_dict())
    return result


def recent_activity(scope: Scope, user_id: int, limit: int = 20) -> AuditPage:
    """What one account did lately (the newest entries it made), within the actor's scope."""
    return browse(scope, AuditQuery(user_id=user_id, limit=limit))


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r", "-"):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def export_text(rows: Iterator[dict[str, Any]], fmt: str) -> str:
    """Export rows as CSV (a header of EXPORT_COLUMNS) or JSON lines."""
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()
