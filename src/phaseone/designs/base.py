"""The one interface every escalation design answers.

A design is an immutable spec. ``design.fit(outcomes)`` returns a `DesignState`: the next
dose (or none), whether to continue, which doses are admissible, per-dose counts and
estimates, the end-of-trial selection and the rules that decided. Modifiers wrap a design
with ``design | StopAtN(36)`` and change only what they are about: the `Modifier`
interface and the `Modified` wrapper live here, the modifiers themselves in
`modifiers.py`. `EscalationDesign` builds every design's state in one place; a design
supplies what it reads from the data (`assess`) and its rule (`decide`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from phaseone.designs.outcomes import Counts, Outcomes
from phaseone.errors import InputError, Problem


class Decision(StrEnum):
    """What the data at the current dose say. Codes 0-3 index the decision tables."""

    ESCALATE = "E"
    STAY = "S"
    DEESCALATE = "D"
    ELIMINATE = "DE"  # de-escalate and eliminate this dose and every dose above
    SUSPEND = "H"  # hold accrual until pending outcomes resolve (rolling six)

    @property
    def code(self) -> int:
        return CODES[self]

    @classmethod
    def from_code(cls, code: int) -> Decision:
        return DECISIONS[code]


CODES = {Decision.ESCALATE: 0, Decision.STAY: 1, Decision.DEESCALATE: 2, Decision.ELIMINATE: 3}
DECISIONS = (Decision.ESCALATE, Decision.STAY, Decision.DEESCALATE, Decision.ELIMINATE)


@dataclass(frozen=True)
class Reason:
    """One rule that shaped the state, with the inputs it used."""

    rule: str
    detail: str


@dataclass(frozen=True)
class Selection:
    """The end-of-trial choice (MTD / RP2D), or None with the reason why not."""

    dose: int | None
    rule: str
    detail: str
    estimates: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Posterior:
    """P(p_dose > threshold) for each dose; NaN where the design has no information."""

    exceeds: Callable[[float], NDArray[np.float64]]


@dataclass(frozen=True)
class DesignState:
    """A design fitted to outcomes. Built by `Design.fit`; modifiers return altered copies."""

    design: str
    n_doses: int
    target: float | None
    outcomes: Outcomes
    current_dose: int | None
    recommended_dose: int | None
    should_continue: bool
    admissible: tuple[bool, ...]
    treated: tuple[int, ...]
    evaluable: tuple[int, ...]
    tox: tuple[int, ...]
    pending: tuple[int, ...]
    estimates: tuple[float | None, ...]
    decision: Decision | None
    reasons: tuple[Reason, ...]
    selection: Selection
    posterior: Posterior | None = None
    next_cohort_size: int | None = None
    accrual_suspended: bool = False
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def mtd(self) -> Selection:
        """The end-of-trial selection given the outcomes so far."""
        return self.selection

    @property
    def n_patients(self) -> int:
        return sum(self.treated)

    def prob_tox_exceeds(self, threshold: float) -> tuple[float, ...]:
        if self.posterior is None:
            return tuple(float("nan") for _ in range(self.n_doses))
        return tuple(float(v) for v in self.posterior.exceeds(threshold))

    def explain(self) -> str:
        lines = [f"{self.design}: {self.summary()}"]
        lines += [f"- {r.rule}: {r.detail}" for r in self.reasons]
        sel = self.selection
        shown = "none" if sel.dose is None else f"dose {sel.dose}"
        lines.append(f"- selection ({sel.rule}): {shown}; {sel.detail}")
        return "\n".join(lines)

    def summary(self) -> str:
        if self.accrual_suspended:
            return f"suspend accrual at dose {self.recommended_dose} until pending outcomes resolve"
        if self.should_continue:
            size = f" (cohort of {self.next_cohort_size})" if self.next_cohort_size else ""
            return f"continue at dose {self.recommended_dose}{size}"
        if self.recommended_dose is None:
            return "stop; no dose is recommended"
        return f"stop; recommended dose {self.recommended_dose}"

    # --- adapters ----------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """One row per dose: counts, estimate, admissibility."""
        return pd.DataFrame(
            {
                "dose": range(1, self.n_doses + 1),
                "treated": self.treated,
                "evaluable": self.evaluable,
                "dlt": self.tox,
                "pending": self.pending,
                "estimate": [np.nan if e is None else e for e in self.estimates],
                "admissible": self.admissible,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        sel = self.selection
        return {
            "design": self.design,
            "outcomes": self.outcomes.to_string(),
            "n_patients": self.n_patients,
            "current_dose": self.current_dose,
            "decision": None if self.decision is None else self.decision.value,
            "recommended_dose": self.recommended_dose,
            "should_continue": self.should_continue,
            "accrual_suspended": self.accrual_suspended,
            "next_cohort_size": self.next_cohort_size,
            "target": self.target,
            "doses": [
                {
                    "dose": k + 1,
                    "treated": self.treated[k],
                    "evaluable": self.evaluable[k],
                    "dlt": self.tox[k],
                    "pending": self.pending[k],
                    "estimate": self.estimates[k],
                    "admissible": self.admissible[k],
                }
                for k in range(self.n_doses)
            ],
            "selection": {"dose": sel.dose, "rule": sel.rule, "detail": sel.detail},
            "reasons": [{"rule": r.rule, "detail": r.detail} for r in self.reasons],
            "details": self.details,
        }

    # --- helpers for designs and modifiers ---------------------------------------------

    def with_reason(self, rule: str, detail: str, **changes: Any) -> DesignState:
        return replace(self, reasons=(*self.reasons, Reason(rule, detail)), **changes)

    def stopped(self, rule: str, detail: str, selection: Selection | None = None) -> DesignState:
        """Stop the trial: the recommended dose becomes the final selection."""
        sel = self.selection if selection is None else selection
        return self.with_reason(
            rule,
            detail,
            should_continue=False,
            recommended_dose=sel.dose,
            selection=sel,
            accrual_suspended=False,
            next_cohort_size=None,
        )


class Design(ABC):
    """An immutable escalation design spec. Subclasses are frozen dataclasses."""

    name: str = "design"

    @property
    @abstractmethod
    def n_doses(self) -> int: ...

    @property
    def target(self) -> float | None:
        return None

    @abstractmethod
    def fit(self, outcomes: Outcomes | str) -> DesignState:
        """Fit to cumulative outcomes and answer the next-dose question."""

    def __or__(self, modifier: Modifier) -> Design:
        return Modified(self, modifier)

    def describe(self) -> str:
        return self.name

    def _outcomes(self, outcomes: Outcomes | str) -> Outcomes:
        return Outcomes.coerce(outcomes, self.n_doses)


@dataclass(frozen=True)
class Assessment:
    """What a design reads from the data before its rule decides: which doses remain
    admissible, per-dose estimates, the end-of-trial selection so far, the posterior."""

    admissible: tuple[bool, ...]
    estimates: tuple[float | None, ...]
    selection: Selection
    posterior: Posterior | None = None
    reasons: tuple[Reason, ...] = ()
    next_cohort_size: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


NOT_REACHED = Selection(None, "not_reached", "the trial has not reached an MTD yet")


class EscalationDesign(Design):
    """Every design that is not a wrapper. As in lifelines' fitters, the base owns `fit`:
    it counts the outcomes and builds the state in one place; a design supplies `assess`
    (what the data say about each dose) and `decide` (its rule for the next dose), which
    only runs once there are patients."""

    start_dose: int

    @abstractmethod
    def assess(self, outcomes: Outcomes, counts: Counts) -> Assessment: ...

    @abstractmethod
    def decide(self, state: DesignState, counts: Counts) -> DesignState: ...

    def fit(self, outcomes: Outcomes | str) -> DesignState:
        o = self._outcomes(outcomes)
        c = o.counts(self.n_doses)
        state = self.start_state(o, c)
        if o.last_dose is None:
            return state.with_reason("start", f"no patients yet: start at dose {self.start_dose}")
        return self.decide(state, c)

    def start_state(self, outcomes: Outcomes, c: Counts) -> DesignState:
        """The state before the design's rule: counts, assessment, the start dose."""
        a = self.assess(outcomes, c)
        return DesignState(
            design=self.describe(),
            n_doses=self.n_doses,
            target=self.target,
            outcomes=outcomes,
            current_dose=outcomes.last_dose,
            recommended_dose=self.start_dose,
            should_continue=True,
            admissible=a.admissible,
            treated=counts_tuple(c.treated),
            evaluable=counts_tuple(c.evaluable),
            tox=counts_tuple(c.tox),
            pending=counts_tuple(c.pending),
            estimates=a.estimates,
            decision=None,
            reasons=a.reasons,
            selection=a.selection,
            posterior=a.posterior,
            next_cohort_size=a.next_cohort_size,
            details=a.details,
        )


