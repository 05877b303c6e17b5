"""The edit-check engine: each kind of check is a small pure rule over the record as it
would be saved and the facts the caller looked up (today, the planned dose, other doses
on the same day, the analyte's possible limits). No database, no clock.

A finding either refuses the record or asks for a named reason (an override), as the
check's `action` says; the workflow stores accepted overrides with their reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from phaseone.protocol.model import EditCheck

Action = Literal["refuse", "reason"]
ACTIONS: tuple[Action, ...] = ("refuse", "reason")

# The clinical dates of each record type (store columns), for date_not_future.
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("birth_date", "consent_date"),
    "lab_results": ("collected_on",),
    "dose_administrations": ("administered_on",),
    "adverse_events": ("onset_date", "resolved_date"),
    "clinical_events": ("event_date",),
    "follow_ups": ("contact_date",),
    "treatment_ends": ("ended_on",),
}


@dataclass(frozen=True)
class Facts:
    """A record as it would be saved (store columns) and what the checks compare it with."""

    table: str
    values: Mapping[str, Any]
    today: dt.date | None = None  # None: the caller has no clock (dates are not checked)
    dose_tolerance: float = 0.0  # the protocol's (dosing.dose_tolerance)
    same_day_doses: int = 0  # other administrations of this agent on this course day
    plausible: tuple[float, float] | None = None  # possible limits in the value's unit


@dataclass(frozen=True)
class Finding:
    check: str
    field: str  # the store column it concerns
    message: str
    action: Action


Rule = Callable[[Mapping[str, Any], Facts], list[tuple[str, str]]]


@dataclass(frozen=True)
class Kind:
    rule: Rule
    action: Action  # the default when the check names none
    params: frozenset[str]


KINDS: dict[str, Kind] = {}


def kind(name: str, action: Action, params: Sequence[str] = ()) -> Callable[[Rule], Rule]:
    def register(rule: Rule) -> Rule:
        KINDS[name] = Kind(rule, action, frozenset(("action", *params)))
        return rule

    return register


@kind("date_not_future", "refuse", ("tables",))
def _date_not_future(params: Mapping[str, Any], facts: Facts) -> list[tuple[str, str]]:
    tables = params.get("tables") or tuple(DATE_COLUMNS)
    if facts.today is None or facts.table not in tables:
        return []
    out = []
    for column in DATE_COLUMNS.get(facts.table, ()):
        day = facts.values.get(column)
        if isinstance(day, dt.date) and day > facts.today:
            out.append((column, f"{day} is after today ({facts.today})"))
    return out


@kind("dose_above_plan", "reason", ("tolerance",))
def _dose_above_plan(params: Mapping[str, Any], facts: Facts) -> list[tuple[str, str]]:
    v = facts.values
    if facts.table != "dose_administrations" or not v.get("given"):
        return []
    planned, given = v.get("planned_dose"), v.get("given_dose")
    if planned is None or given is None:
        return []
    tolerance = float(params.get("tolerance", facts.dose_tolerance))
    if given <= planned * (1 + tolerance) + 1e-9:
        return []
    return [
        (
            "given_dose",
            f"{given:g} mg given against {planned:g} mg planned, more than "
            f"{tolerance:.0%} above the plan",
        )
    ]


@kind("repeat_administration", "reason")
def _repeat_administration(params: Mapping[str, Any], facts: Facts) -> list[tuple[str, str]]:
    if facts.table != "dose_administrations" or facts.same_day_doses < 1:
        return []
    if not facts.values.get("given"):
        return []
    return [
        (
            "course_day",
            f"{facts.values.get('agent_id')} is already recorded on course day "
            f"{facts.values.get('course_day')}",
        )
    ]


@kind("lab_plausible_limits", "refuse")
def _lab_plausible_limits(params: Mapping[str, Any], facts: Facts) -> list[tuple[str, str]]:
    value = facts.values.get("value")
    if facts.table != "lab_results" or facts.plausible is None or value is None:
        return []
    low, high = facts.plausible
    if low <= value <= high:
        return []
    unit = facts.values.get("unit", "")
    return [("value", f"{value:g} {unit} is outside {low:g} to {high:g} {unit}")]


def run(checks: Sequence[EditCheck], facts: Facts) -> list[Finding]:
    """Every finding of the protocol's checks on one record, in the checks' order."""
    found = []
    for check in checks:
        spec = KINDS[check.kind]
        action: Action = check.params.get("action", spec.action)
        for column, detail in spec.rule(check.params, facts):
            found.append(Finding(check.id, column, f"{check.message}: {detail}", action))
    return found


def check_problems(checks: Sequence[EditCheck]) -> list[tuple[int, str, str]]:
    """(index, field, message) for each check this engine cannot apply as written."""
    out = []
    for i, check in enumerate(checks):
        spec = KINDS.get(check.kind)
        if spec is None:
            out.append((i, "kind", f"unknown edit-check kind; expected one of {sorted(KINDS)}"))
            continue
        extra = sorted(set(check.params) - spec.params)
        if extra:
            out.append((i, "params", f"unknown parameters {extra} for {check.kind}"))
        action = check.params.get("action", spec.action)
        if action not in ACTIONS:
            out.append((i, "params.action", f"expected one of {list(ACTIONS)}"))
        tolerance = check.params.get("tolerance")
        if tolerance is not None and not (
            isinstance(tolerance, int | float) and 0 <= tolerance <= 10
        ):
            out.append((i, "params.tolerance", "expected a fraction such as 0.10"))
    return out
