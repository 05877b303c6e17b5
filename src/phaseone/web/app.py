"""The FastAPI application: the JSON API under /api/v1 and its OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from phaseone import __version__
from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.web import errors
from phaseone.web.api import audit, people, records, session

API_PREFIX = "/api/v1"

DESCRIPTION = """\
The trial service of phaseone. Authenticate with `POST /api/v1/auth/login` (session cookie;
send the returned CSRF token as `X-CSRF-Token` on every change) or with an API token
(`Authorization: Bearer po_...`). Site staff see only their own site's records; a record
of another site answers 404. Every change is audited; corrections need a `reason`.
Errors are `{"errors": [{"path": ..., "message": ...}]}`.
"""


def create_app(db: Database | None = None, *, policy: SecurityPolicy = DEFAULT_POLICY) -> FastAPI:
    """The application over `db` (default: the database chosen by resolve_url)."""
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
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(session.router)
    api.include_router(people.router)
    for router in records.routers():
        api.include_router(router)
    api.include_router(audit.router)
    app.include_router(api)
    return app
