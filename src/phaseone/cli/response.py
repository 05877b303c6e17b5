"""`phaseone response` and `phaseone schema evaluation`: tumour response from a file.

Light at the door: the response engine is pure Python; pandas, scipy and matplotlib are
imported inside the command only where a table, a rate or a plot needs them.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from phaseone.cli.output import console, print_json
from phaseone.errors import InputError, Problem


class Show(StrEnum):
    evaluations = "evaluations"
    best = "best"
    rates = "rates"


class OutFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def schema_evaluation() -> None:
    """Print the JSON Schema of one patient's disease evaluations (`phaseone response`)."""
    from phaseone.response.evaluation import evaluation_schema

    print_json(evaluation_schema())


def parse_params(items: list[str]) -> dict[str, Any]:
    """`name=value` pairs; a value that reads as JSON (true, 10, 0.5) is that value, any
    other text (>5, MD) is a string."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InputError([Problem("--param", f"expected NAME=VALUE, got {item!r}")])
        try:
            out[name.strip()] = json.loads(text)
        except ValueError:
            out[name.strip()] = text.strip()
    return out


def read_json_file(file: Path) -> Any:
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InputError(
            [Problem("", f"cannot read file: {exc.strerror}", file=str(file))]
        ) from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError([Problem("", f"not valid JSON: {exc}", file=str(file))]) from None


def with_file(exc: InputError, file: Path) -> InputError:
    return InputError([Problem(p.path, p.message, file=str(file)) for p in exc.problems])


def load_responses(
    file: Path, protocol: str, criteria: str | None, params: list[str]
) -> tuple[list[Any], Any]:
    """Evaluate every patient of an evaluations file under the protocol's rule set."""
    from phaseone.protocol import resolve_protocol
    from phaseone.response import criteria_for, evaluate_patients, parse_patients

    proto = resolve_protocol(protocol)
    merged = {**proto.response.params, **parse_params(params)}
    rule_set = criteria_for(criteria or proto.response.criteria)
    if merged:
        rule_set = rule_set.with_params(merged, where="--param")
    try:
        patients = parse_patients(read_json_file(file))
    except InputError as exc:
        raise with_file(exc, file) from None
    return evaluate_patients(patients, rule_set), rule_set


def response(
    file: Path = typer.Argument(
        ..., help="Disease evaluations (.json): one patient or a list.", dir_okay=False
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="A bundled protocol id or a protocol file."
    ),
    criteria: str | None = typer.Option(
        None, "--criteria", help="INRC-2017 or NANTRC-1.0 (default: the protocol's)."
    ),
    param: list[str] = typer.Option(
        [], "--param", help="Override an assumed parameter, NAME=VALUE (repeatable)."
    ),
    show: Show = typer.Option(Show.evaluations, "--show", help="evaluations, best or rates"),
    fmt: OutFormat = typer.Option(OutFormat.table, "--format", help="table, json or csv"),
    waterfall: Path | None = typer.Option(
        None, "--waterfall", help="Write a waterfall plot (.png or .svg)."
    ),
    spider: Path | None = typer.Option(
        None, "--spider", help="Write a spider plot (.png or .svg)."
    ),
) -> None:
    """Compute INRC component and overall responses, best response and response rates.

    Each evaluation gets the primary-tumour, metastatic and marrow responses, the overall
    response and the rule that fired; each patient a best overall response; each dose level
    a response rate with its exact 95% interval. The input format: `phaseone schema
    evaluation` and docs/response.md.
    """
    from phaseone.response.frames import best_rows, evaluation_rows, patient_dict, rate_rows
    from phaseone.response.rates import response_rates

    if not file.is_file():
        raise InputError([Problem("FILE", f"no such file: {file}")])
    for path, name in ((waterfall, "--waterfall"), (spider, "--spider")):
        if path is not None and path.suffix.lower() not in (".png", ".svg"):
            raise InputError([Problem(name, f"expected a .png or .svg file, got {path.name!r}")])
    results, rule_set = load_responses(file, protocol, criteria, param)
    from phaseone.protocol import resolve_protocol

    responders = resolve_protocol(protocol).response.responders
    rates = response_rates(results, responders=responders)
    rows = {
        Show.evaluations: evaluation_rows(results),
        Show.best: best_rows(results),
        Show.rates: rate_rows(rates),
    }[show]
    if fmt is OutFormat.json:
        print_json(
            {
                "criteria": rule_set.id,
                "criteria_version": rule_set.version,
                "assumed": {name: value for name, value, _ in rule_set.assumptions()},
                show.value: rows
                if show is not Show.evaluations
                else [patient_dict(r) for r in results],
            }
        )
    elif fmt is OutFormat.csv:
        _write_csv(rows)
    else:
        _print_tables(results, rates, rule_set, show)
    if waterfall is not None or spider is not None:
        from phaseone.pk.plots import save_plot
        from phaseone.response.plots import spider as spider_plot
        from phaseone.response.plots import waterfall as waterfall_plot

        if waterfall is not None:
            save_plot(waterfall_plot(results), waterfall)
        if spider is not None:
            save_plot(spider_plot(results), spider)


