"""A patient's long lists and single records, off the chart: every lab, adverse event and
dose a page at a time (newest first), and one record's correction page (correct or void it
with the reason; the forms post to entries' correct and void steps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from phaseone.errors import NotFoundError
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import PermissionDenied
from phaseone.web.pages import monitoring, present
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import chart

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Kind:
    """A record type as the pages name it: its table, its heading, its anchor on the chart,
    what names one record, and the fields its correction form offers."""

    table: str
    title: str
    anchor: str
    # (field, label, input type: number, text, date or yesno)
    inputs: tuple[tuple[str, str, str], ...]

    def label(self, rec: Any) -> str:
        if self.table == "lab_results":
            return f"{rec.analyte} of {rec.collected_on}"
        if self.table == "adverse_events":
            return f"{rec.meddra_term} of {rec.onset_date}"
        return f"{rec.agent_id} day {rec.course_day} of {rec.administered_on}"


# The record types a chart lists and corrects, by the name in the page's address.
KINDS = {
    "labs": Kind(
        "lab_results",
        "Labs",
        "labs",
        (
            ("value", "Value", "number"),
            ("unit", "Unit", "text"),
            ("collected_on", "Collected", "date"),
        ),
    ),
    "adverse-events": Kind(
        "adverse_events",
        "Adverse events",
        "adverse-events",
        (
            ("grade", "Grade", "number"),
            ("onset_date", "Onset", "date"),
            ("resolved_date", "Resolved", "date"),
            ("serious", "Serious?", "yesno"),
        ),
    ),
    "doses": Kind(
        "dose_administrations",
        "Doses",
        "calendar",
        (
            ("given_dose", "Given (mg)", "number"),
            ("given", "Given?", "yesno"),
            ("adjustment_reason", "Reason the dose differs from the plan", "text"),
        ),
    ),
}


def kind_of(kind: str) -> Kind:
    found = KINDS.get(kind)
    if found is None:
        raise HTTPException(404, "no such record type")
    return found


def _record_list(
    request: Request, viewer: Viewer, patient_id: int, kind: str, offset: int
) -> HTMLResponse:
    spec = KINDS[kind]
    try:
        found = chart.list_page(viewer.scope, patient_id, spec.table, offset)
    except NotFoundError:
        return present.not_found(request, viewer, f"No patient {patient_id} at your site.")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    trial = trial_of(request)
    rows = found.rows
    return render(
        request,
        "patient_records.html",
        viewer,
        patient=found.patient,
        kind=kind,
        title=spec.title,
        rows=present.graded_labs(trial, found.patient, rows) if kind == "labs" else rows,
        page=found.page,
        flags=monitoring.record_flags(viewer, {spec.table: rows}),
        can_write=viewer.may(CLINICAL_WRITERS),
    )


Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/patients/{patient_id}/labs", response_class=HTMLResponse)
def labs_page(
    request: Request, viewer: Viewer, patient_id: int, offset: Offset = 0
) -> HTMLResponse:
    return _record_list(request, viewer, patient_id, "labs", offset)


@router.get("/patients/{patient_id}/adverse-events", response_class=HTMLResponse)
def events_page(
    request: Request, viewer: Viewer, patient_id: int, offset: Offset = 0
) -> HTMLResponse:
    return _record_list(request, viewer, patient_id, "adverse-events", offset)


@router.get("/patients/{patient_id}/doses", response_class=HTMLResponse)
def doses_page(
    request: Request, viewer: Viewer, patient_id: int, offset: Offset = 0
) -> HTMLResponse:
    return _record_list(request, viewer, patient_id, "doses", offset)


def show_correction(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    kind: str,
    record_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    """One record with its correction and void forms (filled in as typed when refused)."""
    spec = kind_of(kind)
    try:
        patient, rec = chart.chart_record(viewer.scope, patient_id, spec.table, record_id)
    except NotFoundError:
        return present.not_found(request, viewer, f"No such record on patient {patient_id}.")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    return render(
        request,
        "correction.html",
        viewer,
        status_code=status_code,
        patient=patient,
        kind=kind,
        spec=spec,
        rec=rec,
        label=spec.label(rec),
        inputs=[(name, text, getattr(rec, name), type_) for name, text, type_ in spec.inputs],
        can_write=viewer.may(CLINICAL_WRITERS),
        failed=failed,
    )


@router.get("/patients/{patient_id}/{kind}/{record_id}/correct", response_class=HTMLResponse)
def correction_page(
    request: Request, viewer: Viewer, patient_id: int, kind: str, record_id: int
) -> HTMLResponse:
    return show_correction(request, viewer, patient_id, kind, record_id)
