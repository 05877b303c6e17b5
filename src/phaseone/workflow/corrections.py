"""Corrections: edit or void a saved record with a reason, audited old -> new; the one
service behind the record API's PATCH and void and the pages' correction forms.

A correction is checked like an entry: the record as it would be after the change runs
through the protocol's edit checks (a lab value outside possible limits, a date in the
future, a dose above the plan without an override reason are refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.workflow import edits
from phaseone.workflow.context import Trial

# Record types the pages offer to correct. Courses join when their own changes (re-dated
# calendars, dose modification) are corrected here too: add "courses" and its checks.
CORRECTABLE = ("lab_results", "adverse_events", "dose_administrations")


def _off_study_reason(record: Mapping[str, Any]) -> list[Problem]:
    cause = record.get("cause")
    if record.get("kind") == "off_study" and not (isinstance(cause, str) and cause.strip()):
        return [Problem("cause", "going off study needs a reason")]
    return []


# Rules of a record type that hold for every entry and correction, whatever the door.
RECORD_RULES: dict[str, Callable[[Mapping[str, Any]], list[Problem]]] = {
    "clinical_events": _off_study_reason,
}


# Fields other values are computed from (a course's BSA, doses, calendar and delay): the
# course workflow recomputes them, a plain correction would leave them stale.
THROUGH_WORKFLOW: dict[str, tuple[tuple[frozenset[str], str], ...]] = {
    "courses": (
        (
            frozenset(
                {"start_date", "height_cm", "weight_kg", "bsa_m2", "delay_days", "delay_cause"}
            ),
            "changed only through the course workflow, which recomputes what follows from it: "
            "a later day 1 is a delay (POST /patients/{patient_id}/courses/{number}/delay, or "
            "'Delay this course' on the course page), which re-dates the calendar; a new "
            "height or weight gives a new BSA and doses when the next course starts",
        ),
        (
            frozenset({"dose_level"}),
            "set only when a course starts, where the doses are computed from it and a lower "
            "level needs its reason (a dose modification: dose_level and level_reason in "
            "POST /patients/{patient_id}/courses, or 'Start course' on the patient's courses "
            "page); a saved course's level cannot be corrected, because its doses would not "
            "follow",
        ),
    ),
}


def _check_through_workflow(table: str, changes: Mapping[str, Any]) -> None:
    problems = [
        Problem(name, why)
        for fields, why in THROUGH_WORKFLOW.get(table, ())
        for name in sorted(fields & set(changes))
    ]
    if problems:
        raise InputError(problems)


def _check_rules(table: str, record: Mapping[str, Any]) -> None:
    rule = RECORD_RULES.get(table)
    problems = rule(record) if rule is not None else []
    if problems:
        raise InputError(problems)


def create(
    scope: Any,
    trial: Trial,
    table: str,
    data: Mapping[str, Any],
    *,
    today: dt.date | None,
    override: str | None = None,
) -> Any:
    """A record entered whole (the record API's POST), checked as the workflow's entries are.

    The store's own checks (role, site, references) come first, so that a record the
    caller may not write is refused as such; the request's transaction is rolled back
    whole when an edit check then refuses it."""
    obj = records.create(scope, records.spec_for(table), data)
    _check_rules(table, records.content(obj))
    accepted = edits.apply(
        scope,
        trial,
        table,
        records.content(obj),
        today=today,
        override=override,
        record_id=obj.id,
    )
    edits.record_overrides(scope, table, obj, accepted, override)
    return obj


def correct(
    scope: Any,
    trial: Trial,
    table: str,
    record_id: int,
    changes: Mapping[str, Any],
    reason: str | None,
    *,
    today: dt.date | None,
    override: str | None = None,
) -> Any:
    """Change fields of a saved record; each change is audited with `reason`. Only the
    checks that concern a changed field apply (a warning accepted on entry stays accepted
    when another field is corrected); the store checks role and site first."""
    spec = records.spec_for(table)
    current = records.content(records.get(scope, spec, record_id))
    changes = {k: v for k, v in changes.items() if k not in current or current[k] != v}
    _check_through_workflow(table, changes)
    obj = records.update(scope, spec, record_id, changes, reason)
    _check_rules(table, records.content(obj))
    accepted = edits.apply(
        scope,
        trial,
        table,
        records.content(obj),
        today=today,
        override=override,
        record_id=record_id,
        only=set(changes),
    )
    edits.record_overrides(scope, table, obj, accepted, override)
    return obj


def void(scope: Any, table: str, record_id: int, reason: str | None) -> Any:
    """Withdraw a record with its reason (the row stays, marked void; audited)."""
    return records.void(scope, records.spec_for(table), record_id, reason)