def _write_csv(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _print_tables(results: list[Any], rates: list[Any], rule_set: Any, show: Show) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    if show is Show.evaluations:
        table = Table(
            box=box.SIMPLE_HEAD,
            header_style="bold",
            title=f"Responses ({rule_set.id}): primary, metastatic, marrow, overall",
            pad_edge=False,
        )
        table.add_column("patient", no_wrap=True)
        table.add_column("date", no_wrap=True)
        table.add_column("visit", min_width=8)
        for col in ("prim", "meta", "marrow", "overall", "inv."):
            table.add_column(col, no_wrap=True)
        for p in results:
            for e in p.evaluations:
                comps = {c.component: c.response for c in e.components}
                overall = e.overall.response if e.kind != "baseline" else "baseline"
                inv = e.investigator_response or ""
                if e.agrees is False:
                    inv = f"[yellow]{inv} (differs)[/]"
                table.add_row(
                    escape(p.patient_id), str(e.date), escape(e.label or e.kind),
                    comps.get("primary", ""), comps.get("metastatic", ""),
                    comps.get("marrow", ""), f"[bold]{overall}[/]", inv,
                )  # fmt: skip
            table.add_section()
        console.print(table)
        console.print("[dim]Each component's rule, reason and inputs: --format json.[/]")
    if show in (Show.evaluations, Show.best):
        best = Table(box=box.SIMPLE_HEAD, header_style="bold", title="Best overall response")
        for col in ("patient", "dose level", "best", "reason"):
            best.add_column(col)
        for p in results:
            level = "" if p.dose_level is None else str(p.dose_level)
            best.add_row(escape(p.patient_id), level, p.best, escape(p.best_reason))
        console.print(best)
    rate_table = Table(
        box=box.SIMPLE_HEAD, header_style="bold", title="Response rate (exact 95% interval)"
    )
    for col in ("dose level", "responders", "evaluable", "rate", "95% CI", "no disease"):
        rate_table.add_column(col)
    for r in rates:
        rate = "" if r.rate is None else f"{r.rate:.0%}"
        ci = "" if r.lower is None else f"{r.lower:.2f}-{r.upper:.2f}"
        level = "all" if r.dose_level is None else str(r.dose_level)
        rate_table.add_row(level, str(r.responders), str(r.evaluable), rate, ci, str(r.excluded))
    console.print(rate_table)
    console.print(
        f"[dim]{rule_set.id} v{rule_set.version}: {len(rule_set.assumptions())} thresholds and "
        "choices are not confirmed from primary text (see docs/response.md).[/]"
    )


def register(app: typer.Typer, schema_app: typer.Typer) -> None:
    app.command("response")(response)
    schema_app.command("evaluation")(schema_evaluation)
