"""Source-data verification: a monitor marks a form as checked against source.

A mark keeps the hash of the form's records as they were verified (workflow/forms.py); the
form counts as verified only while the hash of its records still equals it, so any later
change, added record or withdrawal shows the form as "changed since verification" without
anything having to remember to clear it. Progress is counted per patient and per site.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import MONITORING_READERS, SDV_VERIFIERS
from phaseone.store.models import Patient, SdvMark, User
from phaseone.store.scope import Scope
from phaseone.workflow import forms

State = Literal["verified", "changed", "not_verified"]


def verify(scope: Scope, form_key: str, *, now: dt.datetime) -> SdvMark:
    """Mark a form verified as it stands now; audited with the hash of its records."""
    key = forms.parse_key(form_key)
    patient = records.get(scope, records.SPECS["patients"], key.patient_id)
    scope.require_role(SDV_VERIFIERS, "verify forms against source")
    form = forms.load_form(scope, key)
    if not form.live:
        raise InputError([Problem("form_key", f"no records in force in form {key.key}")])
    mark = SdvMark(
        site_id=patient.site_id,
        patient_id=patient.id,
        form_type=key.kind.name,
        form_key=key.key,
        content_hash=form.hash,
        verified_by=scope.actor.user_id,
        verified_name=_printed_name(scope),
        verified_at=now,
    )
    scope.session.add(mark)
    scope.session.flush()
    scope.audit(
        "sdv_verify",
        "sdv_marks",
        mark.id,
        record_site_id=mark.site_id,
        new={"form": key.key, "content_hash": mark.content_hash, "records": len(form.records)},
    )
    return mark


def _printed_name(scope: Scope) -> str:
    user = scope.session.get(User, scope.actor.user_id) if scope.actor.user_id else None
    return user.full_name if user is not None else scope.actor.username


@dataclass(frozen=True)
class FormState:
    key: str
    form_type: str
    label: str
    records: int
    state: State
    mark: SdvMark | None


def _latest_marks(scope: Scope, patient_ids: list[int]) -> dict[str, SdvMark]:
    latest: dict[str, SdvMark] = {}
    if not patient_ids:
        return latest
    stmt = select(SdvMark).where(SdvMark.patient_id.in_(patient_ids)).order_by(SdvMark.id)
    for mark in scope.session.scalars(stmt):
        latest[mark.form_key] = mark
    return latest


def _states(scope: Scope, patient_id: int, marks: dict[str, SdvMark]) -> list[FormState]:
    shown = []
    for form in forms.patient_forms(scope, patient_id):
        mark = marks.get(form.key.key)
        state: State = (
            "not_verified"
            if mark is None
            else "verified"
            if mark.content_hash == form.hash
            else "changed"
        )
        shown.append(
            FormState(
                form.key.key,
                form.key.kind.name,
                form.key.kind.describe(form.key.part),
                sum(1 for o in form.records if not o.voided),
                state,
                mark,
            )
        )
    return shown


def patient_forms(scope: Scope, patient_id: int) -> list[FormState]:
    """Each form of a patient with its verification state."""
    patient = records.get(scope, records.SPECS["patients"], patient_id)
    scope.require_role(MONITORING_READERS, "read verification")
    return _states(scope, patient.id, _latest_marks(scope, [patient.id]))


def form_state(scope: Scope, form_key: str) -> FormState | None:
    """One form's state (None: the form has no records in force)."""
    key = forms.parse_key(form_key)
    for f in patient_forms(scope, key.patient_id):
        if f.key == key.key:
            return f
    return None


@dataclass(frozen=True)
class Progress:
    """How many forms are verified (still matching), changed since, or not verified."""

    key: str
    site_id: str
    forms: int
    verified: int
    changed: int

    @property
    def not_verified(self) -> int:
        return self.forms - self.verified - self.changed

    @property
    def percent(self) -> float:
        return 0.0 if self.forms == 0 else round(100.0 * self.verified / self.forms, 1)


def progress(scope: Scope, *, by: Literal["site", "patient"] = "site") -> list[Progress]:
    """SDV progress of every patient the actor may see, per patient or per site."""
    scope.require_role(MONITORING_READERS, "read verification")
    if by not in ("site", "patient"):
        raise InputError([Problem("by", "one of site, patient")])
    spec = records.SPECS["patients"]
    patients = list(
        scope.session.scalars(
            records.visible(scope, spec).where(Patient.voided.is_(False)).order_by(Patient.id)
        )
    )
    marks = _latest_marks(scope, [p.id for p in patients])
    rows: dict[str, Progress] = {}
    for p in patients:
        states = _states(scope, p.id, marks)
        key = p.site_id if by == "site" else p.subject_code
        before = rows.get(key, Progress(key, p.site_id, 0, 0, 0))
        rows[key] = Progress(
            key,
            p.site_id,
            before.forms + len(states),
            before.verified + sum(s.state == "verified" for s in states),
            before.changed + sum(s.state == "changed" for s in states),
        )
    return [rows[k] for k in sorted(rows)]
