"""View data for the pages, built from the workflow's records (no rules live here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from phaseone.dosing.calendar import TreatmentPlan
from phaseone.labs import analyte as lookup_analyte
from phaseone.safety.ctcae import ctcae_table
from phaseone.safety.terms import terms
from phaseone.store import records
from phaseone.store.models import (
    AdverseEvent,
    ClinicalEvent,
    DltDetermination,
    DoseAdministration,
    FollowUp,
    LabResult,
    Patient,
    ScreeningEvaluation,
    Signature,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.trial import TrialState
from phaseone.workflow import Trial, visibility
from phaseone.workflow.history import signatures_of
from phaseone.workflow.treatment import grade_lab

RESULT_LABELS = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def signature_rows(scope: Scope, entity: str, obj: Any) -> list[dict[str, Any]]:
    current = records.content_hash(entity, obj)
    return [
        records.signature_view(sig, current, obj.voided)
        for sig in signatures_of(scope.session, entity, obj.id)
    ]


def checklist(evaluation: ScreeningEvaluation) -> list[dict[str, Any]]:
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


def calendar_rows(plan: TreatmentPlan, doses: list[DoseAdministration]) -> list[CalendarRow]:
    by_day: dict[int, list[str]] = {}
    for d in doses:
        if d.course_day is None:
            continue
        text = (
            f"{d.agent_id} {d.given_dose:g} mg given"
            if d.given
            else f"{d.agent_id} not given ({d.adjustment_reason})"
        )
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


# Rows per page of a patient's long lists (labs, adverse events) on the patient page.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Paged:
    """One page of a list, newest first: `items`, and where the other pages start."""

    items: list[Any]
    total: int
    offset: int
    limit: int = PAGE_SIZE

    @property
    def older(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def newer(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def patient_records(
    scope: Scope,
    patient: Patient,
    *,
    course_id: int | None = None,
    labs_offset: int = 0,
    events_offset: int = 0,
) -> dict[str, Any]:
    """The patient's records for the page: the doses of the course shown (`course_id`),
    one page of labs and of adverse events (newest first), and the short lists whole."""

    def where(model: Any) -> Any:
        return select(model).where(model.patient_id == patient.id, model.voided.is_(False))

    def rows(model: Any, order: Any) -> list[Any]:
        return list(scope.session.scalars(where(model).order_by(order)))

    def page(model: Any, newest: Any, offset: int) -> Paged:
        total = scope.session.scalar(select(func.count()).select_from(where(model).subquery()))
        stmt = where(model).order_by(newest.desc(), model.id.desc())
        items = list(scope.session.scalars(stmt.limit(PAGE_SIZE).offset(offset)))
        return Paged(items, int(total or 0), offset)

    doses = where(DoseAdministration).where(DoseAdministration.course_id == course_id)
    labs = page(LabResult, LabResult.collected_on, labs_offset)
    events = page(AdverseEvent, AdverseEvent.onset_date, events_offset)
    return {
        "doses": list(scope.session.scalars(doses.order_by(DoseAdministration.administered_on))),
        "labs": labs.items,
        "labs_page": labs,
        "events": events.items,
        "events_page": events,
        "determinations": rows(DltDetermination, DltDetermination.id),
        "clinical_events": rows(ClinicalEvent, ClinicalEvent.event_date),
        "follow_ups": rows(FollowUp, FollowUp.contact_date),
        "treatment_end": next(iter(rows(TreatmentEnd, TreatmentEnd.id)), None),
        "screenings": rows(ScreeningEvaluation, ScreeningEvaluation.id),
    }


def graded_labs(trial: Trial, patient: Patient, labs: list[LabResult]) -> list[dict[str, Any]]:
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


def lab_choices(trial: Trial) -> list[dict[str, Any]]:
    out = []
    for analyte_id in ctcae_table(trial.ctcae_version).analytes():
        spec = lookup_analyte(analyte_id)
        out.append({"id": spec.id, "name": spec.name, "units": list(spec.spellings)})
    return out


def ae_terms(trial: Trial) -> list[str]:
    return sorted(t.term for t in terms(trial.ctcae_version).values())


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


def signed_by(sigs: list[Signature] | list[dict[str, Any]]) -> str:
    return ", ".join(str(s) for s in sigs)


def windows_view(state: TrialState, scope: Scope) -> list[dict[str, Any]]:
    """Patients in DLT windows as the viewer may see them (workflow.visibility's rule)."""
    return [
        {"w": w, "code": w.patient or "(another site)", "own": w.own}
        for w in visibility.pending_windows(scope, state.pending)
    ]
