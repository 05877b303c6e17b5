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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phaseone.outcomes import FollowUpRecord, SurvivalResult, analyse, schedule
from phaseone.outcomes.followup import DueVisit
from phaseone.protocol.model import Protocol
from phaseone.store import records
from phaseone.store.models import (
    ClinicalEvent,
    FollowUp,
    TreatmentEnd,
)
from phaseone.store.scope import Scope
from phaseone.workflow import evaluations
from phaseone.workflow.context import Trial
from phaseone.workflow.treatment import TREATMENT_END

SURVIVAL_EVENTS = ("progression", "relapse", "second_malignancy", "death")
Row = Mapping[str, Any]


def _rows(scope: Scope, table: str, model: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    stmt = records.visible(scope, records.SPECS[table]).where(
        model.voided.is_(False), model.patient_id.in_(ids)
    )
    out: dict[int, list[Any]] = defaultdict(list)
    for row in scope.session.scalars(stmt.order_by(model.id)):
        out[row.patient_id].append(row)
    return out


def read_tables(
    scope: Scope, patient_ids: Iterable[int] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Everything a follow-up record is built from, as the actor may see it."""
    ids = None if patient_ids is None else list(patient_ids)
    tables = evaluations.read_tables(scope, ids)
    for spec in (records.SPECS["courses"], records.SPECS["clinical_events"],
                 records.SPECS["follow_ups"], TREATMENT_END):
        model: Any = spec.model
        stmt = records.visible(scope, spec).where(model.voided.is_(False))
        if ids is not None:
            stmt = stmt.where(model.patient_id.in_(ids))
        found = scope.session.scalars(stmt.order_by(model.id))
        tables[spec.name] = [records.view(obj, scope.actor) for obj in found]
    return tables


def follow_up_records(
    scope: Scope, trial: Trial, patient_ids: Iterable[int] | None = None
) -> list[tuple[int, FollowUpRecord]]:
    """The survival engine's input for every registered patient the actor may see (dates
    moved by each patient's offset for a de-identified role), in subject-code order."""
    return records_from_rows(trial.protocol, read_tables(scope, patient_ids))


def records_from_rows(
    protocol: Protocol, tables: Mapping[str, Sequence[Row]]
) -> list[tuple[int, FollowUpRecord]]:
    """Follow-up records from the tables' rows (the store's view or an export snapshot):
    one reading for the service and the report."""
    def by_patient(name: str) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for row in tables.get(name, ()):
            out[row["patient_id"]].append(row)
        return out

    courses, events = by_patient("courses"), by_patient("clinical_events")
    contacts, ends = by_patient("follow_ups"), by_patient("treatment_ends")
    codes = {r["id"]: r["subject_code"] for r in tables.get("patients", ())}
    entry = evaluations.disease_at_entry_from_rows(tables)
    responses = dict(evaluations.responses_from_rows(protocol, tables))
    out = []
    for reg in tables.get("registrations", ()):
        pid = reg["patient_id"]
        if pid not in codes:
            continue
        pr = responses.get(pid)
        dates = [e.date for e in pr.evaluations] if pr else []
        first_pd = next((e.date for e in (pr.evaluations if pr else ()) if e.response == "PD"),
                        None)
        end = ends[pid][0] if ends[pid] else None
        out.append((pid, _record(codes[pid], reg, courses[pid], events[pid], contacts[pid], end,
                                 entry.get(pid, "unknown"), dates, first_pd)))
    out.sort(key=lambda pair: pair[1].patient_id)
    return out


def _record(
    code: str,
    reg: Row,
    courses: Sequence[Row],
    events: Sequence[Row],
    contacts: Sequence[Row],
    end: Row | None,
    disease_at_entry: str,
    evaluation_dates: Sequence[dt.date],
    first_pd: dt.date | None,
) -> FollowUpRecord:
    kinds: dict[str, list[Row]] = defaultdict(list)
    for e in sorted(events, key=lambda e: e["event_date"]):
        kinds[e["kind"]].append(e)
    found: list[dict[str, Any]] = []
    for kind in SURVIVAL_EVENTS:
        first = kinds[kind][0] if kinds[kind] else None
        day, source = (first["event_date"], "clinical") if first else (None, "clinical")
        if kind == "progression" and first_pd is not None and (day is None or first_pd < day):
            day, source = first_pd, "evaluation"
        if day is not None:
            cause = first["cause"] if first is not None and kind == "death" else None
            found.append({"kind": kind, "date": day, "source": source, "cause": cause})
    death = next((e["date"] for e in found if e["kind"] == "death"), None)
    alive = [reg["registered_on"], *(c["start_date"] for c in courses), *evaluation_dates]
    alive += [c["contact_date"] for c in contacts if c["vital_status"] == "alive"]
    if end is not None:
        alive.append(end["ended_on"])
    last_alive = max(alive)
    if death is not None:
        last_alive = min(last_alive, death)
    new_therapy = kinds["new_therapy"][0]["event_date"] if kinds["new_therapy"] else None
    off = kinds["off_study"][0] if kinds["off_study"] else None
    first_course = next((c for c in courses if c["number"] == 1), None)
    return FollowUpRecord.model_validate(
        {
            "patient_id": code,
            "registration_date": reg["registered_on"],
            "first_dose_date": None if first_course is None else first_course["start_date"],
            "dose_level": reg["dose_level"],
            "courses": len(courses),
            "disease_at_entry": disease_at_entry,
            "events": found,
            "new_therapy_date": new_therapy,
            "last_assessment_date": max(evaluation_dates) if evaluation_dates else None,
            "last_known_alive": last_alive,
            "off_study_date": None if off is None else off["event_date"],
            "off_study_reason": None if off is None else off["cause"],
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
