"""The pages. GET handlers read; POST handlers run one workflow step each (one transaction,
audited) and redirect back with a message."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import func, select

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store import audit, records, trail
from phaseone.store.access import AUDIT_READERS, CLINICAL_WRITERS, Role, Source, system_actor
from phaseone.store.models import (
    DltDetermination,
    EscalationDecision,
    Patient,
    Registration,
    Site,
)
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.store.scope import Scope
from phaseone.store.types import utcnow
from phaseone.web.auth import policy
from phaseone.web.pages import present
from phaseone.web.pages.session import PageUser, Viewer, render, step, trial_of
from phaseone.workflow import (
    adjudication,
    notify,
    registration,
    screening,
    slots,
    treatment,
    visibility,
)
from phaseone.workflow.history import DECISION_MEANING, trial_state, valid_signature

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form()]


async def _all_fields(request: Request) -> dict[str, str]:
    """Every text field of the posted form (for fields named per protocol agent)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


AllFields = Annotated[dict[str, str], Depends(_all_fields)]
PATIENT_READERS = (
    Role.study_chair,
    Role.site_coordinator,
    Role.site_investigator,
    Role.monitor,
    Role.admin,
)


def _refresh(viewer: PageUser, request: Request) -> None:
    """Let the clock act (holds lapse, ended DLT windows get proposals) before showing state."""
    clock = Scope(viewer.scope.session, system_actor("system:clock", Source.system))
    adjudication.refresh(clock, trial_of(request), utcnow())


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError([Problem(name, "expected a date as YYYY-MM-DD")]) from None


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError([Problem(name, "expected a number")]) from None


def _not_found(request: Request, viewer: PageUser, message: str) -> HTMLResponse:
    return render(request, "error.html", viewer, status_code=404, message=message)


# --- dashboard -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, viewer: Viewer) -> HTMLResponse:
    trial = trial_of(request)
    _refresh(viewer, request)
    now = utcnow()
    scope = viewer.scope
    state = trial_state(scope.session, trial, now.date())
    live = slots.live_requests(scope)
    plan = slots.waitlist(scope, trial, now)
    positions = {r.id: plan.position(str(r.id)) for r in live}
    return render(
        request,
        "dashboard.html",
        viewer,
        state=state,
        regimen=present.level_regimen(trial),
        assumed_levels=present.level_assumptions(trial),
        windows=present.windows_view(state, scope),
        requests=[
            {"row": r, "own": scope.actor.sees_site(r.site_id), "position": positions[r.id]}
            for r in live
        ],
        notifications=notify.for_actor(scope, 8),
        next_close=visibility.next_window_close(scope, state),
        can_request=viewer.can(*CLINICAL_WRITERS),
        now=now,
    )


