"""The correlatives page for the study chair and the statistician: the immune comparison,
low vs high dose, as a table and box plots. A thin adapter over the same service as the
JSON API (`workflow.correlative_data.immune`), which checks who may read it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from phaseone.correlatives.plots import data_uri
from phaseone.web.auth import now
from phaseone.web.pages.session import Viewer, render, trial_of
from phaseone.workflow import correlative_data

router = APIRouter(include_in_schema=False)


@router.get("/correlatives", response_class=HTMLResponse)
def correlatives(request: Request, viewer: Viewer) -> HTMLResponse:
    found = correlative_data.immune(viewer.scope, trial_of(request), as_of=now(request).date())
    if isinstance(found, str):
        return render(request, "correlatives.html", viewer, reason=found, table=None,
                      notes=(), figure=None, title="")
    first, second = list(found.groups.groups)
    table = found.comparison.round(3).to_html(index=False, classes="data", border=0,
                                              na_rep="", escape=True)
    return render(request, "correlatives.html", viewer, reason=None, table=table,
                  notes=found.notes, figure=data_uri(found.box_plot()),
                  title=f"{second} vs {first} dose lenalidomide")
