"""A patient's chart: the registered patient and every record kept about them, as the
caller may see them, and the list of patients a caller may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from phaseone.store import records
from phaseone.store.errors import PermissionDenied
from phaseone.store.models import (
    AdverseEvent,
    ClinicalEvent,
    Course,
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


# Rows per page of a patient's long lists (labs, adverse events) on the chart.
PAGE_SIZE = 50


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


@dataclass(frozen=True)
class Chart:
    patient: Patient
    site_name: str
    doses: list[DoseAdministration]
    labs: list[LabResult]  # one page, newest first
    events: list[AdverseEvent]  # one page, newest first
    labs_page: Paged
    events_page: Paged
    determinations: list[DltDetermination]
    clinical_events: list[ClinicalEvent]
    follow_ups: list[FollowUp]
    treatment_end: TreatmentEnd | None
    screenings: list[ScreeningEvaluation]


def chart(
    scope: Scope,
    patient_id: int,
    *,
    course_id: int | None = None,
    labs_offset: int = 0,
    events_offset: int = 0,
) -> Chart:
    """The records of one patient (another site's patient is not found), not voided: the
    doses of one course (`course_id`; every course when None), one page of labs and of
    adverse events (newest first), and the short lists whole."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)

    def where(model: Any) -> Any:
        return select(model).where(model.patient_id == patient.id, model.voided.is_(False))

    def rows(model: Any, order: Any) -> list[Any]:
        return list(scope.session.scalars(where(model).order_by(order, model.id)))

    def page(model: Any, newest: Any, offset: int) -> tuple[list[Any], Paged]:
        # The page and the total in one query (the count runs before LIMIT/OFFSET); an
        # offset past the end returns no row, and only then is the total counted alone.
        stmt = where(model).add_columns(func.count().over())
        stmt = stmt.order_by(newest.desc(), model.id.desc()).limit(PAGE_SIZE).offset(offset)
        found = scope.session.execute(stmt).all()
        if found:
            total = found[0][1]
        elif offset == 0:
            total = 0
        else:
            total = scope.session.scalar(select(func.count()).select_from(where(model).subquery()))
        return [row[0] for row in found], Paged(int(total or 0), offset)

    doses = where(DoseAdministration)
    if course_id is not None:
        doses = doses.where(DoseAdministration.course_id == course_id)
    labs, labs_page = page(LabResult, LabResult.collected_on, labs_offset)
    events, events_page = page(AdverseEvent, AdverseEvent.onset_date, events_offset)

    site = scope.session.get(Site, patient.site_id)
    return Chart(
        patient=patient,
        site_name=site.name if site is not None else patient.site_id,
        doses=list(
            scope.session.scalars(
                doses.order_by(DoseAdministration.administered_on, DoseAdministration.id)
            )
        ),
        labs=labs,
        events=events,
        labs_page=labs_page,
        events_page=events_page,
        determinations=rows(DltDetermination, DltDetermination.id),
        clinical_events=rows(ClinicalEvent, ClinicalEvent.event_date),
        follow_ups=rows(FollowUp, FollowUp.contact_date),
        treatment_end=next(iter(rows(TreatmentEnd, TreatmentEnd.id)), None),
        screenings=rows(ScreeningEvaluation, ScreeningEvaluation.id),
    )


def first_course_id(scope: Scope, patient_id: int) -> int | None:
    """The id of the patient's course 1, if it has started (its doses fill the calendar)."""
    stmt = select(Course.id).where(
        Course.patient_id == patient_id, Course.number == 1, Course.voided.is_(False)
    )
    found = scope.session.scalar(stmt)
    return None if found is None else int(found)


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
