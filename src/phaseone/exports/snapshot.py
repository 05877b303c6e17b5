"""The trial's data as one actor may see it, read once for an export (scoped, de-identified)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from phaseone.protocol.model import Protocol
from phaseone.store import records
from phaseone.store.access import EXPORTERS
from phaseone.store.models import Patient
from phaseone.store.scope import Scope
from phaseone.store.sites import list_sites
from phaseone.workflow import evaluations
from phaseone.workflow.results import RESULTS
from phaseone.workflow.specimens import SPECIMENS
from phaseone.workflow.treatment import TREATMENT_END

Row = dict[str, Any]
T = TypeVar("T")

# Read in this order; each name is a record type of the store.
ENTITIES = (
    "patients",
    "screening_evaluations",
    "registrations",
    "courses",
    "dose_administrations",
    "lab_results",
    "adverse_events",
    "dlt_determinations",
    "clinical_events",
    "follow_ups",
)


# The clinical date of each record type: a data cut-off keeps the records dated on or before it.
DATE_OF: dict[str, str | None] = {
    "patients": "consent_date",
    "screening_evaluations": "evaluated_on",
    "registrations": "registered_on",
    "courses": "start_date",
    "dose_administrations": "administered_on",
    "lab_results": "collected_on",
    "adverse_events": "onset_date",
    "dlt_determinations": "determined_on",
    "clinical_events": "event_date",
    "follow_ups": "contact_date",
    "treatment_ends": "ended_on",
    "disease_evaluations": "evaluated_on",
    "specimens": "collected_on",
    "specimen_results": None,  # a result follows its specimen's collection date
}
# Dates a record may carry that are not known yet at an earlier cut-off.
LATER_DATES = {"adverse_events": ("resolved_date",)}


@dataclass(frozen=True)
class Snapshot:
    """Every non-voided record of each type, as plain dicts keyed by column name."""

    protocol: Protocol
    deidentified: bool
    site_countries: dict[str, str]
    tables: dict[str, list[Row]] = field(default_factory=dict)
    site_names: dict[str, str] = field(default_factory=dict)
    as_of: dt.date | None = None  # the data cut-off, if any
    # Datasets derived from this snapshot (SDTM, ADaM), made once and shared by every
    # document written from it in one run.
    _derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def derived(self, name: str, make: Callable[[], T]) -> T:
        """`make()` the first time `name` is asked for; the same object after that. Callers
        treat it as read-only."""
        if name not in self._derived:
            self._derived[name] = make()
        return self._derived[name]  # type: ignore[no-any-return]

    def rows(self, entity: str) -> list[Row]:
        return self.tables.get(entity, [])

    def by_patient(self, entity: str) -> dict[int, list[Row]]:
        grouped: dict[int, list[Row]] = {}
        for row in self.rows(entity):
            grouped.setdefault(row["patient_id"], []).append(row)
        return grouped


def _all(
    scope: Scope, spec: records.EntitySpec, deidentify: bool, as_of: dt.date | None
) -> Iterator[Row]:
    """Every record of a type the actor may see, not voided, as column values (no ORM
    objects: an export reads every row once); de-identified as every view of the store is.

    With a data cut-off, only the records dated on or before it, and a later date on a kept
    record (resolved after the cut-off) unknown. The cut-off reads real dates, before any
    de-identification. A screening's per-criterion results are not read.
    """
    model: Any = spec.model
    table = model.__table__
    columns = [*records.content_columns(table), table.c.id]
    stmt = records.visible(scope, spec).where(model.voided.is_(False))
    if model is Patient:
        stmt = stmt.with_only_columns(*columns, table.c.date_shift_days)
    else:
        stmt = stmt.with_only_columns(*columns, Patient.date_shift_days).join(
            Patient, Patient.id == model.patient_id
        )
    date_column = DATE_OF.get(spec.name)
    later = LATER_DATES.get(spec.name, ())
    hide = deidentify or scope.actor.deidentified
    for found in scope.session.execute(stmt.order_by(table.c.id)).mappings():
        row = dict(found)
        shift = row.pop("date_shift_days")
        day = row.get(date_column) if date_column else None
        if as_of is not None and day is not None and day > as_of:
            continue
        for name in later:
            if as_of is not None and row.get(name) is not None and row[name] > as_of:
                row[name] = None
        if hide:
            row = records.deidentify_values(table, row, shift)
        yield row


def _read_evaluations(
    scope: Scope, tables: dict[str, list[Row]], deidentify: bool, as_of: dt.date | None
) -> None:
    """Disease evaluations and their measurements; a measurement follows its evaluation
    through the cut-off (it carries no date of its own)."""
    tables["disease_evaluations"] = list(_all(scope, evaluations.EVALUATIONS, deidentify, as_of))
    kept = {r["id"] for r in tables["disease_evaluations"]}
    for spec in evaluations.CHILDREN:
        rows = _all(scope, spec, deidentify, None)
        tables[spec.name] = [r for r in rows if r["evaluation_id"] in kept]


def read(
    scope: Scope,
    protocol: Protocol,
    *,
    purpose: str,
    deidentify: bool = False,
    as_of: dt.date | None = None,
) -> Snapshot:
    """Read the trial for an export; the read itself is audited with its purpose.

    A de-identified snapshot (always, for a role that sees de-identified data) has its dates
    shifted per patient and its identifiers and free text withheld. `as_of` is a data
    cut-off (see `_all`).
    """
    scope.require_role(EXPORTERS, "export the trial's data")
    deidentify = deidentify or scope.actor.deidentified
    tables = {
        name: list(_all(scope, records.spec_for(name), deidentify, as_of)) for name in ENTITIES
    }
    tables["treatment_ends"] = list(_all(scope, TREATMENT_END, deidentify, as_of))
    _read_evaluations(scope, tables, deidentify, as_of)
    for spec in (SPECIMENS, RESULTS):
        tables[spec.name] = list(_all(scope, spec, deidentify, as_of))
    sites = list_sites(scope.session)
    countries = {site.id: site.country for site in sites}
    scope.audit(
        "export",
        "trial",
        protocol.id,
        new={
            "purpose": purpose,
            "deidentified": deidentify,
            "as_of": None if as_of is None else as_of.isoformat(),
            "records": {k: len(v) for k, v in tables.items()},
        },
    )
    names = {s.id: s.name for s in sites}
    return Snapshot(protocol, deidentify, countries, tables, names, as_of)
