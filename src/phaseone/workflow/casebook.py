"""A patient's casebook: the investigator's signature over all of the patient's records,
the lock it sets, and its release.

Signing is Part 11 style (21 CFR 11.50, 11.200): the signer re-enters username and
password (`accounts.reauthenticate`, audited and throttled like a login), the meaning comes
from store/data/signature_meanings.yaml, and the signature keeps the printed name, the UTC
time and the SHA-256 over every record of the patient (voided ones and their void flag
included). The lock is checked by the store on every write (store/locks.py). Unlocking needs
the study chair or an administrator and a reason; a change after that makes the hash
differ, so the signature shows as broken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phaseone.errors import InputError, Problem
from phaseone.store import locks, records
from phaseone.store.access import CASEBOOK_SIGNERS, CASEBOOK_UNLOCKERS, MONITORING_READERS
from phaseone.store.audit import canonical_json, sha256_hex
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import Base, CasebookLock, Patient, PatientOwned, Signature
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.store.signatures import apply_signature, meanings

ENTITY = "casebooks"
MEANING = "casebook-signed"


def _patient_tables() -> list[Any]:
    found = [m.class_ for m in Base.registry.mappers if issubclass(m.class_, PatientOwned)]
    return sorted(found, key=lambda model: model.__tablename__)


def casebook_hash(scope: Scope, patient: Patient) -> str:
    """SHA-256 over the patient and every record of the patient, in a fixed order."""
    body: dict[str, Any] = {"patient": {"id": patient.id, "content": records.content(patient)}}
    for model in _patient_tables():
        rows = scope.session.scalars(
            select(model).where(model.patient_id == patient.id).order_by(model.id)
        )
        body[model.__tablename__] = [
            {"id": r.id, "voided": r.voided, "content": records.content(r)} for r in rows
        ]
    return sha256_hex(canonical_json(body))


def _patient(scope: Scope, patient_id: int) -> Patient:
    found: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    return found


def sign(
    scope: Scope,
    patient_id: int,
    *,
    username: str,
    password: str,
    policy: SecurityPolicy,
    now: dt.datetime,
) -> Signature:
    """The investigator signs the casebook and it locks. A failed re-authentication is
    audited and counts toward lockout; the caller commits that before refusing."""
    patient = _patient(scope, patient_id)  # first: another site's patient is not found
    scope.require_role(CASEBOOK_SIGNERS, "sign casebooks")
    if scope.actor.role is None:
        raise PermissionDenied("a casebook is signed by a site investigator in person")
    if locks.current_lock(scope.session, patient.id) is not None:
        raise ConflictError(f"patient {patient.id}'s casebook is already signed and locked")
    sig = apply_signature(
        scope,
        meanings()[MEANING],
        entity=ENTITY,
        entity_id=patient.id,
        site_id=patient.site_id,
        content_hash=casebook_hash(scope, patient),
        username=username,
        password=password,
        policy=policy,
        signed_at=now,
    )
    lock = CasebookLock(
        site_id=patient.site_id, patient_id=patient.id, signature_id=sig.id, locked_at=now
    )
    scope.session.add(lock)
    scope.session.flush()
    locks.forget(scope.session)
    scope.audit(
        "sign",
        ENTITY,
        patient.id,
        record_site_id=patient.site_id,
        new={
            "signature_id": sig.id,
            "meaning": sig.meaning,
            "printed_name": sig.printed_name,
            "content_hash": sig.content_hash,
            "locked": True,
        },
    )
    return sig


def unlock(scope: Scope, patient_id: int, *, reason: str | None, now: dt.datetime) -> CasebookLock:
    """Release the lock (study chair or administrator, with a reason); audited."""
    patient = _patient(scope, patient_id)
    scope.require_role(CASEBOOK_UNLOCKERS, "unlock casebooks")
    if reason is None or not reason.strip():
        raise InputError([Problem("reason", "a reason is required to unlock a casebook")])
    lock = locks.current_lock(scope.session, patient.id)
    if lock is None:
        raise ConflictError(f"patient {patient.id}'s casebook is not locked")
    lock.released_at = now
    lock.released_by = scope.actor.user_id
    lock.release_reason = reason.strip()
    scope.session.flush()
    locks.forget(scope.session)
    scope.audit(
        "casebook_unlock",
        ENTITY,
        patient.id,
        record_site_id=patient.site_id,
        field="locked",
        old=True,
        new=False,
        has_old=True,
        has_new=True,
        reason=lock.release_reason,
    )
    return lock


@dataclass(frozen=True)
class SignatureState:
    id: int
    meaning: str
    printed_name: str
    signer_role: str
    signed_at: dt.datetime
    content_hash: str
    status: str  # "valid" or "broken"


@dataclass(frozen=True)
class CasebookState:
    patient_id: int
    subject_code: str
    locked: bool
    locked_at: dt.datetime | None
    current_hash: str
    signatures: list[SignatureState]
    released: list[CasebookLock]


def state(scope: Scope, patient_id: int) -> CasebookState:
    """The casebook's lock and each signature on it, valid while nothing has changed."""
    patient = _patient(scope, patient_id)
    scope.require_role(MONITORING_READERS, "read casebooks")
    current = casebook_hash(scope, patient)
    sigs = scope.session.scalars(
        select(Signature)
        .where(Signature.entity == ENTITY, Signature.entity_id == patient.id)
        .order_by(Signature.id)
    ).all()
    lock = locks.current_lock(scope.session, patient.id)
    released = scope.session.scalars(
        select(CasebookLock)
        .where(CasebookLock.patient_id == patient.id, CasebookLock.released_at.is_not(None))
        .order_by(CasebookLock.id)
    ).all()
    return CasebookState(
        patient_id=patient.id,
        subject_code=patient.subject_code,
        locked=lock is not None,
        locked_at=lock.locked_at if lock else None,
        current_hash=current,
        signatures=[
            SignatureState(
                s.id,
                s.meaning,
                s.printed_name,
                s.signer_role,
                s.signed_at,
                s.content_hash,
                "valid" if s.content_hash == current else "broken",
            )
            for s in sigs
        ],
        released=list(released),
    )
