"""What each role may see of the trial-wide state: another site's patients without their
codes, and no real date for a role that sees de-identified data. The API and the pages
both show windows, notifications, slot requests and escalation decisions through these
functions (records themselves are de-identified by the store: store/records.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from phaseone.store.models import Patient
from phaseone.store.scope import Scope
from phaseone.trial import PendingWindow, TrialState

T = TypeVar("T")
# A date or time written in a text (a hold's expiry, a state's "as of").
_DATE_IN_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?: UTC)?")


def shows_real_dates(scope: Scope) -> bool:
    """Whether the actor sees the real calendar: not a de-identified role (the statistician
    sees each patient's dates shifted, and trial-level dates not at all)."""
    return not scope.actor.deidentified


def real_time(scope: Scope, value: T) -> T | None:
    """A trial-level date or time (a slot request, an escalation decision, a window's end)
    as the actor may see it: withheld from a de-identified role, since no patient's shift
    applies to it and the real calendar would date the patients' events."""
    return value if shows_real_dates(scope) else None


def trial_text(scope: Scope, text: str) -> str:
    """A message or explanation as the actor may read it: dates withheld from a
    de-identified role."""
    return text if shows_real_dates(scope) else _DATE_IN_TEXT.sub("(date withheld)", text)


@dataclass(frozen=True)
class WindowView:
    """A patient's DLT window as the actor may see it (None: withheld)."""

    patient: str | None
    patient_id: int | None
    site: str
    level: int
    window_end: dt.date | None
    days_left: int | None
    estimated: bool
    due: bool
    reason: str | None

    @property
    def own(self) -> bool:
        return self.patient is not None


def pending_windows(scope: Scope, windows: Sequence[PendingWindow]) -> list[WindowView]:
    """Pending DLT windows (e.g. a trial state's `pending`): codes of the actor's own sites
    only, and for a de-identified role no end date, days left or reason (each counts from
    a real date)."""
    codes = [w.patient for w in windows if scope.actor.sees_site(w.site)]
    rows = scope.session.execute(
        select(Patient.subject_code, Patient.id).where(Patient.subject_code.in_(codes))
    )
    ids = {code: patient_id for code, patient_id in rows}
    hide_dates = not shows_real_dates(scope)
    shown = []
    for w in windows:
        own = scope.actor.sees_site(w.site)
        shown.append(
            WindowView(
                patient=w.patient if own else None,
                patient_id=ids.get(w.patient) if own else None,
                site=w.site,
                level=w.level,
                window_end=None if hide_dates else w.window_end,
                days_left=None if hide_dates else w.days_left,
                estimated=w.estimated,
                due=w.due,
                reason=None if hide_dates else w.reason,
            )
        )
    return shown


def next_window_close(scope: Scope, state: TrialState) -> dt.date | None:
    """When the next DLT window closes (None for a de-identified role)."""
    return real_time(scope, state.next_window_close)
