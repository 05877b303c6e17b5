"""The dose-escalation meeting pack: what the committee reviews before the chair signs.

For the decision in question (the open proposal, or a given one): the state of every dose
level; the patients of the levels it concerns with their DLT windows, course-1 doses given
against planned, toxicities and determinations; the design's proposal and what it would
propose for every outcome still possible; and the decision with its signature once made.
Gathered in one read, as of a date; reading it is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from phaseone.store import records
from phaseone.store.access import Role
from phaseone.store.errors import ConflictError
from phaseone.store.models import (
    AdverseEvent,
    Course,
    DltDetermination,
    DoseAdministration,
    EscalationDecision,
    Patient,
    Registration,
    Signature,
)
from phaseone.store.scope import Scope
from phaseone.trial import TrialState
from phaseone.trial.whatif import WhatIf, what_if
from phaseone.trial.windows import dlt_window_end
from phaseone.workflow.adjudication import open_decisions
from phaseone.workflow.context import Trial
from phaseone.workflow.history import (
    DECISION_MEANING,
    DETERMINATION_MEANING,
    trial_state,
    valid_signature,
)

READERS = frozenset({Role.study_chair, Role.admin, Role.monitor})


@dataclass(frozen=True)
class DoseLine:
    agent: str
    days_given: int
    days_planned: int
    mg_given: float
    mg_planned: float


@dataclass(frozen=True)
class Toxicity:
    term: str
    grade: int
    onset: dt.date
    resolved: dt.date | None
    serious: bool
    attribution: str
    in_window: bool


@dataclass(frozen=True)
class SignatureLine:
    printed_name: str
    role: str
    signed_at: dt.datetime
    meaning: str


@dataclass(frozen=True)
class Determination:
    outcome: str  # "DLT", "no DLT", "not evaluable"
    rule: str | None
    determined_on: dt.date
    rationale: str | None
    signature: SignatureLine | None


@dataclass(frozen=True)
class CohortPatient:
    subject: str
    site: str
    level: int
    registered_on: dt.date
    course_start: dt.date | None
    window_end: dt.date
    window: str  # "open", "over" or "determined"
    doses: tuple[DoseLine, ...]
    toxicities: tuple[Toxicity, ...]
    determination: Determination | None


@dataclass(frozen=True)
class DecisionLine:
    id: int
    summary: str
    design: str
    decided_on: dt.date
    rationale: str | None
    signature: SignatureLine | None
    voided: bool


@dataclass(frozen=True)
class MeetingPack:
    protocol_id: str
    protocol_title: str
    as_of: dt.date
    state: TrialState
    levels_in_question: tuple[int, ...]
    patients: tuple[CohortPatient, ...]
    decision: DecisionLine | None
    what_if: WhatIf
    design_assumed: str | None
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["state"] = self.state.as_dict()
        data["what_if"] = {
            "basis": self.what_if.basis,
            "note": self.what_if.note,
            "scenarios": [
                {"outcome": s.describe(), "proposal": s.proposal.summary()}
                for s in self.what_if.scenarios
            ],
        }
        return data


def _signature(sig: Signature | None) -> SignatureLine | None:
    if sig is None:
        return None
    return SignatureLine(sig.printed_name, sig.signer_role, sig.signed_at, sig.meaning)


def _decision(scope: Scope, decision_id: int | None) -> EscalationDecision | None:
    if decision_id is not None:
        found: EscalationDecision = records.get(
            scope, records.SPECS["escalation_decisions"], decision_id
        )
        return found
    waiting = open_decisions(scope)
    return waiting[-1] if waiting else None


def meeting_pack(
    scope: Scope, trial: Trial, as_of: dt.date, decision_id: int | None = None
) -> MeetingPack:
    """Everything the committee reviews for one decision, as of `as_of`."""
    scope.require_role(READERS, "read the dose-escalation meeting pack")
    state = trial_state(scope.session, trial, as_of)
    decision = _decision(scope, decision_id)
    levels: set[int] = set()
    if decision is not None:
        levels |= {lv for lv in (decision.from_dose_level, decision.dose_level) if lv is not None}
    if state.current_level is not None:
        levels.add(state.current_level)
    levels |= {p.level for p in state.pending}
    if not levels:
        raise ConflictError("no dose level is in question: nobody is registered yet")
    patients = tuple(_patients(scope, trial, sorted(levels), as_of))
    level_ids = tuple(lv.id for lv in trial.protocol.dose_levels)
    current = state.current_level if state.current_level is not None else level_ids[0]
    scenarios = what_if(trial.design, state.design_state.outcomes, level_ids, current)
    line = None
    if decision is not None:
        sig = valid_signature(scope.session, "escalation_decisions", decision, DECISION_MEANING)
        line = DecisionLine(
            decision.id,
            decision.rationale or decision.decision,
            decision.design,
            decision.decided_on,
            (decision.state or {}).get("explain"),
            _signature(sig),
            decision.voided,
        )
    design_prov = trial.protocol.design.provenance
    assumed = design_prov.note if design_prov.source == "assumed" else None
    scope.audit(
        "read",
        "meeting_pack",
        None if decision is None else decision.id,
        new={"as_of": as_of.isoformat(), "levels": sorted(levels)},
    )
    return MeetingPack(
        trial.protocol.id,
        trial.protocol.identity.brief_title,
        as_of,
        state,
        tuple(sorted(levels)),
        patients,
        line,
        scenarios,
        assumed,
    )


def _patients(scope: Scope, trial: Trial, levels: list[int], as_of: dt.date) -> list[CohortPatient]:
    session = scope.session
    regs = session.scalars(
        select(Registration)
        .where(Registration.voided.is_(False), Registration.dose_level.in_(levels))
        .order_by(Registration.registered_on, Registration.id)
    )
    out = []
    for reg in regs:
        patient = session.get(Patient, reg.patient_id)
        assert patient is not None
        course = session.scalar(
            select(Course).where(
                Course.patient_id == reg.patient_id, Course.number == 1, Course.voided.is_(False)
            )
        )
        start = course.start_date if course is not None else None
        window_end = dlt_window_end(trial.protocol, start or reg.registered_on)
        det = _determination(scope, reg.patient_id)
        if det is not None and det.signature is not None:
            window = "determined"
        else:
            window = "over" if as_of > window_end else "open"
        out.append(
            CohortPatient(
                patient.subject_code,
                reg.site_id,
                reg.dose_level,
                reg.registered_on,
                start,
                window_end,
                window,
                _doses(scope, trial, course),
                _toxicities(scope, reg.patient_id, start, window_end),
                det,
            )
        )
    return out


def _determination(scope: Scope, patient_id: int) -> Determination | None:
    """The newest determination of a patient, with its signature if validly signed."""
    det = scope.session.scalar(
        select(DltDetermination)
        .where(DltDetermination.patient_id == patient_id, DltDetermination.voided.is_(False))
        .order_by(DltDetermination.id.desc())
        .limit(1)
    )
    if det is None:
        return None
    outcome = "DLT" if det.is_dlt else ("no DLT" if det.evaluable else "not evaluable")
    sig = valid_signature(scope.session, "dlt_determinations", det, DETERMINATION_MEANING)
    return Determination(outcome, det.rule, det.determined_on, det.rationale, _signature(sig))


def _doses(scope: Scope, trial: Trial, course: Course | None) -> tuple[DoseLine, ...]:
    """Course 1 per agent of the level: days and milligrams given against planned."""
    if course is None:
        return ()
    rows = list(
        scope.session.scalars(
            select(DoseAdministration).where(
                DoseAdministration.course_id == course.id, DoseAdministration.voided.is_(False)
            )
        )
    )
    level = trial.protocol.dose_level(course.dose_level)
    lines = []
    for agent in trial.protocol.agents:
        if agent.id not in level.doses:
            continue
        mine = [r for r in rows if r.agent_id == agent.id]
        given = [r for r in mine if r.given]
        lines.append(
            DoseLine(
                agent.name,
                len(given),
                len(trial.protocol.schedule_for(agent.id).days),
                sum(r.given_dose or 0.0 for r in given),
                sum(r.planned_dose or 0.0 for r in mine),
            )
        )
    return tuple(lines)


def _toxicities(
    scope: Scope, patient_id: int, start: dt.date | None, window_end: dt.date
) -> tuple[Toxicity, ...]:
    events = scope.session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id == patient_id, AdverseEvent.voided.is_(False))
        .order_by(AdverseEvent.onset_date, AdverseEvent.id)
    )
    out = []
    for ae in events:
        attribution = ", ".join(f"{k}: {v}" for k, v in sorted((ae.attribution or {}).items()))
        in_window = start is not None and start <= ae.onset_date <= window_end
        out.append(
            Toxicity(
                ae.meddra_term or ae.term_verbatim,
                ae.grade,
                ae.onset_date,
                ae.resolved_date,
                ae.serious,
                attribution,
                in_window,
            )
        )
    return tuple(out)
