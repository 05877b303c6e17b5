"""The post-treatment follow-up schedule (protocol `follow_up`) with overdue flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from phaseone.protocol.model import FollowUp


@dataclass(frozen=True)
class DueVisit:
    month: int
    due: dt.date
    window_end: dt.date
    done: dt.date | None
    overdue: bool


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later (the month's last day if it is shorter)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def schedule(
    follow_up: FollowUp,
    off_treatment: dt.date,
    contacts: Sequence[dt.date],
    as_of: dt.date,
) -> list[DueVisit]:
    """Each scheduled visit: due date, the contact that meets it (within the window
    either side), and whether it is overdue on `as_of` (window passed, no contact)."""
    months: list[int] = []
    start = 0
    for visit in follow_up.visits:
        months += list(
            range(start + visit.every_months, visit.until_months + 1, visit.every_months)
        )
        start = months[-1] if months else start
    window = dt.timedelta(days=follow_up.window_days)
    out = []
    for month in months:
        due = add_months(off_treatment, month)
        done = next((c for c in sorted(contacts) if due - window <= c <= due + window), None)
        out.append(DueVisit(month, due, due + window, done, done is None and as_of > due + window))
    return out
