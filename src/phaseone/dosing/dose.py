"""The prescribed dose of each agent at one dose level, before any rounding.

A dose level gives each agent an amount per m2, per kg or flat, per day or per dose. An
agent's weight rules switch the basis for small children (isotretinoin at or below
12 kg: mg/kg/day). The result says which rule applied and from which inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from phaseone.dosing.bsa import Bsa
from phaseone.errors import InputError, Problem
from phaseone.protocol.fields import Dose
from phaseone.protocol.model import Agent, DoseLevel, Protocol


@dataclass(frozen=True)
class Prescribed:
    """One agent's prescribed daily amount for one child, and why."""

    agent: Agent
    dose: Dose
    rule: str
    assumed: bool
    daily_mg: float
    times_per_day: int
    days: tuple[int, ...]
    infusion_hours: float | None
    bsa_m2: float
    weight_kg: float

    @property
    def per_administration_mg(self) -> float:
        return self.daily_mg / self.times_per_day

    def per_m2_day(self, daily_mg: float) -> float:
        return daily_mg / self.bsa_m2

    def per_kg_day(self, daily_mg: float) -> float:
        return daily_mg / self.weight_kg

    def in_prescribed_unit(self, daily_mg: float) -> float:
        """A daily amount expressed in the unit the dose was written in."""
        per = {"bsa": self.bsa_m2, "weight": self.weight_kg, "flat": 1.0}[self.dose.basis]
        if self.dose.unit.endswith("/dose"):
            return daily_mg / per / self.times_per_day
        return daily_mg / per


def find_level(protocol: Protocol, level_id: object) -> DoseLevel:
    """The dose level with this id; raise InputError naming `level` otherwise."""
    ids = [level.id for level in protocol.dose_levels]
    if isinstance(level_id, bool) or not isinstance(level_id, int) or level_id not in ids:
        raise InputError(
            [
                Problem(
                    "level",
                    f"unknown dose level {level_id!r} in protocol {protocol.id!r}; "
                    f"expected one of: {', '.join(map(str, ids))}",
                )
            ]
        )
    return protocol.dose_level(level_id)


def daily_amount(dose: Dose, bsa_m2: float, weight_kg: float, times_per_day: int) -> float:
    """mg per day for a dose written per m2, per kg or flat, per day or per dose."""
    per = {"bsa": bsa_m2, "weight": weight_kg, "flat": 1.0}[dose.basis]
    per_day = dose.amount * per
    return per_day * times_per_day if dose.unit.endswith("/dose") else per_day


def prescribe(protocol: Protocol, level: DoseLevel, bsa: Bsa) -> list[Prescribed]:
    """Each agent of the level, in course-schedule order, with its daily amount."""
    out: list[Prescribed] = []
    for item in protocol.course.schedule:
        if item.agent not in level.doses:
            continue
        agent = protocol.agent(item.agent)
        dose = level.doses[item.agent]
        rule = f"dose level {level.id}: {dose}"
        assumed = level.provenance.is_assumed
        # The tightest weight rule that covers this child wins (e.g. <= 12 kg).
        covering = [r for r in agent.weight_rules if bsa.weight_kg <= r.at_or_below_kg]
        if covering:
            wr = min(covering, key=lambda r: r.at_or_below_kg)
            dose = wr.dose
            rule = (
                f"weight {bsa.weight_kg:g} kg is at or below {wr.at_or_below_kg:g} kg: {dose} "
                f"instead of the level's {level.doses[item.agent]}"
            )
            assumed = wr.provenance.is_assumed
        out.append(
            Prescribed(
                agent=agent,
                dose=dose,
                rule=rule,
                assumed=assumed,
                daily_mg=daily_amount(dose, bsa.m2, bsa.weight_kg, item.times_per_day),
                times_per_day=item.times_per_day,
                days=item.days,
                infusion_hours=item.infusion_hours,
                bsa_m2=bsa.m2,
                weight_kg=bsa.weight_kg,
            )
        )
    return out
