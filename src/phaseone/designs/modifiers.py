"""Modifiers wrap any design and change only what they are about: ``design | StopAtN(36)``.

Each modifier takes the wrapped design's state and returns an altered copy, adding the
rule it applied to `reasons`. They compose left to right: in ``d | A() | B()``, B sees A's
result. The `Modifier` interface and the `Modified` wrapper live beside `Design` in
`base.py`; `Modified` and `Modifier` are importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from phaseone.designs.base import (
    Design,
    DesignState,
    Modified,
    Modifier,
    Selection,
    highest_admissible_at_or_below,
)
from phaseone.designs.outcomes import Outcomes
from phaseone.errors import InputError, Problem

__all__ = [
    "DemandNAtDose",
    "DontSkipDoses",
    "FollowPath",
    "Modified",
    "Modifier",
    "StopAtN",
    "StopWhenNAtDose",
    "StopWhenTooToxic",
    "Titration",
]


def _check_dose(dose: int | str, parent: Design, path: str) -> None:
    if isinstance(dose, int) and not 1 <= dose <= parent.n_doses:
        raise InputError([Problem(path, f"dose {dose} is outside 1..{parent.n_doses}")])


def _positive(value: int, path: str) -> None:
    if value < 1:
        raise InputError([Problem(path, f"expected 1 or more, got {value}")])


@dataclass(frozen=True)
class StopAtN(Modifier):
    """Stop once `n` patients have been enrolled (the maximum sample size)."""

    n: int

    def check(self, parent: Design) -> None:
        _positive(self.n, "stop_at_n")

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        if state.should_continue and state.n_patients >= self.n:
            return state.stopped("stop_at_n", f"{state.n_patients} patients enrolled >= {self.n}")
        return state


@dataclass(frozen=True)
class StopWhenNAtDose(Modifier):
    """Stop once `n` patients have had `dose` (a number, "recommended" or "any")."""

    n: int
    dose: int | Literal["recommended", "any"] = "recommended"

    def check(self, parent: Design) -> None:
        _positive(self.n, "stop_when_n_at_dose.n")
        _check_dose(self.dose, parent, "stop_when_n_at_dose.dose")

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        if not state.should_continue:
            return state
        if self.dose == "any":
            hits = [k + 1 for k, t in enumerate(state.treated) if t >= self.n]
        else:
            dose = state.recommended_dose if self.dose == "recommended" else self.dose
            hits = [dose] if dose is not None and state.treated[dose - 1] >= self.n else []
        if hits:
            return state.stopped(
                "stop_when_n_at_dose",
                f"dose {hits[0]} has {state.treated[hits[0] - 1]} >= {self.n}",
            )
        return state


@dataclass(frozen=True)
class StopWhenTooToxic(Modifier):
    """If P(rate > threshold) > confidence at `dose` (or the lowest such dose for "any"),
    that dose and all above become inadmissible; at dose 1 the trial stops with no MTD."""

    threshold: float
    confidence: float = 0.9
    dose: int | Literal["any"] = 1

    def check(self, parent: Design) -> None:
        for value, path in ((self.threshold, "threshold"), (self.confidence, "confidence")):
            if not 0 < value < 1:
                raise InputError(
                    [
                        Problem(
                            f"stop_when_too_toxic.{path}", f"expected 0 < value < 1, got {value:g}"
                        )
                    ]
                )
        _check_dose(self.dose, parent, "stop_when_too_toxic.dose")

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        probs = state.prob_tox_exceeds(self.threshold)
        doses = range(1, state.n_doses + 1) if self.dose == "any" else [self.dose]
        bad = [d for d in doses if probs[d - 1] > self.confidence]  # NaN compares False
        if not bad:
            return state
        k = bad[0]
        detail = (
            f"P(rate at dose {k} > {self.threshold:g}) = {probs[k - 1]:.3f} > {self.confidence:g}"
        )
        admissible = tuple(a and d < k for d, a in enumerate(state.admissible, start=1))
        if not any(admissible):
            return state.stopped(
                "stop_when_too_toxic", detail, Selection(None, "no_mtd", f"too toxic: {detail}")
            )
        sel = state.selection
        if sel.dose is not None and sel.dose >= k:
            sel = replace(
                sel,
                dose=highest_admissible_at_or_below(sel.dose, admissible),
                detail=f"capped: {detail}",
            )
        rec = state.recommended_dose
        if rec is not None and rec >= k:
            rec = highest_admissible_at_or_below(rec, admissible)
        if not state.should_continue:
            rec = sel.dose
        return state.with_reason(
            "stop_when_too_toxic",
            f"{detail}; dose {k} and above inadmissible",
            admissible=admissible,
            recommended_dose=rec,
            selection=sel,
        )


@dataclass(frozen=True)
class DontSkipDoses(Modifier):
    """Never move more than one dose from the last cohort's dose."""

    when_escalating: bool = True
    when_deescalating: bool = False

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        rec, cur = state.recommended_dose, state.current_dose
        if not state.should_continue or rec is None or cur is None:
            return state
        if self.when_escalating and rec > cur + 1:
            return state.with_reason(
                "dont_skip_doses",
                f"dose {rec} would skip; go to {cur + 1}",
                recommended_dose=cur + 1,
            )
        if self.when_deescalating and rec < cur - 1:
            return state.with_reason(
                "dont_skip_doses",
                f"dose {rec} would skip; go to {cur - 1}",
                recommended_dose=cur - 1,
            )
        return state


