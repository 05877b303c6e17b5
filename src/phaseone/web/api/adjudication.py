"""The trial's state and the study chair's side of the workflow over JSON: DLT
determinations proposed by the rules and signed by the chair, and escalation decisions
proposed by the design and confirmed by the chair.

Each endpoint calls one service of phaseone.workflow in the request's one transaction; the
services check roles and sites and audit every step. Nothing here decides a clinical rule.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from phaseone.store import records
from phaseone.store.models import DltDetermination
from phaseone.store.scope import Scope
from phaseone.trial import PendingWindow, TrialState
from phaseone.web.api.records import read_models
from phaseone.web.api.types import INT32_MAX
from phaseone.web.auth import Caller, keeping_failed_reauthentication, now, policy, trial_of
from phaseone.web.inputs import SignerIn
from phaseone.workflow import adjudication, slots, visibility
from phaseone.workflow.history import trial_state

router = APIRouter(tags=["workflow: trial and chair"])

RecordId = Annotated[int, Path(ge=1, le=INT32_MAX)]
READ = read_models()
DeterminationOut = READ["dlt_determinations"]
DecisionOut = READ["escalation_decisions"]


class LevelOut(BaseModel):
    level: int
    label: str
    state: str
    state_label: str
    enrolled: int
    evaluable: int
    dlt: int
    pending: int
    inevaluable: int
    slots_open: int
    note: str


class WindowOut(BaseModel):
    """A patient whose DLT outcome is not determined yet. Another site's patient is shown
    without code or id; dates are withheld from de-identified roles."""

    patient: str | None
    patient_id: int | None
    site_id: str
    level: int
    window_end: dt.date | None
    days_left: int | None
    due: bool = Field(description="The window is over: a determination is due.")
    reason: str | None


class ProposalOut(BaseModel):
    kind: str
    from_level: int | None
    level: int | None
    summary: str
    design: str
    rationale: str


class SlotCounts(BaseModel):
    held: int
    waitlisted: int
    free: int


class TrialOut(BaseModel):
    protocol: str
    design: str
    as_of: dt.date
    current_level: int | None = Field(description="The dose level open for accrual.")
    next_level: int | None = Field(
        description="The dose level a patient registered now gets (null: no slot is open)."
    )
    accrual: str
    accrual_reason: str
    slots_open: int
    slots: SlotCounts
    mtd: int | None
    next_window_close: dt.date | None
    levels: list[LevelOut]
    pending: list[WindowOut]
    proposal: ProposalOut
    decisions_awaiting_confirmation: list[int] = Field(
        description="Escalation decisions proposed by the design, not yet confirmed."
    )


def _windows(scope: Scope, windows: tuple[PendingWindow, ...]) -> list[dict[str, Any]]:
    return [
        {
            "patient": w.patient,
            "patient_id": w.patient_id,
            "site_id": w.site,
            "level": w.level,
            "window_end": w.window_end,
            "days_left": w.days_left,
            "due": w.due,
            "reason": w.reason,
        }
        for w in visibility.pending_windows(scope, windows)
    ]


def _trial_view(scope: Scope, request: Request, state: TrialState) -> dict[str, Any]:
    trial = trial_of(request)
    plan = slots.waitlist(scope, trial, now(request))
    return {
        "protocol": trial.protocol.id,
        "design": trial.design.name,
        "as_of": state.as_of,
        "current_level": state.current_level,
        "next_level": state.next_level,
        "accrual": state.accrual.value,
        "accrual_reason": state.accrual_reason(),
        "slots_open": state.slots_open,
        "slots": {"held": len(plan.held), "waitlisted": len(plan.waitlist), "free": plan.free},
        "mtd": state.mtd,
        "next_window_close": visibility.next_window_close(scope, state),
        "levels": [s.as_dict() for s in state.levels],
        "pending": _windows(scope, state.pending),
        "proposal": state.proposal.as_dict(),
        "decisions_awaiting_confirmation": [d.id for d in adjudication.open_decisions(scope)],
    }


@router.get("/trial", response_model=TrialOut, summary="The trial now: dose levels, slots, windows")
def read_trial(scope: Caller, request: Request) -> dict[str, Any]:
    """The state every dose level is in, the slots open, the level a patient registered now
    gets, the pending DLT windows and the decision the design proposes."""
    state = trial_state(scope.session, trial_of(request), now(request).date())
    return _trial_view(scope, request, state)


# --- DLT determinations ---------------------------------------------------------------------


class QueueOut(BaseModel):
    proposed_now: list[DeterminationOut] = Field(  # type: ignore[valid-type]
        description="Determinations the DLT rules proposed in this request."
    )
    awaiting_signature: list[DeterminationOut] = Field(  # type: ignore[valid-type]
        description="Proposed or changed determinations the study chair has not signed."
    )
    awaiting_data: list[WindowOut] = Field(
        description="Windows over for which the rules still wait (no proposal yet)."
    )


def _queue(scope: Scope, request: Request, made: list[DltDetermination]) -> dict[str, Any]:
    spec = records.SPECS["dlt_determinations"]
    queue = adjudication.chair_queue(scope, trial_of(request), now(request).date())
    mine = [w for w in _windows(scope, queue.awaiting_data) if w["patient"] is not None]
    return {
        "proposed_now": records.present_many(scope, spec, made),
        "awaiting_signature": records.present_many(scope, spec, queue.awaiting_signature),
        "awaiting_data": mine,
    }


@router.get(
    "/dlt-determinations/due",
    response_model=QueueOut,
    summary="Determinations awaiting the chair's signature, and windows over without one",
)
def determinations_due(scope: Caller, request: Request) -> dict[str, Any]:
    return _queue(scope, request, [])


@router.post(
    "/dlt-determinations/proposals",
    response_model=QueueOut,
    summary="Apply the DLT rules to every window that is over (study chair)",
)
def propose_determinations(scope: Caller, request: Request) -> dict[str, Any]:
    """Lapsed holds expire and each patient whose window is over gets a determination
    proposed by the protocol's DLT rules (with the rule that fired and the evaluability),
    for the chair to review and sign. Idempotent."""
    made = adjudication.propose_due(scope, trial_of(request), now(request))
    return _queue(scope, request, made)


class SignedDeterminationOut(BaseModel):
    determination: DeterminationOut  # type: ignore[valid-type]
    decision: DecisionOut = Field(  # type: ignore[valid-type]
        description="The escalation decision the design now proposes, for confirmation."
    )


@router.post(
    "/dlt-determinations/{record_id}/sign",
    response_model=SignedDeterminationOut,
    summary="Sign a DLT determination (study chair; the design then proposes the decision)",
)
def sign_determination(
    scope: Caller, request: Request, record_id: RecordId, data: SignerIn
) -> dict[str, Any]:
    with keeping_failed_reauthentication(scope):
        decision = adjudication.sign_determination(
            scope,
            trial_of(request),
            record_id,
            username=data.username,
            password=data.password,
            policy=policy(request),
            now=now(request),
        )
    spec = records.SPECS["dlt_determinations"]
    det = records.get(scope, spec, record_id)
    return {
        "determination": records.present_many(scope, spec, [det])[0],
        "decision": records.present_many(scope, records.SPECS["escalation_decisions"], [decision])[
            0
        ],
    }


# --- escalation decisions -------------------------------------------------------------------


class ProposedDecisionOut(BaseModel):
    decision: DecisionOut  # type: ignore[valid-type]
    proposal: ProposalOut


@router.post(
    "/escalation-decisions/proposals",
    response_model=ProposedDecisionOut,
    summary="Re-run the design and record its decision for confirmation (study chair)",
)
def propose_decision(scope: Caller, request: Request) -> dict[str, Any]:
    """The design is re-run on every signed determination; its proposal is recorded (or
    the open one returned if it still stands; stale proposals are superseded)."""
    today = now(request).date()
    decision = adjudication.record_proposal(scope, trial_of(request), today)
    state = trial_state(scope.session, trial_of(request), today)
    spec = records.SPECS["escalation_decisions"]
    return {
        "decision": records.present_many(scope, spec, [decision])[0],
        "proposal": state.proposal.as_dict(),
    }


class ConfirmedOut(BaseModel):
    decision: DecisionOut  # type: ignore[valid-type]
    trial: TrialOut


@router.post(
    "/escalation-decisions/{record_id}/confirm",
    response_model=ConfirmedOut,
    summary="Confirm the design's decision with your signature (study chair)",
)
def confirm_decision(
    scope: Caller, request: Request, record_id: RecordId, data: SignerIn
) -> dict[str, Any]:
    """Refused when the design now proposes something else. Slots open as decided, the
    waitlist is offered them in order and every site is told."""
    with keeping_failed_reauthentication(scope):
        decision = adjudication.confirm_decision(
            scope,
            trial_of(request),
            record_id,
            username=data.username,
            password=data.password,
            policy=policy(request),
            now=now(request),
        )
    state = trial_state(scope.session, trial_of(request), now(request).date())
    spec = records.SPECS["escalation_decisions"]
    return {
        "decision": records.present_many(scope, spec, [decision])[0],
        "trial": _trial_view(scope, request, state),
    }