class Modifier(ABC):
    """A change to a design's answers. Subclasses (in `modifiers.py`) are frozen dataclasses."""

    @abstractmethod
    def apply(self, state: DesignState, parent: Design) -> DesignState: ...

    def check(self, parent: Design) -> None:  # noqa: B027 - optional hook
        """Reject a modifier that does not fit the design (e.g. a dose out of range)."""


@dataclass(frozen=True)
class Modified(Design):
    """A design wrapped by a modifier: ``parent | modifier``."""

    parent: Design
    modifier: Modifier

    def __post_init__(self) -> None:
        self.modifier.check(self.parent)

    @property
    def n_doses(self) -> int:
        return self.parent.n_doses

    @property
    def target(self) -> float | None:
        return self.parent.target

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.parent.name

    @property
    def base(self) -> Design:
        """The innermost, unmodified design."""
        return self.parent.base if isinstance(self.parent, Modified) else self.parent

    @property
    def modifiers(self) -> tuple[Modifier, ...]:
        """The modifiers from the innermost (applied first) to this one."""
        inner = self.parent.modifiers if isinstance(self.parent, Modified) else ()
        return (*inner, self.modifier)

    def describe(self) -> str:
        return f"{self.parent.describe()} | {self.modifier!r}"

    def fit(self, outcomes: Outcomes | str) -> DesignState:
        o = self._outcomes(outcomes)
        return self.modifier.apply(self.parent.fit(o), self.parent)


