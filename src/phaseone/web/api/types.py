"""Field types for request bodies: bounded so that every value fits both databases.

Integers fit a 32-bit column, floats are finite, dates lie in 1900-2200 (so de-identifying
shifts stay valid), and text carries no control characters (PostgreSQL rejects NUL).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

INT32_MAX = 2_147_483_647
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
_ALLOWED_CONTROLS = frozenset("\n\r\t")
MAX_JSON_DEPTH = 20


def _no_controls(value: str) -> str:
    if any((ord(c) < 32 or ord(c) == 127) and c not in _ALLOWED_CONTROLS for c in value):
        raise ValueError("control characters are not allowed")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("unpaired surrogate characters are not allowed")
    return value


def _in_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _clean_json(value: Any, depth: int = 0) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return _no_controls(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise ValueError("integers in engine data must fit in 53 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers in engine data must be finite")
        return value
    if isinstance(value, dict):
        return {_no_controls(str(k)): _clean_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v, depth + 1) for v in value]
    raise ValueError("not JSON data")


Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_controls),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_no_controls),
]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(_no_controls),
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(_no_controls),
    Field(description="Why the change is made; required for any change after the first save."),
]
ClockTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"),
    Field(description="Local clock time, 24-hour HH:MM or HH:MM:SS.", examples=["08:30"]),
]
ClinicalDate = Annotated[dt.date, AfterValidator(_in_range)]
DoseLevel = Annotated[int, Field(ge=-9, le=99)]
Measure = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
# Every analyte in labs/data/analytes.yaml is a count, a concentration, an activity or a
# percentage: none is below zero. Per-analyte plausible limits are edit checks.
LabValue = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
EngineData = Annotated[
    dict[str, Any],
    AfterValidator(_clean_json),
    Field(description="A result as produced by the engine that owns it; stored as given."),
]
