"""The study chair's queue: DLT determinations to sign or change, decisions to confirm."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.reports import downloads
from phaseone.store.access import DECISION_WRITERS
from phaseone.web.api.records import correction_models
from phaseone.web.auth import now, policy
from phaseone.web.inputs import SignerIn
from phaseone.web.pages import present
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import adjudication
from phaseone.workflow.history import trial_state

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]


def show_queue(
    request: Request, viewer: Viewer, failed: Failed = NOTHING_FAILED, status_code: int = 200
) -> HTMLResponse:
    trial = trial_of(request)
    scope = viewer.scope
    moment = now(request)
    if not viewer.may(adjudication.QUEUE_READERS):
        return present.not_found(request, viewer, "The chair's queue is for the study chair.")
    adjudication.let_clock_act(scope, trial, moment)
    queue = adjudication.chair_queue(scope, trial, moment.date())
    return render(
        request,
        "chair.html",
        viewer,
        status_code=status_code,
        determinations=[
            {
                "d": d,
                "patient": {"subject_code": queue.codes[d.patient_id], "site_id": d.site_id},
                "sigs": present.signature_rows(scope, "dlt_determinations", d),
            }
            for d in queue.awaiting_signature
        ],
        waiting=queue.awaiting_data,
        decisions=queue.decisions,
        state=trial_state(scope.session, trial, moment.date()),
        can_sign=viewer.may(DECISION_WRITERS),
        can_pack=viewer.may(downloads.PACK_READERS),
        failed=failed,
    )


@router.get("/chair", response_class=HTMLResponse)
def chair_queue(request: Request, viewer: Viewer) -> HTMLResponse:
    return show_queue(request, viewer)


def _submit_on_queue(
    request: Request, viewer: Viewer, act: Any, form: str, fields: Any, ok_url: str = "/chair"
) -> Response:
    """Run a queue form's action; a refused form comes back on the queue, filled in."""
    again = lambda failed, code: show_queue(request, viewer, failed, code)  # noqa: E731
    return submit(viewer, act, ok_url=ok_url, form=form, fields=fields, show_again=again)


@router.post("/chair/determinations/{det_id}/sign")
def chair_sign_determination(
    request: Request, viewer: Viewer, det_id: int, fields: Fields
) -> Response:
    def act() -> str:
        signer = parse(SignerIn, fields)
        decision = adjudication.sign_determination(
            viewer.scope,
            trial_of(request),
            det_id,
            username=signer.username,
            password=signer.password,
            policy=policy(request),
            now=now(request),
        )
        return f"Determination signed. The design proposes to {decision.rationale}."

    return _submit_on_queue(request, viewer, act, f"det-sign-{det_id}", fields)


@router.post("/chair/determinations/{det_id}/change")
def chair_change_determination(
    request: Request, viewer: Viewer, det_id: int, fields: Fields
) -> Response:
    def act() -> str:
        change = parse(correction_models()["dlt_determinations"], fields)
        given = change.model_fields_set - {"reason"}
        adjudication.change_determination(
            viewer.scope,
            trial_of(request),
            det_id,
            change.model_dump(include=given),
            change.reason,  # type: ignore[attr-defined]
            now(request),
        )
        return "Determination changed (audited); sign it to make it count."

    return _submit_on_queue(request, viewer, act, f"det-change-{det_id}", fields)


@router.post("/chair/decisions/{decision_id}/confirm")
def chair_confirm_decision(
    request: Request, viewer: Viewer, decision_id: int, fields: Fields
) -> Response:
    def act() -> str:
        signer = parse(SignerIn, fields)
        decision = adjudication.confirm_decision(
            viewer.scope,
            trial_of(request),
            decision_id,
            username=signer.username,
            password=signer.password,
            policy=policy(request),
            now=now(request),
        )
        return f"Decision confirmed: {decision.rationale}."

    form = f"dec-confirm-{decision_id}"
    return _submit_on_queue(request, viewer, act, form, fields, ok_url="/escalation")
