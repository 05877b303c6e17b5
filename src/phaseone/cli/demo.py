"""`phaseone demo`: a trial in progress on the bundled protocol, served as `phaseone serve`."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

import typer
from rich.table import Table

from phaseone.cli.output import console
from phaseone.cli.serve import workers_option

DEFAULT_PROTOCOL = "nant-2011-04"
DEFAULT_DATABASE = Path("phaseone-demo.sqlite3")
SQLITE_FILES = ("", "-wal", "-shm")


def demo(
    database: Path = typer.Option(
        DEFAULT_DATABASE, "--database", help="The demo's SQLite file (created if missing)."
    ),
    reset: bool = typer.Option(False, "--reset", help="Delete the demo database and rebuild it."),
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Start the service after setting up the demo."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = workers_option(),
    complete: bool = typer.Option(
        False, "--complete",
        help="Run the complete virtual trial instead: first screening to the report and "
        "every export, through the service over HTTP (minutes; progress per step).",
    ),
    patients: int = typer.Option(30, "--patients", min=1, max=2000,
                                 help="With --complete: virtual patients."),
    courses: int = typer.Option(12, "--courses", min=1, max=12,
                                help="With --complete: courses per patient."),
    seed: int = typer.Option(0, "--seed", help="With --complete: the seed of every draw."),
    output: Path = typer.Option(
        Path("phaseone-demo-complete"), "--output",
        help="With --complete: where the report, exports, checks and database go.",
    ),
) -> None:
    """Set up the demo trial (if needed) and serve it, as `phaseone serve` does.

    The demo is NANT 2011-04 with its 15 sites, a user for each role and about a dozen
    invented patients on three dose levels, made by driving the real workflow (screening,
    slots, registration, doses, labs, AEs, signed DLT determinations and escalation
    decisions), so its audit trail is complete. Dates count back from today. Each account
    gets its own random password, printed once when the demo is built and stored nowhere
    but as its hash; --reset builds a new demo with new passwords.

    With --complete, the whole virtual trial runs against a service of its own (a new
    SQLite database in --output, on a clock the driver moves): accrual to an MTD, courses
    2-12, specimens and imported results, the study report and every export, then the
    checks of the whole. With --serve the finished trial is then served.
    """
    if complete:
        _complete(output, patients, courses, seed, host, port, serve, workers)
        return
    from phaseone.demo.build import USERS, build_demo
    from phaseone.protocol import resolve_protocol
    from phaseone.store import migrate
    from phaseone.store.db import Database
    from phaseone.store.setup import has_users

    protocol = resolve_protocol(DEFAULT_PROTOCOL)
    if reset:
        for suffix in (*SQLITE_FILES, ".logins"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    fresh_file = not database.exists()
    if fresh_file:
        _create_private(database)
    db = Database(f"sqlite:///{database.resolve()}")
    fresh = fresh_file or not (migrate.is_current(db.engine) and has_users(db))
    passwords: dict[str, str] = {}
    if fresh:
        # A random password per account and per demo: no credential ships with phaseone,
        # and knowing one account's password opens no other.
        passwords = {u.username: secrets.token_urlsafe(12) for u in USERS}
        with console.status("Building the demo trial through the workflow..."):
            build_demo(db, protocol, dt.datetime.now(dt.UTC).date(), passwords)
        console.print(f"[green]ok[/] demo trial written to {database}")
    else:
        console.print(f"using the demo trial in {database} (--reset rebuilds it)")
    for suffix in SQLITE_FILES:
        if Path(f"{database}{suffix}").exists():
            Path(f"{database}{suffix}").chmod(0o600)
    title = (
        "Demo logins (each password is shown this once)"
        if passwords
        else "Demo logins (passwords were shown when the demo was built; --reset makes new ones)"
    )
    table = Table(title=title)
    table.add_column("username")
    table.add_column("password")
    table.add_column("role")
    table.add_column("site")
    for user in USERS:
        table.add_row(
            user.username,
            passwords.get(user.username, "-"),
            user.role.value.replace("_", " "),
            user.site or "every site",
        )
    console.print(table)
    db.dispose()
    if not serve:
        return
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            "[bold yellow]warning:[/] the demo's cookies are not marked secure (no TLS); "
            "it holds invented data only: do not put real data in it."
        )
    from phaseone.cli.serve import run_service

    console.print(f"[bold]Open http://{host}:{port}/[/] (Ctrl+C stops the service)")
    run_service(
        f"sqlite:///{database.resolve()}",
        DEFAULT_PROTOCOL,
        host=host,
        port=port,
        workers=workers,
        insecure_cookies=True,
        hsts="off",
        max_body_bytes=1_048_576,
        forwarded_allow_ips=None,
    )


def _create_private(path: Path) -> None:
    """Create the (empty) database file readable and writable by its owner only, before
    SQLite opens it; SQLite gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _complete(
    output: Path, patients: int, courses: int, seed: int, host: str, port: int, serve: bool,
    workers: int,
) -> None:  # fmt: skip
    """The complete virtual trial (a database of its own in `output`), then served."""
    from phaseone.cli.virtual import complete_trial

    database = output / "trial.sqlite3"
    if database.exists():
        raise typer.BadParameter(
            f"{database} exists; choose another --output", param_hint="--output"
        )
    output.mkdir(parents=True, exist_ok=True)
    _create_private(database)
    complete_trial(
        output, patients=patients, courses=courses, seed=seed,
        sites=("chla", "chop", "seattle"), database=database,
    )  # fmt: skip
    if not serve:
        return
    from phaseone.cli.serve import run_service
    from phaseone.web.app import CLOCK_FILE_ENV

    if host in ("127.0.0.1", "localhost", "::1"):
        # the finished trial is served at its own last day (its records run past today)
        os.environ[CLOCK_FILE_ENV] = str((output / "clock.txt").resolve())
    url = f"sqlite:///{database.resolve()}"
    console.print(
        f"[bold]Open http://{host}:{port}/[/] (Ctrl+C stops the service). The virtual "
        "trial's accounts have throw-away passwords; to look around, first add your own: "
        f"phaseone users add NAME --role monitor --full-name NAME --database-url {url}"
    )
    run_service(
        url, DEFAULT_PROTOCOL, host=host, port=port,
        workers=workers, insecure_cookies=True, hsts="off", max_body_bytes=1_048_576,
        forwarded_allow_ips=None,
    )  # fmt: skip
