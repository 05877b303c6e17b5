"""Time to event for one endpoint from a follow-up record, by the protocol's rules.

The endpoint (protocol `survival.endpoints`) names the origin, the events that end it and
the censoring rule. Censoring dates follow the ADaM convention: an event is CNSR 0,
a censoring 1 (last contact or last assessment) or 2 (start of non-protocol therapy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from phaseone.outcomes.records import FollowUpRecord
from phaseone.protocol.model import Endpoint


@dataclass(frozen=True)
class TimeToEvent:
    """One patient's time on one endpoint (ADaM ADTTE-like)."""

    patient_id: str
    endpoint: str
    origin: dt.date | None
    end: dt.date | None
    days: float | None  # None: no origin (never dosed, for a first-dose origin)
    event: bool
    cnsr: int | None
    description: str
    dose_level: int | None
    stratum: str


def time_to_event(record: FollowUpRecord, endpoint: Endpoint) -> TimeToEvent:
    """The time from the endpoint's origin to its first event, or to censoring."""
    origin = (
        record.registration_date if endpoint.origin == "registration" else record.first_dose_date
    )

    def make(end: dt.date | None, event: bool, cnsr: int | None, why: str) -> TimeToEvent:
        days = None if origin is None or end is None else float(max(0, (end - origin).days))
        return TimeToEvent(
            record.patient_id, endpoint.id, origin, end, days, event, cnsr, why,
            record.dose_level, record.stratum,
        )  # fmt: skip

    if origin is None:
        return make(None, False, None, "no origin: never dosed")
    first = min(
        (e for e in record.events if e.kind in endpoint.events),
        key=lambda e: e.date,
        default=None,
    )
    therapy = record.new_therapy_date if endpoint.censor_at_new_therapy else None
    if first is not None and (therapy is None or first.date <= therapy):
        return make(first.date, True, 0, f"{first.kind} ({first.source})")
    if therapy is not None:
        return make(therapy, False, 2, "censored at new anticancer therapy")
    if endpoint.censor_at == "last_assessment" and record.last_assessment_date is not None:
        return make(record.last_assessment_date, False, 1, "censored at last disease assessment")
    return make(record.last_known_alive, False, 1, "censored at last contact")


def times_to_event(records: Iterable[FollowUpRecord], endpoint: Endpoint) -> list[TimeToEvent]:
    return [time_to_event(r, endpoint) for r in records]
