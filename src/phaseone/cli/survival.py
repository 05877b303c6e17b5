"""`phaseone survival` and `phaseone schema follow-up`: EFS and OS from a follow-up file.

Light at the door: lifelines, scipy, pandas and matplotlib are imported inside the command.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from phaseone.cli.output import console, print_json
from phaseone.cli.response import OutFormat, read_json_file, with_file
from phaseone.errors import InputError, Problem

if TYPE_CHECKING:
    from phaseone.outcomes.km import SeMethod


class SeOption(StrEnum):
    protocol = "protocol"
    greenwood = "greenwood"
    peto = "peto"


def schema_follow_up() -> None:
    """Print the JSON Schema of one patient's follow-up record (`phaseone survival`)."""
    from phaseone.outcomes.records import follow_up_schema

    print_json(follow_up_schema())


def survival(
    file: Path = typer.Argument(
        ..., help="Follow-up records (.json): one patient or a list.", dir_okay=False
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="A bundled protocol id or a protocol file."
    ),
    endpoint: list[str] = typer.Option(
        [], "--endpoint", help="Endpoint id(s) from the protocol, e.g. efs, os (default: all)."
    ),
    se: SeOption = typer.Option(
        SeOption.protocol, "--se", help="Standard errors: greenwood, peto, or the protocol's."
    ),
    strata: list[str] = typer.Option(
        [], "--strata", help="disease_at_entry and/or dose_level (default: the protocol's)."
    ),
    no_strata: bool = typer.Option(False, "--no-strata", help="Only the all-patients curve."),
    curves: bool = typer.Option(False, "--curves", help="Every step of every curve."),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", help="table, json or csv"),
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Kaplan-Meier plot (first endpoint) with numbers at risk (.png or .svg).",
    ),
    swimmer: Path | None = typer.Option(None, "--swimmer", help="Swimmer plot (.png or .svg)."),
    evaluations: Path | None = typer.Option(
        None, "--evaluations", help="Disease evaluations (.json) to mark responses on the swimmer."
    ),
) -> None:
    """Event-free and overall survival: Kaplan-Meier, medians, 1- and 2-year estimates.

    Origins, event sets and censoring rules come from the protocol's `survival` section;
    intervals are log(-log) with Greenwood or Peto standard errors. The input format:
    `phaseone schema follow-up` and docs/survival.md.
    """
    from phaseone.outcomes.records import parse_follow_up
    from phaseone.outcomes.survival import analyse
    from phaseone.protocol import resolve_protocol

    for path, name in ((plot, "--plot"), (swimmer, "--swimmer")):
        if path is not None and path.suffix.lower() not in (".png", ".svg"):
            raise InputError([Problem(name, f"expected a .png or .svg file, got {path.name!r}")])
    bad = [s for s in strata if s not in ("disease_at_entry", "dose_level")]
    if bad:
        raise InputError(
            [Problem("--strata", f"{bad[0]!r}: expected disease_at_entry or dose_level")]
        )
    proto = resolve_protocol(protocol)
    if proto.survival is None:
        raise InputError([Problem("--protocol", f"{proto.id} defines no survival endpoints")])
    known = [e.id for e in proto.survival.endpoints]
    for name in endpoint:
        if name not in known:
            raise InputError(
                [
                    Problem(
                        "--endpoint",
                        f"unknown endpoint {name!r}; expected one of: " + ", ".join(known),
                    )
                ]
            )
    if not file.is_file():
        raise InputError([Problem("FILE", f"no such file: {file}")])
    try:
        records = parse_follow_up(read_json_file(file))
    except InputError as exc:
        raise with_file(exc, file) from None
    if not records:
        raise InputError([Problem("", "no records", file=str(file))])
    chosen = [proto.endpoint(e) for e in (endpoint or known)]
    layers = [] if no_strata else (strata or None)
    method: SeMethod | None = None
    if se is SeOption.greenwood:
        method = "greenwood"
    elif se is SeOption.peto:
        method = "peto"
    results = [analyse(records, e, proto.survival, strata=layers, se_method=method) for e in chosen]
    rows: list[dict[str, Any]] = []
    for r in results:
        rows += r.curve_rows() if curves else r.summary_rows()
    if fmt is OutFormat.json:
        print_json({"method": results[0].method, "rows": rows})
    elif fmt is OutFormat.csv:
        from phaseone.cli.response import _write_csv

        _write_csv(rows)
    else:
        _print(results, curves)
    if plot is not None or swimmer is not None:
        from phaseone.outcomes.plots import km_plot
        from phaseone.outcomes.plots import swimmer as swimmer_plot
        from phaseone.pk.plots import save_plot

        if plot is not None:
            save_plot(km_plot(results[0]), plot)
        if swimmer is not None:
            responses = None
            if evaluations is not None:
                from phaseone.cli.response import load_responses

                found, _ = load_responses(evaluations, protocol, None, [])
                responses = {p.patient_id: p for p in found}
            save_plot(
                swimmer_plot(records, responses, course_days=proto.course.length_days), swimmer
            )


def _print(results: list[Any], curves: bool) -> None:
    from rich import box
    from rich.table import Table

    for r in results:
        if r.excluded:
            console.print(f"[yellow]{len(r.excluded)} patient(s) without an origin left out[/]")
        if curves:
            rows = r.curve_rows()
            table = Table(box=box.SIMPLE_HEAD, title=f"{r.endpoint.name}: {r.method}")
            for col in rows[0]:
                table.add_column(col)
            for row in rows:
                table.add_row(*(_fmt(v) for v in row.values()))
            console.print(table)
            continue
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", title=r.endpoint.name)
        for col in ("stratum", "n", "events", "median (days)", "95% CI"):
            table.add_column(col)
        marks = Table(box=box.SIMPLE_HEAD, header_style="bold")
        for col in ("stratum", "day", "S", "95% CI", "at risk"):
            marks.add_column(col)
        for row in r.summary_rows():
            table.add_row(
                row["stratum"], str(row["n"]), str(row["events"]), _fmt(row["median_days"]),
                f"{_fmt(row['median_lower'])} - {_fmt(row['median_upper'])}",
            )  # fmt: skip
            for day in r.landmark_days:
                marks.add_row(
                    row["stratum"], str(day), _fmt(row[f"surv_{day}d"]),
                    f"{_fmt(row[f'lower_{day}d'])} - {_fmt(row[f'upper_{day}d'])}",
                    str(row[f"at_risk_{day}d"]),
                )  # fmt: skip
            marks.add_section()
        console.print(table)
        console.print(marks)
        console.print(f"[dim]{r.method}; origin {r.endpoint.origin}; events: "
                      f"{', '.join(r.endpoint.events)}[/]")  # fmt: skip


def _fmt(v: Any) -> str:
    if v is None:
        return "NA"
    if isinstance(v, float):
        return f"{v:.3f}" if v < 1.0001 else f"{v:g}"
    return str(v)


def register(app: typer.Typer, schema_app: typer.Typer) -> None:
    app.command("survival")(survival)
    schema_app.command("follow-up")(schema_follow_up)
