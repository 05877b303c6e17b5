"""`phaseone export`: the trial database as CDISC SDTM transport files with define.xml."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from phaseone.cli.db import cli_actor, database_option
from phaseone.cli.output import Format, console, print_json


class ExportFormat(StrEnum):
    sdtm = "sdtm"
    adam = "adam"
    odm = "odm"
    fhir = "fhir"
    all = "all"


def export(
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write into."),
    export_format: ExportFormat = typer.Option(
        ExportFormat.sdtm,
        "--format",
        help=(
            "sdtm or adam: SAS transport v5 files with define.xml; odm: CDISC ODM 1.3.2 "
            "(clinical data, metadata, signatures, audit records); fhir: an HL7 FHIR R5 "
            "Bundle (study, sites, patients, lab results); all: each of them in its own "
            "folder under the output, from one read of the database."
        ),
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="Bundled protocol id or YAML file of this trial."
    ),
    deidentified: bool = typer.Option(
        False,
        "--deidentified",
        help="Shift dates per patient and leave out identifiers and free text.",
    ),
    database_url: str | None = database_option(),
    fmt: Format = typer.Option(Format.table, "--report", help="How to list what was written."),
) -> None:
    """Write the trial's data in CDISC form. Every dataset is checked before anything is
    written; the export is recorded in the audit trail. With --format all, the database is
    read once and the SDTM datasets derived once for every format."""
    import datetime as dt

    from phaseone.exports import snapshot
    from phaseone.exports.package import write_kind
    from phaseone.protocol import resolve_protocol
    from phaseone.store.db import Database
    from phaseone.store.scope import Scope

    chosen = resolve_protocol(protocol)
    created = dt.datetime.now(dt.UTC)
    db = Database(database_url)
    try:
        with db.transaction() as session:
            scope = Scope(session, cli_actor())
            snap = snapshot.read(
                scope, chosen, purpose=f"{export_format.value} export", deidentify=deidentified
            )
            if export_format is ExportFormat.all:
                kinds = [k for k in ExportFormat if k is not ExportFormat.all]
                targets = [(k, output / k.value) for k in kinds]
            else:
                targets = [(export_format, output)]
            written = []
            for kind, folder in targets:
                written += write_kind(scope, snap, kind.value, folder, created=created)
    finally:
        db.dispose()
    if fmt is Format.json:
        print_json(
            [{"file": str(w.path), "records": w.records, "sha256": w.sha256} for w in written]
        )
        return
    from rich.table import Table

    table = Table("file", "records", "sha256")
    for w in written:
        table.add_row(str(w.path), str(w.records), w.sha256[:16])
    console.print(table)