@dataclass(frozen=True)
class DemandNAtDose(Modifier):
    """Do not stop (other than for toxicity) until `n` patients have had `dose`
    (a number or "recommended")."""

    n: int
    dose: int | Literal["recommended"] = "recommended"

    def check(self, parent: Design) -> None:
        _positive(self.n, "demand_n_at_dose.n")
        _check_dose(self.dose, parent, "demand_n_at_dose.dose")

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        rec = state.recommended_dose
        if state.should_continue or rec is None:
            return state
        dose = rec if self.dose == "recommended" else self.dose
        have = state.treated[dose - 1]
        if have >= self.n or not state.admissible[dose - 1]:
            return state
        return state.with_reason(
            "demand_n_at_dose",
            f"dose {dose} has {have} < {self.n} patients: continue at dose {rec}",
            should_continue=True,
        )


@dataclass(frozen=True)
class FollowPath(Modifier):
    """Follow a fixed start, e.g. "1N 2N 3N 4NNN", while every outcome is a non-DLT on the
    path's doses; after the first DLT or any departure the wrapped design decides."""

    path: str

    def check(self, parent: Design) -> None:
        Outcomes.parse(self.path, parent.n_doses)

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        planned = Outcomes.parse(self.path).patients
        seen = state.outcomes.patients
        on_path = len(seen) < len(planned) and all(
            p.dose == q.dose and not p.dlt for p, q in zip(seen, planned, strict=False)
        )
        if not on_path:
            return state
        nxt = planned[len(seen)]
        left = sum(1 for q in planned[len(seen) :] if q.cohort == nxt.cohort)
        if not state.admissible[nxt.dose - 1]:
            return state
        return state.with_reason(
            "follow_path",
            f"on the fixed path {self.path!r}: next dose {nxt.dose}",
            recommended_dose=nxt.dose,
            should_continue=True,
            next_cohort_size=left,
            accrual_suspended=False,
        )


@dataclass(frozen=True)
class Titration(Modifier):
    """BOIN's accelerated titration: one patient per dose from dose 1 until the first DLT
    (or the top dose), then that dose is filled to a full cohort and the design takes over."""

    cohort_size: int = 3

    def check(self, parent: Design) -> None:
        _positive(self.cohort_size, "titration.cohort_size")

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        seen = state.outcomes.patients
        singles = 0
        for i, p in enumerate(seen):
            own_cohort = i + 1 == len(seen) or seen[i + 1].cohort != p.cohort
            if p.dose != i + 1 or not own_cohort or (i > 0 and seen[i - 1].dlt):
                break
            singles += 1
        if singles != len(seen):
            return state
        if not seen:
            return state.with_reason(
                "titration",
                "titration: one patient at dose 1",
                recommended_dose=1,
                should_continue=True,
                next_cohort_size=1,
            )
        last = seen[-1]
        if last.pending:
            return state.with_reason(
                "titration",
                f"titration: waiting for the patient at dose {last.dose}",
                recommended_dose=last.dose,
                should_continue=True,
                accrual_suspended=True,
                next_cohort_size=1,
            )
        if last.dlt or last.dose == state.n_doses:
            why = "first DLT" if last.dlt else "top dose reached"
            return state.with_reason(
                "titration",
                f"titration ends ({why}) at dose {last.dose}: fill it to a cohort of "
                f"{self.cohort_size}",
                recommended_dose=last.dose,
                should_continue=True,
                next_cohort_size=max(self.cohort_size - 1, 1),
            )
        return state.with_reason(
            "titration",
            f"titration: no DLT yet, one patient at dose {last.dose + 1}",
            recommended_dose=last.dose + 1,
            should_continue=True,
            next_cohort_size=1,
        )
