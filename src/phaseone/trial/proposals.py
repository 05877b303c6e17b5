"""The escalation decision the design proposes, in dose-level ids, for the chair to confirm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phaseone.designs.base import DesignState
from phaseone.trial.history import DecisionKind


@dataclass(frozen=True)
class Proposal:
    """What re-running the design says now, relative to the level open for accrual.

    `kind` "stay" keeps accrual where it is; every other kind changes the open level or
    ends dose finding, and accrual waits until the study chair confirms it.
    """

    kind: DecisionKind
    from_level: int | None
    level: int | None
    design: str
    rationale: str
    state: dict[str, Any]

    @property
    def changes_accrual(self) -> bool:
        return self.kind != "stay"

    def summary(self) -> str:
        if self.kind == "declare_mtd":
            return f"declare dose level {self.level} the MTD"
        if self.kind == "stop_no_mtd":
            return "stop dose finding: no dose level is tolerable"
        if self.kind == "stay":
            return f"continue accrual at dose level {self.level}"
        verb = "escalate" if self.kind == "escalate" else "de-escalate"
        return f"{verb} from dose level {self.from_level} to dose level {self.level}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "from_level": self.from_level,
            "level": self.level,
            "summary": self.summary(),
            "design": self.design,
            "rationale": self.rationale,
            "state": self.state,
        }


def propose(state: DesignState, current: int, level_ids: tuple[int, ...]) -> Proposal:
    """Translate a fitted design (dose indices 1..n) to a decision on dose-level ids."""
    common: dict[str, Any] = {
        "design": state.design,
        "rationale": state.explain(),
        "state": state.to_dict(),
    }
    if not state.should_continue or state.recommended_dose is None:
        chosen = state.selection.dose
        if chosen is None:
            return Proposal("stop_no_mtd", current, None, **common)
        return Proposal("declare_mtd", current, level_ids[chosen - 1], **common)
    recommended = level_ids[state.recommended_dose - 1]
    here = level_ids.index(current) + 1
    kind: DecisionKind
    if state.recommended_dose > here:
        kind = "escalate"
    elif state.recommended_dose < here:
        kind = "deescalate"
    else:
        kind = "stay"
    return Proposal(kind, current, recommended, **common)
