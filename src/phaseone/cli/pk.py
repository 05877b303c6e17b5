"""`phaseone nca`: non-compartmental analysis of concentration-time data from CSV files."""

from __future__ import annotations

import math
import sys
from enum import StrEnum
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from phaseone.cli.output import console, print_json
from phaseone.errors import InputError, Problem
from phaseone.pk import (
    AUCMethod,
    Dose,
    LambdaZControls,
    LambdaZRule,
    NCAOptions,
    read_concentrations,
    read_doses,
    run_nca,
)
from phaseone.pk.data import read_table


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _optional(frame_columns: list[str], name: str) -> str | None:
    return name if name in frame_columns else None


def nca(
    conc: Path = typer.Option(..., "--conc", exists=True, dir_okay=False, help=(
        "Concentrations CSV: subject, time, conc; optional analyte, blq (true/false), lloq, "
        "exclude (a reason), lambda_z (include/exclude).")),
    dose: Path | None = typer.Option(None, "--dose", exists=True, dir_okay=False, help=(
        "Doses CSV: subject, time, dose; optional route (extravascular, iv-bolus, "
        "iv-infusion), duration, analyte. Without it, dose-based parameters are missing.")),
    method: AUCMethod = typer.Option(AUCMethod.LINUP_LOGDOWN, "--method",
                                     help="AUC method: linear, linup-logdown or linlog."),
    lambda_z: LambdaZRule = typer.Option(LambdaZRule.PKNCA, "--lambda-z", help=(
        "Terminal-slope point selection convention: pknca or winnonlin.")),
    min_points: int = typer.Option(3, "--min-points", help="Fewest points in the λz fit."),
    max_points: int | None = typer.Option(None, "--max-points", help="Most points in λz."),
    earliest: float | None = typer.Option(None, "--lambda-z-start",
                                          help="No λz point before this time after the dose."),
    parameters: str | None = typer.Option(None, "--parameters", help=(
        "Comma-separated PPTESTCD codes (e.g. CMAX,AUCLST,LAMZHL); default: all that apply.")),
    summary: bool = typer.Option(False, "--summary", help="Print summary statistics instead."),
    conc_unit: str = typer.Option("mg/L", "--conc-unit", help="Concentration unit."),
    time_unit: str = typer.Option("h", "--time-unit", help="Time unit."),
    dose_unit: str = typer.Option("mg", "--dose-unit", help="Dose unit."),
    plot: list[Path] = typer.Option([], "--plot", help=(
        "Write concentration-time plots (.png or .svg); '-log' in the name selects the "
        "log scale. May be given more than once.")),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table, csv or json."),
) -> None:
    """Compute NCA parameters (CDISC PPTESTCD codes) for every subject.

    Each value comes with its unit and, when it is missing or flagged, the reason. Times
    are measured from the dose. Exit status 2 on input errors, with the file, line and
    column named.
    """
    columns = list(read_table(conc, "samples").columns)
    profiles = read_concentrations(
        conc, analyte=_optional(columns, "analyte"), blq=_optional(columns, "blq"),
        lloq=_optional(columns, "lloq"), exclude=_optional(columns, "exclude"),
        lambda_z=_optional(columns, "lambda_z"), conc_unit=conc_unit, time_unit=time_unit,
    )
    doses: tuple[Dose, ...] = ()
    if dose is not None:
        dcols = list(read_table(dose, "doses").columns)
        doses = read_doses(dose, analyte=_optional(dcols, "analyte"),
                           method=_optional(dcols, "method"), unit=dose_unit)
    options = NCAOptions(
        auc_method=method,
        lambda_z=LambdaZControls(rule=lambda_z, min_points=min_points, max_points=max_points,
                                 earliest_time=earliest),
    )
    codes = [c.strip().upper() for c in parameters.split(",") if c.strip()] if parameters else None
    result = run_nca(profiles, doses, parameters=codes, options=options)
    for path in plot:
        if path.suffix.lower() not in (".png", ".svg"):
            raise InputError([Problem("--plot", f"expected a .png or .svg file, got {path}")])
        from phaseone.pk.plots import Scale, plot_profiles, save_plot  # matplotlib: plots only

        scale: Scale = "log" if "-log" in path.stem.lower() else "linear"
        save_plot(plot_profiles(result.lambda_z_points, scale=scale, conc_unit=conc_unit,
                                time_unit=time_unit), path)
    frame = result.summary() if summary else result.parameters
    if fmt is TableFormat.csv:
        frame.to_csv(sys.stdout, index=False)
        return
    if fmt is TableFormat.json:
        data = result.to_dict()
        if summary:
            data["summary"] = frame.astype(object).where(frame.notna(), None).to_dict(
                orient="records")
        print_json(data)
        return
    _print_table(frame, summary, options)


def _num(v: object) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def _print_table(frame: pd.DataFrame, summary: bool, options: NCAOptions) -> None:
    how = (f"AUC {options.auc_method.value}; λz {options.lambda_z.rule.value}, "
           f"adj. R² tolerance {options.lambda_z.adj_r2_tolerance:g}")
    if summary:
        table = Table("parameter", "unit", "n", "statistic", "value", "spread", title=how)
        for _, r in frame.iterrows():
            spread = _num(r["spread_low"]) + (f" - {_num(r['spread_high'])}"
                                              if not math.isnan(r["spread_high"]) else "")
            table.add_row(r["PPTESTCD"], r["unit"], str(r["n"]), r["statistic"],
                          _num(r["center"]), spread)
    else:
        table = Table("subject", "parameter", "value", "unit", "note", title=how)
        for _, r in frame.iterrows():
            table.add_row(str(r["subject"]), r["PPTESTCD"], _num(r["value"]), r["unit"],
                          r["exclusion_reason"])
    console.print(table)
