"""The trial's history read from the store, as the plain data the trial aggregate takes.

Only signed records count: a DLT determination or an escalation decision takes effect
when the study chair's signature on it is valid (a later edit breaks the signature and the
patient is pending again until the chair signs anew).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from phaseone.store import audit, records
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
    return valid_signatures(session, entity, [obj], meaning)[obj.id]


def valid_signatures(
    session: Session, entity: str, objs: Sequence[Any], meaning: str
) -> dict[int, Signature | None]:
    """`valid_signature` of each record, read in one query (by record id)."""
    found: dict[int, Signature | None] = {obj.id: None for obj in objs}
    live = {obj.id: obj for obj in objs if not obj.voided}
    if not live:
        return found
    stmt = (
        select(Signature)
        .where(
            Signature.entity == entity,
            Signature.entity_id.in_(list(live)),
            Signature.meaning_id == meaning,
        )
        .order_by(Signature.id.desc())
    )
    current: dict[int, str] = {}
    for sig in session.scalars(stmt):
        if found[sig.entity_id] is not None:
            continue
        obj = live[sig.entity_id]
        if obj.id not in current:
            current[obj.id] = records.content_hash(entity, obj)
        if sig.content_hash == current[obj.id]:
            found[obj.id] = sig
    return found


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


def signatures_of_records(
    session: Session, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], list[Signature]]:
    """The signatures of each (entity, record id), oldest first, read in one query."""
    found: dict[tuple[str, int], list[Signature]] = {key: [] for key in keys}
    if not keys:
        return found
    ids: dict[str, list[int]] = {}
    for entity, obj_id in keys:
        ids.setdefault(entity, []).append(obj_id)
    stmt = select(Signature).where(
        or_(*(and_(Signature.entity == e, Signature.entity_id.in_(i)) for e, i in ids.items()))
    )
    for sig in session.scalars(stmt.order_by(Signature.id)):
        found[(sig.entity, sig.entity_id)].append(sig)
    return found


def signed_determination(session: Session, patient_id: int) -> DltDetermination | None:
    """The patient's newest determination whose chair's signature still holds."""
    return _signed_determinations(session, [patient_id]).get(patient_id)


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


def _signed_determinations(
    session: Session, patient_ids: Sequence[int]
) -> dict[int, DltDetermination]:
    """`signed_determination` of each patient, in two queries (the rule is the same: the
    newest determination whose chair's signature still holds)."""
    dets = list(
        session.scalars(
            select(DltDetermination)
            .where(DltDetermination.patient_id.in_(patient_ids), DltDetermination.voided.is_(False))
            .order_by(DltDetermination.id.desc())
        )
    )
    signed = valid_signatures(session, "dlt_determinations", dets, DETERMINATION_MEANING)
    found: dict[int, DltDetermination] = {}
    for det in dets:
        if det.patient_id not in found and signed[det.id] is not None:
            found[det.patient_id] = det
    return found


def load_history(session: Session) -> TrialHistory:
    """Every registration (all sites: the trial's state is trial-wide) and confirmed decision.

    Read in a fixed number of queries whatever the number of patients (the trial state is
    computed on every page and many API calls)."""
    regs = list(
        session.scalars(
            select(Registration)
            .where(Registration.voided.is_(False))
            .order_by(Registration.registered_on, Registration.id)
        )
    )
    ids = [reg.patient_id for reg in regs]
    codes = dict(
        session.execute(select(Patient.id, Patient.subject_code).where(Patient.id.in_(ids))).all()
    )
    ends = dict(
        session.execute(
            select(TreatmentEnd.patient_id, TreatmentEnd.ended_on).where(
                TreatmentEnd.patient_id.in_(ids), TreatmentEnd.voided.is_(False)
            )
        ).all()
    )
    starts = dict(
        session.execute(
            select(DoseAdministration.patient_id, func.min(DoseAdministration.administered_on))
            .where(
                DoseAdministration.patient_id.in_(ids),
                DoseAdministration.voided.is_(False),
                DoseAdministration.given.is_(True),
            )
            .group_by(DoseAdministration.patient_id)
        ).all()
    )
    determinations = _signed_determinations(session, ids)
    enrolments = []
    for reg in regs:
        det = determinations.get(reg.patient_id)
        enrolments.append(
            Enrolment(
                patient=codes[reg.patient_id],
                site=reg.site_id,
                level=reg.dose_level,
                registered_on=reg.registered_on,
                therapy_start=starts.get(reg.patient_id),
                outcome=outcome_of(det),
                determined_on=None if det is None else det.determined_on,
                off_treatment_on=ends.get(reg.patient_id),
            )
        )
    decisions = []
    proposed = list(
        session.scalars(
            select(EscalationDecision)
            .where(EscalationDecision.voided.is_(False))
            .order_by(EscalationDecision.id)
        )
    )
    confirmed = valid_signatures(session, "escalation_decisions", proposed, DECISION_MEANING)
    for d in proposed:
        sig = confirmed[d.id]
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


# The trial's state is read on nearly every page and many API calls; recomputing it means
# ~10 queries and the design's fit. It is a function of the committed data (versioned by
# `audit.committed_version`) and the day, so each process keeps the last few it computed.
_STATES: dict[tuple[int, int, tuple[object, ...], dt.date], tuple[object, Trial, TrialState]] = {}
_STATES_KEPT = 16
_STATES_LOCK = threading.Lock()


def trial_state(session: Session, trial: Trial, as_of: dt.date) -> TrialState:
    """The trial's state on `as_of` from the committed history (or this session's own
    uncommitted changes, which are never cached)."""
    version = audit.committed_version(session)
    if version is None:
        return evaluate(trial.protocol, load_history(session), as_of, trial.design)
    engine = session.get_bind()
    key = (id(engine), id(trial), version, as_of)
    kept = _STATES.get(key)
    if kept is not None and kept[0] is engine and kept[1] is trial:
        return kept[2]
    state = evaluate(trial.protocol, load_history(session), as_of, trial.design)
    with _STATES_LOCK:  # request threads share the cache
        if len(_STATES) >= _STATES_KEPT:
            _STATES.pop(next(iter(_STATES)))
        _STATES[key] = (engine, trial, state)
    return state
