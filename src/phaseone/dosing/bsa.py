"""Body surface area from same-visit height and weight.

Four published formulas (height H in cm, weight W in kg, result in m2):

- Mosteller (N Engl J Med 1987;317:1098): sqrt(H * W / 3600)
- DuBois & DuBois (Arch Intern Med 1916;17:863): 0.007184 * H^0.725 * W^0.425
- Haycock (J Pediatr 1978;93:62): 0.024265 * H^0.3964 * W^0.5378
- Gehan & George (Cancer Chemother Rep 1970;54:225): 0.0235 * H^0.42246 * W^0.51456

The dose is computed from the BSA rounded to the protocol's number of decimals, and both
the exact and the rounded value are kept so the rounding can be shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from phaseone.errors import InputError, Problem

BsaFormula = Literal["mosteller", "dubois", "haycock", "gehan_george"]


def mosteller(height_cm: float, weight_kg: float) -> float:
    return math.sqrt(height_cm * weight_kg / 3600.0)


def dubois(height_cm: float, weight_kg: float) -> float:
    return float(0.007184 * height_cm**0.725 * weight_kg**0.425)


def haycock(height_cm: float, weight_kg: float) -> float:
    return float(0.024265 * height_cm**0.3964 * weight_kg**0.5378)


def gehan_george(height_cm: float, weight_kg: float) -> float:
    return float(0.0235 * height_cm**0.42246 * weight_kg**0.51456)


FORMULAS: dict[str, Callable[[float, float], float]] = {
    "mosteller": mosteller,
    "dubois": dubois,
    "haycock": haycock,
    "gehan_george": gehan_george,
}

FORMULA_NAMES: dict[str, str] = {
    "mosteller": "Mosteller",
    "dubois": "DuBois & DuBois",
    "haycock": "Haycock",
    "gehan_george": "Gehan & George",
}


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float


@cache
def plausibility() -> dict[str, Bounds]:
    """The plausible ranges of height and weight (data/plausibility.yaml)."""
    text = resources.files("phaseone.dosing").joinpath("data/plausibility.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return {
        name: Bounds(float(data[name]["min"]), float(data[name]["max"]))
        for name in ("height_cm", "weight_kg")
    }


def _check_measure(name: str, value: object, problems: list[Problem]) -> float | None:
    unit = name.rsplit("_", 1)[1]
    if value is None:
        problems.append(Problem(name, f"is required (in {unit}, same visit as the other)"))
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        problems.append(Problem(name, f"expected a number in {unit}, got {value!r}"))
        return None
    bounds = plausibility()[name]
    if not bounds.low <= value <= bounds.high:
        problems.append(
            Problem(
                name,
                f"{value:g} {unit} is outside the plausible range "
                f"{bounds.low:g}-{bounds.high:g} {unit}; check the value and its unit",
            )
        )
        return None
    return float(value)


def check_measurements(height_cm: object, weight_kg: object) -> tuple[float, float]:
    """Validate height and weight together; raise InputError naming every bad field."""
    problems: list[Problem] = []
    height = _check_measure("height_cm", height_cm, problems)
    weight = _check_measure("weight_kg", weight_kg, problems)
    if problems or height is None or weight is None:
        raise InputError(problems)
    return height, weight


def round_half_up(value: float, decimals: int) -> float:
    """Round as people do on paper (0.125 -> 0.13), not to even."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Bsa:
    """A body surface area and how it was obtained."""

    height_cm: float
    weight_kg: float
    formula: str
    exact_m2: float
    decimals: int

    @property
    def m2(self) -> float:
        """The rounded BSA that doses are computed from."""
        return round_half_up(self.exact_m2, self.decimals)

    def explain(self) -> str:
        return (
            f"BSA {self.m2:.{self.decimals}f} m2 ({FORMULA_NAMES[self.formula]}, "
            f"height {self.height_cm:g} cm, weight {self.weight_kg:g} kg; "
            f"exact {self.exact_m2:.4f}, rounded to {self.decimals} decimals)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "m2": self.m2,
            "exact_m2": self.exact_m2,
            "formula": self.formula,
            "decimals": self.decimals,
            "height_cm": self.height_cm,
            "weight_kg": self.weight_kg,
        }


def body_surface_area(
    height_cm: object, weight_kg: object, formula: str = "mosteller", decimals: int = 2
) -> Bsa:
    """BSA from same-visit height (cm) and weight (kg); raise InputError on bad input."""
    if formula not in FORMULAS:
        raise InputError(
            [
                Problem(
                    "formula",
                    f"unknown BSA formula {formula!r}; expected one of: " + ", ".join(FORMULAS),
                )
            ]
        )
    height, weight = check_measurements(height_cm, weight_kg)
    return Bsa(height, weight, formula, FORMULAS[formula](height, weight), decimals)
