"""Server-rendered pages for each role: dashboard, patients, the chair's queue, escalation
history and the audit trail. Jinja2 templates, one small script, no front-end build."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.web.app import create_app
from phaseone.web.pages import courses, session, views
from phaseone.workflow import Trial


def install_pages(app: FastAPI, trial: Trial) -> None:
    app.state.trial = trial
    app.mount("/static", StaticFiles(packages=[("phaseone.web", "static")]), name="static")
    session.install(app)
    app.include_router(session.router)
    app.include_router(courses.router)
    app.include_router(views.router)


def create_site(
    db: Database, trial: Trial, *, policy: SecurityPolicy = DEFAULT_POLICY, **options: Any
) -> FastAPI:
    """The JSON API and the pages over one database (`options` go to `create_app`)."""
    app = create_app(db, policy=policy, trial=trial, **options)
    install_pages(app, trial)
    return app
