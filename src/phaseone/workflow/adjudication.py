"""DLT adjudication and escalation decisions.

When a patient's DLT window ends (or treatment stops inside it), the DLT rules propose a
determination; the study chair reviews it (a change needs a reason and is audited) and
signs. Each signed determination re-runs the design, which proposes the escalation
decision; the chair confirms it with a signature. Then slots open, the waitlist is offered
them in order, and every site is told.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phaseone.errors import InputError, Problem
from phaseone.safety.dlt import LabPoint, PatientWindow, determine
from phaseone.safety.events import AdverseEvent as EngineEvent
from phaseone.store import records, signatures
from phaseone.store.access import DECISION_WRITERS, Role, Source, system_actor
from phaseone.store.errors import ConflictError
from phaseone.store.models import (
    AdverseEvent,
    Course,
    DltDetermination,
    DoseAdministration,
    EscalationDecision,
    LabResult,
    Patient,
    Registration,
    ScreeningCriterion,
    ScreeningEvaluation,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.trial import PendingWindow, Proposal
from phaseone.workflow.context import Trial
from phaseone.workflow.history import (
    DECISION_MEANING,
    DETERMINATION_MEANING,
    trial_state,
    valid_signature,
)
from phaseone.workflow.notify import notify
from phaseone.workflow.slots import reconcile

MARROW_CRITERION = "inc-marrow"
# Who reads the chair's queue as a page of its own: the chair, and monitors (read only).
QUEUE_READERS = DECISION_WRITERS | {Role.monitor}


def system_scope(scope: Scope) -> Scope:
    """The same transaction, acting as the system clock (for work nobody asked for)."""
    return Scope(scope.session, system_actor("system:clock", Source.system))


# --- the patient's DLT window as the safety engine reads it ------------------------------


def _marrow_disease(scope: Scope, patient_id: int) -> bool:
    stmt = (
        select(ScreeningCriterion.result)
        .join(ScreeningEvaluation, ScreeningCriterion.evaluation_id == ScreeningEvaluation.id)
        .where(
            ScreeningEvaluation.patient_id == patient_id,
            ScreeningEvaluation.voided.is_(False),
            ScreeningCriterion.criterion_id == MARROW_CRITERION,
        )
        .order_by(ScreeningEvaluation.id.desc())
        .limit(1)
    )
    return scope.session.scalar(stmt) == "met"


def patient_window(scope: Scope, trial: Trial, patient_id: int) -> PatientWindow:
    """Course 1 of a registered patient: doses, labs, transfusions, AEs, end of treatment."""
    session = scope.session
    reg = session.scalar(
        select(Registration).where(
            Registration.patient_id == patient_id, Registration.voided.is_(False)
        )
    )
    course = session.scalar(
        select(Course).where(
            Course.patient_id == patient_id, Course.number == 1, Course.voided.is_(False)
        )
    )
    patient = session.get(Patient, patient_id)
    if reg is None or course is None or patient is None:
        raise ConflictError(f"patient {patient_id} has no registration and course 1")
    agent = trial.protocol.evaluability.agent
    planned = len(trial.protocol.schedule_for(agent).days)
    given = len(
        list(
            session.scalars(
                select(DoseAdministration.id).where(
                    DoseAdministration.patient_id == patient_id,
                    DoseAdministration.course_id == course.id,
                    DoseAdministration.agent_id == agent,
                    DoseAdministration.given.is_(True),
                    DoseAdministration.voided.is_(False),
                )
            )
        )
    )
    labs = session.scalars(
        select(LabResult).where(LabResult.patient_id == patient_id, LabResult.voided.is_(False))
    )
    events = session.scalars(
        select(AdverseEvent).where(
            AdverseEvent.patient_id == patient_id, AdverseEvent.voided.is_(False)
        )
    )
    end = session.scalar(
        select(TreatmentEnd).where(
            TreatmentEnd.patient_id == patient_id, TreatmentEnd.voided.is_(False)
        )
    )
    # A late start of course 2 (with its cause) is what the course_delay DLT rule reads.
    second = session.scalar(
        select(Course).where(
            Course.patient_id == patient_id, Course.number == 2, Course.voided.is_(False)
        )
    )
    return PatientWindow(
        patient_id=patient.subject_code,
        dose_level=reg.dose_level,
        course_start=course.start_date,
        marrow_disease=_marrow_disease(scope, patient_id),
        doses_planned=planned,
        doses_given=min(given, planned),
        off_treatment=None if end is None else end.ended_on,
        off_treatment_reason=None if end is None else end.reason,
        next_course_delay_days=None if second is None else second.delay_days,
        delay_cause=None if second is None else second.delay_cause,
        labs=tuple(
            LabPoint(date=lab.collected_on, analyte=lab.analyte, value=lab.value, unit=lab.unit)
            for lab in labs
        ),
        events=tuple(
            EngineEvent(
                id=str(ae.id),
                term=ae.meddra_term or ae.term_verbatim,
                grade=ae.grade,
                onset=ae.onset_date,
                resolved=ae.resolved_date,
                serious=ae.serious,
                attribution=ae.attribution or {},
                flags=frozenset((ae.grading_detail or {}).get("flags", [])),
            )
            for ae in events
        ),
    )


# --- determinations ------------------------------------------------------------------------


def open_determination(scope: Scope, patient_id: int) -> DltDetermination | None:
    """The newest determination of a patient not (validly) signed yet."""
    stmt = (
        select(DltDetermination)
        .where(DltDetermination.patient_id == patient_id, DltDetermination.voided.is_(False))
        .order_by(DltDetermination.id.desc())
    )
    for det in scope.session.scalars(stmt):
        if valid_signature(scope.session, "dlt_determinations", det, DETERMINATION_MEANING):
            return None
        return det
    return None


def _patient_by_code(scope: Scope, code: str) -> Patient:
    patient = scope.session.scalar(select(Patient).where(Patient.subject_code == code))
    assert patient is not None
    return patient


def propose_determination(
    scope: Scope, trial: Trial, window: PendingWindow, as_of: dt.date
) -> DltDetermination | None:
    """Apply the DLT rules to a patient whose window is over; None while rules still wait."""
    patient = _patient_by_code(scope, window.patient)
    if open_determination(scope, patient.id) is not None:
        return None
    record = patient_window(scope, trial, patient.id)
    found = determine(record, trial.protocol, version=trial.ctcae_version, as_of=as_of)
    if found.status == "pending" or found.evaluable is None:
        return None
    course = scope.session.scalar(
        select(Course).where(Course.patient_id == patient.id, Course.number == 1)
    )
    first = found.hits[0] if found.hits else None
    detail: dict[str, Any] = {
        "status": found.status,
        "hits": [
            {"rule": h.rule_id, "text": h.rule_text, "event": h.event_id, "reason": h.reason}
            for h in found.hits
        ],
        "notes": [
            {"event": n.event_id, "term": n.term, "grade": n.grade, "finding": n.finding}
            for n in found.notes
        ],
        "evaluability": found.evaluability_reason,
        "window": [found.window[0].isoformat(), found.window[1].isoformat()],
        "assumed_rules": found.assumed_rules,
        "proposed_by": "DLT rules of the protocol",
    }
    event_id = int(first.event_id) if first is not None and first.event_id else None
    det: DltDetermination = records.create(
        system_scope(scope),
        records.SPECS["dlt_determinations"],
        {
            "patient_id": patient.id,
            "course_id": None if course is None else course.id,
            "adverse_event_id": event_id,
            "determined_on": as_of,
            "is_dlt": found.status == "dlt",
            "evaluable": bool(found.evaluable),
            "rule": first.rule_id if first else ("no_dlt" if found.evaluable else "inevaluable"),
            "detail": detail,
            "rationale": found.explain(),
        },
    )
    notify(
        system_scope(scope),
        "determination_due",
        f"DLT window of {patient.subject_code} (dose level {window.level}) is over: the rules "
        f"propose {'a DLT' if det.is_dlt else 'no DLT'}"
        f"{'' if det.evaluable else ' (not evaluable)'}; the study chair signs.",
        site_id=patient.site_id,
    )
    return det


def sign_determination(
    scope: Scope,
    trial: Trial,
    determination_id: int,
    *,
    username: str,
    password: str,
    policy: SecurityPolicy,
    now: dt.datetime,
) -> EscalationDecision:
    """The chair signs a determination; the design is re-run and proposes the decision."""
    det = records.get(scope, records.SPECS["dlt_determinations"], determination_id)
    if valid_signature(scope.session, "dlt_determinations", det, DETERMINATION_MEANING):
        raise ConflictError(f"DLT determination {determination_id} is already signed")
    signatures.sign(
        scope,
        entity="dlt_determinations",
        record_id=determination_id,
        meaning_id=DETERMINATION_MEANING,
        username=username,
        password=password,
        policy=policy,
    )
    decision = propose_decision(scope, trial, now.date(), force=True)
    assert decision is not None
    reconcile(scope, trial, now)
    return decision


def change_determination(
    scope: Scope,
    trial: Trial,
    determination_id: int,
    changes: dict[str, Any],
    reason: str,
    now: dt.datetime,
) -> DltDetermination:
    """Correct a determination (the chair; a reason is required). A signed one loses its
    signature (the break is audited) and the patient counts as pending until re-signed."""
    allowed = {"is_dlt", "evaluable", "rationale"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InputError(
            [Problem(name, "only is_dlt, evaluable and rationale change") for name in unknown]
        )
    det: DltDetermination = records.update(
        scope, records.SPECS["dlt_determinations"], determination_id, changes, reason
    )
    propose_decision(scope, trial, now.date())
    reconcile(scope, trial, now)
    return det


# --- escalation decisions ------------------------------------------------------------------


def open_decisions(scope: Scope) -> list[EscalationDecision]:
    stmt = select(EscalationDecision).where(EscalationDecision.voided.is_(False))
    return [
        d
        for d in scope.session.scalars(stmt.order_by(EscalationDecision.id))
        if valid_signature(scope.session, "escalation_decisions", d, DECISION_MEANING) is None
    ]


def _matches(decision: EscalationDecision, proposal: Proposal) -> bool:
    return (decision.decision, decision.from_dose_level, decision.dose_level) == (
        proposal.kind,
        proposal.from_level,
        proposal.level,
    )


def propose_decision(
    scope: Scope, trial: Trial, as_of: dt.date, *, force: bool = False
) -> EscalationDecision | None:
    """Re-run the design and record its proposal for the chair (superseding stale ones).

    With `force`, a proposal is recorded even when it only confirms the open level (after
    each signed determination the chair confirms the design's answer, whatever it is).
    """
    proposal = trial_state(scope.session, trial, as_of).proposal
    current = open_decisions(scope)
    keep = [d for d in current if _matches(d, proposal)]
    for stale in current:
        if stale not in keep:
            records.void(
                system_scope(scope),
                records.SPECS["escalation_decisions"],
                stale.id,
                f"superseded: the design now proposes to {proposal.summary()}",
            )
    if keep:
        return keep[-1]
    if not force and not proposal.changes_accrual:
        return None
    state = {k: v for k, v in proposal.state.items() if k != "outcomes"}
    state["outcomes"] = proposal.state.get("outcomes")
    decision: EscalationDecision = records.create(
        system_scope(scope),
        records.SPECS["escalation_decisions"],
        {
            "decided_on": as_of,
            "from_dose_level": proposal.from_level,
            "dose_level": proposal.level,
            "decision": proposal.kind,
            "design": trial.design.name,
            "state": {"design_state": state, "explain": proposal.rationale},
            "rationale": proposal.summary(),
        },
    )
    notify(
        system_scope(scope),
        "decision_proposed",
        f"The design proposes to {proposal.summary()}; the study chair confirms.",
    )
    return decision


def confirm_decision(
    scope: Scope,
    trial: Trial,
    decision_id: int,
    *,
    username: str,
    password: str,
    policy: SecurityPolicy,
    now: dt.datetime,
) -> EscalationDecision:
    """The chair confirms the design's proposal with a signature; accrual follows it."""
    decision: EscalationDecision = records.get(
        scope, records.SPECS["escalation_decisions"], decision_id
    )
    if decision.voided:
        raise ConflictError(f"escalation decision {decision_id} was superseded")
    if valid_signature(scope.session, "escalation_decisions", decision, DECISION_MEANING):
        raise ConflictError(f"escalation decision {decision_id} is already confirmed")
    proposal = trial_state(scope.session, trial, now.date()).proposal
    if not _matches(decision, proposal):
        raise ConflictError(
            f"this proposal is out of date: the design now proposes to {proposal.summary()}"
        )
    signatures.sign(
        scope,
        entity="escalation_decisions",
        record_id=decision_id,
        meaning_id=DECISION_MEANING,
        username=username,
        password=password,
        policy=policy,
    )
    # Earlier unconfirmed proposals are moot once one is confirmed.
    for other in open_decisions(scope):
        if other.id != decision.id:
            records.void(
                system_scope(scope),
                records.SPECS["escalation_decisions"],
                other.id,
                "superseded by a confirmed decision",
            )
    plan = reconcile(scope, trial, now)
    state = trial_state(scope.session, trial, now.date())
    notify(
        scope,
        "decision",
        f"Escalation decision confirmed: {proposal.summary()}. {state.accrual_reason()}; "
        f"{len(plan.waitlist)} request(s) still waiting.",
    )
    return decision


def refresh(scope: Scope, trial: Trial, now: dt.datetime) -> list[DltDetermination]:
    """What the clock brings: lapsed holds expire, ended windows get a proposed
    determination, a stale decision proposal is replaced. Idempotent."""
    clock = system_scope(scope)
    reconcile(clock, trial, now)
    made = []
    for window in trial_state(scope.session, trial, now.date()).due:
        det = propose_determination(scope, trial, window, now.date())
        if det is not None:
            made.append(det)
    if open_decisions(scope):
        propose_decision(scope, trial, now.date())
    return made


def let_clock_act(scope: Scope, trial: Trial, now: dt.datetime) -> None:
    """Before showing the trial to anyone: what the clock brings (see `refresh`), done by
    the system in the caller's transaction, whatever the caller's role and site."""
    refresh(system_scope(scope), trial, now)


@dataclass(frozen=True)
class ChairQueue:
    """What waits for the study chair: determinations proposed or changed and not signed
    (with each patient's code), and windows that are over with no proposal yet."""

    awaiting_signature: list[DltDetermination]
    awaiting_data: tuple[PendingWindow, ...]
    codes: dict[int, str]
    decisions: list[EscalationDecision]


def chair_queue(scope: Scope, trial: Trial, as_of: dt.date) -> ChairQueue:
    """The chair's queue as the caller may see it (site staff: their own site's rows)."""
    spec = records.SPECS["dlt_determinations"]
    visible: list[DltDetermination] = records.list_records(
        scope, spec, {}, limit=10_000, offset=0
    ).items
    waiting = [d for d in visible if open_determination(scope, d.patient_id) is d]
    codes = {
        p.id: p.subject_code
        for p in scope.session.scalars(
            select(Patient).where(Patient.id.in_([d.patient_id for d in waiting]))
        )
    }
    coded = set(codes.values())
    state = trial_state(scope.session, trial, as_of)
    no_proposal = tuple(w for w in state.due if w.patient not in coded)
    return ChairQueue(waiting, no_proposal, codes, open_decisions(scope))


def propose_due(scope: Scope, trial: Trial, now: dt.datetime) -> list[DltDetermination]:
    """The study chair asks for what the clock would bring now (see `refresh`): the
    determinations the DLT rules propose for windows that are over."""
    scope.require_role(DECISION_WRITERS, "ask for DLT determinations")
    return refresh(scope, trial, now)


def record_proposal(scope: Scope, trial: Trial, as_of: dt.date) -> EscalationDecision:
    """The study chair asks the design for its decision now, recorded for confirmation
    (the open proposal if it still stands; stale ones are superseded)."""
    scope.require_role(DECISION_WRITERS, "ask for an escalation decision")
    decision = propose_decision(scope, trial, as_of, force=True)
    assert decision is not None
    return decision
