"""The FastAPI application: the JSON API under /api/v1 and its OpenAPI document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, FastAPI

from phaseone import __version__
from phaseone.protocol import resolve_protocol
from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.store.types import utcnow
from phaseone.web import errors
from phaseone.web.api import adjudication, audit, documents, enrolment, people, records, session
from phaseone.workflow import Trial

API_PREFIX = "/api/v1"
DEFAULT_PROTOCOL = "nant-2011-04"

DESCRIPTION = """\
The trial service of phaseone. Authenticate with `POST /api/v1/auth/login` (session cookie;
send the returned CSRF token as `X-CSRF-Token` on every change) or with an API token
(`Authorization: Bearer po_...`). Site staff see only their own site's records; a record
of another site answers 404. Every change is audited; corrections need a `reason`.
Errors are `{"errors": [{"path": ..., "message": ...}]}`.

Registrations, DLT determinations and escalation decisions are made by the workflow
endpoints only: the server assigns the dose level from the trial's state, the DLT rules
propose determinations and the design proposes decisions, which the study chair signs.
"""


def create_app(
    db: Database | None = None,
    *,
    policy: SecurityPolicy = DEFAULT_POLICY,
    trial: Trial | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> FastAPI:
    """The application over `db` (default: the database chosen by resolve_url).

    `trial` is the trial the workflow runs (default: the bundled protocol); `clock` gives
    the UTC time of each workflow step (tests pass their own).
    """
    app = FastAPI(
        title="phaseone trial service",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.db = db if db is not None else Database()
    app.state.policy = policy
    app.state.trial = trial or Trial.from_protocol(resolve_protocol(DEFAULT_PROTOCOL))
    app.state.clock = clock
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(session.router)
    api.include_router(people.router)
    # Before the record routers, so that /dlt-determinations/due is not read as an id.
    api.include_router(enrolment.router)
    api.include_router(adjudication.router)
    api.include_router(documents.router)
    for router in records.routers():
        api.include_router(router)
    api.include_router(audit.router)
    app.include_router(api)
    return app
