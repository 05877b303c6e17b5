"""`phaseone serve`: run the trial service (the pages and the JSON API) with uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import console, fail
from phaseone.cli.users import read_new_password
from phaseone.protocol import resolve_protocol
from phaseone.store.db import Database
from phaseone.store.setup import create_first_admin, has_users, prepare

ADMIN_USER_ENV = "PHASEONE_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "PHASEONE_ADMIN_PASSWORD"
ADMIN_NAME_ENV = "PHASEONE_ADMIN_NAME"
APP_FACTORY = "phaseone.web.app:app_from_environment"
WORKER_HEALTHCHECK_SECONDS = 60


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


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the service's own loggers; uvicorn's access log is off (it
    would write query strings, which may hold values), the service logs method, path,
    status and time instead."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG, "loggers": dict(LOGGING_CONFIG["loggers"])}
    config["loggers"]["phaseone"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def run_service(
    database_url: str,
    protocol: str,
    *,
    host: str,
    port: int,
    workers: int,
    insecure_cookies: bool,
    hsts: str,
    max_body_bytes: int,
    forwarded_allow_ips: str | None,
) -> None:
    """Serve the application made by `web.app.app_from_environment` in `workers` processes.

    The settings travel to the workers in the environment, so every worker builds the same
    application; sessions and throttling live in the database, so any worker answers any
    request.
    """
    import uvicorn

    from phaseone.web.app import (
        HSTS_ENV,
        INSECURE_COOKIES_ENV,
        MAX_BODY_ENV,
        PROTOCOL_ENV,
        settings_from_environment,
    )

    os.environ.update(
        {
            "PHASEONE_DATABASE_URL": database_url,
            PROTOCOL_ENV: protocol,
            INSECURE_COOKIES_ENV: "1" if insecure_cookies else "",
            HSTS_ENV: hsts,
            MAX_BODY_ENV: str(max_body_bytes),
        }
    )
    settings_from_environment()  # refuse bad settings here, not in every worker
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=_log_config(),
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        # A worker busy on a loaded machine can be slow to answer the supervisor's ping;
        # uvicorn's 5 s default then kills it mid-request.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def workers_option() -> Any:
    return typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Worker processes (use PostgreSQL for more than one; about 2 per core).",
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    database_url: str | None = database_option(),
    protocol: str = typer.Option(
        "nant-2011-04",
        "--protocol",
        help="Bundled protocol id or YAML file: its sites, and the trial the workflow runs.",
    ),
    workers: int = workers_option(),
    insecure_cookies: bool = typer.Option(
        False,
        "--insecure-cookies",
        help="Send the session cookie over plain HTTP (local testing only; use TLS otherwise).",
    ),
    hsts: str = typer.Option(
        "auto",
        "--hsts",
        help="Strict-Transport-Security: auto (on HTTPS requests), always, or off.",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Addresses of the reverse proxy whose X-Forwarded-For/-Proto are trusted "
        "(e.g. 127.0.0.1).",
    ),
    max_body_bytes: int = typer.Option(
        1_048_576, "--max-body-bytes", min=1024, help="Larger request bodies get 413."
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

    The pages are at /, the API under /api/v1 (OpenAPI document at /api/v1/openapi.json).
    """
    if hsts not in ("auto", "always", "off"):
        raise fail("--hsts: expected auto, always or off")
    if clock_file is not None:
        from phaseone.web.app import CLOCK_FILE_ENV
        from phaseone.web.clock import FileClock

        if host not in ("127.0.0.1", "localhost", "::1"):
            raise fail("--clock-file is for simulations on a loopback address only")
        try:
            FileClock(clock_file)
        except (OSError, ValueError) as exc:
            raise fail(f"--clock-file {clock_file}: {exc}") from None
        os.environ[CLOCK_FILE_ENV] = str(clock_file.resolve())
    db = Database(database_url)
    chosen = resolve_protocol(protocol)
    prepare(db, chosen, cli_actor())
    ensure_admin(db)
    url = db.engine.url.render_as_string(hide_password=False)
    if workers > 1 and db.engine.dialect.name == "sqlite":
        console.print(
            "[yellow]note:[/] several workers over SQLite take turns writing; "
            "use PostgreSQL for a multi-worker service"
        )
    db.dispose()
    console.print(f"serving {db.url} at http://{host}:{port}/ with {workers} worker(s)")
    bundled = Path(protocol).suffix not in (".yaml", ".yml") and not Path(protocol).exists()
    run_service(
        url,
        protocol if bundled else str(Path(protocol).resolve()),
        host=host,
        port=port,
        workers=workers,
        insecure_cookies=insecure_cookies,
        hsts=hsts,
        max_body_bytes=max_body_bytes,
        forwarded_allow_ips=forwarded_allow_ips,
    )
