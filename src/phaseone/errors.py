"""The one exception hierarchy of phaseone.

Every error a user can cause carries enough to fix the input: where (file, line,
field path) and what was expected. Adapters (CLI, web) turn these into messages
and exit codes; they never show a traceback for a PhaseoneError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PhaseoneError(Exception):
    """Base class for every error phaseone raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class InputError(PhaseoneError):
    """Input that cannot be used as given; lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ProtocolError(InputError):
    """A protocol file or object that is malformed or inconsistent."""


class NotFoundError(PhaseoneError):
    """A named thing (protocol, dose level, patient...) does not exist."""
