"""One child's doses at one dose level: BSA, prescription, rounding, infusion rates.

`dose_sheet()` is the entry point. Every agent's line keeps the prescribed amount, the
amount that will actually be given, the achieved mg/m2/day and the deviation in %, and
whether the result is ok, flagged for review, or refused (no dose can be given within
the protocol's tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phaseone.dosing.bsa import Bsa, body_surface_area
from phaseone.dosing.dose import Prescribed, find_level, prescribe
from phaseone.dosing.infusion import InfusionPlan, plan_infusion
from phaseone.dosing.rounding import (
    CapsuleScheduleParams,
    RoundedDose,
    capsule_schedule,
    exact,
    round_each_dose,
)
from phaseone.dosing.rules import agent_rule
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import DoseLevel, Protocol

TIMES = {1: ("once daily",), 2: ("morning", "evening"), 3: ("morning", "midday", "evening")}


def time_labels(times_per_day: int) -> tuple[str, ...]:
    return TIMES.get(times_per_day, tuple(f"dose {i + 1}" for i in range(times_per_day)))


@dataclass(frozen=True)
class AgentDose:
    """One agent: prescribed, given, and how far apart they are."""

    prescribed: Prescribed
    rounded: RoundedDose
    infusion: InfusionPlan | None
    form: str

    @property
    def agent_id(self) -> str:
        return self.prescribed.agent.id

    @property
    def status(self) -> str:
        if self.infusion is not None and not self.infusion.within_max_rate:
            return "flagged"
        return self.rounded.status

    @property
    def achieved_mg_m2_day(self) -> float | None:
        daily = self.rounded.achieved_daily_mg
        return None if daily is None else self.prescribed.per_m2_day(daily)

    @property
    def achieved_in_prescribed_unit(self) -> float | None:
        daily = self.rounded.achieved_daily_mg
        return None if daily is None else self.prescribed.in_prescribed_unit(daily)

    def as_dict(self) -> dict[str, Any]:
        p, r = self.prescribed, self.rounded
        return {
            "agent": p.agent.id,
            "name": p.agent.name,
            "route": p.agent.route,
            "status": self.status,
            "rule": p.rule,
            "assumed": p.assumed,
            "prescribed": {"amount": p.dose.amount, "unit": p.dose.unit},
            "prescribed_mg_per_day": p.daily_mg,
            "prescribed_mg_m2_day": p.per_m2_day(p.daily_mg),
            "days": list(p.days),
            "times_per_day": p.times_per_day,
            "rounding": {
                "rule": r.rule,
                "pattern": r.pattern,
                "message": r.message,
                "tolerance": r.tolerance,
                "target_total_mg": r.target_total_mg,
                "achieved_total_mg": r.achieved_total_mg,
                "deviation": r.deviation,
            },
            "achieved_mg_per_day": r.achieved_daily_mg,
            "achieved_mg_m2_day": self.achieved_mg_m2_day,
            "achieved_in_prescribed_unit": self.achieved_in_prescribed_unit,
            "infusion": None if self.infusion is None else self.infusion.as_dict(),
        }


@dataclass(frozen=True)
class DoseSheet:
    """Every agent's dose for one child at one level, from one height and weight."""

    protocol_id: str
    level: DoseLevel
    bsa: Bsa
    agents: tuple[AgentDose, ...]

    def agent(self, agent_id: str) -> AgentDose:
        for a in self.agents:
            if a.agent_id == agent_id:
                return a
        raise KeyError(agent_id)

    @property
    def refused(self) -> tuple[AgentDose, ...]:
        return tuple(a for a in self.agents if a.status == "refused")

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol_id,
            "level": self.level.id,
            "level_label": self.level.label,
            "bsa": self.bsa.as_dict(),
            "agents": [a.as_dict() for a in self.agents],
        }


def dose_sheet(
    protocol: Protocol, level: object, height_cm: object, weight_kg: object
) -> DoseSheet:
    """BSA, prescribed and deliverable doses for one child; InputError on bad input."""
    problems: list[Problem] = []
    dose_level: DoseLevel | None = None
    bsa: Bsa | None = None
    try:
        dose_level = find_level(protocol, level)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        bsa = body_surface_area(
            height_cm, weight_kg, protocol.dosing.bsa_formula, protocol.dosing.bsa_decimals
        )
    except InputError as exc:
        problems.extend(exc.problems)
    if problems or dose_level is None or bsa is None:
        raise InputError(problems)
    return sheet_for(protocol, dose_level, bsa)


def sheet_for(protocol: Protocol, level: DoseLevel, bsa: Bsa) -> DoseSheet:
    tolerance = protocol.dosing.dose_tolerance
    lines: list[AgentDose] = []
    for p in prescribe(protocol, level, bsa):
        rule = agent_rule(protocol, p.agent)
        infusion = None
        form = p.agent.formulations[0].form if p.agent.formulations else "dose"
        if rule is None:
            rounded = exact(p.daily_mg, p.days, p.times_per_day, tolerance)
        elif isinstance(rule.params, CapsuleScheduleParams):
            rounded = capsule_schedule(p.daily_mg, p.days, rule.box, rule.params, tolerance)
        else:
            rounded = round_each_dose(
                p.daily_mg, p.days, p.times_per_day, rule.box, rule.params, tolerance
            )
        if p.infusion_hours is not None:
            infusion = plan_infusion(p.agent, p.daily_mg, p.infusion_hours, bsa.m2)
        lines.append(AgentDose(p, rounded, infusion, form))
    return DoseSheet(protocol.id, level, bsa, tuple(lines))
