"""The trial aggregate: dose-level state, slots, assignment and decision proposals.

Pure logic over plain data. Given the protocol, its escalation design and the trial's
history (registrations with dates, DLT determinations, confirmed decisions), `evaluate`
says what state each dose level is in, how many slots are open, which level a newly
registered patient gets, when pending DLT windows close and what decision the design
proposes. `reconcile_slots` applies the slot-hold policy (expiry, first-come waitlist).
"""

from phaseone.trial.aggregate import TrialState, evaluate
from phaseone.trial.history import (
    ConfirmedDecision,
    DecisionKind,
    Enrolment,
    Outcome,
    TrialHistory,
)
from phaseone.trial.levels import LevelState, LevelStatus
from phaseone.trial.proposals import Proposal
from phaseone.trial.slots import (
    SlotPlan,
    SlotPolicy,
    SlotRequest,
    load_slot_policy,
    reconcile_slots,
)
from phaseone.trial.windows import PendingWindow, dlt_window_end

__all__ = [
    "ConfirmedDecision",
    "DecisionKind",
    "Enrolment",
    "LevelState",
    "LevelStatus",
    "Outcome",
    "PendingWindow",
    "Proposal",
    "SlotPlan",
    "SlotPolicy",
    "SlotRequest",
    "TrialHistory",
    "TrialState",
    "dlt_window_end",
    "evaluate",
    "load_slot_policy",
    "reconcile_slots",
]
