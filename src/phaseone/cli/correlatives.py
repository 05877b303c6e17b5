"""`phaseone correlatives`: immune, HACA, KIR, FcγR and TLDA analyses over CSV files.

A thin layer over `phaseone.correlatives.api`; engines, pandas and plotting are imported
inside each command so that `phaseone --help` stays quick.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from phaseone.cli.output import console

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

app = typer.Typer(
    name="correlatives",
    help=(
        "Correlative science over CSV files or the trial database: immune monitoring (low vs "
        "high dose), HACA, KIR missing-ligand status, FcγR genotypes and NB5 TLDA tumour load."
    ),
    no_args_is_help=True,
)


class ChangeScale(StrEnum):
    absolute = "absolute"
    relative = "relative"
    log2 = "log2"


class Out(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


PROTOCOL = typer.Option("nant-2011-04", "--protocol",
                        help="A bundled protocol id or a YAML path (its correlatives settings).")
FORMAT = typer.Option(Out.table, "--format", help="table, csv or json.")
PLOT = typer.Option([], "--plot", help="Write a plot (.png or .svg); may be given twice.")
RESPONDERS = typer.Option("CR,PR", "--responders", help="Best responses counted as response.")

RESULTS_HELP = ("Results CSV: patient, specimen_type, study_day, analyte, value, unit "
                "[, specimen_id]; study day 1 is the first day of protocol therapy.")
PATIENTS_HELP = ("Patients CSV: patient, dose_level [, best_response (CR, PR, MR, SD, PD)]. "
                 "Adds the association with response.")
TYPING_HELP = "Typing CSV: patient, gene, call [, specimen_id]."
DATABASE = typer.Option(None, "--database-url", "--database", help=(
    "Read the imported results of the trial database instead of CSV files (e.g. "
    "sqlite:///trial.sqlite3); the read is audited. `phaseone correlatives export` writes "
    "the same records as CSV files."), show_default=False)
AS_OF = typer.Option(None, "--as-of", help="Data cut-off (YYYY-MM-DD) for --database-url.",
                     show_default=False)
DEIDENTIFY = typer.Option(False, "--deidentify", help=(
    "With --database-url: dates shifted per patient, as the statistician sees them "
    "(study days are unchanged)."))


def _plain(value: Any) -> Any:
    """A cell as JSON/CSV wants it: None for missing, 'Inf' for infinities."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
    if hasattr(value, "item"):  # NumPy scalars from DataFrames
        return _plain(value.item())
    return value


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [{str(k): _plain(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _shown(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(rows: Sequence[dict[str, Any]], title: str) -> None:
    from rich.table import Table

    table = Table(*(list(rows[0]) if rows else ["(no rows)"]), title=title)
    for row in rows:
        table.add_row(*(_shown(v) for v in row.values()))
    console.print(table)


def _emit(fmt: Out, title: str, frame: pd.DataFrame, notes: Sequence[str] = (),
          extra: dict[str, pd.DataFrame | Any] | None = None,
          hide_in_table: Sequence[str] = ()) -> None:
    """Print the main table (table format: then any extra tables and the notes), CSV of the
    main table only, or JSON of everything."""
    rows = _records(frame)
    if fmt is Out.csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
        return
    if fmt is Out.json:
        payload: dict[str, Any] = {"title": title, "rows": rows, "notes": list(notes)}
        for key, value in (extra or {}).items():
            payload[key] = _records(value) if hasattr(value, "to_dict") else value
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
        return
    _table([{k: v for k, v in r.items() if k not in hide_in_table} for r in rows], title)
    for key, value in (extra or {}).items():
        if hasattr(value, "to_dict") and len(value):
            _table(_records(value), key.replace("_", " "))
    for note in notes:
        console.print(note, markup=False, highlight=False)


def _save(paths: Sequence[Path], draw: dict[str, Any]) -> None:
    """Write each plot; the first key of `draw` whose name appears in the file name picks
    the figure, else the first one."""
    from phaseone.correlatives.plots import save

    for path in paths:
        chosen = next((f for k, f in draw.items() if k in path.stem.lower()),
                      next(iter(draw.values())))
        figure: Figure = chosen()
        save(figure, path)


@app.command()
def immune(
    results: Path | None = typer.Option(None, "--results", exists=True, dir_okay=False,
                                        help=RESULTS_HELP),
    patients: Path | None = typer.Option(None, "--patients", exists=True, dir_okay=False, help=(
        "Patients CSV: patient, dose_level [, best_response]; with --results.")),
    database_url: str | None = DATABASE,
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    protocol_id: str = PROTOCOL,
    change: ChangeScale = typer.Option(ChangeScale.absolute, "--change", help=(
        "Change from baseline: absolute (value - baseline), relative (value / baseline - 1) "
        "or log2 (log2 fold change).")),
    show_changes: bool = typer.Option(False, "--changes",
                                      help="List each patient's changes instead."),
    mixed: list[str] = typer.Option([], "--mixed", help=(
        "Also fit a mixed-effects model (change ~ group * day, random intercept per "
        "patient) for this analyte; needs statsmodels. May be repeated.")),
    conf_level: float = typer.Option(0.95, "--conf-level", min=0.5, max=0.999),
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """Immune monitoring: change from baseline, and the protocol's two dose groups compared.

    At each analyte, specimen type and post-baseline study day: exact Wilcoxon rank-sum test
    and Hodges-Lehmann shift (second group minus first) with its exact interval. --plot
    writes box plots of change by group and day; a file name containing 'spaghetti' draws
    each patient's values over time instead.
    """
    from phaseone.correlatives import api

    _one_source(results, database_url, "--results")
    found = _database(database_url, protocol_id, as_of, deidentify)
    if found is not None:
        from phaseone.workflow.correlative_data import immune_results

        data, protocol = found
        report = api.immune(immune_results(data, protocol), data.patients, protocol,
                            change.value, conf_level)
    elif patients is None:
        raise typer.BadParameter("--results needs --patients", param_hint="--patients")
    else:
        report = api.immune(_path(results), patients, protocol_id, change.value, conf_level)
    _save(plot, {"spaghetti": report.spaghetti_plot, "box": report.box_plot})
    if show_changes:
        _emit(fmt, "Change from baseline", report.changes, report.notes)
        return
    extra: dict[str, Any] = {}
    if mixed:
        import pandas as pd

        extra["mixed_model"] = pd.concat([report.mixed_model(a) for a in mixed],
                                         ignore_index=True)
    first, second = list(report.groups.groups)
    _emit(fmt, f"Immune modulation: {second} vs {first}", report.comparison, report.notes,
          extra)


@app.command()
def haca(
    results: Path | None = typer.Option(None, "--results", exists=True, dir_okay=False, help=(
        RESULTS_HELP + " Rows of the HACA analyte are titres; other analytes are ignored.")),
    analyte: str = typer.Option("HACA", "--analyte", help="Analyte name of the HACA titres."),
    trough: str | None = typer.Option(None, "--trough", help=(
        "Analyte name of dinutuximab trough concentrations in the same file: compares each "
        "patient's last to first trough with and without treatment-emergent HACA. From the "
        "database, the troughs are always compared.")),
    database_url: str | None = DATABASE,
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    protocol_id: str = PROTOCOL,
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """HACA: each patient's status (treatment-induced or -boosted, transient or persistent),
    incidence with its exact interval, titres over time, and the effect on troughs."""
    from phaseone.correlatives import api

    _one_source(results, database_url, "--results")
    found = _database(database_url, protocol_id, as_of, deidentify)
    if found is not None:
        from phaseone.workflow.correlative_data import HACA_ANALYTE, TROUGH, haca_results

        data, protocol = found
        rows = haca_results(data, protocol)
        has_troughs = any(m.analyte == TROUGH for m in rows)
        report = api.haca(rows, protocol, HACA_ANALYTE, TROUGH if has_troughs else None)
    else:
        report = api.haca(_path(results), protocol_id, analyte, trough)
    _save(plot, {"titre": report.titre_plot})
    inc = report.incidence
    extra: dict[str, Any] = {
        "incidence": None if inc is None else {
            "k": inc.k, "n": inc.n, "estimate": inc.estimate, "conf_low": inc.conf_low,
            "conf_high": inc.conf_high, "conf_level": inc.conf_level},
        "titres_over_time": report.titres_over_time,
        "troughs": report.troughs,
    }
    _emit(fmt, "HACA by patient", report.patients, report.notes, extra)


@app.command()
def kir(
    typing: Path | None = typer.Option(None, "--typing", exists=True, dir_okay=False, help=(
        TYPING_HELP + " Genes HLA-A/B/C (two alleles, in one call joined by '+' or in two "
        "rows) and KIR genes (present/absent).")),
    patients: Path | None = typer.Option(None, "--patients", exists=True, dir_okay=False,
                                         help=PATIENTS_HELP),
    responses: str = RESPONDERS,
    database_url: str | None = DATABASE,
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    fmt: Out = FORMAT,
) -> None:
    """KIR ligands from HLA typing and each inhibitory KIR's missing-ligand status.

    Shows 'any ligand missing' and 'all ligands present' side by side: published
    neuroblastoma studies disagree on the direction.
    """
    report = _genotypes("kir", typing, patients, responses, database_url, as_of, deidentify)
    if report.association is not None:
        _emit(fmt, "KIR status and response", report.association, report.notes)
    else:
        _emit(fmt, "KIR missing-ligand status", report.patients, report.notes,
              hide_in_table=("alleles",))


@app.command()
def fcgr(
    typing: Path | None = typer.Option(None, "--typing", exists=True, dir_okay=False, help=(
        TYPING_HELP + " Genes FCGR2A, FCGR3A, FCGR2B; calls such as H/R, 131H/R, 166H/R "
        "(precursor numbering), His/Arg or 'rs1801274 A/G'.")),
    patients: Path | None = typer.Option(None, "--patients", exists=True, dir_okay=False,
                                         help=PATIENTS_HELP),
    responses: str = RESPONDERS,
    database_url: str | None = DATABASE,
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    fmt: Out = FORMAT,
) -> None:
    """FcγR genotypes (one stored form, both numberings shown) and association with
    response for each homozygous genotype against the rest."""
    report = _genotypes("fcgr", typing, patients, responses, database_url, as_of, deidentify)
    if report.association is not None:
        _emit(fmt, "FcγR genotype and response", report.association, report.notes)
    else:
        _emit(fmt, "FcγR genotypes", report.patients, report.notes)


def _database(url: str | None, protocol_id: str, as_of: str | None,
              deidentify: bool) -> Any:
    """The trial database's correlative records and its protocol, or None for CSV input."""
    if url is None:
        return None
    from phaseone.protocol import resolve_protocol
    from phaseone.workflow import correlative_data

    cut = None if as_of is None else _date(as_of)
    protocol = resolve_protocol(protocol_id)
    return correlative_data.from_database(url, protocol, as_of=cut, deidentify=deidentify), \
        protocol


def _date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {text!r}",
                                 param_hint="--as-of") from None


def _one_source(given: object, url: str | None, name: str) -> None:
    if (given is None) == (url is None):
        raise typer.BadParameter(f"give either {name} or --database-url", param_hint=name)


def _genotypes(kind: str, typing: Path | None, patients: Path | None, responses: str,
               url: str | None, as_of: str | None, deidentify: bool) -> Any:
    """The KIR or FcγR report from a typing file, or from the database's calls of that kind
    with the best responses computed from its disease evaluations, once there are any."""
    from phaseone.correlatives import api
    from phaseone.workflow import correlative_data

    engine = api.kir if kind == "kir" else api.fcgr
    _one_source(typing, url, "--typing")
    found = _database(url, "nant-2011-04", as_of, deidentify)
    if found is None:
        return engine(_path(typing), patients, _responses(responses))
    calls = getattr(correlative_data, f"{kind}_calls")(found[0])
    return engine(calls, correlative_data.evaluated(found[0]), _responses(responses))


def _path(given: Path | None) -> Path:
    assert given is not None  # _one_source checked it
    return given


def _responses(text: str) -> tuple[str, ...]:
    return tuple(r.strip().upper() for r in text.split(",") if r.strip())


@app.command()
def tlda(
    results: Path | None = typer.Option(None, "--results", exists=True, dir_okay=False, help=(
        RESULTS_HELP + " One row per well: analyte = gene, value = Ct (or 'undetermined'), "
        "unit = Ct; specimen_type blood or marrow.")),
    evaluations: Path | None = typer.Option(None, "--evaluations", exists=True,
                                            dir_okay=False, help=(
        "Response evaluations CSV: patient, study_day, response. Shows each patient's "
        "trajectory beside them.")),
    database_url: str | None = DATABASE,
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    protocol_id: str = PROTOCOL,
    fmt: Out = FORMAT,
    plot: list[Path] = PLOT,
) -> None:
    """NB5 TLDA tumour load: ΔCt (panel mean Ct minus reference Ct; lower = more tumour)
    and positivity per blood or marrow specimen, with the protocol's rules."""
    from phaseone.correlatives import api

    _one_source(results, database_url, "--results")
    found = _database(database_url, protocol_id, as_of, deidentify)
    if found is not None:
        from phaseone.workflow.correlative_data import tlda_results

        data, protocol = found
        report = api.tlda(tlda_results(data, protocol), protocol, evaluations)
    else:
        report = api.tlda(_path(results), protocol_id, evaluations)
    _save(plot, {"delta": report.delta_ct_plot})
    if report.trajectory is not None:
        _emit(fmt, "TLDA trajectory and response", report.trajectory, report.notes)
    else:
        _emit(fmt, "NB5 TLDA by specimen", report.specimens, report.notes)


@app.command()
def export(
    directory: Path = typer.Argument(..., file_okay=False, help="Where to write the CSV files."),
    database_url: str | None = typer.Option(None, "--database-url", "--database",
                                            help="The trial database (default as for `db`)."),
    as_of: str | None = AS_OF,
    deidentify: bool = DEIDENTIFY,
    protocol_id: str = PROTOCOL,
) -> None:
    """Write the trial database's correlative records as the CSV files the other commands
    read: immune.csv, haca.csv (troughs as 'dinutuximab trough') and tlda.csv for --results,
    typing.csv for --typing, patients.csv for --patients."""
    from phaseone.protocol import resolve_protocol
    from phaseone.workflow.correlative_data import from_database, write_csv

    cut = None if as_of is None else _date(as_of)
    protocol = resolve_protocol(protocol_id)
    data = from_database(database_url, protocol, as_of=cut, deidentify=deidentify)
    written = write_csv(data, protocol, directory)
    for name, path in written.items():
        console.print(f"[green]ok[/] {name}: {path}")
