"""`phaseone grade`, `phaseone dlt`, `phaseone toxicity-table`: the safety commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.table import Table

from phaseone.cli.output import console, print_json
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol
from phaseone.protocol.model import Protocol
from phaseone.safety.ctcae import check_version
from phaseone.safety.dlt import DltDetermination, compile_rules, determine, parse_patients
from phaseone.safety.labgrades import grade_labs
from phaseone.safety.ranges import load_ranges
from phaseone.safety.tables import (
    CourseRecord,
    dlt_table,
    events_frame,
    grade3_counts,
    tolerability,
    toxicity_table,
)


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Kind(StrEnum):
    grades = "grades"
    grade3 = "grade3"
    dlt = "dlt"
    tolerability = "tolerability"
    anbl0032 = "anbl0032"
    anbl0931 = "anbl0931"


def _emit(frame: pd.DataFrame, fmt: TableFormat, title: str) -> None:
    if fmt is TableFormat.csv:
        frame.to_csv(sys.stdout, index=False)
        return
    if fmt is TableFormat.json:
        print_json(json.loads(frame.to_json(orient="records", date_format="iso")))
        return
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(x) else str(x) for x in row])
    console.print(table)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem("", f"cannot read JSON: {exc}", file=str(path))]) from None
    if not isinstance(data, dict) or not isinstance(data.get("patients"), list):
        raise InputError(
            [Problem("patients", "expected an object with a 'patients' list", file=str(path))]
        )
    return data


def _as_of(data: dict[str, Any], option: str | None) -> dt.date:
    text = option or data.get("as_of")
    if not text:
        raise InputError(
            [
                Problem(
                    "as_of", "a determination date is needed: give --as-of or 'as_of' in the file"
                )
            ]
        )
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise InputError([Problem("as_of", f"expected a date YYYY-MM-DD, got {text!r}")]) from None


def _version(data: dict[str, Any], option: str | None, protocol: Protocol) -> str:
    return check_version(option or data.get("ctcae_version") or protocol.response.ctcae_version)


def _determinations(
    data: dict[str, Any], protocol: Protocol, version: str, as_of: dt.date
) -> list[DltDetermination]:
    patients = parse_patients(data["patients"], version=version, protocol=protocol)
    rules = compile_rules(protocol.dlt, version)
    return [determine(p, protocol, version=version, as_of=as_of, rules=rules) for p in patients]


def grade(
    labs: Path = typer.Argument(..., help="CSV of lab results: analyte,value,unit[,lln,uln,...]"),
    ctcae: str = typer.Option("5.0", "--ctcae", help="CTCAE version: 4.03 or 5.0"),
    ranges: list[Path] = typer.Option(
        [], "--ranges", help="Site normal-range table(s) (YAML), tried before the default."
    ),
    no_default_ranges: bool = typer.Option(
        False, "--no-default-ranges", help="Do not fall back to the assumed pediatric ranges."
    ),
    fmt: TableFormat = typer.Option(TableFormat.csv, "--format", help="csv, json or table"),
) -> None:
    """Grade lab values by CTCAE and add grade, term and rule columns.

    Optional columns: patient_id, date (YYYY-MM-DD), lln, uln (the result's own range),
    age_years and sex (to look a range up), baseline / baseline_uln or is_baseline (v5
    baseline rules), symptomatic and intervention (from the AE record; blank = worst case),
    fasting (glucose: v4.03 hyperglycemia grades 1-2 need a fasting value). Total calcium is
    albumin-corrected when an albumin of the same patient and date is in the file.
    """
    try:
        frame = pd.read_csv(labs)
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem("", f"not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the "
                     "file as UTF-8 CSV", file=str(labs))]
        ) from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem("", f"cannot read CSV: {exc}", file=str(labs))]) from None
    tables = tuple(load_ranges(p) for p in ranges)
    graded = grade_labs(
        frame, version=ctcae, ranges=tables, use_default_ranges=not no_default_ranges
    )
    if fmt is TableFormat.table:
        keep = [c for c in ("patient_id", "analyte", "value", "unit") if c in graded]
        graded = graded[[*keep, "grade", "term", "rule"]]
    _emit(graded, fmt, f"CTCAE v{ctcae} grades")


def dlt(
    events: Path = typer.Argument(..., help="JSON with 'patients' (DLT-window records)."),
    protocol_id: str = typer.Option(
        ..., "--protocol", help="A bundled protocol id or a YAML path."
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Determination date (YYYY-MM-DD)."),
    ctcae: str | None = typer.Option(None, "--ctcae", help="CTCAE version (default: protocol's)."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table, json or csv"),
) -> None:
    """Decide DLT and evaluability for each patient, saying which rule fired on which event.

    The protocol's DLT rules are data; in the bundled NANT 2011-04 file they are assumed (the
    trial's definition is not public) and every output says so.
    """
    protocol = resolve_protocol(protocol_id)
    data = _read_json(events)
    version = _version(data, ctcae, protocol)
    results = _determinations(data, protocol, version, _as_of(data, as_of))
    if fmt is TableFormat.json:
        print_json(
            [
                {
                    "patient_id": d.patient_id,
                    "dose_level": d.dose_level,
                    "status": d.status,
                    "evaluable": d.evaluable,
                    "evaluability_reason": d.evaluability_reason,
                    "hematologic_evaluable": d.hematologic_evaluable,
                    "rules_assumed": d.assumed_rules,
                    "hits": [h.__dict__ for h in d.hits],
                    "events": [n.__dict__ for n in d.notes],
                }
                for d in results
            ]
        )
        return
    rows = [
        {
            "patient_id": d.patient_id,
            "dose_level": d.dose_level,
            "status": d.status,
            "evaluable": d.evaluable,
            "rule": "; ".join(f"{h.rule_id}@{h.event_id or '-'}" for h in d.hits),
        }
        for d in results
    ]
    frame = pd.DataFrame(rows)
    _emit(frame, fmt, f"DLT determinations ({protocol.id}, CTCAE v{version})")
    if fmt is TableFormat.table:
        if protocol.dlt.provenance.is_assumed:
            console.print(f"[yellow]DLT rules are assumed:[/] {protocol.dlt.provenance.note}")
        for d in results:
            console.print(d.explain(), markup=False, highlight=False)


def toxicity_table_command(
    events: Path = typer.Argument(..., help="JSON with 'patients' and optional 'courses'."),
    protocol_id: str = typer.Option(
        "nant-2011-04", "--protocol", metavar="ID|FILE", help="Bundled protocol id or file."
    ),
    kind: Kind = typer.Option(Kind.grades, "--kind", help="Which table to print."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for the DLT table."),
    ctcae: str | None = typer.Option(None, "--ctcae", help="CTCAE version (default: protocol's)."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table, json or csv"),
) -> None:
    """Toxicity tables: worst grade per patient per term by dose level (grades), grade >= 3
    counts (grade3), DLTs by level (dlt), courses 6-12 (tolerability), or grade >= 3 rates
    beside ANBL0032 / ANBL0931 with exact 95% intervals and binomial tests."""
    # scipy.stats (exact intervals, binomial tests) only for the historical comparisons.
    from phaseone.safety.historical import compare_anbl0032, compare_anbl0931

    protocol = resolve_protocol(protocol_id)
    data = _read_json(events)
    version = _version(data, ctcae, protocol)
    patients = parse_patients(data["patients"], version=version, protocol=protocol)
    frame = events_frame(patients)
    per_level: dict[int, int] = {}
    for p in patients:
        per_level[p.dose_level] = per_level.get(p.dose_level, 0) + 1
    if kind is Kind.grades:
        out = toxicity_table(frame, per_level)
    elif kind is Kind.grade3:
        out = grade3_counts(frame, per_level)
    elif kind is Kind.dlt:
        out = dlt_table(_determinations(data, protocol, version, _as_of(data, as_of)))
    elif kind is Kind.tolerability:
        courses = [CourseRecord(**c) for c in data.get("courses", [])]
        out = tolerability(courses)
    elif kind is Kind.anbl0032:
        out = compare_anbl0032(frame, len(patients), version=version)
    else:
        treated: dict[int, set[str]] = {}
        for c in data.get("courses", []):
            treated.setdefault(int(c["course"]), set()).add(str(c["patient_id"]))
        out = compare_anbl0931(frame, {k: len(v) for k, v in treated.items()}, version=version)
    _emit(out, fmt, f"{kind.value} ({protocol.id}, CTCAE v{version})")

