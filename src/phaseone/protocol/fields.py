"""Small value types used in protocol files: day sets, course sets, doses, ages."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from phaseone.protocol.provenance import Frozen

_RANGE = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")


def parse_int_set(value: Any) -> tuple[int, ...]:
    """Parse '1-21', '8-11', '1,8,15', 5 or [1, 2, 3] into a sorted tuple of ints."""
    if isinstance(value, bool):
        raise ValueError("expected day numbers like '1-21', '1,8,15' or a list of integers")
    if isinstance(value, int):
        return (value,)
    if isinstance(value, str):
        out: set[int] = set()
        for part in value.split(","):
            match = _RANGE.match(part)
            if not match:
                raise ValueError(
                    f"cannot read {part.strip()!r}; expected day numbers like '1-21' or '1,8,15'"
                )
            lo = int(match.group(1))
            hi = int(match.group(2)) if match.group(2) is not None else lo
            if hi < lo:
                raise ValueError(f"range {part.strip()!r} runs backwards")
            out.update(range(lo, hi + 1))
        return tuple(sorted(out))
    if isinstance(value, (list, tuple)):
        items: set[int] = set()
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"expected whole day numbers, got {item!r}")
            items.add(item)
        if not items:
            raise ValueError("expected at least one day")
        return tuple(sorted(items))
    raise ValueError(f"expected day numbers like '1-21' or a list of integers, got {value!r}")


def format_int_set(values: tuple[int, ...]) -> str:
    """(1, 2, 3, 8) -> '1-3, 8': the inverse of parse_int_set, for display."""
    if not values:
        return "-"
    runs: list[str] = []
    start = prev = values[0]
    for v in values[1:]:
        if v == prev + 1:
            prev = v
            continue
        runs.append(f"{start}-{prev}" if prev > start else str(start))
        start = prev = v
    runs.append(f"{start}-{prev}" if prev > start else str(start))
    return ", ".join(runs)


DaySet = Annotated[tuple[int, ...], BeforeValidator(parse_int_set)]


def _parse_course_set(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == "all":
        return "all"
    return parse_int_set(value)


CourseSet = Annotated[Literal["all"] | tuple[int, ...], BeforeValidator(_parse_course_set)]

DoseUnit = Literal["mg/m2/day", "mg/kg/day", "mg/day", "mg/m2/dose", "mg/kg/dose", "mg/dose"]
DOSE_UNITS: tuple[str, ...] = DoseUnit.__args__  # type: ignore[attr-defined]

_DOSE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(\S+)\s*$")


def _parse_dose(value: Any) -> Any:
    """Accept '15 mg/m2/day' as shorthand for {amount: 15, unit: mg/m2/day}."""
    if isinstance(value, str):
        match = _DOSE_TEXT.match(value)
        if not match:
            raise ValueError(
                f"cannot read dose {value!r}; expected an amount and a unit like "
                f"'15 mg/m2/day' (units: {', '.join(DOSE_UNITS)})"
            )
        return {"amount": float(match.group(1)), "unit": match.group(2)}
    return value


class Dose(Frozen):
    """An amount of one agent, with its basis (per m2, per kg, or flat)."""

    amount: float = Field(gt=0)
    unit: DoseUnit

    @property
    def basis(self) -> Literal["bsa", "weight", "flat"]:
        if "/m2/" in self.unit:
            return "bsa"
        if "/kg/" in self.unit:
            return "weight"
        return "flat"

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


DoseValue = Annotated[Dose, BeforeValidator(_parse_dose)]


_AGE_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(year|month|week|day)s?\s*$", re.IGNORECASE)
_DAYS_PER_UNIT = {"year": 365.25, "month": 365.25 / 12, "week": 7.0, "day": 1.0}


def parse_age_years(value: Any) -> Any:
    """'21 Years' -> 21.0, '6 Months' -> 0.5; numbers are taken as years."""
    if isinstance(value, str):
        match = _AGE_TEXT.match(value)
        if not match:
            raise ValueError(f"cannot read age {value!r}; expected e.g. '21 years' or '6 months'")
        days = float(match.group(1)) * _DAYS_PER_UNIT[match.group(2).lower()]
        return days / 365.25
    return value


AgeYears = Annotated[float, BeforeValidator(parse_age_years), Field(ge=0)]
