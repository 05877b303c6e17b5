"""The trial aggregate: from protocol, design and history to the state of every dose level.

The open level is the starting level until the study chair confirms a decision that
moves it. The design is re-run on every registered patient (in registration order; a
patient not evaluable for DLT is replaced and left out) and its recommendation is
compared with the open level:

- it recommends the open level and does not suspend accrual: the level is open, with as
  many slots as patients the design would still take there before it needs an outcome
  (pending patients are added one at a time until the design would stop, move or hold);
- it suspends accrual (rolling six: 6 on the level with outcomes pending): on hold;
- it recommends another level, or ends dose finding: accrual waits for the chair.

Designs that cannot take pending outcomes (3+3, BOIN, mTPI-2, Keyboard, CRM) are also
limited to one cohort in flight: a level with a full cohort pending has no slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from phaseone.designs import Design, DesignState, Modified, Outcomes, Patient, RollingSix
from phaseone.designs.build import design_from_protocol
from phaseone.designs.outcomes import Status
from phaseone.designs.tite import TITECRM
from phaseone.errors import PhaseoneError
from phaseone.protocol.model import DoseLevel, Protocol
from phaseone.trial.history import CLOSING, ConfirmedDecision, Enrolment, TrialHistory
from phaseone.trial.levels import LevelState, LevelStatus
from phaseone.trial.proposals import Proposal, propose
from phaseone.trial.windows import PendingWindow, pending_window

MAX_SLOTS = 12  # no design here puts more than this many patients on a level at once
LETTER: dict[str, Status] = {"pending": "P", "dlt": "T", "no_dlt": "N"}


class NoSlotOpen(PhaseoneError):
    """A registration was asked for while no dose level has a slot free."""


@dataclass(frozen=True)
class TrialState:
    """The trial on one day. Build it with `evaluate`."""

    as_of: dt.date
    design: Design
    design_state: DesignState
    current_level: int | None
    accrual: LevelState
    slots_open: int
    levels: tuple[LevelStatus, ...]
    pending: tuple[PendingWindow, ...]
    proposal: Proposal
    closing_decision: ConfirmedDecision | None
    protocol: Protocol

    @property
    def next_level(self) -> int | None:
        """The dose level a patient registered now gets, or None when no slot is free."""
        return self.current_level if self.slots_open > 0 else None

    def assign(self) -> DoseLevel:
        """The dose level for a patient registered now; NoSlotOpen explains why not."""
        if self.next_level is None:
            raise NoSlotOpen(f"no slot is open: {self.accrual_reason()}")
        return self.protocol.dose_level(self.next_level)

    @property
    def mtd(self) -> int | None:
        d = self.closing_decision
        return d.level if d is not None and d.kind == "declare_mtd" else None

    @property
    def awaiting_decision(self) -> bool:
        return self.accrual is LevelState.AWAITING_DECISION

    @property
    def due(self) -> tuple[PendingWindow, ...]:
        """Patients whose window has ended: the chair owes a DLT determination."""
        return tuple(p for p in self.pending if p.due)

    @property
    def next_window_close(self) -> dt.date | None:
        """When the next pending DLT window ends (when a slot may open)."""
        open_windows = [p.window_end for p in self.pending if not p.due]
        return min(open_windows) if open_windows else None

    def level(self, level_id: int) -> LevelStatus:
        for status in self.levels:
            if status.level == level_id:
                return status
        raise KeyError(level_id)

    def accrual_reason(self) -> str:
        if self.closing_decision is not None:
            return _closed_note(self.closing_decision)
        if self.current_level is None:
            return "dose finding is over"
        return self.level(self.current_level).note

    def explain(self) -> str:
        lines = [f"as of {self.as_of.isoformat()}: {self.accrual_reason()}"]
        for s in self.levels:
            lines.append(
                f"- level {s.level} ({s.state.label}): {s.enrolled} enrolled, {s.evaluable} "
                f"evaluable, {s.dlt} DLT, {s.pending} pending; {s.note}"
            )
        lines.append(f"- design proposes: {self.proposal.summary()}")
        lines.extend("  " + line for line in self.design_state.explain().splitlines())
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([s.as_dict() for s in self.levels])

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "current_level": self.current_level,
            "accrual": self.accrual.value,
            "accrual_reason": self.accrual_reason(),
            "slots_open": self.slots_open,
            "next_level": self.next_level,
            "mtd": self.mtd,
            "next_window_close": (
                None if self.next_window_close is None else self.next_window_close.isoformat()
            ),
            "levels": [s.as_dict() for s in self.levels],
            "pending": [p.as_dict() for p in self.pending],
            "proposal": self.proposal.as_dict(),
        }


def evaluate(
    protocol: Protocol,
    history: TrialHistory,
    as_of: dt.date,
    design: Design | None = None,
) -> TrialState:
    """The state of every dose level on `as_of`, from the trial's history."""
    design = design_from_protocol(protocol) if design is None else design
    ids = tuple(level.id for level in protocol.dose_levels)
    history.check(ids)
    outcomes = to_outcomes(protocol, history.enrolments, ids, as_of)
    state = design.fit(outcomes)

    current: int = protocol.design.starting_dose_level
    closing: ConfirmedDecision | None = None
    for decision in history.decisions:
        if decision.kind in CLOSING:
            closing = decision
        elif decision.level is not None:
            current = decision.level
    proposal = propose(state, current, ids)

    slots = 0
    if closing is not None:
        accrual, note = LevelState.CLOSED, _closed_note(closing)
    elif proposal.changes_accrual:
        accrual = LevelState.AWAITING_DECISION
        note = f"the design proposes to {proposal.summary()}; the study chair decides"
    elif state.accrual_suspended:
        accrual, note = LevelState.SUSPENDED, _held_note(protocol, history, as_of, current)
    else:
        slots = count_slots(design, outcomes, ids.index(current) + 1)
        if slots:
            accrual = LevelState.OPEN
            note = f"{slots} slot{'s' if slots != 1 else ''} open at dose level {current}"
        else:
            accrual, note = LevelState.SUSPENDED, _held_note(protocol, history, as_of, current)

    levels = tuple(
        _level_status(level, k, state, history.enrolments, current, closing, accrual, slots, note)
        for k, level in enumerate(protocol.dose_levels)
    )
    pending = tuple(
        sorted(
            (
                pending_window(protocol, e, as_of)
                for e in history.enrolments
                if e.outcome == "pending"
            ),
            key=lambda p: (p.window_end, p.patient),
        )
    )
    return TrialState(
        as_of=as_of,
        design=design,
        design_state=state,
        current_level=None if closing is not None else current,
        accrual=accrual,
        slots_open=slots,
        levels=levels,
        pending=pending,
        proposal=proposal,
        closing_decision=closing,
        protocol=protocol,
    )