def check_probability(value: float, path: str) -> None:
    if not 0 < value < 1:
        raise InputError(
            [Problem(path, f"expected a probability strictly between 0 and 1, got {value:g}")]
        )


def check_dose(dose: int, n_doses: int, path: str) -> None:
    if not 1 <= dose <= n_doses:
        raise InputError([Problem(path, f"dose {dose} is outside 1..{n_doses}")])


def check_n_doses(n_doses: int, path: str = "doses") -> None:
    if n_doses < 1:
        raise InputError([Problem(path, f"expected at least 1 dose level, got {n_doses}")])


def counts_tuple(values: NDArray[np.int64]) -> tuple[int, ...]:
    return tuple(int(v) for v in values)


def empiric_rates(tox: NDArray[np.int64], n: NDArray[np.int64]) -> tuple[float | None, ...]:
    return tuple(None if n[k] == 0 else float(tox[k]) / float(n[k]) for k in range(len(n)))


def highest_admissible_at_or_below(dose: int, admissible: tuple[bool, ...]) -> int | None:
    for d in range(min(dose, len(admissible)), 0, -1):
        if admissible[d - 1]:
            return d
    return None


def first_inadmissible(admissible: tuple[bool, ...]) -> int | None:
    """The lowest dose (1-based) that is no longer admissible, or None."""
    return next((d for d, ok in enumerate(admissible, start=1) if not ok), None)
