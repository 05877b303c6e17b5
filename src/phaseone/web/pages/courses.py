"""The course pages: every course of a patient, each course's calendar with doses planned vs
given, its printable roadmap, and the forms that start a course, delay its day 1 and record
a dose.

Thin by design: a handler parses the form with the JSON API's own input model, calls one
workflow service (phaseone.workflow.courses or .treatment) and renders. A refused form is
shown again, filled in, with each problem named by its field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from phaseone.dosing.rules import start_conditions
from phaseone.dosing.terms import course_terms
from phaseone.errors import InputError, NotFoundError, PhaseoneError, Problem
from phaseone.store.errors import AuthenticationError, ConflictError, PermissionDenied
from phaseone.web.api.courses import DelayIn, StartCourseIn
from phaseone.web.inputs import DoseIn
from phaseone.web.pages import monitoring
from phaseone.web.pages.session import PageUser, Viewer, back, check_csrf, render, trial_of
from phaseone.workflow import courses, treatment

router = APIRouter(include_in_schema=False)
Model = TypeVar("Model", bound=BaseModel)
HOW_TAKEN = ("swallowed", "chewed", "opened", "infused", "other")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _parse(model: type[Model], fields: dict[str, Any]) -> Model:
    """The form through the API's input model; blank fields are left out (not given)."""
    given = {k: v for k, v in fields.items() if not (isinstance(v, str) and not v.strip())}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        problems = [
            Problem(".".join(str(p) for p in err["loc"]) or "form", str(err["msg"]))
            for err in exc.errors()
        ]
        raise InputError(problems) from None


def _fields(form: dict[str, str]) -> dict[str, str]:
    """The form's data fields (not the CSRF token or which form it was)."""
    return {k: v for k, v in form.items() if k not in ("csrf_token", "form_id")}


def _problems(exc: PhaseoneError) -> list[dict[str, str]]:
    found = getattr(exc, "problems", None)
    if found:
        return [{"path": p.path, "message": p.message} for p in found]
    return [{"path": "", "message": str(exc)}]


