"""DLT windows: when each patient's window ends, and how many days are left."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from phaseone.protocol.model import Protocol
from phaseone.trial.history import Enrolment


def dlt_window_end(protocol: Protocol, therapy_start: dt.date) -> dt.date:
    """The last day of the DLT window for a patient whose course 1 began on `therapy_start`.

    Day 1 is the first day of protocol therapy; course c day d is
    start + (c - 1) x course length + (d - 1) days.
    """
    window = protocol.dlt.window
    offset = (window.course - 1) * protocol.course.length_days + window.last_day - 1
    return therapy_start + dt.timedelta(days=offset)


@dataclass(frozen=True)
class PendingWindow:
    """A patient whose DLT outcome is not yet determined."""

    patient: str
    site: str
    level: int
    window_end: dt.date
    days_left: int
    estimated: bool  # therapy has not started: the end counts from registration
    due: bool  # the window has ended (or treatment stopped): a determination is due
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "patient": self.patient,
            "site": self.site,
            "level": self.level,
            "window_end": self.window_end.isoformat(),
            "days_left": self.days_left,
            "estimated": self.estimated,
            "due": self.due,
            "reason": self.reason,
        }


def pending_window(protocol: Protocol, e: Enrolment, as_of: dt.date) -> PendingWindow:
    start = e.therapy_start or e.registered_on
    end = dlt_window_end(protocol, start)
    days_left = (end - as_of).days
    if e.off_treatment_on is not None and e.off_treatment_on <= end:
        due, reason = True, f"off treatment on {e.off_treatment_on.isoformat()} inside the window"
    elif as_of > end:
        due, reason = True, f"DLT window ended {end.isoformat()}"
    else:
        due = False
        reason = f"DLT window ends {end.isoformat()} ({days_left} days left)"
        if e.therapy_start is None:
            reason += "; therapy not started, counted from registration"
    return PendingWindow(
        e.patient, e.site, e.level, end, days_left, e.therapy_start is None, due, reason
    )
