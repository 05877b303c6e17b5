"""The protocol's edit checks applied to a record as it would be saved (on entry and on
correction), and the overrides accepted with a reason.

An override is an audit entry of action `edit_check_override` on the record, naming the
check, its finding and the reason: append-only, hash-chained, and found by
`overrides()` (or the audit API, action=edit_check_override) for monitoring; each one
also opens a query on the field (workflow/queries.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from phaseone.editchecks import Facts, Finding, run
from phaseone.errors import InputError, Problem
from phaseone.labs import analytes
from phaseone.store import records, trail
from phaseone.store.models import DoseAdministration
from phaseone.store.scope import Scope
from phaseone.store.types import utcnow
from phaseone.workflow import queries
from phaseone.workflow.context import Trial

OVERRIDE_ACTION = "edit_check_override"


def _same_day_doses(scope: Scope, values: Mapping[str, Any], record_id: int | None) -> int:
    if values.get("course_day") is None or values.get("patient_id") is None:
        return 0
    stmt = select(func.count()).where(
        DoseAdministration.patient_id == values["patient_id"],
        DoseAdministration.course_id == values.get("course_id"),
        DoseAdministration.course_day == values["course_day"],
        DoseAdministration.agent_id == values.get("agent_id"),
        DoseAdministration.given.is_(True),
        DoseAdministration.voided.is_(False),
    )
    if record_id is not None:
        stmt = stmt.where(DoseAdministration.id != record_id)
    return int(scope.session.scalar(stmt) or 0)


def _plausible(values: Mapping[str, Any]) -> tuple[float, float] | None:
    """The analyte's possible limits in the value's own unit (None: unknown analyte/unit)."""
    spec = analytes().get(str(values.get("analyte", "")).strip().lower())
    if spec is None or spec.plausible is None:
        return None
    try:
        factor = spec.to_canonical(1.0, str(values.get("unit", "")))
    except InputError:
        return None
    low, high = spec.plausible
    return low / factor, high / factor


def apply(
    scope: Scope,
    trial: Trial,
    table: str,
    values: Mapping[str, Any],
    *,
    today: dt.date | None,
    override: str | None = None,
    record_id: int | None = None,
    names: Mapping[str, str] | None = None,
    only: set[str] | None = None,
) -> list[Finding]:
    """Run the protocol's checks on `values` (store columns). Refusals, and findings that
    need a reason when none is given, raise InputError naming the caller's field (`names`
    maps a column to it); the findings an override accepts are returned. `only`: keep
    the findings about these columns (a correction checks what it changes)."""
    facts = Facts(
        table=table,
        values=values,
        today=today,
        dose_tolerance=trial.protocol.dosing.dose_tolerance,
        same_day_doses=(
            _same_day_doses(scope, values, record_id) if table == "dose_administrations" else 0
        ),
        plausible=_plausible(values) if table == "lab_results" else None,
    )
    findings = run(trial.protocol.edit_checks, facts)
    if only is not None:
        findings = [f for f in findings if f.field in only]
    named = names or {}
    problems = [
        Problem(named.get(f.field, f.field), f.message) for f in findings if f.action == "refuse"
    ]
    accepted = [f for f in findings if f.action == "reason"]
    if accepted and not (override and override.strip()):
        problems += [
            Problem("override", f"{f.message}; give the reason in 'override' to accept it")
            for f in accepted
        ]
    if problems:
        raise InputError(problems)
    return accepted


def record_overrides(
    scope: Scope,
    table: str,
    obj: Any,
    accepted: list[Finding],
    reason: str | None,
    now: dt.datetime | None = None,
) -> None:
    """Each accepted finding, audited on the record with the override reason, opens a
    query on the field it is about (monitors review every override). `now` defaults to
    the audit trail's own clock."""
    moment = now or utcnow()
    for f in accepted:
        scope.audit(
            OVERRIDE_ACTION,
            table,
            obj.id,
            record_site_id=records.record_site(obj),
            field=f.check,
            new={"check": f.check, "field": f.field, "finding": f.message},
            has_new=True,
            reason=(reason or "").strip(),
        )
        queries.open_from_override(
            scope,
            table,
            obj,
            check_id=f.check,
            field=f.field,
            finding=f.message,
            reason=(reason or "").strip(),
            now=moment,
        )


def overrides(scope: Scope, *, limit: int = 500, offset: int = 0) -> tuple[list[Any], int]:
    """The overrides accepted so far, oldest first (audit readers)."""
    return trail.read(scope, trail.AuditFilter(action=OVERRIDE_ACTION), limit=limit, offset=offset)
