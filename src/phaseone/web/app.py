"""The application: the pages and the JSON API under /api/v1 (with its OpenAPI document)
over one database, behind the service's security headers and request-size limit."""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import Match
from starlette.types import Scope

from phaseone import __version__
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol
from phaseone.store.db import Database, resolve_url
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.store.types import utcnow
from phaseone.web import errors
from phaseone.web.api import (
    adjudication,
    audit,
    courses,
    documents,
    enrolment,
    evaluations,
    operations,
    people,
    queries,
    records,
    session,
    specimens,
    verification,
)
from phaseone.web.api import (
    correlatives as api_correlatives,
)
from phaseone.web.hardening import Hardening, WebSettings
from phaseone.workflow import Trial

API_PREFIX = "/api/v1"
DEFAULT_PROTOCOL = "nant-2011-04"

# The environment read by `app_from_environment` (each worker of `phaseone serve --workers`).
PROTOCOL_ENV = "PHASEONE_PROTOCOL"
INSECURE_COOKIES_ENV = "PHASEONE_INSECURE_COOKIES"
HSTS_ENV = "PHASEONE_HSTS"
MAX_BODY_ENV = "PHASEONE_MAX_BODY_BYTES"
# Simulation only (`serve --clock-file`, loopback): the workflow's time read from this file.
CLOCK_FILE_ENV = "PHASEONE_CLOCK_FILE"
# Database connections each worker keeps (and never exceeds): workers x this must stay
# under the server's max_connections.
POOL_SIZE_ENV = "PHASEONE_DB_POOL_SIZE"
DEFAULT_POOL_SIZE = 10

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
    settings: WebSettings | None = None,
) -> FastAPI:
    """The service over `db` (default: the database chosen by resolve_url): the pages at /
    and the JSON API under /api/v1.

    `trial` is the trial the workflow runs (default: the bundled protocol); `clock` gives
    the UTC time of each workflow step (tests pass their own).
    """
    settings = settings or WebSettings()
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
    app.state.settings = settings
    errors.install(app)
    api = _Gated(under=API_PREFIX, prefix=API_PREFIX)
    routers = [
        session.router,
        people.router,
        # Before the record routers, so that /dlt-determinations/due is not read as an id.
        enrolment.router,
        courses.router,
        adjudication.router,
        documents.router,
        specimens.router,
        queries.router,
        verification.router,
        evaluations.router,
        api_correlatives.router,
        *records.routers(),
        audit.router,
        operations.router,
    ]
    for router in routers:
        api.include_router(_gated(router))
    app.include_router(api)
    _install_pages(app)
    app.add_middleware(Hardening, settings=settings)
    return app


