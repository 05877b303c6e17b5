"""Patients: the list, adding a consented patient, the patient's chart, screening and
registration."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store import signatures, sites
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import PermissionDenied
from phaseone.web.api.schemas import PatientIn
from phaseone.web.auth import now, policy
from phaseone.web.inputs import RegistrationRequest, ScreeningIn, SignerIn
from phaseone.web.pages import monitoring, page_cache, present, record_form
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import chart, corrections, evaluations, registration, screening, treatment
from phaseone.workflow.history import trial_state

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]
ATTRIBUTIONS = ("unrelated", "unlikely", "possible", "probable", "definite")


def show_patients(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    try:
        rows, total = chart.patient_list(viewer.scope)
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    return render(
        request,
        "patients.html",
        viewer,
        status_code=status_code,
        patients=[{"p": r.patient, "reg": r.registration} for r in rows],
        total=total,
        sites=sites.list_sites(viewer.scope.session),
        can_add=viewer.may(CLINICAL_WRITERS),
        today=now(request).date(),
        failed=failed,
    )


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_patients(request, viewer)


@router.post("/patients")
def add_patient(request: Request, viewer: Viewer, fields: Fields) -> Response:
    created: dict[str, int] = {}
    actor = viewer.scope.actor

    def act() -> str:
        own = {"site_id": actor.site_id} if actor.site_scoped else {}
        data = parse(PatientIn, fields, **own)
        # The record API's POST /patients: the same service, so the same checks.
        patient = corrections.create(
            viewer.scope,
            trial_of(request),
            "patients",
            data.model_dump(),
            today=now(request).date(),
        )
        created["id"] = patient.id
        return f"Patient {patient.subject_code} added."

    response = submit(
        viewer,
        act,
        ok_url="/patients",
        form="patient",
        fields=fields,
        show_again=lambda failed, code: show_patients(request, viewer, failed, code),
    )
    if "id" in created:
        response.headers["location"] = response.headers["location"].replace(
            "/patients?", f"/patients/{created['id']}?", 1
        )
    return response


def show_patient(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    """The patient's summary: status, eligibility, registration, the current course with its
    doses, the latest labs and adverse events (each list whole on its own page, each record
    corrected on its own page), DLT, response and treatment status, with the entry forms."""
    trial = trial_of(request)
    scope = viewer.scope
    today = now(request).date()
    try:
        courses = registration.courses_of(scope, patient_id)
        course = courses[-1] if courses else None
        data = chart.chart(scope, patient_id, course_id=course.id if course else None)
    except NotFoundError:
        return present.not_found(request, viewer, f"No patient {patient_id} at your site.")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    patient = data.patient
    evaluation = data.screenings[-1] if data.screenings else None
    reg = data.registration
    calendar = []
    if course is not None:
        calendar = present.calendar_rows(registration.course_plan(trial, course), data.doses)
    state = trial_state(scope.session, trial, today)
    window = next((w for w in state.pending if w.patient == patient.subject_code), None)
    signer_roles = signatures.meanings()[screening.ELIGIBILITY_MEANING].roles
    can_write = viewer.may(CLINICAL_WRITERS)
    screen = (
        _screening_form(scope, trial, patient.id, failed, today) if can_write and not reg else {}
    )
    # Every signature on the page in one read: the screening's, then each determination's.
    signed: list[tuple[str, Any]] = [("screening_evaluations", evaluation)] if evaluation else []
    signed += [("dlt_determinations", d) for d in data.determinations]
    signature_rows = present.signature_rows_of(scope, signed)
    screening_signatures = signature_rows[0] if evaluation else []
    determination_signatures = signature_rows[1:] if evaluation else signature_rows
    record_changes = None
    if len(data.screenings) > 1 and evaluation is not None and not scope.actor.deidentified:
        record_changes = screening.record_changes_between(scope, data.screenings[-2], evaluation)
    return render(
        request,
        "patient.html",
        viewer,
        status_code=status_code,
        patient=patient,
        site_name=data.site_name,
        evaluation=evaluation,
        # A registered patient's checklist is a page of its own (the screening is history).
        checklist=present.checklist(evaluation) if evaluation and not reg else [],
        changes=(
            present.screening_changes(data.screenings[-2], evaluation)
            if len(data.screenings) > 1 and evaluation is not None
            else None
        ),
        screening_signatures=screening_signatures,
        reg=reg,
        course=course,
        calendar=calendar,
        labs=present.graded_labs(trial, patient, data.labs),
        data=data,
        flags=monitoring.chart_flags(viewer, data),
        determinations=[
            {"d": d, "sigs": sigs}
            for d, sigs in zip(data.determinations, determination_signatures, strict=True)
        ],
        # Held slots are offered only to register a patient not yet registered.
        holds=registration.held_requests(scope) if can_write and not reg else [],
        state=state,
        window=window,
        lab_choices=present.lab_choices(trial),
        ae_term_options=present.ae_term_options(trial),
        agents=trial.protocol.agents,
        attributions=ATTRIBUTIONS,
        off_reasons=treatment.OFF_TREATMENT_REASONS,
        can_write=can_write,
        can_sign=viewer.may(signer_roles),
        record_changes=record_changes,
        **screen,
        today=today,
        levels=[lv.id for lv in trial.protocol.dose_levels],
        responses=evaluations.present(scope, trial, patient.id) if reg else None,
        failed=failed,
    )


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, viewer: Viewer, patient_id: int) -> HTMLResponse:
    key = page_cache.key_of(request, viewer, now(request).date())
    page: HTMLResponse = page_cache.served(
        request, key, lambda: show_patient(request, viewer, patient_id)
    )
    return page


@router.get("/patients/{patient_id}/eligibility", response_class=HTMLResponse)
def eligibility_page(request: Request, viewer: Viewer, patient_id: int) -> HTMLResponse:
    """The last screening's checklist, signatures and verdict."""
    scope = viewer.scope
    try:
        screenings = chart.screenings_of(scope, patient_id)
    except NotFoundError:
        return present.not_found(request, viewer, f"No patient {patient_id} at your site.")
    except PermissionDenied as exc:
        return present.not_found(request, viewer, str(exc))
    patient, evaluations = screenings
    evaluation = evaluations[-1] if evaluations else None
    return render(
        request,
        "eligibility.html",
        viewer,
        patient=patient,
        evaluation=evaluation,
        checklist=present.checklist(evaluation) if evaluation else [],
        screening_signatures=(
            present.signature_rows(scope, "screening_evaluations", evaluation) if evaluation else []
        ),
    )


