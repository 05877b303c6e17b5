"""Server-rendered pages for each role: dashboard, patients, the chair's queue, escalation
history and the audit trail. Jinja2 templates, one small script, no front-end build."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.web.app import create_app
from phaseone.web.pages import session, specimens, views
from phaseone.workflow import Trial


def install_pages(app: FastAPI, trial: Trial) -> None:
    app.state.trial = trial
    app.mount("/static", StaticFiles(packages=[("phaseone.web", "static")]), name="static")
    session.install(app)
    app.include_router(session.router)
    app.include_router(views.router)
    app.include_router(specimens.router)


def create_site(db: Database, trial: Trial, *, policy: SecurityPolicy = DEFAULT_POLICY) -> FastAPI:
    """The JSON API and the pages over one database."""
    app = create_app(db, policy=policy, trial=trial)
    install_pages(app, trial)
    return app