class _Gated(APIRouter):
    """Routes tried only for addresses that can reach them: under `under`, and (when
    `heads` is given) with a first segment after it that one of the routes starts with.
    FastAPI tries an included router's routes one at a time, twice per request (to choose,
    then to run), so without gates a page's address was compared with all 164 API routes
    first, and a list of lab results, the 130th API route, after 260 comparisons. A gate
    only turns away addresses none of its routes could match, so which route answers is
    unchanged."""

    def __init__(self, *, under: str, heads: frozenset[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.under, self.heads = under, heads

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path != self.under and not path.startswith(self.under + "/"):
            return Match.NONE, {}
        if self.heads is not None:
            head = path[len(self.under) + 1 :].split("/", 1)[0]
            if head not in self.heads:
                return Match.NONE, {}
        return super().matches(scope)


def _gated(router: APIRouter) -> APIRouter:
    """`router` behind a gate on the first segment of its routes' paths (after the API
    prefix), or as it is if one of them starts with a parameter."""
    heads = {route.path.strip("/").split("/", 1)[0] for route in router.routes}  # type: ignore[attr-defined]
    if any(not head or head.startswith("{") for head in heads):
        return router
    gate = _Gated(under=API_PREFIX, heads=frozenset(heads))
    gate.include_router(router)
    return gate


def _install_pages(app: FastAPI) -> None:
    """Mount the pages and their static files (imported here: the pages are heavy)."""
    from fastapi.staticfiles import StaticFiles

    from phaseone.web.pages import (
        admin,
        chair,
        correlatives,
        courses,
        documents,
        entries,
        home,
        monitoring,
        patients,
        specimens,
    )
    from phaseone.web.pages import audit as audit_pages
    from phaseone.web.pages import evaluations as evaluation_pages
    from phaseone.web.pages import operations as operations_pages
    from phaseone.web.pages import session as page_session

    app.mount("/static", StaticFiles(packages=[("phaseone.web", "static")]), name="static")
    page_session.install(app)
    app.include_router(page_session.router)
    # Evaluations before entries: its own void route is more specific than entries' generic one.
    pages = (home, patients, courses, evaluation_pages, entries, chair, specimens, monitoring)
    for module in (*pages, correlatives, documents, audit_pages, admin, operations_pages):
        app.include_router(module.router)


def settings_from_environment() -> tuple[SecurityPolicy, WebSettings]:
    """The policy and web settings named by the environment (see docs/deployment.md)."""
    problems = []
    hsts = os.environ.get(HSTS_ENV, "auto")
    if hsts not in ("auto", "always", "off"):
        problems.append(Problem(HSTS_ENV, "expected auto, always or off"))
    raw = os.environ.get(MAX_BODY_ENV, str(WebSettings.max_body_bytes))
    if not raw.isdigit() or int(raw) < 1024:
        problems.append(Problem(MAX_BODY_ENV, "expected a whole number of bytes, at least 1024"))
    pool = os.environ.get(POOL_SIZE_ENV, str(DEFAULT_POOL_SIZE))
    if not pool.isdigit() or not 1 <= int(pool) <= 200:
        problems.append(Problem(POOL_SIZE_ENV, "expected a whole number from 1 to 200"))
    if problems:
        raise InputError(problems)
    insecure = os.environ.get(INSECURE_COOKIES_ENV, "") in ("1", "true", "yes")
    settings = WebSettings(max_body_bytes=int(raw), hsts=hsts)  # type: ignore[arg-type]
    return SecurityPolicy(cookie_secure=not insecure), settings


def app_from_environment() -> FastAPI:
    """The application factory each worker process calls (`uvicorn --factory`): the
    database from PHASEONE_DATABASE_URL, the protocol from PHASEONE_PROTOCOL. Sessions live
    in the database, so any worker answers any request."""
    policy, settings = settings_from_environment()
    protocol = resolve_protocol(os.environ.get(PROTOCOL_ENV, DEFAULT_PROTOCOL))
    clock_file = os.environ.get(CLOCK_FILE_ENV)
    options: dict[str, Any] = {}
    if clock_file:
        from phaseone.web.clock import FileClock

        options["clock"] = FileClock(Path(clock_file))
    pool = int(os.environ.get(POOL_SIZE_ENV, str(DEFAULT_POOL_SIZE)))
    bounded: dict[str, Any] = {"pool_size": pool, "max_overflow": 0}
    app = create_app(
        Database(**(bounded if resolve_url().startswith("postgresql") else {})),
        policy=policy,
        trial=Trial.from_protocol(protocol),
        settings=settings,
        **options,
    )
    settle_heap()
    return app


def settle_heap() -> None:
    """Put what a worker built at start out of the garbage collector's sight.

    A worker holds some 340,000 objects once its application is built (modules, schemas,
    mappers, the protocol); every full collection walked them all and stopped the worker
    and its requests for 130 ms on a quiet machine, 275-430 ms under 16 writing clients.
    Frozen, they are never walked again (they live as long as the process anyway), and a
    full collection takes about 20 ms under the same load.
    """
    gc.collect()
    gc.freeze()
