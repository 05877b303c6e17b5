"""View data for the pages, built from the workflow's records (no rules live here)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from phaseone.dosing.calendar import TreatmentPlan
from phaseone.labs import analyte as lookup_analyte
from phaseone.safety.ctcae import ctcae_table
from phaseone.safety.terms import terms
from phaseone.store import records
from phaseone.store.scope import Scope
from phaseone.trial import TrialState
from phaseone.web.pages.session import PageUser, render
from phaseone.workflow import Trial, visibility
from phaseone.workflow.history import signatures_of_records
from phaseone.workflow.treatment import grade_lab

RESULT_LABELS = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def signature_rows(scope: Scope, entity: str, obj: Any) -> list[dict[str, Any]]:
    return signature_rows_of(scope, [(entity, obj)])[0]


def signature_rows_of(scope: Scope, items: list[tuple[str, Any]]) -> list[list[dict[str, Any]]]:
    """The signature rows of each (entity, record), in order, read in one query."""
    found = signatures_of_records(scope.session, [(entity, obj.id) for entity, obj in items])
    rows = []
    for entity, obj in items:
        signed = found[(entity, obj.id)]
        # The record's hash (what a signature still holds against) only when there is one.
        current = records.content_hash(entity, obj) if signed else ""
        rows.append([records.signature_view(sig, current, obj.voided) for sig in signed])
    return rows


def checklist(evaluation: Any) -> list[dict[str, Any]]:
    rows = []
    for c in evaluation.criteria:
        ev = c.evidence or {}
        rows.append(
            {
                "id": c.criterion_id,
                "result": c.result,
                "label": RESULT_LABELS.get(c.result, c.result),
                "kind": ev.get("kind"),
                "outcome": ev.get("outcome"),
                "depth": int(ev.get("depth") or 0),
                "text": ev.get("text", ""),
                "reason": ev.get("reason", ""),
                "missing": ev.get("missing") or [],
            }
        )
    return rows


@dataclass
class CalendarRow:
    date: dt.date
    day: int
    planned: list[str]
    assessments: list[str]
    given: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)


def calendar_rows(plan: TreatmentPlan, doses: list[Any]) -> list[CalendarRow]:
    by_day: dict[int, list[str]] = {}
    for d in doses:
        if d.course_day is None:
            continue
        if not d.given:
            text = f"{d.agent_id} not given ({d.adjustment_reason})"
        elif d.given_dose is None:  # a row from before amounts were checked on entry
            text = f"{d.agent_id} given, amount not recorded"
        else:
            text = f"{d.agent_id} {d.given_dose:g} mg given"
        if d.given and d.adjustment_reason:
            text += f" ({d.adjustment_reason})"
        by_day.setdefault(d.course_day, []).append(text)
    rows = []
    for day in plan.courses[0].days:
        if day.is_empty:
            continue
        rows.append(
            CalendarRow(
                date=day.date,
                day=day.day,
                planned=[f"{a.agent_name} {a.describe()}" for a in day.administrations],
                assessments=[a.name for a in day.assessments],
                given=by_day.get(day.day, []),
                agents=sorted({a.agent_id for a in day.administrations}),
            )
        )
    return rows


def graded_labs(trial: Trial, patient: Any, labs: list[Any]) -> list[dict[str, Any]]:
    out = []
    for lab in labs:
        age = (lab.collected_on - patient.birth_date).days / 365.25
        g = grade_lab(
            trial,
            lab.analyte,
            lab.value,
            lab.unit,
            age=age,
            sex=patient.sex,
            lln=lab.lower_normal,
            uln=lab.upper_normal,
        )
        out.append({"lab": lab, "graded": g.as_dict()})
    return out


def lab_choices(trial: Trial) -> tuple[dict[str, Any], ...]:
    return _lab_choices(trial.ctcae_version)


def ae_term_options(trial: Trial) -> Markup:
    """The CTCAE terms as the <option>s of the adverse-event form's datalist: about 800,
    the same on every patient page, so made once per CTCAE version rather than per page."""
    return _ae_term_options(trial.ctcae_version)


# The CTCAE tables do not change while the service runs: each version's lists are made once.
@functools.cache
def _lab_choices(ctcae_version: str) -> tuple[dict[str, Any], ...]:
    out = []
    for analyte_id in ctcae_table(ctcae_version).analytes():
        spec = lookup_analyte(analyte_id)
        out.append({"id": spec.id, "name": spec.name, "units": tuple(spec.spellings)})
    return tuple(out)


@functools.cache
def _ae_term_options(ctcae_version: str) -> Markup:
    names = sorted(t.term for t in terms(ctcae_version).values())
    return Markup("").join(Markup('<option value="{}">').format(name) for name in names)


def level_regimen(trial: Trial) -> dict[int, str]:
    out = {}
    for level in trial.protocol.dose_levels:
        parts = []
        for agent_id, dose in level.doses.items():
            name = trial.protocol.agent(agent_id).name
            parts.append(f"{name} {dose.amount:g} {dose.unit}")
        out[level.id] = "; ".join(parts)
    return out


def level_assumptions(trial: Trial) -> dict[int, str]:
    """Dose levels whose doses are assumptions of the protocol file, with what they rest on."""
    return {
        level.id: level.provenance.note or "assumed"
        for level in trial.protocol.dose_levels
        if level.provenance.is_assumed
    }


def signed_by(sigs: list[Any]) -> str:
    return ", ".join(str(s) for s in sigs)


def windows_view(state: TrialState, scope: Scope) -> list[dict[str, Any]]:
    """Patients in DLT windows as the viewer may see them (workflow.visibility's rule)."""
    return [
        {"w": w, "code": w.patient or "(another site)", "own": w.own}
        for w in visibility.pending_windows(scope, state.pending)
    ]


def not_found(request: Request, viewer: PageUser, message: str) -> HTMLResponse:
    """A page the viewer may not open answers as if it did not exist."""
    return render(request, "error.html", viewer, status_code=404, message=message)


def forbidden(request: Request, viewer: PageUser, message: str) -> HTMLResponse:
    """A page whose step the viewer's role may not take (as the API's 403)."""
    return render(request, "error.html", viewer, status_code=403, message=message)


def screening_changes(previous: Any, current: Any) -> dict[str, Any]:
    """What moved between two screenings of a patient: the overall verdict, and each
    criterion whose result or evidence changed (new and dropped criteria included)."""
    before = {c.criterion_id: c for c in previous.criteria}
    after = {c.criterion_id: c for c in current.criteria}
    moved = []
    for cid in list(after) + [c for c in before if c not in after]:
        old, new = before.get(cid), after.get(cid)
        old_result = old.result if old is not None else "not evaluated"
        new_result = new.result if new is not None else "not evaluated"
        old_values = (old.evidence or {}).get("values") if old is not None else None
        new_values = (new.evidence or {}).get("values") if new is not None else None
        if old_result != new_result or old_values != new_values:
            either = new if new is not None else old
            text = (getattr(either, "evidence", None) or {}).get("text", "")
            moved.append(
                {
                    "id": cid,
                    "text": text,
                    "old": RESULT_LABELS.get(old_result, old_result),
                    "new": RESULT_LABELS.get(new_result, new_result),
                    "verdict_moved": old_result != new_result,
                }
            )
    return {
        "since": previous.evaluated_on,
        "overall": (previous.overall, current.overall),
        "criteria": moved,
    }
