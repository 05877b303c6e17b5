"""Follow-up as the survival engine reads it: each registered patient's entry, disease status
at entry, events, new therapy, last contact and going off study, gathered from the store.

Events are the clinical events sites record (progression or relapse seen clinically, second
malignancy, death with its cause) and, for progression, the first evaluation the response
engine calls PD (dated at that evaluation: the first evidence); whichever is earlier counts.
Nothing here is stored twice: the records are rebuilt from what was entered each time.
The post-treatment visit schedule and its overdue flags come from the protocol's
`follow_up` (phaseone.outcomes.followup).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from phaseone.outcomes import FollowUpRecord, SurvivalResult, analyse, schedule
from phaseone.outcomes.followup import DueVisit
from phaseone.store import records
from phaseone.store.models import (
    ClinicalEvent,
    Course,
    FollowUp,
    Patient,
    Registration,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.workflow import evaluations
from phaseone.workflow.context import Trial
from phaseone.workflow.treatment import TREATMENT_END

SURVIVAL_EVENTS = ("progression", "relapse", "second_malignancy", "death")


def _rows(scope: Scope, table: str, model: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    stmt = records.visible(scope, records.SPECS[table]).where(
        model.voided.is_(False), model.patient_id.in_(ids)
    )
    out: dict[int, list[Any]] = defaultdict(list)
    for row in scope.session.scalars(stmt.order_by(model.id)):
        out[row.patient_id].append(row)
    return out


def _ends(scope: Scope, ids: Sequence[int]) -> dict[int, TreatmentEnd]:
    q = records.visible(scope, TREATMENT_END).where(
        TreatmentEnd.voided.is_(False), TreatmentEnd.patient_id.in_(ids)
    )
    return {row.patient_id: row for row in scope.session.scalars(q)}


def follow_up_records(
    scope: Scope, trial: Trial, patient_ids: Iterable[int] | None = None
) -> list[tuple[Patient, FollowUpRecord]]:
    """The survival engine's input for every registered patient the actor may see (dates
    moved by each patient's offset for a de-identified role), in subject-code order."""
    stmt = records.visible(scope, records.SPECS["registrations"]).where(
        Registration.voided.is_(False)
    )
    if patient_ids is not None:
        stmt = stmt.where(Registration.patient_id.in_(list(patient_ids)))
    regs = list(scope.session.scalars(stmt))
    ids = [r.patient_id for r in regs]
    courses = _rows(scope, "courses", Course, ids)
    events = _rows(scope, "clinical_events", ClinicalEvent, ids)
    contacts = _rows(scope, "follow_ups", FollowUp, ids)
    ends = _ends(scope, ids)
    entry = evaluations.disease_at_entry(scope, ids)
    responses = {p.id: r for p, r in evaluations.responses(scope, trial, ids)}
    hide = scope.actor.deidentified
    out = []
    for reg in regs:
        pid = reg.patient_id
        shift = dt.timedelta(days=reg.patient.date_shift_days if hide else 0)
        pr = responses.get(pid)
        first_pd = next(
            (e.date for e in (pr.evaluations if pr else ()) if e.response == "PD"), None
        )
        out.append(
            (
                reg.patient,
                _record(
                    reg,
                    courses[pid],
                    events[pid],
                    contacts[pid],
                    ends.get(pid),
                    entry.get(pid, "unknown"),
                    [e.date - shift for e in pr.evaluations] if pr else [],
                    None if first_pd is None else first_pd - shift,
                ).shifted(shift),
            )
        )
    out.sort(key=lambda pair: pair[0].subject_code)
    return [(p, r.record) for p, r in out]


@dataclass(frozen=True)
class _Built:
    data: dict[str, Any]

    def shifted(self, shift: dt.timedelta) -> _Built:
        def move(value: Any) -> Any:
            if isinstance(value, dt.date):
                return value + shift
            if isinstance(value, list):
                return [move(v) for v in value]
            if isinstance(value, dict):
                return {k: move(v) for k, v in value.items()}
            return value

        return _Built(move(self.data))

    @property
    def record(self) -> FollowUpRecord:
        return FollowUpRecord.model_validate(self.data)


