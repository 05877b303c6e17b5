"""`phaseone report ...`: documents made from the trial database (HTML, or PDF from the same
HTML)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import console, fail

app = typer.Typer(help="Documents made from the trial database.", no_args_is_help=True)


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--as-of: expected a date like 2026-03-01, got {text!r}") from None


def _write(document: str, output: Path) -> None:
    from phaseone.reports import render

    if output.suffix.lower() == ".pdf":
        output.write_bytes(render.pdf(document))
    elif output.suffix.lower() in (".html", ".htm"):
        output.write_text(document, encoding="utf-8")
    else:
        raise fail(f"--output: expected a file ending .html or .pdf, got {output.name!r}")


@app.command("meeting")
def meeting(
    output: Path = typer.Option(..., "--output", "-o", help="meeting.pdf or meeting.html"),
    decision: int | None = typer.Option(
        None, "--decision", help="The escalation decision (default: the one awaiting the chair)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Data as of this date (default: today)."
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="Bundled protocol id or YAML file of this trial."
    ),
    database_url: str | None = database_option(),
) -> None:
    """The dose-escalation meeting pack: dose levels, the cohort's DLT windows, doses and
    toxicities, determinations, the design's proposal and what it would propose for every
    outcome still possible, and the decision with its signature once made."""
    from phaseone.protocol import resolve_protocol
    from phaseone.reports import render
    from phaseone.store.db import Database
    from phaseone.store.scope import Scope
    from phaseone.workflow import Trial
    from phaseone.workflow.meeting import meeting_pack

    day = _as_of(as_of)
    trial = Trial.from_protocol(resolve_protocol(protocol))
    db = Database(database_url)
    try:
        with db.transaction() as session:
            pack = meeting_pack(Scope(session, cli_actor()), trial, day, decision)
    finally:
        db.dispose()
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"{pack.protocol_id} meeting pack, data as of {pack.as_of}"
    _write(render.html("meeting.html", pack=pack, generated=generated, footer=footer), output)
    console.print(f"[green]ok[/] {output}")


@app.command("study")
def study(
    output: Path = typer.Option(..., "--output", "-o", help="report.pdf or report.html"),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Data cut-off: records dated after it are left out (default: today)."
    ),
    deidentified: bool = typer.Option(
        False, "--deidentified", help="Shift dates per patient and leave out identifiers."
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="Bundled protocol id or YAML file of this trial."
    ),
    database_url: str | None = database_option(),
) -> None:
    """The final study report: every protocol objective in order with its analysis (or why it
    cannot be given yet), disposition, demographics, escalation history, assumed values, and
    where each table comes from. The same database and cut-off give the same document apart
    from its generation stamp."""
    from phaseone.protocol import resolve_protocol
    from phaseone.reports import render
    from phaseone.reports.study import frame_html
    from phaseone.store.db import Database
    from phaseone.store.scope import Scope
    from phaseone.workflow import Trial
    from phaseone.workflow.reporting import study_report

    day = _as_of(as_of)
    trial = Trial.from_protocol(resolve_protocol(protocol))
    db = Database(database_url)
    try:
        with db.transaction() as session:
            report = study_report(Scope(session, cli_actor()), trial, day, deidentify=deidentified)
    finally:
        db.dispose()
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"{report.protocol.id} study report, data as of {report.as_of}"
    document = render.html(
        "study.html", report=report, generated=generated, footer=footer, frame_html=frame_html
    )
    _write(document, output)
    console.print(f"[green]ok[/] {output}")
