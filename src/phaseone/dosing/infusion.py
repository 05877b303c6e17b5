"""Infusion rates for an IV agent: mg/h, mg/m2/h and mL/h over the protocol's hours."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from phaseone.protocol.model import Agent


@dataclass(frozen=True)
class InfusionPlan:
    """How one day's IV dose runs. Volumes assume the stated concentrations."""

    dose_mg: float
    hours: float
    bsa_m2: float
    vial_mg: float | None
    vial_ml: float | None
    final_concentration_mg_ml: float | None
    max_rate_mg_m2_h: float | None
    initial_rate_mg_m2_h: float | None
    initial_minutes: float | None

    @property
    def rate_mg_h(self) -> float:
        return self.dose_mg / self.hours

    @property
    def rate_mg_m2_h(self) -> float:
        return self.rate_mg_h / self.bsa_m2

    @property
    def within_max_rate(self) -> bool:
        if self.max_rate_mg_m2_h is None:
            return True
        return self.rate_mg_m2_h <= self.max_rate_mg_m2_h + 1e-9

    @property
    def vials(self) -> int | None:
        """Single-dose vials to open for the day's dose."""
        if self.vial_mg is None:
            return None
        return math.ceil(self.dose_mg / self.vial_mg - 1e-9)

    @property
    def vial_concentration_mg_ml(self) -> float | None:
        if self.vial_mg is None or self.vial_ml is None:
            return None
        return self.vial_mg / self.vial_ml

    @property
    def concentrate_ml(self) -> float | None:
        """Volume drawn from the vials."""
        conc = self.vial_concentration_mg_ml
        return None if conc is None else self.dose_mg / conc

    @property
    def bag_concentration_mg_ml(self) -> float | None:
        return self.final_concentration_mg_ml or self.vial_concentration_mg_ml

    @property
    def bag_ml(self) -> float | None:
        conc = self.bag_concentration_mg_ml
        return None if conc is None else self.dose_mg / conc

    @property
    def rate_ml_h(self) -> float | None:
        return None if self.bag_ml is None else self.bag_ml / self.hours

    @property
    def initial_rate_mg_h(self) -> float | None:
        if self.initial_rate_mg_m2_h is None:
            return None
        return self.initial_rate_mg_m2_h * self.bsa_m2

    @property
    def initial_rate_ml_h(self) -> float | None:
        conc = self.bag_concentration_mg_ml
        if self.initial_rate_mg_h is None or conc is None:
            return None
        return self.initial_rate_mg_h / conc

    @property
    def total_hours(self) -> float:
        """Hours to give the dose with the slower start, then the planned rate."""
        if self.initial_rate_mg_h is None or self.initial_minutes is None:
            return self.hours
        start_h = self.initial_minutes / 60
        given = min(self.dose_mg, self.initial_rate_mg_h * start_h)
        if given >= self.dose_mg:
            return self.dose_mg / self.initial_rate_mg_h
        return start_h + (self.dose_mg - given) / self.rate_mg_h

    def describe(self) -> str:
        parts = [f"over {self.hours:g} h at {self.rate_mg_h:.2f} mg/h"]
        if self.rate_ml_h is not None:
            parts[0] += f" ({self.rate_ml_h:.1f} mL/h of {self.bag_concentration_mg_ml:g} mg/mL)"
        if self.initial_rate_mg_h is not None and self.initial_minutes is not None:
            first = f"first {self.initial_minutes:g} min at {self.initial_rate_mg_h:.2f} mg/h"
            if self.initial_rate_ml_h is not None:
                first += f" ({self.initial_rate_ml_h:.1f} mL/h)"
            parts.append(f"{first}, total {self.total_hours:.2f} h")
        if not self.within_max_rate:
            parts.append(
                f"WARNING: {self.rate_mg_m2_h:.2f} mg/m2/h exceeds the maximum "
                f"{self.max_rate_mg_m2_h:g} mg/m2/h"
            )
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hours": self.hours,
            "rate_mg_h": self.rate_mg_h,
            "rate_mg_m2_h": self.rate_mg_m2_h,
            "max_rate_mg_m2_h": self.max_rate_mg_m2_h,
            "within_max_rate": self.within_max_rate,
            "vials": self.vials,
            "concentrate_ml": self.concentrate_ml,
            "bag_concentration_mg_ml": self.bag_concentration_mg_ml,
            "bag_ml": self.bag_ml,
            "rate_ml_h": self.rate_ml_h,
            "initial_rate_mg_h": self.initial_rate_mg_h,
            "initial_rate_ml_h": self.initial_rate_ml_h,
            "initial_minutes": self.initial_minutes,
            "total_hours": self.total_hours,
        }


def plan_infusion(agent: Agent, dose_mg: float, hours: float, bsa_m2: float) -> InfusionPlan:
    vial = next((f for f in agent.formulations if f.form == "vial"), None)
    rule = agent.infusion
    return InfusionPlan(
        dose_mg=dose_mg,
        hours=hours,
        bsa_m2=bsa_m2,
        vial_mg=vial.strengths_mg[0] if vial is not None else None,
        vial_ml=vial.volume_ml if vial is not None else None,
        final_concentration_mg_ml=rule.final_concentration_mg_ml if rule else None,
        max_rate_mg_m2_h=rule.max_rate_mg_m2_h if rule else None,
        initial_rate_mg_m2_h=rule.initial_rate_mg_m2_h if rule else None,
        initial_minutes=rule.initial_minutes if rule else None,
    )
