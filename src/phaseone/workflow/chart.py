"""A patient's chart: the registered patient and every record kept about them, as the
caller may see them, and the list of patients a caller may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import lazyload

from phaseone.errors import NotFoundError
from phaseone.store import records
from phaseone.store.errors import PermissionDenied
from phaseone.store.models import (
    AdverseEvent,
    ClinicalEvent,
    DltDetermination,
    DoseAdministration,
    FollowUp,
    LabResult,
    Patient,
    Registration,
    ScreeningEvaluation,
    Site,
    TreatmentEnd,
)
from phaseone.store.scope import Scope


def _identified(scope: Scope) -> None:
    # A chart shows identifiers and real dates; de-identified roles read through the API.
    if scope.actor.deidentified:
        raise PermissionDenied(
            "patient charts show identifiers and real dates; your role reads de-identified "
            "records through the API"
        )


# Rows per page of a patient's long lists (labs, adverse events, doses) on their own pages,
# and rows of each on the chart, which is a summary with links to them.
PAGE_SIZE = 50
RECENT = 10


@dataclass(frozen=True)
class Paged:
    """One page of a list, newest first: where it starts and where the others start."""

    total: int
    offset: int
    limit: int = PAGE_SIZE

    @property
    def older(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def newer(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


# The long lists of a chart, by table: the model and the date that orders it (newest first).
LISTS: dict[str, tuple[Any, Any]] = {
    "lab_results": (LabResult, LabResult.collected_on),
    "adverse_events": (AdverseEvent, AdverseEvent.onset_date),
    "dose_administrations": (DoseAdministration, DoseAdministration.administered_on),
}


def _live(model: Any, patient_id: int) -> Any:
    # The patient is read (scoped) before any of their records: each row finds it in the
    # session rather than joining it again.
    return (
        select(model)
        .where(model.patient_id == patient_id, model.voided.is_(False))
        .options(lazyload(model.patient))
    )


def _page(
    scope: Scope, table: str, patient_id: int, offset: int, limit: int
) -> tuple[list[Any], Paged]:
    """One page of a long list, newest first, and its total in one query (the count runs
    before LIMIT/OFFSET); an offset past the end returns no row, and only then is the
    total counted alone."""
    model, newest = LISTS[table]
    where = _live(model, patient_id)
    stmt = where.add_columns(func.count().over())
    stmt = stmt.order_by(newest.desc(), model.id.desc()).limit(limit).offset(offset)
    found = scope.session.execute(stmt).all()
    if found:
        total = found[0][1]
    elif offset == 0:
        total = 0
    else:
        total = scope.session.scalar(select(func.count()).select_from(where.subquery()))
    return [row[0] for row in found], Paged(int(total or 0), offset, limit)


@dataclass(frozen=True)
class Chart:
    """A patient's summary: the latest rows of the long lists with their totals, the
    doses of one course, and the short lists whole."""

    patient: Patient
    site_name: str
    doses: list[DoseAdministration]  # one course's, in date order
    labs: list[LabResult]  # the latest, newest first
    events: list[AdverseEvent]  # the latest, newest first
    labs_page: Paged
    events_page: Paged
    determinations: list[DltDetermination]
    clinical_events: list[ClinicalEvent]
    follow_ups: list[FollowUp]
    treatment_end: TreatmentEnd | None
    screenings: list[ScreeningEvaluation]
    registration: Registration | None


def chart(
    scope: Scope, patient_id: int, *, course_id: int | None = None, recent: int = RECENT
) -> Chart:
    """The records of one patient (another site's patient is not found), not voided: the
    doses of one course (`course_id`; none when None), the `recent` latest labs and adverse
    events with their totals, and the short lists whole."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)

    site_name, registration, kept = _site_and_registration(scope, patient)

    def rows(model: Any, order: Any) -> list[Any]:
        if model not in kept:
            return []
        stmt = _live(model, patient.id).order_by(order, model.id)
        return list(scope.session.scalars(stmt))

    doses: list[DoseAdministration] = []
    if course_id is not None:
        stmt = _live(DoseAdministration, patient.id).where(
            DoseAdministration.course_id == course_id
        )
        order = (DoseAdministration.administered_on, DoseAdministration.id)
        doses = list(scope.session.scalars(stmt.order_by(*order)))
    labs, labs_page = _page(scope, "lab_results", patient.id, 0, recent)
    events, events_page = _page(scope, "adverse_events", patient.id, 0, recent)
    return Chart(
        patient=patient,
        site_name=site_name,
        doses=doses,
        labs=labs,
        events=events,
        labs_page=labs_page,
        events_page=events_page,
        determinations=rows(DltDetermination, DltDetermination.id),
        clinical_events=rows(ClinicalEvent, ClinicalEvent.event_date),
        follow_ups=rows(FollowUp, FollowUp.contact_date),
        treatment_end=next(iter(rows(TreatmentEnd, TreatmentEnd.id)), None),
        screenings=rows(ScreeningEvaluation, ScreeningEvaluation.id),
        registration=registration,
    )


# The chart's short lists, read whole; most patients have none of some of them.
SHORT_LISTS = (DltDetermination, ClinicalEvent, FollowUp, TreatmentEnd, ScreeningEvaluation)


def _site_and_registration(
    scope: Scope, patient: Patient
) -> tuple[str, Registration | None, set[Any]]:
    """The patient's site name, live registration (the caller's site's) and which short
    lists hold a live row (the others need no read), in one query."""
    joined = [Registration.patient_id == patient.id, Registration.voided.is_(False)]
    if scope.actor.site_scoped:
        joined.append(Registration.site_id == scope.actor.site_id)
    held = [
        exists().where(m.patient_id == patient.id, m.voided.is_(False)) for m in SHORT_LISTS
    ]
    stmt = (
        select(Site.name, Registration, *held)
        .select_from(Site)
        .outerjoin(Registration, and_(*joined))
        .where(Site.id == patient.site_id)
        .options(lazyload(Registration.patient))
    )
    found = scope.session.execute(stmt).first()
    if found is None:  # a patient's site is a foreign key: not reached
        return patient.site_id, None, set(SHORT_LISTS)
    kept = {m for m, has in zip(SHORT_LISTS, found[2:], strict=True) if has}
    return found[0], found[1], kept


def screenings_of(scope: Scope, patient_id: int) -> tuple[Patient, list[ScreeningEvaluation]]:
    """The patient and their screenings, oldest first, not voided (another site's patient
    is not found)."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    stmt = _live(ScreeningEvaluation, patient.id).order_by(ScreeningEvaluation.id)
    return patient, list(scope.session.scalars(stmt))


@dataclass(frozen=True)
class ListPage:
    """One page of one of a patient's long lists."""

    patient: Patient
    rows: list[Any]
    page: Paged


def list_page(scope: Scope, patient_id: int, table: str, offset: int = 0) -> ListPage:
    """One page of a patient's labs, adverse events or doses (a key of LISTS), newest
    first, not voided; another site's patient is not found."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    rows, page = _page(scope, table, patient.id, offset, PAGE_SIZE)
    return ListPage(patient, rows, page)


def chart_record(scope: Scope, patient_id: int, table: str, record_id: int) -> tuple[Patient, Any]:
    """One lab, adverse event or dose (a key of LISTS) of this patient as stored, voided
    ones too (the page says so), with the patient; NotFoundError for another patient's or
    another site's record."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    found = records.get(scope, records.SPECS[table], record_id)
    if table not in LISTS or found.patient_id != patient.id:
        raise NotFoundError(f"no {records.SPECS[table].label} {record_id} on this patient")
    return patient, found


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    registration: Registration | None


def patient_list(
    scope: Scope, *, limit: int = 500, offset: int = 0
) -> tuple[list[PatientRow], int]:
    """The patients the caller may open (site staff: their own site), with registrations."""
    _identified(scope)
    found = records.list_records(scope, records.SPECS["patients"], {}, limit=limit, offset=offset)
    ids = [p.id for p in found.items]
    stmt = select(Registration).where(
        Registration.patient_id.in_(ids), Registration.voided.is_(False)
    )
    regs = {r.patient_id: r for r in scope.session.scalars(stmt)}
    return [PatientRow(p, regs.get(p.id)) for p in found.items], found.total
