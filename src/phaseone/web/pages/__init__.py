"""Server-rendered pages for each role: dashboard, patients, the chair's queue, escalation
history and the audit trail. Jinja2 templates, one small script, no front-end build.
`web.app.create_app` mounts them beside the JSON API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from phaseone.store.db import Database
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.workflow import Trial


def create_site(
    db: Database, trial: Trial, *, policy: SecurityPolicy = DEFAULT_POLICY, **options: Any
) -> FastAPI:
    """The service (pages and JSON API) over one database: the same as web.app.create_app
    (`options` go to it, e.g. a clock)."""
    from phaseone.web.app import create_app

    return create_app(db, policy=policy, trial=trial, **options)
