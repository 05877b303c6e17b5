"""The main navigation: each page in it with the role set that may open it.

The sets are the services' own (store/access.py and the workflow modules that refine them),
so the menu is not a second statement of who may do what: `links_for` draws the menu from
the table, and `session.page_user` refuses (403) a page of the table to any other role, before
the page runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from phaseone.reports import downloads
from phaseone.store.access import (
    ACCOUNT_MANAGERS,
    CENTRAL_LAB_WRITERS,
    EXPORTERS,
    MONITORING_READERS,
    Role,
)
from phaseone.workflow.adjudication import QUEUE_READERS
from phaseone.workflow.operations import OPERATIONS_READERS

EVERYONE = frozenset(Role)
# Patient charts show identifiers and real dates (workflow/chart.py refuses the others).
IDENTIFIED = OPERATIONS_READERS


@dataclass(frozen=True)
class Link:
    path: str
    label: str
    readers: frozenset[Role]
    # The part of a page's address that marks it current in the menu (its sub-pages too).
    current_prefix: str | None = None

    def opens_for(self, role: Role) -> bool:
        return role in self.readers

    def is_current(self, path: str) -> bool:
        return path.startswith(self.current_prefix) if self.current_prefix else path == self.path


LINKS = (
    Link("/", "Dashboard", EVERYONE),
    Link("/patients", "Patients", IDENTIFIED, "/patients"),
    Link("/chair", "Chair's queue", QUEUE_READERS),
    Link("/response", "Response", EVERYONE),
    Link("/escalation", "Escalation history", EVERYONE),
    Link("/specimens", "Specimens", EVERYONE, "/specimens"),
    Link("/result-imports", "Lab results import", CENTRAL_LAB_WRITERS, "/result-imports"),
    # The correlative analyses read the trial's data snapshot, as the exports do.
    Link("/correlatives", "Correlatives", EXPORTERS),
    Link("/operations", "Operations", OPERATIONS_READERS, "/operations"),
    Link("/queries", "Queries", MONITORING_READERS, "/queries"),
    Link("/sdv", "SDV", MONITORING_READERS),
    Link("/documents", "Documents", downloads.ANY_READERS, "/documents"),
    Link("/audit", "Audit trail", EVERYONE),
    Link("/admin/users", "Administration", ACCOUNT_MANAGERS, "/admin"),
)

_BY_PATH = {link.path: link for link in LINKS}


def links_for(role: Role) -> tuple[Link, ...]:
    """The menu for a role: exactly the pages it may open."""
    return tuple(link for link in LINKS if link.opens_for(role))


def may_open(role: Role, path: str) -> bool:
    """Whether a role may open a page of the menu (pages outside it decide for themselves)."""
    link = _BY_PATH.get(path)
    return link is None or link.opens_for(role)
