"""The trial's history as plain data: who was registered where and when, what each DLT
determination said, and which escalation decisions the study chair confirmed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from phaseone.errors import InputError, Problem

# "pending": inside the DLT window or not yet determined; "inevaluable": determined not
# evaluable for DLT (the patient is replaced and does not count toward the level).
Outcome = Literal["pending", "dlt", "no_dlt", "inevaluable"]
OUTCOMES: tuple[Outcome, ...] = ("pending", "dlt", "no_dlt", "inevaluable")

# What a confirmed decision did to accrual.
DecisionKind = Literal["escalate", "stay", "deescalate", "declare_mtd", "stop_no_mtd"]
DECISION_KINDS: tuple[DecisionKind, ...] = (
    "escalate",
    "stay",
    "deescalate",
    "declare_mtd",
    "stop_no_mtd",
)
CLOSING: frozenset[DecisionKind] = frozenset({"declare_mtd", "stop_no_mtd"})


@dataclass(frozen=True)
class Enrolment:
    """One registered patient. `level` is the protocol's dose-level id.

    `therapy_start` is day 1 of course 1 (unknown until the first dose is recorded: the
    registration date then stands in for it); `off_treatment_on` ends treatment early,
    which makes the DLT determination due at once.
    """

    patient: str
    site: str
    level: int
    registered_on: dt.date
    therapy_start: dt.date | None = None
    outcome: Outcome = "pending"
    determined_on: dt.date | None = None
    off_treatment_on: dt.date | None = None

    @property
    def counts(self) -> bool:
        """Counts toward its level (inevaluable patients are replaced)."""
        return self.outcome != "inevaluable"


@dataclass(frozen=True)
class ConfirmedDecision:
    """An escalation decision the study chair confirmed (signed).

    `level` is the level open after the decision (for declare_mtd: the MTD level; for
    stop_no_mtd: None); `from_level` the level it was taken at.
    """

    decided_on: dt.date
    kind: DecisionKind
    level: int | None
    from_level: int | None = None
    sequence: int = 0


@dataclass(frozen=True)
class TrialHistory:
    """Enrolments in registration order, and confirmed decisions in the order signed."""

    enrolments: tuple[Enrolment, ...] = ()
    decisions: tuple[ConfirmedDecision, ...] = ()
    _ids: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    @classmethod
    def of(
        cls, enrolments: Iterable[Enrolment] = (), decisions: Iterable[ConfirmedDecision] = ()
    ) -> TrialHistory:
        return cls(tuple(enrolments), tuple(decisions))

    def check(self, level_ids: tuple[int, ...]) -> None:
        """Every problem with the history at once, each naming the entry and field."""
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, e in enumerate(self.enrolments):
            where = f"enrolments[{i}]"
            if e.patient in seen:
                problems.append(Problem(f"{where}.patient", f"{e.patient!r} is registered twice"))
            seen.add(e.patient)
            if e.level not in level_ids:
                problems.append(
                    Problem(
                        f"{where}.level",
                        f"{e.level} is not a dose level; expected one of "
                        f"{', '.join(str(x) for x in level_ids)}",
                    )
                )
            if e.outcome not in OUTCOMES:
                problems.append(
                    Problem(
                        f"{where}.outcome",
                        f"expected one of {', '.join(OUTCOMES)}, got {e.outcome!r}",
                    )
                )
            if e.outcome != "pending" and e.determined_on is None:
                problems.append(
                    Problem(f"{where}.determined_on", "a determined outcome needs its date")
                )
            if e.therapy_start is not None and e.therapy_start < e.registered_on:
                problems.append(
                    Problem(f"{where}.therapy_start", "therapy cannot start before registration")
                )
            if i and e.registered_on < self.enrolments[i - 1].registered_on:
                problems.append(
                    Problem(f"{where}.registered_on", "enrolments must be in registration order")
                )
        for i, d in enumerate(self.decisions):
            where = f"decisions[{i}]"
            if d.kind not in DECISION_KINDS:
                problems.append(
                    Problem(
                        f"{where}.kind",
                        f"expected one of {', '.join(DECISION_KINDS)}, got {d.kind!r}",
                    )
                )
            if d.kind != "stop_no_mtd" and d.level not in level_ids:
                problems.append(Problem(f"{where}.level", f"{d.level} is not a dose level"))
            if i and self.decisions[i - 1].kind in CLOSING:
                problems.append(Problem(where, "no decision can follow one that closed the trial"))
        if problems:
            raise InputError(problems)
