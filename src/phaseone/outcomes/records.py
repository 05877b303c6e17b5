"""Follow-up records as input: entry, disease status at entry, events, last contact.

Frozen pydantic models with a JSON Schema (`phaseone schema follow-up`); capture in the
trial service maps onto them. Dates are checked at the door: nothing may precede
registration, and no one is known alive after their death.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from phaseone.errors import InputError, Problem

_EARLIEST = dt.date(1900, 1, 1)
_LATEST = dt.date(2199, 12, 31)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(_Model):
    """An event after entry, dated at its first evidence."""

    kind: Literal["progression", "relapse", "second_malignancy", "death"]
    date: dt.date
    source: Literal["evaluation", "clinical", "report"] = "evaluation"
    cause: str | None = Field(None, max_length=200, description="Cause of death.")


class FollowUpRecord(_Model):
    """One patient's follow-up for survival analysis."""

    patient_id: str = Field(min_length=1, max_length=64)
    registration_date: dt.date
    first_dose_date: dt.date | None = None
    dose_level: int | None = Field(None, ge=-9, le=99)
    courses: int | None = Field(None, ge=0, le=200, description="Protocol courses received.")
    # "unknown": no baseline status recorded yet (a stratum of its own, never guessed).
    disease_at_entry: Literal["measurable", "evaluable", "complete_response", "unknown"]
    events: tuple[Event, ...] = ()
    new_therapy_date: dt.date | None = Field(None, description="First non-protocol therapy.")
    last_assessment_date: dt.date | None = None
    last_known_alive: dt.date
    off_study_date: dt.date | None = None
    off_study_reason: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _dates(self) -> FollowUpRecord:
        if not _EARLIEST <= self.registration_date <= _LATEST:
            raise ValueError("registration_date must lie in 1900-01-01..2199-12-31")
        return self

    @property
    def stratum(self) -> str:
        """Objective VII's strata: disease (measurable or evaluable) vs CR at entry."""
        if self.disease_at_entry == "unknown":
            return "unknown at entry"
        return "CR at entry" if self.disease_at_entry == "complete_response" else "disease at entry"


def _date_problems(r: FollowUpRecord, prefix: str) -> list[Problem]:
    problems = []
    named: list[tuple[str, dt.date | None]] = [
        ("first_dose_date", r.first_dose_date),
        ("new_therapy_date", r.new_therapy_date),
        ("last_assessment_date", r.last_assessment_date),
        ("last_known_alive", r.last_known_alive),
        ("off_study_date", r.off_study_date),
    ]
    named += [(f"events[{i}].date", e.date) for i, e in enumerate(r.events)]
    for name, day in named:
        if day is not None and day < r.registration_date:
            problems.append(
                Problem(
                    prefix + name,
                    f"{day} is before the registration date {r.registration_date}",
                )
            )
        if day is not None and day > _LATEST:
            problems.append(Problem(prefix + name, "must lie in 1900-01-01..2199-12-31"))
    deaths = [(i, e) for i, e in enumerate(r.events) if e.kind == "death"]
    if len(deaths) > 1:
        problems.append(Problem(f"{prefix}events[{deaths[1][0]}].kind", "more than one death"))
    if deaths and r.last_known_alive > deaths[0][1].date:
        problems.append(
            Problem(
                prefix + "last_known_alive",
                f"{r.last_known_alive} is after the death on {deaths[0][1].date}",
            )
        )
    return problems


def parse_follow_up(data: Any) -> list[FollowUpRecord]:
    """Records from JSON-like data (a list, or one record); every problem names its field."""
    many = isinstance(data, list)
    items = data if many else [data]
    out: list[FollowUpRecord] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        prefix = f"[{i}]." if many else ""
        try:
            record = FollowUpRecord.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                path = prefix + ".".join(str(p) for p in err["loc"])
                problems.append(Problem(path.rstrip("."), err["msg"].removeprefix("Value error, ")))
            continue
        problems.extend(_date_problems(record, prefix))
        out.append(record)
    if problems:
        raise InputError(problems)
    return out


def parse_follow_up_json(text: str | bytes) -> list[FollowUpRecord]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError([Problem("", f"not valid JSON: {exc}")]) from None
    return parse_follow_up(data)


def follow_up_schema() -> dict[str, Any]:
    schema = FollowUpRecord.model_json_schema()
    schema["title"] = "phaseone follow-up record (one patient)"
    return schema
