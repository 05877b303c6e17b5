"""Casebook locks: the one check every write to a patient's records passes through.

A patient's casebook is locked from the investigator's signature until the study chair or
an administrator releases it with a reason (workflow/casebook.py). records.create, update
and void, through which every workflow step writes a patient's data, call
`refuse_if_locked` first, so no door can change locked data.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from phaseone.store.errors import ConflictError
from phaseone.store.models import CasebookLock, Patient

# Built once: every write to a patient's records runs it.
_CURRENT_LOCK = (
    select(CasebookLock)
    .where(CasebookLock.patient_id == bindparam("patient_id"), CasebookLock.released_at.is_(None))
    .order_by(CasebookLock.id.desc())
)


def current_lock(session: Session, patient_id: int) -> CasebookLock | None:
    found: CasebookLock | None = session.scalars(_CURRENT_LOCK, {"patient_id": patient_id}).first()
    return found


# Whether the patient's casebook is locked, as a column of a query that reads the patient
# anyway: a write reads the patient and its lock in one round trip (see `note_unlocked`).
LOCKED = (
    exists()
    .where(CasebookLock.patient_id == Patient.id, CasebookLock.released_at.is_(None))
    .label("casebook_locked")
)
_UNLOCKED = "phaseone_casebook_unlocked"


def note_unlocked(session: Session, patient_id: int) -> None:
    """Remember that this transaction has read the patient's casebook as unlocked (through
    `LOCKED`), so that `refuse_if_locked` need not read it again in the same transaction.
    Only this module's callers lock and unlock (workflow/casebook.py), and they `forget`."""
    transaction = session.get_transaction()
    seen = session.info.get(_UNLOCKED)
    if seen is None or seen[0] is not transaction:
        seen = session.info[_UNLOCKED] = (transaction, set[int]())
    seen[1].add(patient_id)


def forget(session: Session) -> None:
    """Drop what `note_unlocked` remembered (a lock was just taken or released)."""
    session.info.pop(_UNLOCKED, None)


def _seen_unlocked(session: Session, patient_id: int) -> bool:
    seen = session.info.get(_UNLOCKED)
    return seen is not None and seen[0] is session.get_transaction() and patient_id in seen[1]


def refuse_if_locked(session: Session, patient_id: int) -> None:
    if _seen_unlocked(session, patient_id):
        return
    if current_lock(session, patient_id) is not None:
        raise ConflictError(
            f"patient {patient_id}'s casebook is signed and locked; the study chair or an "
            "administrator must unlock it, with a reason, before any change"
        )
