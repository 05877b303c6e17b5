"""Subject codes: numbered trial-wide by the server, or chosen by a site inside its own
prefix, so that a clash can only be with the site's own patient and a refused code tells
nothing about another site's patients."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from phaseone.errors import InputError, Problem
from phaseone.store.access import Actor
from phaseone.store.models import Patient

# Server-assigned codes: "S-0001", "S-0002", ... in order of creation across the trial.
ASSIGNED_PREFIX = "S-"
# An arbitrary, fixed key for pg_advisory_xact_lock ("subjct" in ASCII): two sites adding
# patients at once take numbers one after the other.
NUMBERING_LOCK_KEY = 0x7375626A6374


def site_prefix(site_id: str) -> str:
    return f"{site_id.upper()}-"


def check_chosen(actor: Actor, site_id: str, code: str) -> None:
    """Site staff may choose a code only under their site's prefix (e.g. CHLA-012)."""
    if actor.site_scoped and not code.upper().startswith(site_prefix(site_id)):
        raise InputError(
            [
                Problem(
                    "subject_code",
                    f"a code chosen by the site must begin with {site_prefix(site_id)!r}; "
                    "leave it empty to have the next trial-wide number assigned",
                )
            ]
        )


def next_code(session: Session) -> str:
    """The next free trial-wide number (the caller's transaction holds it until commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBERING_LOCK_KEY})
    number = int(session.scalar(select(func.count()).select_from(Patient)) or 0) + 1
    while True:
        code = f"{ASSIGNED_PREFIX}{number:04d}"
        taken = session.scalar(select(Patient.id).where(Patient.subject_code == code).limit(1))
        if taken is None:
            return code
        number += 1