def to_outcomes(
    protocol: Protocol, enrolments: tuple[Enrolment, ...], ids: tuple[int, ...], as_of: dt.date
) -> Outcomes:
    """Counted patients in registration order, with follow-up days for time-to-event designs."""
    patients: list[Patient] = []
    for e in enrolments:
        if not e.counts:
            continue
        start = e.therapy_start or e.registered_on
        window = protocol.dlt.window.last_day
        days: float | None = None
        if e.outcome == "pending":
            days = float(min(max((as_of - start).days, 0), window))
        elif e.outcome == "dlt" and e.determined_on is not None:
            days = float(min(max((e.determined_on - start).days + 1, 1), window))
        dose = ids.index(e.level) + 1
        patients.append(Patient(dose, LETTER[e.outcome], days, len(patients) + 1))
    return Outcomes(tuple(patients))


def takes_pending(design: Design) -> bool:
    """Whether the design itself decides with outcomes still pending."""
    base = design.base if isinstance(design, Modified) else design
    return isinstance(base, RollingSix | TITECRM)


def count_slots(design: Design, outcomes: Outcomes, dose: int) -> int:
    """How many more patients the design takes at `dose` before it needs an outcome."""
    limit = MAX_SLOTS
    if not takes_pending(design):
        limit = _cohort_room(design.fit(outcomes), dose)
    slots, o = 0, outcomes
    while slots < limit:
        s = design.fit(o)
        if not s.should_continue or s.accrual_suspended or s.recommended_dose != dose:
            break
        slots += 1
        o = Outcomes((*o.patients, Patient(dose, "P", 0.0, len(o.patients) + 1)))
    return slots


def _cohort_room(state: DesignState, dose: int) -> int:
    """Room left in the cohort in flight at `dose` (a full cohort pending has none)."""
    size = state.next_cohort_size or 1
    treated, pending = state.treated[dose - 1], state.pending[dose - 1]
    partial = treated % size
    if partial:
        return size - partial
    return size if pending == 0 else 0


def _closed_note(closing: ConfirmedDecision) -> str:
    if closing.kind == "declare_mtd":
        return f"dose finding is over: dose level {closing.level} declared the MTD"
    return "dose finding is over: no dose level is tolerable"


def _held_note(protocol: Protocol, history: TrialHistory, as_of: dt.date, level: int) -> str:
    waiting = [
        pending_window(protocol, e, as_of)
        for e in history.enrolments
        if e.level == level and e.outcome == "pending"
    ]
    if not waiting:
        return f"accrual on hold at dose level {level}"
    first = min(waiting, key=lambda p: p.window_end)
    return (
        f"accrual on hold at dose level {level}: {len(waiting)} DLT window"
        f"{'s' if len(waiting) != 1 else ''} pending; the first ends "
        f"{first.window_end.isoformat()}"
    )


def _level_status(
    level: DoseLevel,
    k: int,
    state: DesignState,
    enrolments: tuple[Enrolment, ...],
    current: int,
    closing: ConfirmedDecision | None,
    accrual: LevelState,
    slots: int,
    note: str,
) -> LevelStatus:
    on_level = [e for e in enrolments if e.level == level.id]
    counted = [e for e in on_level if e.counts]
    dlt = sum(e.outcome == "dlt" for e in counted)
    pending = sum(e.outcome == "pending" for e in counted)
    inevaluable = len(on_level) - len(counted)
    admissible = state.admissible[k]
    open_slots = 0
    if closing is not None:
        if closing.kind == "declare_mtd" and closing.level == level.id:
            level_state, why = LevelState.MTD, f"declared the MTD on {closing.decided_on}"
        elif not admissible and on_level:
            level_state, why = LevelState.TOO_TOXIC, f"{dlt} DLTs: too toxic"
        else:
            level_state, why = LevelState.CLOSED, "dose finding is over"
    elif level.id == current:
        level_state, why, open_slots = accrual, note, slots
    elif not admissible and on_level:
        level_state = LevelState.TOO_TOXIC
        why = f"{dlt} DLTs: this level and those above are too toxic"
    elif not admissible:
        level_state, why = LevelState.CLOSED, "above a level that is too toxic"
    elif counted or inevaluable:
        level_state, why = LevelState.COMPLETED, "accrual moved to dose level " + str(current)
    else:
        level_state, why = LevelState.NOT_OPEN, "not yet open"
    return LevelStatus(
        level=level.id,
        label=level.label or f"dose level {level.id}",
        state=level_state,
        enrolled=len(counted),
        evaluable=len(counted) - pending,
        dlt=dlt,
        pending=pending,
        inevaluable=inevaluable,
        slots_open=open_slots,
        note=why,
    )
