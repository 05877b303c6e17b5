"""Engines and transactions: SQLite (embedded default) or PostgreSQL, one code path.

The database is chosen by an explicit URL, else PHASEONE_DATABASE_URL, else a SQLite file
`phaseone.sqlite3` in the working directory. SQLite runs in WAL mode with foreign keys on,
and every transaction starts with BEGIN IMMEDIATE so two writers never race for the audit
chain's head; PostgreSQL serialises appends to the chain with an advisory lock (audit.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from phaseone.errors import InputError, Problem

ENV_VAR = "PHASEONE_DATABASE_URL"
DEFAULT_SQLITE_FILE = "phaseone.sqlite3"


def resolve_url(explicit: str | None = None) -> str:
    """The database URL to use: explicit, else the environment, else the default file."""
    if explicit:
        url = explicit
    elif os.environ.get(ENV_VAR):
        url = os.environ[ENV_VAR]
    else:
        return f"sqlite:///{Path(DEFAULT_SQLITE_FILE).resolve()}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            [Problem("database_url", "not a database URL (e.g. sqlite:///trial.sqlite3)")]
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            [Problem("database_url", "only sqlite:// and postgresql+psycopg:// are supported")]
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3 here: it is the driver we depend on.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _configure_sqlite(engine: Engine) -> None:
    file_backed = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event (below) issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if file_backed:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (see resolve_url), configured for phaseone."""
    resolved = resolve_url(url)
    if resolved.startswith("sqlite"):
        # A request may open its session in one worker thread and finish in another.
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = create_engine(resolved, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll back everything if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    """An engine plus a session factory whose commits write the pending audit entries."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        from phaseone.store import audit  # audit imports the models; keep db.py light

        self.engine = make_engine(url, **engine_kwargs)
        self.factory = session_factory(self.engine)
        audit.install(self.factory)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def transaction(self) -> AbstractContextManager[Session]:
        return transaction(self.factory)

    def dispose(self) -> None:
        self.engine.dispose()
