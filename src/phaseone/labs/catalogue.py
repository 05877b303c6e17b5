"""Laboratory analytes and their units: the one conversion table of phaseone.

A lab value is always a number with a unit. The unit must be one the analyte accepts;
it is converted to the analyte's canonical unit with the factor in data/analytes.yaml.
An unknown analyte or a unit the analyte does not accept is an error that names both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from phaseone.errors import InputError, Problem

# Count units are shared by every analyte of kind 'count'; enzyme units by every 'enzyme'.
_COUNT_UNITS = {
    "/uL": 1.0,
    "cells/uL": 1.0,
    "10^3/uL": 1000.0,
    "K/uL": 1000.0,
    "x10^3/uL": 1000.0,
    "10^9/L": 1000.0,
    "x10^9/L": 1000.0,
    "G/L": 1000.0,
}
_ENZYME_UNITS = {"U/L": 1.0, "IU/L": 1.0, "ukat/L": 60.0}


def normalise_unit(unit: str) -> str:
    """A comparison key for a unit spelling: 'µmol/L', 'umol/l' and 'UMOL / L' agree."""
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "")
    text = text.replace("^", "").replace("²", "2").replace("³", "3")
    text = re.sub(r"mm3", "uL", text, flags=re.IGNORECASE)
    text = text.replace("×", "x").replace("*", "x")
    return text.lower()


@dataclass(frozen=True)
class Analyte:
    id: str
    name: str
    unit: str
    factors: dict[str, float]  # normalised unit -> factor to the canonical unit
    spellings: tuple[str, ...]  # accepted units as written, for messages
    # Physiologically possible limits in the canonical unit (None: not set).
    plausible: tuple[float, float] | None = None

    def to_canonical(self, value: float, unit: str, path: str = "unit") -> float:
        """Convert a value in `unit` to this analyte's canonical unit."""
        factor = self.factors.get(normalise_unit(unit))
        if factor is None:
            raise InputError(
                [
                    Problem(
                        path,
                        f"unit {unit!r} is not accepted for {self.id} ({self.name}); "
                        f"expected one of: {', '.join(self.spellings)}",
                    )
                ]
            )
        return value * factor


@cache
def analytes() -> dict[str, Analyte]:
    """Every known analyte by id."""
    text = resources.files("phaseone.labs").joinpath("data/analytes.yaml").read_text("utf-8")
    table: dict[str, Any] = yaml.safe_load(text)
    raw: dict[str, Any] = table["analytes"]
    limits: dict[str, list[float]] = table.get("plausible_limits", {}).get("limits", {})
    unknown = sorted(set(limits) - set(raw))
    if unknown:
        raise ValueError(f"plausible_limits name unknown analytes: {', '.join(unknown)}")
    out: dict[str, Analyte] = {}
    for aid, spec in raw.items():
        accepted: dict[str, float] = {spec["unit"]: 1.0}
        kind = spec.get("kind")
        if kind == "count":
            accepted.update(_COUNT_UNITS)
        elif kind == "enzyme":
            accepted.update(_ENZYME_UNITS)
        accepted.update({u: float(f) for u, f in spec.get("accepts", {}).items()})
        out[aid] = Analyte(
            id=aid,
            name=spec["name"],
            unit=spec["unit"],
            factors={normalise_unit(u): f for u, f in accepted.items()},
            spellings=tuple(accepted),
            plausible=(float(limits[aid][0]), float(limits[aid][1])) if aid in limits else None,
        )
    return out


def analyte(analyte_id: str, path: str = "analyte") -> Analyte:
    """Look up an analyte; an unknown id is an InputError naming the known ones."""
    found = analytes().get(analyte_id)
    if found is None:
        raise InputError(
            [
                Problem(
                    path,
                    f"unknown analyte {analyte_id!r}; expected one of: "
                    + ", ".join(sorted(analytes())),
                )
            ]
        )
    return found


def to_canonical(analyte_id: str, value: float, unit: str) -> float:
    """Convert one value of an analyte to its canonical unit."""
    return analyte(analyte_id).to_canonical(value, unit)
