"""Shared CLI plumbing: consoles, error reporting, output formats."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console

from phaseone.errors import InputError, PhaseoneError

# Piped output (a file, another program) is not wrapped to 80 columns: a table keeps its
# headers whole ("dose_level", not "dose_lev / el"). A terminal wraps to its own width, and
# an explicit COLUMNS is obeyed.
PIPE_WIDTH = 1000
console = Console(
    width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

USER_ERROR = 2


class Format(StrEnum):
    table = "table"
    json = "json"


def fail(message: str) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(USER_ERROR)


def report(exc: PhaseoneError) -> None:
    problems = exc.problems if isinstance(exc, InputError) else None
    if problems:
        for problem in problems:
            err_console.print(f"error: {problem}", markup=False)
    else:
        err_console.print(f"error: {exc}", markup=False)


def run_safely(app: Callable[[], Any]) -> int:
    """Run the CLI; a PhaseoneError prints its problems (no traceback) and exits 2.

    Usage errors (unknown option, missing argument) are handled by Typer itself, which
    also exits with status 2.
    """
    try:
        app()
    except PhaseoneError as exc:
        report(exc)
        return USER_ERROR
    return 0


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
