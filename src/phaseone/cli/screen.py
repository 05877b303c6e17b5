"""`phaseone screen` and `phaseone schema patient`: eligibility screening from files.

One JSON record gives a table (or the JSON result). A JSONL file of many records is
streamed: one JSONL row per record, a progress bar on stderr, constant memory; a
malformed record becomes an error row naming its line and field, and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer
from rich import box
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from phaseone.cli.output import Format, console, err_console, print_json
from phaseone.eligibility import EligibilityResult, Screener, parse_record, record_schema
from phaseone.eligibility.bulk import Detail, Submitter, screen_stream, usable_cores, worker_pool
from phaseone.eligibility.engine import check_entry_date
from phaseone.eligibility.result import CriterionResult
from phaseone.errors import InputError, Problem
from phaseone.protocol import resolve_protocol

schema_app = typer.Typer(help="JSON Schemas of phaseone's input files.", no_args_is_help=True)

_BULK_SUFFIXES = (".jsonl", ".ndjson")


@schema_app.command("patient")
def schema_patient() -> None:
    """Print the JSON Schema of a patient record (the input of `phaseone screen`)."""
    print_json(record_schema())


def _parse_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            [Problem("--as-of", f"{text!r} is not a date; expected YYYY-MM-DD")]
        ) from None
    check_entry_date(day, "--as-of")  # once, not once per record of a bulk run
    return day


def screen(
    file: Path = typer.Argument(
        ...,
        help="One patient record (.json) or many, one per line (.jsonl / .ndjson).",
        exists=True,
        dir_okay=False,
    ),
    protocol: str = typer.Option(
        "nant-2011-04", "--protocol", help="A bundled protocol id or a protocol file."
    ),
    as_of: str = typer.Option(
        ..., "--as-of", help="Entry date = first day of protocol therapy (YYYY-MM-DD)."
    ),
    dose_level: int | None = typer.Option(
        None,
        "--dose-level",
        help="The proposed dose level. Some criteria depend on it; without it they stay "
        "unknown unless they pass on every level.",
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table (for people) or json"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Bulk runs: write JSONL here instead of stdout."
    ),
    detail: Detail = typer.Option(
        Detail.summary,
        "--detail",
        help="Bulk runs: 'summary' rows (verdicts, plus reasons and evidence for criteria "
        "not passed) or 'full' results (every criterion with its evidence).",
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Bulk runs: worker processes (default: one per core for files over 4 MB, else none).",
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Bulk runs: screen on a Dask cluster, given its scheduler address "
        "(tcp://host:8786); needs the dask extra.",
    ),
) -> None:
    """Screen patient records against a protocol's eligibility criteria.

    Each criterion is met, not met or unknown (naming the missing data), with the
    evidence used; the overall verdict is eligible, ineligible (naming the failed
    criteria) or incomplete. The record format: `phaseone schema patient` and
    docs/eligibility.md.
    """
    entry = _parse_date(as_of)
    screener = Screener(resolve_protocol(protocol))
    if file.suffix.lower() in _BULK_SUFFIXES:
        _bulk(screener, file, entry, dose_level, output, detail, workers, scheduler)
        return
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise InputError(
            [Problem("", f"cannot read file: {exc.strerror}", file=str(file))]
        ) from None
    try:
        record = parse_record(text)
    except InputError as exc:
        raise InputError(
            [Problem(p.path, p.message, file=str(file)) for p in exc.problems]
        ) from None
    result = screener.evaluate(record, entry, dose_level)
    if fmt is Format.json:
        sys.stdout.buffer.write(result.to_json(indent=True) + b"\n")
        return
    print_result(result)


# --- one record as a table ------------------------------------------------------------------

_SHOW = {
    "pass": "[green]✓ pass[/]",
    "fail": "[bold red]✗ FAIL[/]",
    "unknown": "[yellow]? unknown[/]",
    "not_applicable": "[dim]– n/a[/]",
    "alternative": "[dim]· not used[/]",
}
_OVERALL = {
    "eligible": "[bold green]ELIGIBLE[/]",
    "ineligible": "[bold red]INELIGIBLE[/]",
    "incomplete": "[bold yellow]INCOMPLETE[/]",
}


def _shown(result: EligibilityResult) -> list[tuple[CriterionResult, str]]:
    """Each criterion with what to show; failed alternatives of a passed 'one of' group are
    shown as not used rather than as failures."""
    by_id = {c.id: c for c in result.criteria}
    rows = []
    for c in result.criteria:
        shown = c.outcome
        parent = by_id.get(c.parent) if c.parent else None
        while shown in ("fail", "unknown") and parent is not None:
            if parent.rule == "any_of" and parent.outcome == "pass":
                shown = "alternative"
            elif parent.rule == "all_of" and parent.outcome == "pass":
                shown = "alternative"  # a for_each group met by another item
            parent = by_id.get(parent.parent) if parent.parent else None
        rows.append((c, shown))
    return rows


def print_result(result: EligibilityResult) -> None:
    """The criterion-by-criterion table, grouped by top-level criterion, for 80 columns."""
    level = "not given" if result.dose_level is None else str(result.dose_level)
    console.print(
        f"[bold]{escape(result.record_id)}[/] · {result.protocol_id} {result.protocol_version}"
        f" · as of {result.as_of} · dose level {level}"
    )
    console.print(f"Overall: {_OVERALL[result.overall]}")
    table = Table(box=box.SIMPLE_HEAD, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("criterion", no_wrap=True, max_width=36)
    table.add_column("result", no_wrap=True, width=10)
    table.add_column("why", overflow="fold", ratio=1)
    hidden: set[str] = set()
    first = True
    for c, shown in _shown(result):
        if c.parent in hidden:
            hidden.add(c.id)  # inside a group that was not used: the group row says why
            continue
        if shown in ("alternative", "not_applicable"):
            hidden.add(c.id)
        if c.depth == 0 and not first:
            table.add_section()
        first = False
        why = c.reason
        if c.missing and c.outcome == "unknown":
            why += " [needs: " + ", ".join(c.missing) + "]"
        style = "dim" if shown in ("alternative", "not_applicable") else ""
        table.add_row(" " * c.depth + c.id, _SHOW[shown], escape(why), style=style)
    console.print(table)
    if result.failed:
        console.print("[bold red]Failed:[/] " + ", ".join(result.failed))
    if result.unknown:
        console.print("[bold yellow]Unknown:[/] " + ", ".join(result.unknown))
    if result.missing:
        console.print("[bold yellow]Missing data:[/] " + escape(", ".join(result.missing)))
    console.print(
        "[dim]Some thresholds and windows are assumptions of the bundled protocol; "
        "see `phaseone protocol show`.[/]"
    )


# --- many records, streamed -----------------------------------------------------------------


@contextmanager
def _sink(output: Path | None) -> Iterator[IO[bytes]]:
    if output is None:
        yield sys.stdout.buffer
        return
    with output.open("wb") as handle:
        yield handle


def _bulk(
    screener: Screener,
    file: Path,
    as_of: dt.date,
    dose_level: int | None,
    output: Path | None,
    detail: Detail,
    workers: int | None,
    scheduler: str | None,
) -> None:
    # Validate the dose level once, before any row is written.
    if dose_level is not None and dose_level not in screener.levels:
        raise InputError(
            [
                Problem(
                    "--dose-level",
                    f"unknown dose level {dose_level}; expected one of: "
                    + ", ".join(map(str, screener.levels)),
                )
            ]
        )
    total = file.stat().st_size
    with _executor(total, workers, scheduler) as executor:
        counts, failures = _stream(
            screener, file, total, as_of, dose_level, output, detail, executor
        )
    _print_summary(counts, failures)


# Below this size a run is over before worker processes would have started.
_WORKERS_FROM_BYTES = 4_000_000


@contextmanager
def _executor(total: int, workers: int | None, scheduler: str | None) -> Iterator[Submitter | None]:
    if scheduler is not None:
        if workers is not None:
            raise InputError([Problem("--workers", "give --workers or --scheduler, not both")])
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise InputError(
                [Problem("--scheduler", "Dask is not installed; pip install 'phaseone[dask]'")]
            ) from None
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except OSError as exc:
            raise InputError(
                [Problem("--scheduler", f"no Dask scheduler reached at {scheduler!r}: {exc}")]
            ) from None
        with client:
            yield client
        return
    if workers is None:
        workers = usable_cores() if total >= _WORKERS_FROM_BYTES else 1
    if workers == 1:
        yield None
        return
    with worker_pool(workers) as pool:
        yield pool


def _stream(
    screener: Screener,
    file: Path,
    total: int,
    as_of: dt.date,
    dose_level: int | None,
    output: Path | None,
    detail: Detail,
    executor: Submitter | None,
) -> tuple[Counter[str], Counter[str]]:
    progress = Progress(
        TextColumn("screening"),
        BarColumn(),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    # A large read buffer: records are kilobytes long, and small reads cost per line.
    with progress, file.open("rb", buffering=1 << 20) as source, _sink(output) as sink:
        task = progress.add_task("screen", total=total, records=0)

        def advance(done_bytes: int, records: int) -> None:
            progress.update(task, completed=done_bytes, records=records)

        counts, failures = screen_stream(
            screener, source, sink, as_of, dose_level, detail, advance, executor=executor
        )
        progress.update(task, completed=total, records=sum(counts.values()))
    return counts, failures


def _print_summary(counts: Counter[str], failures: Counter[str]) -> None:
    table = Table("verdict", "records", title="Screening summary")
    for verdict in ("eligible", "ineligible", "incomplete", "error"):
        table.add_row(verdict, str(counts.get(verdict, 0)))
    err_console.print(table)
    if failures:
        top = Table("criterion", "failed", title="Most frequent failures")
        for cid, n in failures.most_common(8):
            top.add_row(cid, str(n))
        err_console.print(top)
