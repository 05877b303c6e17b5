"""Correlative analyses of the trial over JSON: the immune comparison, low vs high dose.

One service (`workflow.correlative_data.immune`) behind this endpoint and the page: an
audited read for the roles that may read the trial's data, de-identified for the
statistician.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from phaseone.web.auth import Caller, trial_of
from phaseone.workflow import correlative_data

router = APIRouter(tags=["workflow: correlatives"])


def _plain(value: Any) -> Any:
    """A table cell as JSON has it: NaN and infinities become null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


@router.get("/correlatives/immune", summary="Immune modulation, low vs high dose")
def immune(
    scope: Caller,
    request: Request,
    as_of: Annotated[dt.date | None, Query(description="Data cut-off.")] = None,
) -> dict[str, Any]:
    found = correlative_data.immune(scope, trial_of(request), as_of=as_of)
    if isinstance(found, str):
        return {"available": False, "reason": found, "rows": [], "notes": []}
    rows = [{str(k): _plain(v) for k, v in r.items()}
            for r in found.comparison.to_dict("records")]
    return {"available": True, "reason": None, "rows": rows, "notes": list(found.notes)}
