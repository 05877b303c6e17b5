"""Server-rendered pages for each role: dashboard, patients, the chair's queue, escalation
history and the audit trail. Jinja2 templates, one small script, no front-end build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.store.types import utcnow
from phaseone.web.app import create_app
from phaseone.web.pages import chair, entries, home, patients, session
from phaseone.workflow import Trial


def install_pages(app: FastAPI, trial: Trial) -> None:
    app.state.trial = trial
    app.mount("/static", StaticFiles(packages=[("phaseone.web", "static")]), name="static")
    session.install(app)
    app.include_router(session.router)
    for module in (home, patients, entries, chair):
        app.include_router(module.router)


def create_site(
    db: Database,
    trial: Trial,
    *,
    policy: SecurityPolicy = DEFAULT_POLICY,
    clock: Callable[[], dt.datetime] = utcnow,
) -> FastAPI:
    """The JSON API and the pages over one database (`clock`: as for create_app)."""
    app = create_app(db, policy=policy, trial=trial, clock=clock)
    install_pages(app, trial)
    return app
