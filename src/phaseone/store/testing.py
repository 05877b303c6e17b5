"""Throw-away databases for tests: a SQLite file, or a private schema on a PostgreSQL server.

PostgreSQL is reached through PHASEONE_TEST_DATABASE_URL. When it is unset, callers skip
(and say why); when it is set, a server that cannot be reached is an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from phaseone.store import migrate
from phaseone.store.db import Database, resolve_url

TEST_URL_VAR = "PHASEONE_TEST_DATABASE_URL"
SKIP_REASON = (
    f"PostgreSQL tests NOT RUN: set {TEST_URL_VAR} "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them; CI does"
)


def postgres_url() -> str | None:
    return os.environ.get(TEST_URL_VAR) or None


@contextmanager
def sqlite_database(directory: Path, *, migrated: bool = True) -> Iterator[Database]:
    db = Database(f"sqlite:///{directory / 'trial.sqlite3'}")
    try:
        if migrated:
            migrate.upgrade(db.engine)
        yield db
    finally:
        db.dispose()


@contextmanager
def postgres_database(
    server_url: str, *, migrated: bool = True, **engine_kwargs: Any
) -> Iterator[Database]:
    """A Database confined to a new schema on the server; the schema is dropped afterwards."""
    base = resolve_url(server_url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        db = Database(url.render_as_string(hide_password=False), **engine_kwargs)
        try:
            if migrated:
                migrate.upgrade(db.engine)
            yield db
        finally:
            db.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def temporary_database(kind: str, directory: Path) -> Iterator[Database | None]:
    """A migrated database of `kind` ("sqlite" or "postgresql"); None if PostgreSQL is unset."""
    if kind == "sqlite":
        with sqlite_database(directory) as db:
            yield db
        return
    server = postgres_url()
    if server is None:
        yield None
        return
    with postgres_database(server) as db:
        yield db