def patient_step(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    act: Any,
    *,
    form: str,
    fields: dict[str, Any],
    anchor: str,
) -> Response:
    """One step on the patient's chart: back to the chart at `anchor` with the message, or
    the chart again with the refused form filled in as typed."""
    response = submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}",
        form=form,
        fields=fields,
        show_again=lambda failed, code: show_patient(request, viewer, patient_id, failed, code),
    )
    if response.status_code == 303:
        response.headers["location"] += f"#{anchor}"
    return response


# Inputs of the screening forms that are not part of the patient record.
SCREENING_INPUTS = frozenset({"as_of", "dose_level", "action", "csrf_token"})


def _screening_form(
    scope: Any, trial: Any, patient_id: int, failed: Failed, today: Any
) -> dict[str, Any]:
    """The screening form's values: as typed if it was refused, else the open draft or the
    last screening's record, else what the protocol proposes."""
    form = record_form.layout(trial.protocol)
    entered = screening.entered_record(scope, patient_id)
    draft = entered if entered is not None and entered.evaluation_id is None else None
    if failed.of("screen"):
        values = {k: v for k, v in failed.values.items() if isinstance(v, str)}
        as_of, level = values.get("as_of", ""), values.get("dose_level", "")
    elif entered is not None:
        values = record_form.form_from_record(form, entered.record)
        as_of = entered.as_of.isoformat() if draft and entered.as_of else today.isoformat()
        level = str(entered.dose_level or "") if draft else ""
    else:
        values = record_form.proposed_values(form)
        as_of, level = today.isoformat(), ""
    return {
        "screen_form": form,
        "screen_values": values,
        "screen_invalid": {p.path for p in failed.of("screen")},
        "screen_counts": {name: record_form.row_count(r, values) for name, r in form.lists.items()},
        "screen_as_of": as_of,
        "screen_level": level,
        "draft": draft,
    }


