"""What state a dose level is in, and the counts behind it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LevelState(StrEnum):
    NOT_OPEN = "not_open"  # never opened to accrual
    OPEN = "open"  # the current level, with slots free
    SUSPENDED = "suspended"  # the current level, accrual held until DLT windows close
    AWAITING_DECISION = "awaiting_decision"  # the design proposes a change; the chair decides
    COMPLETED = "completed"  # treated patients, accrual moved to another level
    TOO_TOXIC = "too_toxic"  # the design rules this level (and those above) out
    MTD = "mtd"  # declared maximum tolerated dose
    CLOSED = "closed"  # the trial's dose finding is over

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    LevelState.NOT_OPEN: "not yet open",
    LevelState.OPEN: "open",
    LevelState.SUSPENDED: "accrual on hold",
    LevelState.AWAITING_DECISION: "awaiting the chair's decision",
    LevelState.COMPLETED: "closed to accrual",
    LevelState.TOO_TOXIC: "too toxic (de-escalated)",
    LevelState.MTD: "MTD declared",
    LevelState.CLOSED: "closed",
}


@dataclass(frozen=True)
class LevelStatus:
    """One dose level: its state, why, and the patients on it."""

    level: int
    label: str
    state: LevelState
    enrolled: int  # registered and counting (inevaluable patients excluded)
    evaluable: int
    dlt: int
    pending: int
    inevaluable: int
    slots_open: int
    note: str

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "label": self.label,
            "state": self.state.value,
            "state_label": self.state.label,
            "enrolled": self.enrolled,
            "evaluable": self.evaluable,
            "dlt": self.dlt,
            "pending": self.pending,
            "inevaluable": self.inevaluable,
            "slots_open": self.slots_open,
            "note": self.note,
        }
