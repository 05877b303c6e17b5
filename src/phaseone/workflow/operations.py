"""Operations reports: enrolment by site and month, forms overdue against each patient's
calendar, open queries, and required fields left empty; each as rows for a page and a CSV.

Site staff see their own site's rows; the chair, monitors and the administrator every
site's. The statistician, whose dates are shifted, gets no operations report (each counts
from real dates). Times come from the service clock (`as_of`), never the wall clock here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import DEIDENTIFIED_ROLES, Role
from phaseone.store.models import Registration
from phaseone.store.scope import Scope
from phaseone.workflow import expected, queries
from phaseone.workflow.context import Trial

OPERATIONS_READERS = frozenset(Role) - DEIDENTIFIED_ROLES
REPORTS = ("enrolment", "overdue", "queries", "missing")


def _require(scope: Scope) -> None:
    scope.require_role(OPERATIONS_READERS, "read operations reports (they count real dates)")


def enrolment(scope: Scope) -> list[dict[str, Any]]:
    """Registrations per site and calendar month (UTC), oldest month first."""
    _require(scope)
    stmt = (
        records.visible(scope, records.SPECS["registrations"])
        .with_only_columns(Registration.site_id, Registration.registered_on)
        .where(Registration.voided.is_(False))
    )
    counts = Counter((site, f"{day:%Y-%m}") for site, day in scope.session.execute(stmt))
    return [
        {"site_id": site, "month": month, "registered": n}
        for (site, month), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def overdue(
    scope: Scope, trial: Trial, as_of: dt.date, grace_days: int = 3
) -> list[dict[str, Any]]:
    """Forms the calendar expects and that are not entered (every registered provider)."""
    _require(scope)
    if not 0 <= grace_days <= 60:
        raise InputError([Problem("grace_days", "expected 0 to 60 days")])
    return [e.as_dict(as_of) for e in expected.overdue(scope, trial, as_of, grace_days)]


def open_queries(scope: Scope) -> list[dict[str, Any]]:
    """Queries per site still open or answered and not yet closed (workflow/queries.py's
    counts, in the same scope)."""
    _require(scope)
    return [
        {"site_id": c.key, "open": c.open, "answered": c.answered, "closed": c.closed}
        for c in queries.query_counts(scope.session, scope.actor, by="site")
    ]


@dataclass(frozen=True)
class Required:
    """A field a saved record should carry (`when`: only if this other field is true)."""

    entity: str
    field: str
    why: str
    when: str | None = None


# Fields the trial's analyses need that the forms let a site leave for later.
REQUIRED: tuple[Required, ...] = (
    Required("patients", "consent_date", "consent date (registration and eligibility)"),
    Required("courses", "height_cm", "height (BSA and dose)"),
    Required("courses", "weight_kg", "weight (BSA and dose)"),
    Required("courses", "bsa_m2", "body surface area (dose)"),
    Required("dose_administrations", "given_dose", "dose given", when="given"),
    Required("dose_administrations", "course_id", "course of the dose"),
    Required("lab_results", "course_id", "course of the lab result"),
    Required("adverse_events", "meddra_term", "MedDRA term (toxicity tables)"),
    Required("adverse_events", "course_id", "course of the adverse event (DLT window)"),
)


def missing(scope: Scope) -> list[dict[str, Any]]:
    """Saved records with a required field empty, by site and patient."""
    _require(scope)
    out = []
    for rule in REQUIRED:
        spec = records.SPECS[rule.entity]
        model: Any = spec.model
        stmt = records.visible(scope, spec).where(
            model.voided.is_(False), getattr(model, rule.field).is_(None)
        )
        if rule.when is not None:
            stmt = stmt.where(getattr(model, rule.when).is_(True))
        for obj in scope.session.scalars(stmt.order_by(model.id)):
            patient = obj if rule.entity == "patients" else obj.patient
            out.append(
                {
                    "site_id": obj.site_id,
                    "patient_id": patient.id,
                    "subject_code": patient.subject_code,
                    "entity": rule.entity,
                    "record_id": obj.id,
                    "field": rule.field,
                    "why": rule.why,
                }
            )
    return sorted(out, key=lambda r: (r["site_id"], r["subject_code"], r["entity"], r["record_id"]))


def report(
    scope: Scope, trial: Trial, name: str, as_of: dt.date, grace_days: int = 3
) -> list[dict[str, Any]]:
    """One report's rows by name (what the CSV downloads carry)."""
    if name == "enrolment":
        return enrolment(scope)
    if name == "overdue":
        return overdue(scope, trial, as_of, grace_days)
    if name == "queries":
        return open_queries(scope)
    if name == "missing":
        return missing(scope)
    raise InputError([Problem("report", f"expected one of {', '.join(REPORTS)}")])


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None) -> str:
    """Rows as CSV text with a header (columns: the first row's keys by default)."""
    names = list(columns) if columns is not None else list(rows[0]) if rows else []
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in names})
    return out.getvalue()


COLUMNS: dict[str, tuple[str, ...]] = {
    "enrolment": ("site_id", "month", "registered"),
    "overdue": (
        "form",
        "site_id",
        "subject_code",
        "patient_id",
        "course",
        "due_on",
        "days_late",
        "status",
        "what",
    ),
    "queries": ("site_id", "open", "answered", "closed"),
    "missing": ("site_id", "subject_code", "patient_id", "entity", "record_id", "field", "why"),
}