def _record_json(fields: dict[str, Any]) -> dict[str, Any]:
    """The pasted record (the advanced option) as JSON, for ScreeningIn."""
    text = fields.get("record", "")
    if not isinstance(text, str) or not text.strip():
        raise InputError([Problem("record", "paste the patient record (JSON)")])
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem("record", f"not JSON: {exc.msg} at line {exc.lineno}")]) from None
    if not isinstance(parsed, dict):
        raise InputError([Problem("record", "expected a JSON object")])
    return parsed


@router.post("/patients/{patient_id}/screen")
def screen_patient(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    """Screen, or save a draft, from the structured form or (advanced) a pasted JSON record."""
    pasted = "record" in fields
    drafting = fields.get("action") == "draft"
    trial = trial_of(request)
    posted: record_form.Posted | None = None

    def record_of() -> dict[str, Any]:
        nonlocal posted
        if pasted:
            return _record_json(fields)
        record = {k: v for k, v in fields.items() if k not in SCREENING_INPUTS}
        posted = record_form.record_from_form(record_form.layout(trial.protocol), record)
        return posted.record

    def act() -> str:
        record = record_of()
        data = parse(
            ScreeningIn,
            {k: fields[k] for k in ("as_of", "dose_level") if k in fields},
            record=record,
        )
        try:
            if drafting:
                screening.save_draft(
                    viewer.scope, patient_id, data.record, data.as_of, data.dose_level
                )
                return "Draft saved (not screened)."
            _, result = screening.screen(
                viewer.scope, trial, patient_id, data.record, data.as_of, data.dose_level
            )
        except InputError as exc:
            if pasted or posted is None:
                raise
            # The record's paths, as the form names its inputs.
            raise InputError(
                [
                    Problem(posted.form_path(p.path.removeprefix("record.")), p.message)
                    for p in exc.problems
                ]
            ) from None
        return f"Screened: {result.overall} (dose level {result.dose_level})."

    return patient_step(
        request,
        viewer,
        patient_id,
        act,
        form="screen-json" if pasted else "screen",
        fields=fields,
        anchor="eligibility",
    )


@router.post("/patients/{patient_id}/screen/{evaluation_id}/sign")
def sign_screening(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    evaluation_id: int,
    fields: Fields,
) -> Response:
    def act() -> str:
        signer = parse(SignerIn, fields)
        screening.sign_eligibility(
            viewer.scope, evaluation_id, signer.username, signer.password, policy(request)
        )
        return "Eligibility signed."

    return patient_step(
        request,
        viewer,
        patient_id,
        act,
        form="sign-eligibility",
        fields=fields,
        anchor="eligibility",
    )


@router.post("/patients/{patient_id}/register")
def register_patient(request: Request, viewer: Viewer, patient_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(RegistrationRequest, fields)
        reg, _, plan = registration.register(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            slot_request_id=data.slot_request_id,
            start_date=data.start_date,
            height_cm=data.height_cm,
            weight_kg=data.weight_kg,
            now=now(request),
        )
        return (
            f"Registered at dose level {reg.dose_level}; BSA {plan.sheet.bsa.m2:.2f} m2; "
            "course 1 calendar below."
        )

    return patient_step(
        request,
        viewer,
        patient_id,
        act,
        form="register",
        fields=fields,
        anchor="calendar",
    )
