"""The trial's data as one actor may see it, read once for an export (scoped, de-identified)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from phaseone.protocol.model import Protocol
from phaseone.store import records
from phaseone.store.access import EXPORTERS
from phaseone.store.scope import Scope
from phaseone.store.sites import list_sites
from phaseone.workflow.treatment import TREATMENT_END

Row = dict[str, Any]
PAGE = 5_000

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


@dataclass(frozen=True)
class Snapshot:
    """Every non-voided record of each type, as plain dicts keyed by column name."""

    protocol: Protocol
    deidentified: bool
    site_countries: dict[str, str]
    tables: dict[str, list[Row]] = field(default_factory=dict)
    site_names: dict[str, str] = field(default_factory=dict)

    def rows(self, entity: str) -> list[Row]:
        return self.tables.get(entity, [])

    def by_patient(self, entity: str) -> dict[int, list[Row]]:
        grouped: dict[int, list[Row]] = {}
        for row in self.rows(entity):
            grouped.setdefault(row["patient_id"], []).append(row)
        return grouped


def _all(scope: Scope, spec: records.EntitySpec, deidentify: bool) -> Iterator[Row]:
    offset = 0
    while True:
        page = records.list_records(scope, spec, {}, limit=PAGE, offset=offset)
        for obj in page.items:
            yield records.view(obj, scope.actor, deidentify=deidentify)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def read(scope: Scope, protocol: Protocol, *, purpose: str, deidentify: bool = False) -> Snapshot:
    """Read the trial for an export; the read itself is audited with its purpose.

    A de-identified snapshot (always, for a role that sees de-identified data) has its dates
    shifted per patient and its identifiers and free text withheld.
    """
    scope.require_role(EXPORTERS, "export the trial's data")
    deidentify = deidentify or scope.actor.deidentified
    tables = {name: list(_all(scope, records.spec_for(name), deidentify)) for name in ENTITIES}
    tables["treatment_ends"] = list(_all(scope, TREATMENT_END, deidentify))
    sites = list_sites(scope.session)
    countries = {site.id: site.country for site in sites}
    scope.audit(
        "export",
        "trial",
        protocol.id,
        new={
            "purpose": purpose,
            "deidentified": deidentify,
            "records": {k: len(v) for k, v in tables.items()},
        },
    )
    return Snapshot(protocol, deidentify, countries, tables, {s.id: s.name for s in sites})
