"""Who is acting, and what each role may do.

Roles follow the trial's organisation: site staff see only their own site; the study chair,
monitors, statisticians and administrators see every site. The statistician sees
de-identified data; the monitor writes nothing. The table lives here, beside the
repositories that enforce it, so that no adapter can forget a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    study_chair = "study_chair"
    site_investigator = "site_investigator"
    site_coordinator = "site_coordinator"
    statistician = "statistician"
    monitor = "monitor"


class Source(StrEnum):
    """Where an action came from, as recorded in the audit trail."""

    page = "page"
    api = "api"
    cli = "cli"
    imported = "import"
    system = "system"


SITE_ROLES = frozenset({Role.site_investigator, Role.site_coordinator})

# Clinical data entry (patients and everything recorded about them).
CLINICAL_WRITERS = frozenset({Role.study_chair, Role.site_investigator, Role.site_coordinator})
# Trial-level decisions (DLT determinations, escalation decisions).
DECISION_WRITERS = frozenset({Role.study_chair})
# Who may read and export the audit trail.
AUDIT_READERS = frozenset({Role.admin, Role.study_chair, Role.monitor})
# Who may take the whole trial's data out in CDISC form (the statistician's copy is
# de-identified like every other view of theirs).
EXPORTERS = frozenset({Role.admin, Role.study_chair, Role.statistician, Role.monitor})
# Who records a central laboratory's receipt of specimens and imports its results files.
CENTRAL_LAB_WRITERS = frozenset({Role.study_chair})
# Who manages accounts and sites.
ACCOUNT_MANAGERS = frozenset({Role.admin})
# Monitoring. Who raises, closes and re-opens queries about data: the monitor and the study
# chair's operations centre (the trial's data management; there is no separate data-manager
# role). Who answers them: the site that owns the record. Who reads them: everyone but the
# statistician, who gets counts by site or form only (no patient, no value, no words).
QUERY_RAISERS = frozenset({Role.monitor, Role.study_chair})
QUERY_ANSWERERS = SITE_ROLES
MONITORING_READERS = frozenset(
    {Role.admin, Role.study_chair, Role.monitor, Role.site_investigator, Role.site_coordinator}
)
# Source-data verification is the monitor's own act.
SDV_VERIFIERS = frozenset({Role.monitor})
# The site investigator signs a patient's casebook; the chair or an administrator unlocks it.
CASEBOOK_SIGNERS = frozenset({Role.site_investigator})
CASEBOOK_UNLOCKERS = frozenset({Role.study_chair, Role.admin})
# Who sees identifiers (names, record numbers, real dates).
DEIDENTIFIED_ROLES = frozenset({Role.statistician})


@dataclass(frozen=True)
class Actor:
    """The person (or process) behind an action, as the audit trail records it."""

    user_id: int | None
    username: str
    role: Role | None
    site_id: str | None
    source: Source
    client_ip: str | None = None

    @property
    def site_scoped(self) -> bool:
        return self.role in SITE_ROLES

    @property
    def deidentified(self) -> bool:
        return self.role in DEIDENTIFIED_ROLES

    def sees_site(self, site_id: str) -> bool:
        return not self.site_scoped or site_id == self.site_id


def system_actor(username: str, source: Source = Source.cli) -> Actor:
    """An actor for work done outside a login (CLI administration, migrations)."""
    return Actor(user_id=None, username=username, role=None, site_id=None, source=source)
