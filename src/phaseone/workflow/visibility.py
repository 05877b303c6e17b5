"""What each role may see of the trial-wide state: another site's patients without their
codes, and no real date for a role that sees de-identified data. The API and the pages
both show windows and notifications through these functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from phaseone.store.models import Patient
from phaseone.store.scope import Scope
from phaseone.trial import PendingWindow, TrialState


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
    hide_dates = scope.actor.deidentified
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
    return None if scope.actor.deidentified else state.next_window_close