def _listing(
    request: Request,
    viewer: PageUser,
    patient_id: int,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    problems: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    scope, trial = viewer.scope, trial_of(request)
    patient = courses.patient(scope, patient_id)
    upcoming = courses.next_course(scope, trial, patient_id)
    previous = upcoming.level
    levels = [lv.id for lv in trial.protocol.dose_levels]
    lower = levels[: levels.index(previous) + 1] if previous in levels else []
    values = form or {}
    if not values and upcoming.due is not None and not scope.actor.deidentified:
        values = {"start_date": upcoming.due.isoformat()}
    return render(
        request,
        "courses.html",
        viewer,
        status_code=status_code,
        patient=patient,
        rows=courses.presented_courses(scope, patient_id),
        upcoming=upcoming,
        may_record=courses.may_record(scope),
        levels=list(reversed(lower)),
        conditions=start_conditions(trial.protocol),
        causes=course_terms().delay_causes,
        form=values,
        problems=problems or [],
        deidentified=scope.actor.deidentified,
    )


def _refused(request: Request, viewer: PageUser, exc: PhaseoneError) -> HTMLResponse:
    status = 403 if isinstance(exc, PermissionDenied) else 404
    return render(request, "error.html", viewer, status_code=status, message=str(exc))


def _status(exc: PhaseoneError) -> int:
    """The status a refused form is shown again with (as the API would answer)."""
    if isinstance(exc, (PermissionDenied, AuthenticationError)):
        return 403
    return 409 if isinstance(exc, ConflictError) else 422


@router.get("/patients/{patient_id}/courses", response_class=HTMLResponse)
def course_index(request: Request, viewer: Viewer, patient_id: int) -> HTMLResponse:
    try:
        return _listing(request, viewer, patient_id)
    except (NotFoundError, PermissionDenied) as exc:
        return _refused(request, viewer, exc)


def _attempt(viewer: PageUser, fields: dict[str, str], action: Any) -> PhaseoneError | None:
    """Run one workflow step in the request's transaction; a refusal rolls it back whole."""
    session = viewer.scope.session
    try:
        check_csrf(viewer, fields.get("csrf_token", ""))
        action()
    except AuthenticationError as exc:
        session.commit()
        return exc
    except PhaseoneError as exc:
        session.rollback()
        return exc
    return None


@router.post("/patients/{patient_id}/courses")
async def start_course(request: Request, viewer: Viewer, patient_id: int) -> Response:
    fields = await _form(request)
    made: dict[str, Any] = {}

    def act() -> None:
        data = _parse(StartCourseIn, _fields(fields))
        course, _, _ = courses.start_course(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            start_date=data.start_date,
            height_cm=data.height_cm,
            weight_kg=data.weight_kg,
            number=data.number,
            dose_level=data.dose_level,
            level_reason=data.level_reason,
            delay_cause_id=data.delay_cause,
            delay_reason=data.delay_reason,
        )
        made["number"] = course.number
        made["level"] = course.dose_level
        made["bsa"] = course.bsa_m2 or 0.0

    failed = _attempt(viewer, fields, act)
    if failed is not None:
        try:
            return _listing(
                request,
                viewer,
                patient_id,
                status_code=_status(failed),
                form=fields,
                problems=_problems(failed),
            )
        except (NotFoundError, PermissionDenied) as exc:
            return _refused(request, viewer, exc)
    n = made["number"]
    return back(
        f"/patients/{patient_id}/courses/{n}",
        ok=f"Course {n} started at dose level {made['level']}; BSA {made['bsa']:.2f} m2.",
    )


def _course_page(
    request: Request,
    viewer: PageUser,
    patient_id: int,
    number: int,
    *,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    problems: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    scope, trial = viewer.scope, trial_of(request)
    view = courses.course_view(scope, trial, patient_id, number)
    newest = courses.course_list(scope, patient_id)[-1].number
    by_day: dict[int, list[Any]] = {}
    for d in view.days:
        by_day.setdefault(d.day, []).append(d)
    rows = [
        {
            "day": day.day,
            "date": view.date(day.day),
            "doses": by_day.get(day.day, []),
            "assessments": [a.name for a in day.assessments],
        }
        for day in view.calendar.days
        if not day.is_empty
    ]
    agents = sorted({d.agent_id for d in view.days})
    return render(
        request,
        "course.html",
        viewer,
        status_code=status_code,
        view=view,
        rows=rows,
        agents=agents,
        names={a.id: a.name for a in trial.protocol.agents},
        may_record=courses.may_record(scope),
        may_delay=courses.may_record(scope) and number == newest and not view.doses,
        causes=course_terms().delay_causes,
        how_taken=HOW_TAKEN,
        form=form or {},
        problems=problems or [],
        deidentified=scope.actor.deidentified,
        length=trial.protocol.course.length_days,
        queried=monitoring.course_flags(viewer, view),
    )


def _course_again(
    request: Request,
    viewer: PageUser,
    patient_id: int,
    number: int,
    fields: dict[str, str],
    failed: PhaseoneError,
) -> HTMLResponse:
    """The course page again with the refused form filled in (or why there is no page)."""
    try:
        return _course_page(
            request,
            viewer,
            patient_id,
            number,
            status_code=_status(failed),
            form=fields,
            problems=_problems(failed),
        )
    except (NotFoundError, PermissionDenied, InputError) as exc:
        return _refused(request, viewer, exc)


@router.get("/patients/{patient_id}/courses/{number}", response_class=HTMLResponse)
def course_page(request: Request, viewer: Viewer, patient_id: int, number: int) -> HTMLResponse:
    try:
        return _course_page(request, viewer, patient_id, number)
    except (NotFoundError, PermissionDenied, InputError) as exc:
        return _refused(request, viewer, exc)


@router.get("/patients/{patient_id}/courses/{number}/roadmap", response_class=HTMLResponse)
def course_roadmap(request: Request, viewer: Viewer, patient_id: int, number: int) -> Response:
    try:
        html = courses.course_roadmap(viewer.scope, trial_of(request), patient_id, number)
    except (NotFoundError, PermissionDenied, InputError) as exc:
        return _refused(request, viewer, exc)
    return HTMLResponse(html)


@router.post("/patients/{patient_id}/courses/{number}/delay")
async def delay_course(request: Request, viewer: Viewer, patient_id: int, number: int) -> Response:
    fields = await _form(request)

    def act() -> None:
        data = _parse(DelayIn, _fields(fields))
        courses.delay_course(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            course=number,
            start_date=data.start_date,
            delay_cause_id=data.delay_cause,
            delay_reason=data.delay_reason,
        )

    failed = _attempt(viewer, fields, act)
    if failed is not None:
        return _course_again(request, viewer, patient_id, number, fields, failed)
    return back(f"/patients/{patient_id}/courses/{number}", ok=f"Course {number} day 1 moved.")


@router.post("/patients/{patient_id}/courses/{number}/doses")
async def record_dose(request: Request, viewer: Viewer, patient_id: int, number: int) -> Response:
    fields = await _form(request)

    def act() -> None:
        values: dict[str, Any] = {
            k: v for k, v in fields.items() if k not in ("csrf_token", "form_id", "given")
        }
        values["course"] = number
        values["given"] = fields.get("given", "yes") != "no"
        data = _parse(DoseIn, values)
        treatment.record_dose(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            course=number,
            day=data.day,
            agent_id=data.agent_id,
            given=data.given,
            given_mg=data.given_mg,
            reason=data.reason,
            how_taken=data.how_taken,
        )

    failed = _attempt(viewer, fields, act)
    if failed is not None:
        return _course_again(request, viewer, patient_id, number, fields, failed)
    return back(f"/patients/{patient_id}/courses/{number}", ok="Dose recorded.")
