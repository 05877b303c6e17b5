"""The trial at a glance: the dashboard, slot requests, escalation history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.store.access import CLINICAL_WRITERS
from phaseone.web.auth import now
from phaseone.web.inputs import ReleaseIn, SlotRequestIn
from phaseone.web.pages import present
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import adjudication, notify, slots, visibility
from phaseone.workflow.history import decision_history, trial_state

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]


def show_dashboard(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    trial = trial_of(request)
    moment = now(request)
    scope = viewer.scope
    adjudication.let_clock_act(scope, trial, moment)
    state = trial_state(scope.session, trial, moment.date())
    live = slots.live_requests(scope)
    plan = slots.waitlist(scope, trial, moment)
    return render(
        request,
        "dashboard.html",
        viewer,
        status_code=status_code,
        state=state,
        regimen=present.level_regimen(trial),
        assumed_levels=present.level_assumptions(trial),
        windows=present.windows_view(state, scope),
        next_close=visibility.next_window_close(scope, state),
        requests=[
            {
                "row": r,
                "own": scope.actor.sees_site(r.site_id),
                "position": plan.position(str(r.id)),
            }
            for r in live
        ],
        notifications=notify.for_actor(scope, 8),
        real_dates=visibility.shows_real_dates(scope),
        can_request=viewer.may(CLINICAL_WRITERS),
        now=moment,
        failed=failed,
    )


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_dashboard(request, viewer)


@router.post("/slots")
def request_slot(request: Request, viewer: Viewer, fields: Fields) -> Response:
    def act() -> str:
        data = parse(SlotRequestIn, fields)
        row, plan = slots.request_slot(
            viewer.scope, trial_of(request), data.reference, now(request), data.site_id
        )
        if row.status == "held":
            assert row.hold_expires_at is not None
            return f"Slot held until {row.hold_expires_at:%Y-%m-%d %H:%M} UTC."
        return f"No slot is free: request is number {plan.position(str(row.id))} on the waitlist."

    return submit(
        viewer,
        act,
        ok_url="/",
        form="slot",
        fields=fields,
        show_again=lambda failed, code: show_dashboard(request, viewer, failed, code),
    )


@router.post("/slots/{request_id}/release")
def release_slot(request: Request, viewer: Viewer, request_id: int, fields: Fields) -> Response:
    def act() -> str:
        data = parse(ReleaseIn, fields)
        slots.release_slot(viewer.scope, trial_of(request), request_id, data.reason, now(request))
        return "Slot released."

    return submit(
        viewer,
        act,
        ok_url="/",
        form=f"release-{request_id}",
        fields=fields,
        show_again=lambda failed, code: show_dashboard(request, viewer, failed, code),
    )


@router.get("/escalation", response_class=HTMLResponse)
def escalation(request: Request, viewer: Viewer) -> HTMLResponse:
    trial = trial_of(request)
    scope = viewer.scope
    state = trial_state(scope.session, trial, now(request).date())
    return render(
        request,
        "escalation.html",
        viewer,
        rows=decision_history(scope.session),
        real_dates=visibility.shows_real_dates(scope),
        explained=visibility.trial_text(scope, state.explain()),
        state=state,
        regimen=present.level_regimen(trial),
    )
