"""Whether a course may start: the protocol's start conditions checked against lab values.

Each `lab_min` condition is met by the newest value of its analyte collected from the
previous course's day 1 up to the new day 1. A missing value is not met (the site has
to enter it first); transfusions are not recorded here, so a condition's
transfusion-free period is reported as not checked, never as met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from phaseone.dosing.rules import StartCondition
from phaseone.labs import analyte as lookup_analyte


@dataclass(frozen=True)
class LabValue:
    analyte: str
    value: float
    unit: str
    collected_on: dt.date


@dataclass(frozen=True)
class StartCheck:
    """One start condition and the evidence for it."""

    text: str
    met: bool
    value: float | None
    unit: str | None
    collected_on: dt.date | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition": self.text,
            "met": self.met,
            "value": self.value,
            "unit": self.unit,
            "collected_on": None if self.collected_on is None else self.collected_on.isoformat(),
            "note": self.note,
        }


def check_start(
    conditions: Sequence[StartCondition],
    labs: Sequence[LabValue],
    since: dt.date,
    on: dt.date,
) -> tuple[StartCheck, ...]:
    """Each condition checked with the newest lab value in [since, on]."""
    out = []
    for cond in conditions:
        params = cond.params
        spec = lookup_analyte(str(params["analyte"]))
        threshold = spec.to_canonical(float(params["min"]), str(params["unit"]))
        found = [lab for lab in labs if lab.analyte == spec.id and since <= lab.collected_on <= on]
        days = params.get("transfusion_free_days")
        note = f"transfusion-free {days} days: not checked (not recorded)" if days else None
        if not found:
            missing = f"no {spec.name} value from {since} to {on}"
            out.append(StartCheck(cond.text, False, None, None, None, missing))
            continue
        newest = max(found, key=lambda lab: lab.collected_on)
        value = spec.to_canonical(newest.value, newest.unit)
        met = value >= threshold
        out.append(StartCheck(cond.text, met, newest.value, newest.unit, newest.collected_on, note))
    return tuple(out)
