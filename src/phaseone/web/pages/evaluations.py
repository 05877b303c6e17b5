"""Pages for disease evaluations and response: a patient's evaluations with the computed
component, overall and best response and the coordinator's entry form; the trial's response
table per dose level with the EFS/OS Kaplan-Meier summary. A thin adapter: the form is
parsed into the API's input model (whose evaluation is the response engine's own) and each
step is one workflow call; the workflow decides who may see and do what."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from phaseone.errors import NotFoundError
from phaseone.response.evaluation import SIOPEN_SEGMENTS
from phaseone.response.frames import rate_rows
from phaseone.web.api.records import VoidIn
from phaseone.web.auth import now
from phaseone.web.inputs import EvaluationCorrectionIn, EvaluationIn
from phaseone.web.pages import present
from phaseone.web.pages.forms import parse, posted, submit
from phaseone.web.pages.session import NOTHING_FAILED, Failed, Viewer, render, trial_of
from phaseone.workflow import evaluations as service
from phaseone.workflow import followup

router = APIRouter(include_in_schema=False)
Fields = Annotated[dict[str, Any], Depends(posted)]
# Rows the entry form offers at first; site.js adds more on request.
LESION_ROWS = 3
MARROW_ROWS = 4


def show_evaluations(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    failed: Failed = NOTHING_FAILED,
    status_code: int = 200,
) -> HTMLResponse:
    trial = trial_of(request)
    try:
        shown = service.present(viewer.scope, trial, patient_id)
    except NotFoundError:
        return present.not_found(request, viewer, f"No patient {patient_id} at your site.")
    typed_rows = [k for k in failed.values if k.startswith(("evaluation.lesions.",
                                                                 "evaluation.marrow."))]
    return render(
        request,
        "evaluations.html",
        viewer,
        status_code=status_code,
        patient_id=patient_id,
        shown=shown,
        schedule=service.scheduled_courses(trial),
        curie_segments=service.CURIE_SEGMENTS,
        siopen_segments=SIOPEN_SEGMENTS,
        lesion_rows=max(LESION_ROWS, _rows_typed(typed_rows, "lesions")),
        marrow_rows=max(MARROW_ROWS, _rows_typed(typed_rows, "marrow")),
        can_write=viewer.may(service.EVALUATIONS.writers),
        today=now(request).date(),
        failed=failed,
    )


def _rows_typed(names: list[str], group: str) -> int:
    numbers = [int(n.split(".")[2]) for n in names if n.split(".")[1] == group
               and n.split(".")[2].isdigit()]
    return max(numbers) + 1 if numbers else 0


@router.get("/patients/{patient_id}/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request, viewer: Viewer, patient_id: int) -> HTMLResponse:
    return show_evaluations(request, viewer, patient_id)


@router.post("/patients/{patient_id}/evaluations")
def record_evaluation(
    request: Request, viewer: Viewer, patient_id: int, fields: Fields
) -> Response:
    def act() -> str:
        data = parse(EvaluationIn, fields)
        service.record(
            viewer.scope,
            trial_of(request),
            patient_id=patient_id,
            evaluation=data.evaluation,
            course=data.course,
            disease_at_entry=data.disease_at_entry,
            today=now(request).date(),
        )
        return f"Evaluation of {data.evaluation.date} recorded."

    return submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}/evaluations",
        form="evaluation",
        fields=fields,
        show_again=lambda failed, code: show_evaluations(
            request, viewer, patient_id, failed, code
        ),
    )


# Yes/no fields whose "no" is a value of its own (not the unticked default of a checkbox).
_SAID_NO = frozenset({"avid", "target"})


def _as_typed(value: Any, prefix: str = "") -> dict[str, str]:
    """A stored evaluation as the form's fields would post it ('evaluation.lesions.0.id')."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        last = prefix.rsplit(".", 1)[-1]
        if isinstance(value, bool):
            return {prefix: "yes" if value else ("no" if last in _SAID_NO else "")}
        return {prefix: "" if value is None else str(value)}
    out: dict[str, str] = {}
    for key, item in items:
        out.update(_as_typed(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def show_correction(
    request: Request,
    viewer: Viewer,
    patient_id: int,
    evaluation_id: int,
    failed: Failed | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """An evaluation's own form, filled in with what is stored (or with what was typed when
    a correction was refused), to correct with a reason."""
    form = f"correct-evaluation-{evaluation_id}"
    try:
        shown = service.present(viewer.scope, trial_of(request), patient_id)
    except NotFoundError:
        return present.not_found(request, viewer, f"No patient {patient_id} at your site.")
    found = next((e for e in shown["evaluations"] if e["id"] == evaluation_id), None)
    if found is None:
        return present.not_found(request, viewer, f"No evaluation {evaluation_id} to correct.")
    if not viewer.may(service.EVALUATIONS.writers):
        return present.forbidden(request, viewer, "Your role does not correct evaluations.")
    if failed is None:
        stored = {
            "evaluation": found["measurements"],
            "course": found["course"],
            "disease_at_entry": found["disease_at_entry"],
        }
        failed = Failed(form, _as_typed(stored))
    return render(
        request,
        "evaluation_correct.html",
        viewer,
        status_code=status_code,
        patient_id=patient_id,
        evaluation=found,
        F=form,
        schedule=service.scheduled_courses(trial_of(request)),
        curie_segments=service.CURIE_SEGMENTS,
        siopen_segments=SIOPEN_SEGMENTS,
        lesion_rows=max(LESION_ROWS, len(found["measurements"]["lesions"]) + 1),
        marrow_rows=max(MARROW_ROWS, len(found["measurements"]["marrow"])),
        today=now(request).date(),
        failed=failed,
    )


@router.get(
    "/patients/{patient_id}/evaluations/{evaluation_id}/correct", response_class=HTMLResponse
)
def correction_page(
    request: Request, viewer: Viewer, patient_id: int, evaluation_id: int
) -> HTMLResponse:
    return show_correction(request, viewer, patient_id, evaluation_id)


@router.post("/patients/{patient_id}/evaluations/{evaluation_id}/correct")
def correct_evaluation(
    request: Request, viewer: Viewer, patient_id: int, evaluation_id: int, fields: Fields
) -> Response:
    """The API's PUT /evaluations/{id}: the same input model and service, so the same checks;
    each changed measurement is audited with the reason."""

    def act() -> str:
        data = parse(EvaluationCorrectionIn, fields)
        service.correct(
            viewer.scope,
            trial_of(request),
            evaluation_id=evaluation_id,
            evaluation=data.evaluation,
            course=data.course,
            disease_at_entry=data.disease_at_entry,
            reason=data.reason,
            today=now(request).date(),
        )
        return f"Evaluation of {data.evaluation.date} corrected (audited with the reason)."

    return submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}/evaluations",
        form=f"correct-evaluation-{evaluation_id}",
        fields=fields,
        show_again=lambda failed, code: show_correction(
            request, viewer, patient_id, evaluation_id, failed, code
        ),
    )


@router.post("/patients/{patient_id}/evaluations/{evaluation_id}/void")
def void_evaluation(
    request: Request, viewer: Viewer, patient_id: int, evaluation_id: int, fields: Fields
) -> Response:
    def act() -> str:
        data = parse(VoidIn, fields)
        service.void(viewer.scope, evaluation_id=evaluation_id, reason=data.reason)
        return f"Evaluation {evaluation_id} voided; the responses are computed without it."

    return submit(
        viewer,
        act,
        ok_url=f"/patients/{patient_id}/evaluations",
        form=f"void-evaluation-{evaluation_id}",
        fields=fields,
        show_again=lambda failed, code: show_evaluations(
            request, viewer, patient_id, failed, code
        ),
    )


@router.get("/response", response_class=HTMLResponse)
def response_page(request: Request, viewer: Viewer) -> HTMLResponse:
    trial = trial_of(request)
    scope = viewer.scope
    settings = trial.protocol.survival
    survival = []
    for endpoint in settings.endpoints if settings else ():
        result = followup.survival(scope, trial, endpoint.id)
        if result is not None:
            survival.append({"name": endpoint.name, "method": result.method,
                             "rows": result.summary_rows(),
                             "landmarks": result.landmark_days})
    return render(
        request,
        "response.html",
        viewer,
        criteria=service.criteria(trial).id,
        responders=trial.protocol.response.responders,
        rates=rate_rows(service.rates(scope, trial)),
        survival=survival,
    )
