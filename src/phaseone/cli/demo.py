"""`phaseone demo`: a trial in progress on the bundled protocol, and the service to use it."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import typer
from rich.table import Table

from phaseone.cli.output import console

DEFAULT_PROTOCOL = "nant-2011-04"
DEFAULT_DATABASE = Path("phaseone-demo.sqlite3")


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
) -> None:
    """Set up the demo trial (if needed) and serve it.

    The demo is NANT 2011-04 with its 15 sites, a user for each role and about a dozen
    invented patients on three dose levels, made by driving the real workflow (screening,
    slots, registration, doses, labs, AEs, signed DLT determinations and escalation
    decisions), so its audit trail is complete. Dates count back from today.
    """
    from phaseone.demo.build import POLICY, USERS, build_demo
    from phaseone.protocol import resolve_protocol
    from phaseone.store import migrate
    from phaseone.store.db import Database
    from phaseone.store.setup import has_users

    protocol = resolve_protocol(DEFAULT_PROTOCOL)
    if reset:
        for suffix in ("", "-wal", "-shm", ".logins"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    db = Database(f"sqlite:///{database.resolve()}")
    fresh = not database.exists() or not (migrate.is_current(db.engine) and has_users(db))
    logins = _logins_file(database)
    if fresh:
        # A fresh random password per demo database: no fixed credential ships with phaseone.
        password = secrets.token_urlsafe(12)
        with console.status("Building the demo trial through the workflow..."):
            build_demo(db, protocol, dt.datetime.now(dt.UTC).date(), password)
        logins.write_text(password + "\n", encoding="utf-8")
        logins.chmod(0o600)
        console.print(f"[green]ok[/] demo trial written to {database}")
    else:
        console.print(f"using the demo trial in {database} (--reset rebuilds it)")
        try:
            password = logins.read_text(encoding="utf-8").strip()
        except OSError:
            password = f"(see {logins}; --reset makes a new one)"
    table = Table(title=f"Demo logins (password for all: {password})")
    table.add_column("username")
    table.add_column("role")
    table.add_column("site")
    for user in USERS:
        table.add_row(user.username, user.role.value.replace("_", " "), user.site or "every site")
    console.print(table)
    if not serve:
        db.dispose()
        return
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            "[bold yellow]warning:[/] the demo's accounts share one password and its cookies "
            "are not marked secure; serving it beyond this machine exposes invented data only, "
            "but do not put real data in it."
        )
    import uvicorn

    from phaseone.web.pages import create_site
    from phaseone.workflow import Trial

    app = create_site(db, Trial.from_protocol(protocol), policy=POLICY)
    console.print(f"[bold]Open http://{host}:{port}/[/] (Ctrl+C stops the service)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _logins_file(database: Path) -> Path:
    """Where the demo's generated password is kept, readable by its owner only."""
    return Path(f"{database}.logins")
