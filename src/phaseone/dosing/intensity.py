"""Dose intensity of one course: planned vs given per day and agent, and per course.

For each agent of the registered level and of the level the course was given at:

- `planned_mg`: the course's calendar (its own level, height and weight, rounded to what
  can be given);
- `protocol_mg`: the registered level's prescribed amount for the same body size, before
  rounding, over the protocol's days (the "full dose" of secondary objective XI);
- `given_mg`: what was recorded as given (a day with no record counts as not given);
- `intensity` = given / planned and `relative` = given / protocol (None when the divisor
  is 0: an agent the level does not give).

`full_dose` is true when the course ran at the registered level and every planned day of
the agent was recorded as given at the planned amount or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from phaseone.dosing.calendar import CourseCalendar
from phaseone.dosing.sheet import DoseSheet

# Amounts are compared in mg to 4 decimals (the calendar's precision).
_EPS = 1e-4


@dataclass(frozen=True)
class Given:
    """What was recorded for one agent on one course day (0 mg when not given)."""

    day: int
    agent_id: str
    mg: float


@dataclass(frozen=True)
class DayDose:
    day: int
    agent_id: str
    planned_mg: float
    given_mg: float | None  # None: nothing recorded yet

    @property
    def status(self) -> str:
        if self.given_mg is None:
            return "not recorded"
        if self.given_mg <= _EPS:
            return "not given"
        if abs(self.given_mg - self.planned_mg) <= _EPS:
            return "as planned"
        return "reduced" if self.given_mg < self.planned_mg else "above plan"


@dataclass(frozen=True)
class AgentIntensity:
    course: int
    agent_id: str
    dose_level: int
    registered_level: int
    planned_days: int
    recorded_days: int
    given_days: int
    planned_mg: float
    given_mg: float
    protocol_mg: float
    intensity: float | None
    relative: float | None
    full_dose: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def day_doses(course: CourseCalendar, given: Sequence[Given]) -> list[DayDose]:
    """Every planned (day, agent) of the course with the amount recorded, in day order.

    Several records for one day and agent add up (an agent given twice a day)."""
    recorded: dict[tuple[int, str], float] = {}
    for g in given:
        recorded[(g.day, g.agent_id)] = recorded.get((g.day, g.agent_id), 0.0) + g.mg
    out = []
    for day in course.days:
        planned: dict[str, float] = {}
        for a in day.administrations:
            planned[a.agent_id] = planned.get(a.agent_id, 0.0) + a.mg
        for agent_id, mg in planned.items():
            out.append(DayDose(day.day, agent_id, round(mg, 4), recorded.get((day.day, agent_id))))
    return out


def course_intensity(
    course: CourseCalendar,
    dose_level: int,
    reference: DoseSheet,
    given: Sequence[Given],
) -> list[AgentIntensity]:
    """Intensity per agent for one course; `reference` is the registered level's sheet for
    the course's height and weight."""
    days = day_doses(course, given)
    protocol_mg = {
        line.agent_id: line.prescribed.daily_mg * len(line.prescribed.days)
        for line in reference.agents
    }
    agents = list(protocol_mg)
    agents += [d.agent_id for d in days if d.agent_id not in agents]
    out = []
    for agent_id in dict.fromkeys(agents):
        mine = [d for d in days if d.agent_id == agent_id]
        planned = sum(d.planned_mg for d in mine)
        given_mg = sum(g.mg for g in given if g.agent_id == agent_id)
        reference_mg = protocol_mg.get(agent_id, 0.0)
        recorded = [d for d in mine if d.given_mg is not None]
        full = (
            dose_level == reference.level.id
            and bool(mine)
            and all(d.given_mg is not None and d.given_mg >= d.planned_mg - _EPS for d in mine)
        )
        out.append(
            AgentIntensity(
                course=course.course,
                agent_id=agent_id,
                dose_level=dose_level,
                registered_level=reference.level.id,
                planned_days=len(mine),
                recorded_days=len(recorded),
                given_days=sum(1 for d in recorded if (d.given_mg or 0.0) > _EPS),
                planned_mg=round(planned, 4),
                given_mg=round(given_mg, 4),
                protocol_mg=round(reference_mg, 4),
                intensity=None if planned <= 0 else given_mg / planned,
                relative=None if reference_mg <= 0 else given_mg / reference_mg,
                full_dose=full,
            )
        )
    return out


def intensity_frame(rows: Sequence[dict[str, Any]]) -> Any:
    """Rows (dicts) as a pandas DataFrame, one row per patient, course and agent."""
    import pandas as pd  # heavy; only when a frame is asked for

    columns = [
        "subject_code",
        "site_id",
        *AgentIntensity.__dataclass_fields__,
    ]
    return pd.DataFrame(list(rows), columns=columns)
