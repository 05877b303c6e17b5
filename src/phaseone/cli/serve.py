"""`phaseone serve`: run the trial service (JSON API under /api/v1) with uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import console, fail
from phaseone.cli.users import read_new_password
from phaseone.protocol import resolve_protocol
from phaseone.store.db import Database
from phaseone.store.security import SecurityPolicy
from phaseone.store.setup import create_first_admin, has_users, prepare

ADMIN_USER_ENV = "PHASEONE_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "PHASEONE_ADMIN_PASSWORD"
ADMIN_NAME_ENV = "PHASEONE_ADMIN_NAME"


def ensure_admin(db: Database) -> None:
    """On first run, create the administrator from the environment or a prompt."""
    if has_users(db):
        return
    username = os.environ.get(ADMIN_USER_ENV)
    if not username:
        if not sys.stdin.isatty():
            raise fail(
                f"no accounts yet: set {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV} "
                f"(and optionally {ADMIN_NAME_ENV}), or run at a terminal to be asked"
            )
        username = str(typer.prompt("First administrator's username"))
    full_name = os.environ.get(ADMIN_NAME_ENV) or (
        str(typer.prompt("Printed name")) if sys.stdin.isatty() else username
    )
    password = read_new_password(ADMIN_PASSWORD_ENV)
    create_first_admin(db, cli_actor(), username=username, full_name=full_name, password=password)
    console.print(f"[green]ok[/] created administrator {username!r}")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    database_url: str | None = database_option(),
    protocol: str = typer.Option(
        "nant-2011-04",
        "--protocol",
        help="Bundled protocol id or YAML file: its sites, and the trial the workflow runs.",
    ),
    insecure_cookies: bool = typer.Option(
        False,
        "--insecure-cookies",
        help="Send the session cookie over plain HTTP (local testing only; use TLS otherwise).",
    ),
    clock_file: Path | None = typer.Option(
        None,
        "--clock-file",
        hidden=True,
        help="Simulation only (loopback): read the service's time from this file, which "
        "`phaseone virtual-trial` moves.",
    ),
) -> None:
    """Run the trial service: upgrade the schema, add sites, create the first admin, serve.

    The pages for people start at / (log in at /login); the JSON API is under /api/v1, its
    documentation at /api/v1/docs and its OpenAPI document at /api/v1/openapi.json.
    """
    import uvicorn

    from phaseone.web.pages import create_site
    from phaseone.workflow import Trial

    clock = None
    if clock_file is not None:
        from phaseone.web.clock import FileClock

        if host not in ("127.0.0.1", "localhost", "::1"):
            raise fail("--clock-file is for simulations on a loopback address only")
        try:
            clock = FileClock(clock_file)
        except (OSError, ValueError) as exc:
            raise fail(f"--clock-file {clock_file}: {exc}") from None
    db = Database(database_url)
    chosen = resolve_protocol(protocol)
    prepare(db, chosen, cli_actor())
    ensure_admin(db)
    app = create_site(
        db,
        Trial.from_protocol(chosen),
        policy=SecurityPolicy(cookie_secure=not insecure_cookies),
        **({"clock": clock} if clock is not None else {}),
    )
    console.print(
        f"serving {db.url}: pages at http://{host}:{port}/login, "
        f"API docs at http://{host}:{port}/api/v1/docs"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
