"""`phaseone virtual-trial` and `phaseone demo --complete`: drive virtual patients through
a running service, from the first screening to the report and every export."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from phaseone.cli.output import console, fail
from phaseone.cli.serve import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from phaseone.synth.local_service import START, FileServiceClock

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import VirtualTrialResult

__all__ = ["START", "FileServiceClock", "complete_trial", "virtual_trial"]


@contextmanager
def step_bars() -> Iterator[tuple[Callable[[str], None], Callable[[str, int, int], None]]]:
    """A progress bar per step (rich), and a log line per message."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bars = Progress(
        "[progress.description]{task.description:<11}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=False,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def say(message: str) -> None:
        bars.console.print(message, highlight=False)

    def tick(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=max(total, 1))
        bars.update(tasks[step], completed=done, total=max(total, 1))

    with bars:
        yield say, tick


def report(result: VirtualTrialResult) -> None:
    """The per-level table, the conduct figures and every check of the whole."""
    from rich.table import Table

    table = Table(title=f"Virtual trial (seed {result.seed})")
    for column in ("dose level", "patients", "DLTs signed", "DLTs in SDTM export"):
        table.add_column(column, justify="right")
    for level, (n, dlts) in result.per_level().items():
        table.add_row(str(level), str(n), str(dlts), str(result.dlts_exported.get(level, 0)))
    console.print(table)
    console.print(
        f"screened {result.screened} (screen failures {result.screen_failures}); "
        f"slot requests {result.slot_requests} (waitlisted {result.waitlisted}); "
        f"MTD: {result.mtd if result.mtd is not None else 'not reached'}"
    )
    if result.courses:
        ended = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(result.ended.items()))
        console.print(
            f"courses started {result.courses} ({result.delays} delayed, "
            f"{result.modifications} dose modifications); off treatment: {ended or 'none'}; "
            f"specimens {result.specimens}, results imported {result.results_imported}"
        )
    console.print(
        f"evaluations {result.evaluations}; queries {result.queries} ({result.corrections} "
        f"answered with a correction); forms verified {result.verified_forms}; casebooks "
        f"signed {result.casebooks_signed}"
    )
    for step in result.steps:
        if step.status == "absent":
            console.print(f"step {step.name}: [yellow]absent[/] ({step.note})")
    console.print(
        f"audit chain verifies: {result.audit_verified}; acknowledged writes read back: "
        f"{result.acknowledged - len(result.missing)}/{result.acknowledged}"
    )
    for name, problems in result.checks.items():
        state = "agrees" if not problems else f"[red]{len(problems)} disagreements[/]"
        if name in result.compared:
            state += f" ({result.compared[name]} values compared)"
        console.print(f"{name}: {state}")
        for problem in problems[:5]:
            console.print(f"  {problem}")
    for _name, path in sorted(result.outputs.items()):
        console.print(f"  wrote {path}")
    if not result.ok:
        raise fail("the checks of the whole failed (see above)")


def complete_trial(
    output: Path, *, patients: int, courses: int, seed: int, sites: tuple[str, ...],
    database: Path | None = None,
) -> VirtualTrialResult:  # fmt: skip
    """The whole virtual trial on a service of its own, with progress bars; printed."""
    from phaseone.synth.local_service import run_complete_trial

    with step_bars() as (say, tick):
        result = run_complete_trial(
            output, patients=patients, courses=courses, seed=seed, sites=sites,
            database=database, progress=say, tick=tick,
        )  # fmt: skip
    report(result)
    return result


def virtual_trial(
    url: str | None = typer.Option(
        None,
        "--url",
        help="A running service (loopback only), started with `serve --clock-file`; "
        "default: start one on a temporary SQLite database.",
    ),
    clock_file: Path | None = typer.Option(
        None, "--clock-file", help="With --url: the clock file that service reads."
    ),
    patients: int = typer.Option(30, "--patients", min=1, max=2000, help="Virtual patients."),
    courses: int = typer.Option(
        12, "--courses", min=1, max=12, help="Courses per patient (1: course 1 only)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every draw."),
    sites: str = typer.Option("chla,chop,seattle", "--sites", help="Site ids, comma-separated."),
    output: Path | None = typer.Option(
        None, "--output", help="Save the study report, every export and checks.json here."
    ),
) -> None:
    """Run a virtual trial through the service's JSON API, as sites and the chair would:
    screening, racing slot requests, registration, course 1, DLT determinations and
    signed decisions to an MTD; courses 2-12 with delays, dose modifications and the end
    of treatment; specimens and imported results; the study report and every export.
    Then check the audit chain, read back every acknowledged write, and compare the DLTs
    per level, dose intensity and the lenalidomide NCA in the exports with the engines'.

    With --url, the administrator's username and password come from
    PHASEONE_ADMIN_USERNAME and PHASEONE_ADMIN_PASSWORD. Every model is invented for
    simulation (docs/synth.md).
    """
    from phaseone.synth.steps import run_virtual_trial

    chosen = tuple(s.strip() for s in sites.split(",") if s.strip())
    if url is None:
        with tempfile.TemporaryDirectory(prefix="phaseone-virtual-") as folder:
            work = Path(folder)
            if output is not None:
                work = output
            complete_trial(work, patients=patients, courses=courses, seed=seed, sites=chosen)
        return
    admin_user, admin_password = (
        os.environ.get(ADMIN_USER_ENV),
        os.environ.get(ADMIN_PASSWORD_ENV),
    )
    if clock_file is None or not admin_user or not admin_password:
        raise fail(f"--url needs --clock-file and {ADMIN_USER_ENV}, {ADMIN_PASSWORD_ENV} set")
    with step_bars() as (say, tick):
        result = run_virtual_trial(
            url, FileServiceClock(clock_file), admin=(admin_user, admin_password),
            patients=patients, seed=seed, sites=chosen, courses=courses, output=output,
            progress=say, tick=tick,
        )  # fmt: skip
    report(result)
