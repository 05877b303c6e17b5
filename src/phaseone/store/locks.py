"""Casebook locks: the one check every write to a patient's records passes through.

A patient's casebook is locked from the investigator's signature until the study chair or
an administrator releases it with a reason (workflow/casebook.py). records.create, update
and void, through which every workflow step writes a patient's data, call
`refuse_if_locked` first, so no door can change locked data.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from phaseone.store.errors import ConflictError
from phaseone.store.models import CasebookLock

# Built once: every write to a patient's records runs it.
_CURRENT_LOCK = (
    select(CasebookLock)
    .where(CasebookLock.patient_id == bindparam("patient_id"), CasebookLock.released_at.is_(None))
    .order_by(CasebookLock.id.desc())
)


def current_lock(session: Session, patient_id: int) -> CasebookLock | None:
    found: CasebookLock | None = session.scalars(_CURRENT_LOCK, {"patient_id": patient_id}).first()
    return found


def refuse_if_locked(session: Session, patient_id: int) -> None:
    if current_lock(session, patient_id) is not None:
        raise ConflictError(
            f"patient {patient_id}'s casebook is signed and locked; the study chair or an "
            "administrator must unlock it, with a reason, before any change"
        )
