"""A patient's chart: the registered patient and every record kept about them, as the
caller may see them, and the list of patients a caller may open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

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


@dataclass(frozen=True)
class Chart:
    patient: Patient
    site_name: str
    doses: list[DoseAdministration]
    labs: list[LabResult]
    events: list[AdverseEvent]
    determinations: list[DltDetermination]
    clinical_events: list[ClinicalEvent]
    follow_ups: list[FollowUp]
    treatment_end: TreatmentEnd | None
    screenings: list[ScreeningEvaluation]


def chart(scope: Scope, patient_id: int) -> Chart:
    """Every record of one patient (another site's patient is not found), not voided."""
    _identified(scope)
    patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)

    def rows(model: Any, order: Any) -> list[Any]:
        stmt = select(model).where(model.patient_id == patient.id, model.voided.is_(False))
        return list(scope.session.scalars(stmt.order_by(order, model.id)))

    site = scope.session.get(Site, patient.site_id)
    return Chart(
        patient=patient,
        site_name=site.name if site is not None else patient.site_id,
        doses=rows(DoseAdministration, DoseAdministration.administered_on),
        labs=rows(LabResult, LabResult.collected_on),
        events=rows(AdverseEvent, AdverseEvent.onset_date),
        determinations=rows(DltDetermination, DltDetermination.id),
        clinical_events=rows(ClinicalEvent, ClinicalEvent.event_date),
        follow_ups=rows(FollowUp, FollowUp.contact_date),
        treatment_end=next(iter(rows(TreatmentEnd, TreatmentEnd.id)), None),
        screenings=rows(ScreeningEvaluation, ScreeningEvaluation.id),
    )


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
