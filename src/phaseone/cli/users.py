"""`phaseone users ...`: add, list and unlock accounts from the server's command line."""

from __future__ import annotations

import os
import sys

import typer
from rich.table import Table

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import Format, console, fail, print_json
from phaseone.store import accounts
from phaseone.store.access import Role
from phaseone.store.db import Database
from phaseone.store.models import User
from phaseone.store.scope import Scope

app = typer.Typer(
    help="Accounts: add, list, unlock, reset codes. Every change is audited.", no_args_is_help=True
)

PASSWORD_ENV = "PHASEONE_NEW_PASSWORD"


def read_new_password(env_var: str) -> str:
    """A password from `env_var` (for scripts) or typed twice at a terminal; never a default."""
    from_env = os.environ.get(env_var)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise fail(f"no password: set {env_var} or run this at a terminal")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ @ -"),
    role: Role = typer.Option(..., "--role", help="One of: " + ", ".join(r.value for r in Role)),
    full_name: str = typer.Option(..., "--full-name", help="Printed name used on signatures."),
    site: str | None = typer.Option(None, "--site", help="Site id (site roles only)."),
    email: str | None = typer.Option(None, "--email"),
    database_url: str | None = database_option(),
) -> None:
    """Add an account. The password is prompted for, or read from $PHASEONE_NEW_PASSWORD."""
    password = read_new_password(PASSWORD_ENV)
    db = Database(database_url)
    try:
        with db.transaction() as session:
            user = accounts.add_user(
                Scope(session, cli_actor()),
                username=username,
                full_name=full_name,
                role=role,
                password=password,
                site_id=site,
                email=email,
            )
            console.print(f"[green]ok[/] added {user.username} ({user.role}) as user {user.id}")
    finally:
        db.dispose()


@app.command("list")
def list_users(
    database_url: str | None = database_option(),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """List accounts (never their password hashes)."""
    db = Database(database_url)
    try:
        with db.transaction() as session:
            rows = [accounts.user_view(u) for u in session.query(User).order_by(User.id)]
    finally:
        db.dispose()
    if fmt is Format.json:
        print_json(rows)
        return
    table = Table("id", "username", "role", "site", "active", "locked until")
    for row in rows:
        locked = row["locked_until"].strftime("%Y-%m-%d %H:%M") if row["locked_until"] else ""
        table.add_row(
            str(row["id"]),
            row["username"],
            row["role"],
            row["site_id"] or "all",
            "yes" if row["active"] else "no",
            locked,
        )
    console.print(table)


@app.command("unlock")
def unlock(
    username: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why the account is unlocked (audited)."),
    database_url: str | None = database_option(),
) -> None:
    """Clear a lockout after repeated failed logins."""
    db = Database(database_url)
    try:
        with db.transaction() as session:
            user = session.query(User).filter(User.username == username.lower()).one_or_none()
            if user is None:
                raise fail(f"no user {username!r}")
            accounts.unlock_user(Scope(session, cli_actor()), user.id, reason)
            console.print(f"[green]ok[/] unlocked {user.username}")
    finally:
        db.dispose()


@app.command("reset-code")
def reset_code(
    username: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why the password is reset (audited)."),
    database_url: str | None = database_option(),
) -> None:
    """Issue a one-time code with which the person sets a new password (at /password/set).

    The code is printed once, for you to pass on in person or by phone; the account's
    sessions and API tokens end now."""
    from phaseone.workflow import administration

    db = Database(database_url)
    try:
        with db.transaction() as session:
            user = session.query(User).filter(User.username == username.lower()).one_or_none()
            if user is None:
                raise fail(f"no user {username!r}")
            issued = administration.reset_code(
                Scope(session, cli_actor()), user.id, admin_password=None, reason=reason
            )
            console.print(
                f"[green]ok[/] one-time code for {user.username}: {issued.code} "
                f"(valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC, once)"
            )
    finally:
        db.dispose()
