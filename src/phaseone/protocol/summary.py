"""Plain views of a protocol for people: the course calendar and the assumed values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from phaseone.protocol.fields import format_int_set
from phaseone.protocol.model import Protocol
from phaseone.protocol.provenance import Provenance, Sourced


@dataclass(frozen=True)
class CalendarRow:
    """One agent's place in the course: which days, how often, on which dose levels."""

    agent: str
    name: str
    route: str
    days: tuple[int, ...]
    times_per_day: int
    infusion_hours: float | None
    dose_levels: tuple[int, ...]
    all_levels: bool

    @property
    def frequency(self) -> str:
        return {1: "once daily", 2: "twice daily", 3: "three times daily"}.get(
            self.times_per_day, f"{self.times_per_day} times daily"
        )

    def describe(self) -> str:
        how = f"{self.route} {self.frequency}"
        if self.infusion_hours is not None:
            how = f"{self.route} over {self.infusion_hours:g} h, {self.frequency}"
        levels = "all levels" if self.all_levels else "levels " + format_int_set(self.dose_levels)
        return f"days {format_int_set(self.days)}, {how}; {levels}"


def course_calendar(protocol: Protocol) -> list[CalendarRow]:
    """The course schedule, one row per agent, with the dose levels that give it."""
    all_ids = tuple(level.id for level in protocol.dose_levels)
    rows = []
    for item in protocol.course.schedule:
        agent = protocol.agent(item.agent)
        levels = protocol.levels_with(item.agent)
        rows.append(
            CalendarRow(
                agent=agent.id,
                name=agent.name,
                route=agent.route,
                days=item.days,
                times_per_day=item.times_per_day,
                infusion_hours=item.infusion_hours,
                dose_levels=levels,
                all_levels=levels == all_ids,
            )
        )
    return rows


@dataclass(frozen=True)
class AssumedValue:
    """A value the public record does not state: where it is, what it is, why."""

    path: str
    value: str
    provenance: Provenance


def assumed_values(protocol: Protocol) -> list[AssumedValue]:
    """Every assumed value in the protocol, grouped per object where all of it is assumed."""
    out: list[AssumedValue] = []
    _collect(protocol, "", out)
    return out


def _collect(node: Any, path: str, out: list[AssumedValue]) -> None:
    if isinstance(node, (tuple, list)):
        for i, item in enumerate(node):
            key = getattr(item, "id", None) or getattr(item, "agent", None) or i
            _collect(item, f"{path}[{key}]", out)
        return
    if isinstance(node, dict):
        for key, value in node.items():
            _collect(value, f"{path}.{key}", out)
        return
    if not isinstance(node, BaseModel):
        return
    fields = [f for f in type(node).model_fields if f not in ("provenance", "field_provenance")]
    if isinstance(node, Sourced):
        if node.provenance.is_assumed and all(node.provenance_of(f).is_assumed for f in fields):
            out.append(AssumedValue(path or "(protocol)", _short(node), node.provenance))
            return
        for field in fields:
            value = getattr(node, field)
            prov = node.provenance_of(field)
            if _holds_sourced(value):
                _collect(value, _join(path, field), out)
            elif prov.is_assumed and value not in (None, (), {}):
                out.append(AssumedValue(_join(path, field), _short(value), prov))
        return
    for field in fields:
        _collect(getattr(node, field), _join(path, field), out)


def _holds_sourced(value: Any) -> bool:
    if isinstance(value, Sourced):
        return True
    if isinstance(value, (tuple, list)):
        return any(isinstance(v, Sourced) for v in value)
    return False


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _short(value: Any, width: int = 70) -> str:
    if isinstance(value, BaseModel):
        for name in ("id", "name", "rule", "agent"):
            if name in type(value).model_fields:
                return f"{type(value).__name__} {getattr(value, name)!s}"
        text = type(value).__name__
    elif isinstance(value, tuple):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
