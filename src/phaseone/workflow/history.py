"""The trial's history read from the store, as the plain data the trial aggregate takes.

Only signed records count: a DLT determination or an escalation decision takes effect
when the study chair's signature on it is valid (a later edit breaks the signature and the
patient is pending again until the chair signs anew).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from phaseone.store import records
from phaseone.store.models import (
    DltDetermination,
    DoseAdministration,
    EscalationDecision,
    Patient,
    Registration,
    Signature,
    TreatmentEnd,
)
from phaseone.trial import ConfirmedDecision, Enrolment, TrialHistory, TrialState, evaluate
from phaseone.trial.history import Outcome
from phaseone.workflow.context import Trial

DETERMINATION_MEANING = "dlt-determination"
DECISION_MEANING = "escalation-decision"


def valid_signature(session: Session, entity: str, obj: Any, meaning: str) -> Signature | None:
    """The newest signature with `meaning` that still matches the record's content."""
    if obj.voided:
        return None
    current = records.content_hash(entity, obj)
    stmt = (
        select(Signature)
        .where(
            Signature.entity == entity,
            Signature.entity_id == obj.id,
            Signature.meaning_id == meaning,
        )
        .order_by(Signature.id.desc())
    )
    for sig in session.scalars(stmt):
        if sig.content_hash == current:
            return sig
    return None


def decision_history(session: Session) -> list[dict[str, Any]]:
    """Every escalation decision, newest first, with its status: confirmed (a valid signature
    of the chair), superseded (voided) or awaiting the chair."""
    rows = []
    stmt = select(EscalationDecision).order_by(EscalationDecision.id.desc())
    for d in session.scalars(stmt):
        sig = valid_signature(session, "escalation_decisions", d, DECISION_MEANING)
        status = "confirmed" if sig else ("superseded" if d.voided else "awaiting the chair")
        rows.append({"d": d, "sig": sig, "status": status})
    return rows


def signatures_of(session: Session, entity: str, obj_id: int) -> Sequence[Signature]:
    stmt = select(Signature).where(Signature.entity == entity, Signature.entity_id == obj_id)
    return list(session.scalars(stmt.order_by(Signature.id)))


def signed_determination(session: Session, patient_id: int) -> DltDetermination | None:
    stmt = (
        select(DltDetermination)
        .where(DltDetermination.patient_id == patient_id, DltDetermination.voided.is_(False))
        .order_by(DltDetermination.id.desc())
    )
    for det in session.scalars(stmt):
        if valid_signature(session, "dlt_determinations", det, DETERMINATION_MEANING):
            return det
    return None


def outcome_of(det: DltDetermination | None) -> Outcome:
    if det is None:
        return "pending"
    if not det.evaluable:
        return "inevaluable"
    return "dlt" if det.is_dlt else "no_dlt"


def first_dose_date(session: Session, patient_id: int) -> dt.date | None:
    stmt = select(DoseAdministration.administered_on).where(
        DoseAdministration.patient_id == patient_id,
        DoseAdministration.voided.is_(False),
        DoseAdministration.given.is_(True),
    )
    return session.scalar(stmt.order_by(DoseAdministration.administered_on).limit(1))


def load_history(session: Session) -> TrialHistory:
    """Every registration (all sites: the trial's state is trial-wide) and confirmed decision."""
    regs = session.scalars(
        select(Registration)
        .where(Registration.voided.is_(False))
        .order_by(Registration.registered_on, Registration.id)
    )
    enrolments = []
    for reg in regs:
        det = signed_determination(session, reg.patient_id)
        end = session.scalar(
            select(TreatmentEnd).where(
                TreatmentEnd.patient_id == reg.patient_id, TreatmentEnd.voided.is_(False)
            )
        )
        patient = session.get(Patient, reg.patient_id)
        assert patient is not None
        enrolments.append(
            Enrolment(
                patient=patient.subject_code,
                site=reg.site_id,
                level=reg.dose_level,
                registered_on=reg.registered_on,
                therapy_start=first_dose_date(session, reg.patient_id),
                outcome=outcome_of(det),
                determined_on=None if det is None else det.determined_on,
                off_treatment_on=None if end is None else end.ended_on,
            )
        )
    decisions = []
    for d in session.scalars(
        select(EscalationDecision)
        .where(EscalationDecision.voided.is_(False))
        .order_by(EscalationDecision.id)
    ):
        sig = valid_signature(session, "escalation_decisions", d, DECISION_MEANING)
        if sig is None:
            continue
        decisions.append(
            (
                sig.signed_at,
                ConfirmedDecision(
                    decided_on=d.decided_on,
                    kind=d.decision,  # type: ignore[arg-type]
                    level=d.dose_level,
                    from_level=d.from_dose_level,
                    sequence=d.id,
                ),
            )
        )
    decisions.sort(key=lambda pair: (pair[0], pair[1].sequence))
    return TrialHistory.of(enrolments, [d for _, d in decisions])


def trial_state(session: Session, trial: Trial, as_of: dt.date) -> TrialState:
    return evaluate(trial.protocol, load_history(session), as_of, trial.design)