def _record(
    reg: Registration,
    courses: Sequence[Course],
    events: Sequence[ClinicalEvent],
    contacts: Sequence[FollowUp],
    end: TreatmentEnd | None,
    disease_at_entry: str,
    evaluation_dates: Sequence[dt.date],
    first_pd: dt.date | None,
) -> _Built:
    kinds: dict[str, list[ClinicalEvent]] = defaultdict(list)
    for e in sorted(events, key=lambda e: e.event_date):
        kinds[e.kind].append(e)
    found: list[dict[str, Any]] = []
    for kind in SURVIVAL_EVENTS:
        first = kinds[kind][0] if kinds[kind] else None
        day, source = (first.event_date, "clinical") if first else (None, "clinical")
        if kind == "progression" and first_pd is not None and (day is None or first_pd < day):
            day, source = first_pd, "evaluation"
        if day is not None:
            cause = first.cause if first is not None and kind == "death" else None
            found.append({"kind": kind, "date": day, "source": source, "cause": cause})
    death = next((e["date"] for e in found if e["kind"] == "death"), None)
    alive = [reg.registered_on, *(c.start_date for c in courses), *evaluation_dates]
    alive += [c.contact_date for c in contacts if c.vital_status == "alive"]
    if end is not None:
        alive.append(end.ended_on)
    last_alive = max(alive)
    if death is not None:
        last_alive = min(last_alive, death)
    new_therapy = kinds["new_therapy"][0].event_date if kinds["new_therapy"] else None
    off = kinds["off_study"][0] if kinds["off_study"] else None
    first_course = next((c for c in courses if c.number == 1), None)
    return _Built(
        {
            "patient_id": reg.patient.subject_code,
            "registration_date": reg.registered_on,
            "first_dose_date": None if first_course is None else first_course.start_date,
            "dose_level": reg.dose_level,
            "courses": len(courses),
            "disease_at_entry": disease_at_entry,
            "events": found,
            "new_therapy_date": new_therapy,
            "last_assessment_date": max(evaluation_dates) if evaluation_dates else None,
            "last_known_alive": last_alive,
            "off_study_date": None if off is None else off.event_date,
            "off_study_reason": None if off is None else off.cause,
        }
    )


def survival(scope: Scope, trial: Trial, endpoint_id: str) -> SurvivalResult | None:
    """Kaplan-Meier for one of the protocol's endpoints over the patients the actor may see
    (None when the protocol has no survival settings or no one is registered)."""
    settings = trial.protocol.survival
    if settings is None:
        return None
    found = [r for _, r in follow_up_records(scope, trial)]
    if not found:
        return None
    return analyse(found, trial.protocol.endpoint(endpoint_id), settings)


@dataclass(frozen=True)
class PatientVisits:
    patient_id: int
    subject_code: str
    off_treatment: dt.date
    visits: tuple[DueVisit, ...]

    @property
    def overdue(self) -> tuple[DueVisit, ...]:
        return tuple(v for v in self.visits if v.overdue)


def visit_schedule(scope: Scope, trial: Trial, *, as_of: dt.date) -> list[PatientVisits]:
    """Each off-treatment patient's follow-up visits, due dates and overdue flags (site
    staff: their own site's; none once the patient died or went off study)."""
    plan = trial.protocol.follow_up
    if plan is None or scope.actor.deidentified:
        return []

    ends = list(
        scope.session.scalars(
            records.visible(scope, TREATMENT_END).where(TreatmentEnd.voided.is_(False))
        )
    )
    ids = [e.patient_id for e in ends]
    contacts = _rows(scope, "follow_ups", FollowUp, ids)
    events = _rows(scope, "clinical_events", ClinicalEvent, ids)
    out = []
    for end in ends:
        if any(e.kind in ("death", "off_study") for e in events[end.patient_id]):
            continue
        days = [c.contact_date for c in contacts[end.patient_id]]
        visits = schedule(plan, end.ended_on, days, as_of)
        out.append(PatientVisits(end.patient_id, end.patient.subject_code, end.ended_on,
                                 tuple(visits)))
    out.sort(key=lambda p: p.subject_code)
    return out
