"""Reading the audit trail. Every read and export is itself an audited action."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from phaseone.store import records
from phaseone.store.access import AUDIT_READERS, DEIDENTIFIED_ROLES, Role
from phaseone.store.audit import HASHED_FIELDS, jsonable
from phaseone.store.models import AuditRecord
from phaseone.store.scope import Scope

# Every hashed field, then the hash itself: the columns of a read or an export.
COLUMNS = (*HASHED_FIELDS, "row_hash")


@dataclass(frozen=True)
class AuditFilter:
    since: str | None = None  # ISO 8601 UTC, inclusive
    until: str | None = None  # ISO 8601 UTC, exclusive
    user_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    site_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _query(flt: AuditFilter) -> Select[Any]:
    stmt = select(AuditRecord)
    if flt.since:
        stmt = stmt.where(AuditRecord.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditRecord.at < flt.until)
    for name in ("user_id", "action", "entity", "entity_id"):
        value = getattr(flt, name)
        if value is not None:
            stmt = stmt.where(getattr(AuditRecord, name) == value)
    if flt.site_id is not None:
        stmt = stmt.where(AuditRecord.record_site_id == flt.site_id)
    return stmt


def view(rec: AuditRecord) -> dict[str, Any]:
    values = {name: getattr(rec, name) for name in COLUMNS}
    for name in ("old_value", "new_value"):
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return values


def read(scope: Scope, flt: AuditFilter, *, limit: int, offset: int) -> tuple[list[Any], int]:
    """A page of the trail (audit readers only); the read itself is audited."""
    scope.require_role(AUDIT_READERS, "read the audit trail")
    stmt = _query(flt)
    total = scope.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(scope.session.scalars(stmt.order_by(AuditRecord.seq).limit(limit).offset(offset)))
    scope.audit(
        "audit_read",
        "audit_records",
        None,
        new={**flt.as_dict(), "limit": limit, "offset": offset, "returned": len(rows)},
    )
    return [view(r) for r in rows], int(total)


def export(
    scope: Scope, flt: AuditFilter, columns: tuple[str, ...] = COLUMNS
) -> Iterator[dict[str, Any]]:
    """Every matching record, oldest first (audit readers only); the export is audited.

    `columns` chooses what each record carries; a reader that needs neither the old nor the
    new values reads plain rows (no objects, no JSON to decode), which is far faster."""
    scope.require_role(AUDIT_READERS, "export the audit trail")
    scope.audit("audit_export", "audit_records", None, new=flt.as_dict())
    stmt = _query(flt).order_by(AuditRecord.seq).execution_options(yield_per=2000)
    if columns == COLUMNS:
        for rec in scope.session.scalars(stmt):
            yield view(rec)
        return
    plain = stmt.with_only_columns(*(getattr(AuditRecord, name) for name in columns))
    for row in scope.session.execute(plain).mappings():
        yield dict(row)


def history(scope: Scope, entity: str, record_id: int) -> list[dict[str, Any]]:
    """Every audited change of one record the actor may see, old values included.

    Old and new values carry identifiers, so de-identified roles may not read them.
    """
    spec = records.spec_for(entity)
    obj = records.get(scope, spec, record_id)
    allowed = [r for r in Role if r not in DEIDENTIFIED_ROLES]
    scope.require_role(allowed, "read record history (it shows identified values)")
    stmt = _query(AuditFilter(entity=entity, entity_id=str(obj.id))).order_by(AuditRecord.seq)
    rows = [view(r) for r in scope.session.scalars(stmt)]
    scope.audit(
        "audit_read",
        entity,
        obj.id,
        record_site_id=records.record_site(obj),
        new={"history_of": f"{entity}/{obj.id}", "returned": len(rows)},
    )
    return jsonable(rows)  # type: ignore[no-any-return]