@router.post("/slots")
def request_slot(
    request: Request,
    viewer: Viewer,
    csrf_token: Csrf,
    reference: Annotated[str, Form()],
    site_id: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        row, plan = slots.request_slot(
            viewer.scope, trial_of(request), reference, utcnow(), site_id or None
        )
        if row.status == "held":
            assert row.hold_expires_at is not None
            return f"Slot held until {row.hold_expires_at:%Y-%m-%d %H:%M} UTC."
        return f"No slot is free: request is number {plan.position(str(row.id))} on the waitlist."

    return step(viewer, csrf_token, act, ok_url="/")


@router.post("/slots/{request_id}/release")
def release_slot(
    request: Request,
    viewer: Viewer,
    request_id: int,
    csrf_token: Csrf,
    reason: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        slots.release_slot(viewer.scope, trial_of(request), request_id, reason, utcnow())
        return "Slot released."

    return step(viewer, csrf_token, act, ok_url="/")


# --- patients ------------------------------------------------------------------------------


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, viewer: Viewer) -> HTMLResponse:
    if not viewer.can(*PATIENT_READERS):
        return _not_found(request, viewer, "Patient pages are not part of your role.")
    scope = viewer.scope
    stmt = select(Patient).where(Patient.voided.is_(False))
    if scope.actor.site_scoped:
        stmt = stmt.where(Patient.site_id == scope.actor.site_id)
    found = list(scope.session.scalars(stmt.order_by(Patient.id)))
    regs = {
        r.patient_id: r
        for r in scope.session.scalars(select(Registration).where(Registration.voided.is_(False)))
    }
    sites = list(scope.session.scalars(select(Site).order_by(Site.name)))
    return render(
        request,
        "patients.html",
        viewer,
        patients=[{"p": p, "reg": regs.get(p.id)} for p in found],
        sites=sites,
        can_add=viewer.can(*CLINICAL_WRITERS),
        today=utcnow().date(),
    )


@router.post("/patients")
def add_patient(
    request: Request,
    viewer: Viewer,
    csrf_token: Csrf,
    birth_date: Annotated[str, Form()],
    sex: Annotated[str, Form()],
    consent_date: Annotated[str, Form()],
    site_id: Annotated[str, Form()] = "",
    subject_code: Annotated[str, Form()] = "",
) -> Response:
    created: dict[str, int] = {}

    def act() -> str:
        site = viewer.scope.actor.site_id if viewer.scope.actor.site_scoped else site_id
        patient = screening.add_patient(
            viewer.scope,
            site_id=site or "",
            subject_code=subject_code.strip() or None,
            birth_date=_date(birth_date, "birth_date"),
            sex=sex,
            consent_date=_date(consent_date, "consent_date"),
        )
        created["id"] = patient.id
        return f"Patient {patient.subject_code} added."

    response = step(viewer, csrf_token, act, ok_url="/patients")
    if "id" in created and response.headers["location"].startswith("/patients?ok"):
        response.headers["location"] = response.headers["location"].replace(
            "/patients?", f"/patients/{created['id']}?", 1
        )
    return response


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    labs: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    events: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    if not viewer.can(*PATIENT_READERS):
        return _not_found(request, viewer, "Patient pages are not part of your role.")
    trial = trial_of(request)
    scope = viewer.scope
    try:
        patient: Patient = records.get(scope, records.SPECS["patients"], patient_id)
    except NotFoundError:
        return _not_found(request, viewer, f"No patient {patient_id} at your site.")
    courses = registration.courses_of(scope, patient.id)
    data = present.patient_records(
        scope,
        patient,
        course_id=courses[0].id if courses else None,
        labs_offset=labs,
        events_offset=events,
    )
    evaluation = data["screenings"][-1] if data["screenings"] else None
    reg = registration.registration_of(scope, patient.id)
    calendar = []
    if courses:
        plan = registration.course_plan(trial, courses[0])
        first = [d for d in data["doses"] if d.course_id == courses[0].id]  # course 1 only
        calendar = present.calendar_rows(plan, first)
    state = trial_state(scope.session, trial, utcnow().date())
    window = next((w for w in state.pending if w.patient == patient.subject_code), None)
    return render(
        request,
        "patient.html",
        viewer,
        patient=patient,
        site=scope.session.get(Site, patient.site_id),
        evaluation=evaluation,
        checklist=present.checklist(evaluation) if evaluation else [],
        screening_signatures=(
            present.signature_rows(scope, "screening_evaluations", evaluation) if evaluation else []
        ),
        reg=reg,
        course=courses[0] if courses else None,
        calendar=calendar,
        labs=present.graded_labs(trial, patient, data["labs"]),
        data=data,
        determinations=[
            {"d": d, "sigs": present.signature_rows(scope, "dlt_determinations", d)}
            for d in data["determinations"]
        ],
        holds=registration.held_requests(scope),
        state=state,
        window=window,
        lab_choices=present.lab_choices(trial),
        ae_terms=present.ae_terms(trial),
        agents=trial.protocol.agents,
        attributions=("unrelated", "unlikely", "possible", "probable", "definite"),
        off_reasons=treatment.OFF_TREATMENT_REASONS,
        can_write=viewer.can(*CLINICAL_WRITERS),
        can_sign=viewer.can(Role.site_investigator),
        today=utcnow().date(),
        levels=[lv.id for lv in trial.protocol.dose_levels],
    )


def _patient_step(
    viewer: PageUser, csrf_token: str, patient_id: int, act: Any, anchor: str = ""
) -> Response:
    url = f"/patients/{patient_id}"
    response = step(viewer, csrf_token, act, ok_url=url)
    if anchor:
        response.headers["location"] += f"#{anchor}"
    return response


@router.post("/patients/{patient_id}/screen")
def screen_patient(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    record: Annotated[str, Form()],
    as_of: Annotated[str, Form()],
    dose_level: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        try:
            parsed = json.loads(record)
        except json.JSONDecodeError as exc:
            raise InputError(
                [Problem("record", f"not JSON: {exc.msg} at line {exc.lineno}")]
            ) from None
        _, result = screening.screen(
            viewer.scope,
            trial_of(request),
            patient_id,
            parsed,
            _date(as_of, "as_of"),
            int(dose_level) if dose_level else None,
        )
        return f"Screened: {result.overall} (dose level {result.dose_level})."

    return _patient_step(viewer, csrf_token, patient_id, act, "eligibility")


@router.post("/patients/{patient_id}/screen/{evaluation_id}/sign")
def sign_screening(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    evaluation_id: int,
    csrf_token: Csrf,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        screening.sign_eligibility(viewer.scope, evaluation_id, username, password, policy(request))
        return "Eligibility signed."

    return _patient_step(viewer, csrf_token, patient_id, act, "eligibility")


@router.post("/patients/{patient_id}/register")
def register_patient(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    slot_request_id: Annotated[int, Form()],
    start_date: Annotated[str, Form()],
    height_cm: Annotated[str, Form()],
    weight_kg: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        reg, _, plan = registration.register(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            slot_request_id=slot_request_id,
            start_date=_date(start_date, "start_date"),
            height_cm=_number(height_cm, "height_cm"),
            weight_kg=_number(weight_kg, "weight_kg"),
            now=utcnow(),
        )
        return (
            f"Registered at dose level {reg.dose_level}; BSA {plan.sheet.bsa.m2:.2f} m2; "
            "course 1 calendar below."
        )

    return _patient_step(viewer, csrf_token, patient_id, act, "calendar")


@router.post("/patients/{patient_id}/doses")
def record_dose(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    day: Annotated[int, Form()],
    agent_id: Annotated[str, Form()],
    given: Annotated[str, Form()] = "yes",
    given_mg: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        dose = treatment.record_dose(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            course=1,
            day=day,
            agent_id=agent_id,
            given=given == "yes",
            given_mg=_number(given_mg, "given_mg") if given_mg.strip() else None,
            reason=reason or None,
        )
        return (
            f"Day {day}: {agent_id} planned {dose.planned_dose:g} mg, given {dose.given_dose:g} mg."
        )

    return _patient_step(viewer, csrf_token, patient_id, act, "calendar")


@router.post("/patients/{patient_id}/labs")
def record_lab(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    analyte: Annotated[str, Form()],
    value: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    collected_on: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        _, graded = treatment.record_lab(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            analyte_id=analyte,
            value=_number(value, "value"),
            unit=unit,
            collected_on=_date(collected_on, "collected_on"),
            course=1,
        )
        g = graded.grade
        shown = "not graded" if g is None else f"CTCAE grade {g.grade}"
        return f"Lab saved: {analyte} {value} {unit} ({shown})."

    return _patient_step(viewer, csrf_token, patient_id, act, "labs")


@router.post("/patients/{patient_id}/adverse-events")
def record_ae(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    form: AllFields,
    term: Annotated[str, Form()],
    grade: Annotated[int, Form()],
    onset: Annotated[str, Form()],
    resolved: Annotated[str, Form()] = "",
    serious: Annotated[str, Form()] = "",
    verbatim: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        trial = trial_of(request)
        attribution = {
            a.id: form[f"attribution_{a.id}"]
            for a in trial.protocol.agents
            if form.get(f"attribution_{a.id}")
        }
        event = treatment.record_adverse_event(
            viewer.scope,
            trial,
            patient_id=patient_id,
            term=term,
            grade=grade,
            onset=_date(onset, "onset"),
            resolved=_date(resolved, "resolved") if resolved.strip() else None,
            serious=serious == "yes",
            attribution=attribution,
            verbatim=verbatim or None,
            course=1,
        )
        return f"Adverse event saved: {event.meddra_term} grade {event.grade}."

    return _patient_step(viewer, csrf_token, patient_id, act, "adverse-events")


@router.post("/patients/{patient_id}/off-treatment")
def off_treatment(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    ended_on: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    detail: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        treatment.end_treatment(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            ended_on=_date(ended_on, "ended_on"),
            reason=reason,
            detail=detail or None,
        )
        return "Off treatment recorded."

    return _patient_step(viewer, csrf_token, patient_id, act, "status")


@router.post("/patients/{patient_id}/events")
def patient_event(
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    kind: Annotated[str, Form()],
    on: Annotated[str, Form()],
    cause: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        treatment.clinical_event(
            viewer.scope,
            patient_id=patient_id,
            kind=kind,
            on=_date(on, "on"),
            cause=cause or None,
            detail=detail or None,
        )
        return f"Recorded: {kind.replace('_', ' ')}."

    return _patient_step(viewer, csrf_token, patient_id, act, "status")


@router.post("/patients/{patient_id}/follow-up")
def patient_follow_up(
    viewer: Viewer,
    patient_id: int,
    csrf_token: Csrf,
    contact_date: Annotated[str, Form()],
    vital_status: Annotated[str, Form()],
    disease_status: Annotated[str, Form()] = "",
) -> Response:
    def act() -> str:
        treatment.follow_up(
            viewer.scope,
            patient_id=patient_id,
            contact_date=_date(contact_date, "contact_date"),
            vital_status=vital_status,
            disease_status=disease_status or None,
        )
        return "Follow-up recorded."

    return _patient_step(viewer, csrf_token, patient_id, act, "status")


@router.get("/grade")
def grade_preview(
    request: Request,
    viewer: Viewer,
    patient: int,
    analyte: str,
    value: str,
    unit: str,
    on: str = "",
) -> JSONResponse:
    """The CTCAE grade of a value as it is typed (nothing is stored)."""
    trial = trial_of(request)
    try:
        row: Patient = records.get(viewer.scope, records.SPECS["patients"], patient)
    except NotFoundError:
        return JSONResponse({"problem": "no such patient"}, status_code=404)
    try:
        number = float(value)
    except ValueError:
        return JSONResponse({"grade": None, "problem": "type a number"})
    day = dt.date.fromisoformat(on) if on else utcnow().date()
    graded = treatment.grade_lab(
        trial,
        analyte,
        number,
        unit,
        age=treatment.age_years(row, day),
        sex=row.sex,
    )
    return JSONResponse(graded.as_dict())


# --- the study chair -----------------------------------------------------------------------


@router.get("/chair", response_class=HTMLResponse)
def chair_queue(request: Request, viewer: Viewer) -> HTMLResponse:
    if not viewer.can(Role.study_chair, Role.monitor):
        return _not_found(request, viewer, "The chair's queue is for the study chair.")
    trial = trial_of(request)
    _refresh(viewer, request)
    scope = viewer.scope
    state = trial_state(scope.session, trial, utcnow().date())
    open_dets: list[dict[str, Any]] = []
    codes: set[str] = set()
    for d in scope.session.scalars(
        select(DltDetermination)
        .where(DltDetermination.voided.is_(False))
        .order_by(DltDetermination.id)
    ):
        if adjudication.open_determination(scope, d.patient_id) is d:
            patient = scope.session.get(Patient, d.patient_id)
            assert patient is not None
            codes.add(patient.subject_code)
            open_dets.append(
                {
                    "d": d,
                    "patient": patient,
                    "sigs": present.signature_rows(scope, "dlt_determinations", d),
                }
            )
    waiting = [w for w in state.due if w.patient not in codes]
    return render(
        request,
        "chair.html",
        viewer,
        determinations=open_dets,
        waiting=waiting,
        decisions=adjudication.open_decisions(scope),
        state=state,
        can_sign=viewer.can(Role.study_chair),
    )


@router.post("/chair/determinations/{det_id}/sign")
def chair_sign_determination(
    request: Request,
    viewer: Viewer,
    det_id: int,
    csrf_token: Csrf,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        decision = adjudication.sign_determination(
            viewer.scope,
            trial_of(request),
            det_id,
            username=username,
            password=password,
            policy=policy(request),
            now=utcnow(),
        )
        return f"Determination signed. The design proposes to {decision.rationale}."

    return step(viewer, csrf_token, act, ok_url="/chair")


@router.post("/chair/determinations/{det_id}/change")
def chair_change_determination(
    request: Request,
    viewer: Viewer,
    det_id: int,
    csrf_token: Csrf,
    is_dlt: Annotated[str, Form()],
    evaluable: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        adjudication.change_determination(
            viewer.scope,
            trial_of(request),
            det_id,
            {"is_dlt": is_dlt == "yes", "evaluable": evaluable == "yes"},
            reason,
            utcnow(),
        )
        return "Determination changed (audited); sign it to make it count."

    return step(viewer, csrf_token, act, ok_url="/chair")


@router.post("/chair/decisions/{decision_id}/confirm")
def chair_confirm_decision(
    request: Request,
    viewer: Viewer,
    decision_id: int,
    csrf_token: Csrf,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    def act() -> str:
        decision = adjudication.confirm_decision(
            viewer.scope,
            trial_of(request),
            decision_id,
            username=username,
            password=password,
            policy=policy(request),
            now=utcnow(),
        )
        return f"Decision confirmed: {decision.rationale}."

    return step(viewer, csrf_token, act, ok_url="/escalation")


# --- escalation history and audit ----------------------------------------------------------


@router.get("/escalation", response_class=HTMLResponse)
def escalation(request: Request, viewer: Viewer) -> HTMLResponse:
    trial = trial_of(request)
    scope = viewer.scope
    rows = []
    for d in scope.session.scalars(select(EscalationDecision).order_by(EscalationDecision.id)):
        sig = valid_signature(scope.session, "escalation_decisions", d, DECISION_MEANING)
        status = "confirmed" if sig else ("superseded" if d.voided else "awaiting the chair")
        rows.append({"d": d, "sig": sig, "status": status})
    state = trial_state(scope.session, trial, utcnow().date())
    return render(
        request,
        "escalation.html",
        viewer,
        rows=list(reversed(rows)),
        state=state,
        regimen=present.level_regimen(trial),
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_view(
    request: Request,
    viewer: Viewer,
    entity: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    if not viewer.can(*AUDIT_READERS):
        return _not_found(request, viewer, "The audit trail is for the chair, monitors and admins.")
    scope = viewer.scope
    flt = trail.AuditFilter(entity=entity or None, action=action or None)
    total = scope.session.scalar(select(func.count()).select_from(trail._query(flt).subquery()))
    limit = 100
    entries, total = trail.read(scope, flt, limit=limit, offset=max((total or 0) - limit, 0))
    check = audit.verify(scope.session)
    return render(
        request,
        "audit.html",
        viewer,
        entries=list(reversed(entries)),
        total=total,
        check=check,
        entity=entity or "",
        action=action or "",
        open_requests=scope.session.scalar(
            select(func.count()).select_from(SlotRow).where(SlotRow.status == "waitlisted")
        ),
    )
