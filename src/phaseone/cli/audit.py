"""`phaseone audit ...`: verify the hash chain, export the trail (the export is audited)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import Format, console, print_json
from phaseone.store import audit, trail
from phaseone.store.audit import jsonable
from phaseone.store.db import Database
from phaseone.store.models import AuditRecord
from phaseone.store.scope import Scope
from phaseone.workflow import auditing

app = typer.Typer(help="The audit trail: verify its hash chain, export it.", no_args_is_help=True)

BROKEN = 1


@app.command("verify")
def verify(
    database_url: str | None = database_option(),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json"),
) -> None:
    """Recompute every record's hash and link; name the first bad record.

    Exit status 0 when the chain is intact and the append-only triggers are in place,
    1 when it is not, 2 on a usage or connection error.
    """
    db = Database(database_url)
    try:
        with db.transaction() as session:
            # The same check as GET /api/v1/audit/verify: waiting entries sealed first.
            result = auditing.verify_chain(Scope(session, cli_actor()))
            head = session.get(AuditRecord, result.head_seq)
            head_hash = head.row_hash if head is not None else audit.GENESIS_HASH
    finally:
        db.dispose()
    if fmt is Format.json:
        print_json({**result.as_dict(), "head_hash": head_hash})
    elif result.first_bad_seq is not None:
        console.print(
            f"[bold red]BROKEN[/] first bad record: seq {result.first_bad_seq} "
            f"({result.problem}); {result.checked} record(s) before it verified"
        )
    else:
        console.print(
            f"[green]ok[/] {result.checked} record(s) verified; head seq {result.head_seq} "
            f"hash {head_hash}"
        )
    if result.missing_triggers and fmt is not Format.json:  # JSON carries them itself
        console.print(
            "[bold red]append-only triggers missing:[/] " + ", ".join(result.missing_triggers)
        )
    if not result.ok:
        raise typer.Exit(BROKEN)


@app.command("export")
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    since: str | None = typer.Option(None, "--since", help="UTC ISO 8601, inclusive."),
    until: str | None = typer.Option(None, "--until", help="UTC ISO 8601, exclusive."),
    entity: str | None = typer.Option(None, "--entity", help="e.g. patients, adverse_events"),
    action: str | None = typer.Option(None, "--action", help="e.g. update, sign, login_failed"),
    database_url: str | None = database_option(),
) -> None:
    """Write the audit trail as JSON lines, oldest first. The export itself is audited."""
    flt = trail.AuditFilter(since=since, until=until, entity=entity, action=action)
    db = Database(database_url)
    count = 0
    try:
        with db.transaction() as session:
            stream = output.open("w", encoding="utf-8") if output else sys.stdout
            try:
                for record in trail.export(Scope(session, cli_actor()), flt):
                    stream.write(json.dumps(jsonable(record)) + "\n")
                    count += 1
            finally:
                if output:
                    stream.close()
    finally:
        db.dispose()
    if output:
        console.print(f"[green]ok[/] {count} record(s) written to {output}")
