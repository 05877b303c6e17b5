"""Adverse events: the record a site reports, validated against the CTCAE catalogue.

An event has a CTCAE term (and the verbatim term as reported), a grade 1-5, onset and
resolution dates, optional dates on which it improved to a lower grade, seriousness, the
attribution to each agent, the action taken and the outcome. `flags` carry clinical facts
some DLT rules ask about (e.g. "uncontrolled_despite_supportive_care").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from phaseone.errors import InputError, Problem
from phaseone.safety.terms import find_term, suggestions

Attribution = Literal["unrelated", "unlikely", "possible", "probable", "definite"]
ATTRIBUTIONS: tuple[Attribution, ...] = (
    "unrelated",
    "unlikely",
    "possible",
    "probable",
    "definite",
)
Action = Literal[
    "none", "dose_interrupted", "dose_reduced", "dose_delayed", "drug_withdrawn", "not_applicable"
]
Outcome = Literal[
    "recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown"
]


def attribution_rank(value: Attribution) -> int:
    return ATTRIBUTIONS.index(value)


class Improvement(BaseModel):
    """From `on`, the event was at grade `grade` or lower."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    grade: int = Field(ge=0, le=4)
    on: dt.date


class AdverseEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    term: str = Field(min_length=1)
    verbatim: str | None = None
    grade: int = Field(ge=1, le=5)
    onset: dt.date
    resolved: dt.date | None = None
    improvements: tuple[Improvement, ...] = ()
    serious: bool = False
    attribution: dict[str, Attribution] = Field(default_factory=dict)
    action: Action = "none"
    outcome: Outcome = "unknown"
    course: int | None = Field(default=None, ge=1)
    flags: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _dates_in_order(self) -> AdverseEvent:
        if self.resolved is not None and self.resolved < self.onset:
            raise ValueError(
                f"resolved ({self.resolved}) is before onset ({self.onset}); "
                "expected a resolution date on or after onset"
            )
        for imp in self.improvements:
            if imp.on < self.onset:
                raise ValueError(f"improvement on {imp.on} is before onset ({self.onset})")
            if imp.grade >= self.grade:
                raise ValueError(
                    f"improvement to grade {imp.grade} is not below the event grade {self.grade}"
                )
        if self.grade == 5 and self.outcome not in ("fatal", "unknown"):
            raise ValueError("a grade 5 event is a death; expected outcome 'fatal'")
        return self

    def max_attribution(self, agents: Iterable[str] | None = None) -> Attribution | None:
        wanted = set(agents) if agents is not None else None
        found: list[Attribution] = [
            a for agent, a in self.attribution.items() if wanted is None or agent in wanted
        ]
        if not found:
            return None
        return max(found, key=attribution_rank)

    def below_grade_on(self, grade: int) -> dt.date | None:
        """The first date on which the event was below `grade` (resolution counts as 0)."""
        dates = [imp.on for imp in self.improvements if imp.grade < grade]
        if self.resolved is not None:
            dates.append(self.resolved)
        return min(dates) if dates else None

    def days_at_or_above(self, grade: int, as_of: dt.date) -> tuple[int, bool]:
        """Days from onset until the event fell below `grade`; (days so far, True) if not yet."""
        end = self.below_grade_on(grade)
        if end is None or end > as_of:
            return (as_of - self.onset).days, True
        return (end - self.onset).days, False


def _pydantic_problems(exc: ValidationError, prefix: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        path = f"{prefix}.{loc}" if loc else prefix
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("less_than_equal", "greater_than_equal") and loc == "grade":
            msg = f"grade {err['input']!r} is not a CTCAE grade; expected 1, 2, 3, 4 or 5"
        if "resolved" in msg and not loc:
            path = f"{prefix}.resolved"
        out.append(Problem(path, msg))
    return out


def parse_events(
    records: Sequence[Mapping[str, Any]],
    *,
    version: str,
    agents: Iterable[str] | None = None,
    extra_terms: Iterable[str] = (),
    path: str = "events",
) -> tuple[AdverseEvent, ...]:
    """Validate raw event records; every problem is reported at once with its field path."""
    problems: list[Problem] = []
    events: list[AdverseEvent] = []
    known_agents = set(agents) if agents is not None else None
    extra = {t.strip().lower() for t in extra_terms}
    for i, raw in enumerate(records):
        here = f"{path}[{i}]"
        try:
            event = AdverseEvent.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, here))
            continue
        problems.extend(check_event(event, version, known_agents, extra, here))
        events.append(event)
    ids = [e.id for e in events]
    for dup in sorted({x for x in ids if ids.count(x) > 1}):
        problems.append(
            Problem(
                f"{path}[{ids.index(dup, ids.index(dup) + 1)}].id", f"duplicate event id {dup!r}"
            )
        )
    if problems:
        raise InputError(problems)
    return tuple(events)


def check_event(
    event: AdverseEvent,
    version: str,
    agents: set[str] | None,
    extra_terms: set[str],
    path: str,
) -> list[Problem]:
    """Problems of one event against the CTCAE catalogue and the protocol's agents."""
    problems: list[Problem] = []
    entry = find_term(event.term, version)
    if entry is None and event.term.strip().lower() not in extra_terms:
        close = suggestions(event.term, version)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        problems.append(
            Problem(f"{path}.term", f"unknown CTCAE v{version} term {event.term!r}{hint}")
        )
    elif entry is not None and event.grade not in entry.grades:
        allowed = ", ".join(str(g) for g in sorted(entry.grades))
        problems.append(
            Problem(
                f"{path}.grade",
                f"CTCAE v{version} defines no grade {event.grade} for {entry.term!r}; "
                f"expected one of: {allowed}",
            )
        )
    if agents is not None:
        for agent in event.attribution:
            if agent not in agents:
                problems.append(
                    Problem(
                        f"{path}.attribution.{agent}",
                        f"unknown agent {agent!r}; expected one of: {', '.join(sorted(agents))}",
                    )
                )
    return problems
