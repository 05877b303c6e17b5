"""Checks of the dosing parts of a protocol that belong to this engine.

The protocol model stores rounding rules and course-start requirements as named rules
with free-form params; this module knows the names and validates the params, raising
InputError with the exact field path (e.g. `agents[0].rounding.params.tolerance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phaseone.dosing.capsules import CapsuleBox
from phaseone.dosing.rounding import (
    CapsuleScheduleParams,
    RoundEachDoseParams,
    parse_params,
)
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Agent, Protocol, RuleRef


class LabMinParams(BaseModel):
    """`lab_min`: the analyte must be at least `min` (in `unit`) to start a course."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    analyte: str = Field(min_length=1)
    min: float = Field(ge=0)
    unit: str = Field(min_length=1)
    transfusion_free_days: int | None = Field(default=None, ge=1, le=60)


START_RULES: dict[str, type[BaseModel]] = {"lab_min": LabMinParams}

_ANALYTE_NAMES = {"anc": "ANC", "platelets": "Platelets", "hemoglobin": "Hemoglobin"}


@dataclass(frozen=True)
class StartCondition:
    """One condition to start the next course, in words and as data."""

    rule: str
    text: str
    params: dict[str, Any]
    assumed: bool


@dataclass(frozen=True)
class AgentRule:
    """An agent's validated rounding rule and the units it rounds to."""

    rule: str
    params: CapsuleScheduleParams | RoundEachDoseParams
    box: CapsuleBox


def agent_rule(protocol: Protocol, agent: Agent) -> AgentRule | None:
    """The agent's rounding rule with validated params, or None when there is none."""
    if agent.rounding is None:
        return None
    index = [a.id for a in protocol.agents].index(agent.id)
    path = f"agents[{index}].rounding"
    params = parse_params(agent.rounding.rule, agent.rounding.params, path)
    solid = [f for f in agent.formulations if f.form in ("capsule", "tablet")]
    if not solid:
        raise InputError(
            [
                Problem(
                    f"agents[{index}].formulations",
                    f"rule {agent.rounding.rule!r} needs a capsule or tablet formulation",
                )
            ]
        )
    if isinstance(params, CapsuleScheduleParams) and solid[0].may_open:
        raise InputError(
            [
                Problem(
                    f"{path}.rule",
                    "capsule_schedule is for units that may not be opened; "
                    "use round_each_dose for capsules that may be opened",
                )
            ]
        )
    assert isinstance(params, (CapsuleScheduleParams, RoundEachDoseParams))
    strengths = tuple(s for f in solid for s in f.strengths_mg)
    return AgentRule(agent.rounding.rule, params, CapsuleBox(strengths))


def start_conditions(protocol: Protocol) -> list[StartCondition]:
    """The protocol's conditions to start the next course; raise InputError if malformed."""
    out: list[StartCondition] = []
    problems: list[Problem] = []
    for i, ref in enumerate(protocol.course.start_requirements):
        path = f"course.start_requirements[{i}]"
        condition = _start_condition(ref, path, problems)
        if condition is not None:
            out.append(condition)
    if problems:
        raise InputError(problems)
    return out


def _start_condition(ref: RuleRef, path: str, problems: list[Problem]) -> StartCondition | None:
    if ref.rule not in START_RULES:
        problems.append(
            Problem(
                f"{path}.rule",
                f"unknown start rule {ref.rule!r}; expected one of: " + ", ".join(START_RULES),
            )
        )
        return None
    try:
        params = LabMinParams.model_validate(ref.params)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(Problem(f"{path}.params.{loc}", err["msg"]))
        return None
    name = _ANALYTE_NAMES.get(params.analyte, params.analyte)
    text = f"{name} at least {params.min:,g} {params.unit}"
    if params.transfusion_free_days:
        text += f", without transfusion for {params.transfusion_free_days} days"
    return StartCondition(ref.rule, text, dict(ref.params), ref.provenance.is_assumed)
