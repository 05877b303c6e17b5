"""`phaseone specimens ...`: import a core laboratory's results file; the trial's PK tables."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import Format, console, print_json

app = typer.Typer(
    help="Specimens: import core-lab results (preview, then commit); PK from the trial.",
    no_args_is_help=True,
)


class Agent(StrEnum):
    lenalidomide = "lenalidomide"
    isotretinoin = "isotretinoin"
    dinutuximab = "dinutuximab"


@app.command("import")
def import_results(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="CSV: specimen_id, analyte, value, unit."),
    commit: bool = typer.Option(False, "--commit/--preview", help=(
        "--preview (default) validates and shows what would be stored; --commit stores "
        "every row, or nothing if any row is bad.")),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    database_url: str | None = database_option(),
) -> None:
    """Import a core laboratory's results, mapped to specimens by their label id.

    Every bad row is named by line and column (exit status 2) and nothing is stored.

    A commit is audited with the file's SHA-256.
    """
    from rich.table import Table

    from phaseone.store.db import Database
    from phaseone.store.scope import Scope
    from phaseone.workflow import results

    data = file.read_bytes()
    db = Database(database_url)
    try:
        with db.transaction() as session:
            scope = Scope(session, cli_actor())
            if commit:
                batch, shown = results.commit(scope, data, file.name)
            else:
                shown = results.preview(scope, data, file.name)
    finally:
        db.dispose()
    if fmt is Format.json:
        print_json({"committed": commit, **shown.as_dict()})
        return
    table = Table("line", "specimen", "subject", "analyte", "value", "unit",
                  title=f"{file.name} (SHA-256 {shown.sha256[:12]}...)")
    for r in shown.rows:
        value = r["call"] if r["call"] is not None else (
            "undetected" if r["undetected"] else f"{r['value']:g}")
        table.add_row(str(r["line"]), r["specimen_id"], r["subject_code"], r["analyte"],
                      value, r["unit"] or "")
    console.print(table)
    if commit:
        console.print(f"[green]ok[/] stored {len(shown.rows)} results as import {batch.id}")
    else:
        console.print(f"preview only: {len(shown.rows)} rows valid; run with --commit to store")


@app.command("pk")
def pk(
    agent: Agent = typer.Argument(..., help="lenalidomide, isotretinoin or dinutuximab."),
    export: Path | None = typer.Option(None, "--export", file_okay=False, help=(
        "Write the concentration and dose tables (conc.csv, dose.csv) that `phaseone nca` "
        "reads, to this directory.")),
    protocol: str = typer.Option("nant-2011-04", "--protocol", help="Bundled protocol id."),
    database_url: str | None = database_option(),
) -> None:
    """PK from captured specimens and the doses given (JSON on stdout)."""
    import math

    from phaseone.protocol import resolve_protocol
    from phaseone.store.db import Database
    from phaseone.store.scope import Scope
    from phaseone.workflow import Trial, trial_pk

    trial = Trial.from_protocol(resolve_protocol(protocol))
    ids = trial_pk.PK_ASSESSMENTS[agent.value]
    db = Database(database_url)
    try:
        with db.transaction() as session:
            scope = Scope(session, cli_actor())
            tables = trial_pk.pk_tables(scope, trial, ids,
                                        with_doses=agent is not Agent.dinutuximab)
            if export is not None:
                export.mkdir(parents=True, exist_ok=True)
                tables.conc.to_csv(export / "conc.csv", index=False)
                tables.doses.to_csv(export / "dose.csv", index=False)
            if agent is Agent.lenalidomide:
                got = trial_pk.lenalidomide(scope, trial)
                frames = {"parameters": got.nca.parameters, "by_level": got.by_level}
                extra = {"proportionality": {k: v.as_dict()
                                             for k, v in got.proportionality.items()}}
            elif agent is Agent.isotretinoin:
                frames, extra = {"parameters": trial_pk.isotretinoin(scope, trial).parameters}, {}
            else:
                pt = trial_pk.dinutuximab(scope, trial)
                frames, extra = {"per_course": pt.per_course, "comparison": pt.comparison}, {}
    finally:
        db.dispose()
    out: dict[str, object] = {"conc_unit": tables.conc_unit, **extra}
    for name, frame in frames.items():
        out[name] = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                      for k, v in row.items()} for row in frame.to_dict(orient="records")]
    print_json(out)
