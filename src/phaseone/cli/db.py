"""`phaseone db ...`: create or upgrade the trial database and seed its sites."""

from __future__ import annotations

import getpass
from typing import Any

import typer

from phaseone.cli.output import Format, console, print_json
from phaseone.protocol import resolve_protocol
from phaseone.store import migrate
from phaseone.store.access import Actor, Source, system_actor
from phaseone.store.db import Database
from phaseone.store.setup import prepare

app = typer.Typer(
    help=(
        "The trial database: SQLite by default (phaseone.sqlite3 in this directory), "
        "PostgreSQL with --database-url or PHASEONE_DATABASE_URL."
    ),
    no_args_is_help=True,
)

DATABASE_HELP = (
    "Database URL, e.g. sqlite:///trial.sqlite3 or postgresql+psycopg://user@host/db "
    "(default: $PHASEONE_DATABASE_URL, else ./phaseone.sqlite3)."
)


def database_option() -> Any:
    return typer.Option(None, "--database-url", help=DATABASE_HELP, show_default=False)


def cli_actor() -> Actor:
    """The operator at the command line, as the audit trail records them."""
    return system_actor(f"cli:{getpass.getuser()}", Source.cli)


@app.command("upgrade")
def upgrade(
    database_url: str | None = database_option(),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="Bundled protocol id or YAML file whose sites to add."
    ),
) -> None:
    """Create or upgrade the schema to the newest revision, then add the protocol's sites."""
    db = Database(database_url)
    try:
        added = prepare(db, resolve_protocol(protocol), cli_actor())
        console.print(
            f"[green]ok[/] {db.url}: schema at revision {migrate.current_revision(db.engine)}, "
            f"{len(added)} site(s) added"
        )
    finally:
        db.dispose()


@app.command("current")
def current(
    database_url: str | None = database_option(),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """Show the schema revision of the database and the newest one this version knows."""
    db = Database(database_url)
    try:
        info = {
            "database": db.url,
            "revision": migrate.current_revision(db.engine),
            "newest": migrate.head_revision(),
        }
    finally:
        db.dispose()
    if fmt is Format.json:
        print_json(info)
    else:
        state = (
            "up to date" if info["revision"] == info["newest"] else "needs `phaseone db upgrade`"
        )
        console.print(f"{info['database']}: revision {info['revision']} ({state})")
