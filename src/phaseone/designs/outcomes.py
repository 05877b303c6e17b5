"""Patient outcomes for dose-finding: the compact cohort grammar and a tabular form.

The grammar is a sequence of cohorts separated by whitespace. A cohort is a dose number
(1-based) followed by one letter per patient, in order:

- ``N``: completed the DLT window without a DLT;
- ``T``: had a DLT;
- ``P``: pending, still inside the DLT window.

Any letter may carry follow-up days in parentheses, e.g. ``"1NNN 2NP(12)T(5)"``: for a
pending patient the days followed so far, for a DLT the day it occurred. Time-to-event
designs need them; the others ignore them. The empty string means no patients yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from phaseone.errors import InputError, Problem

Status = Literal["N", "T", "P"]
LETTERS: dict[str, str] = {"N": "no DLT", "T": "DLT", "P": "pending"}


def _fail(message: str, path: str = "outcomes") -> InputError:
    return InputError([Problem(path, message)])


@dataclass(frozen=True, slots=True)
class Patient:
    """One patient: the dose given, the DLT status and optional follow-up days."""

    dose: int
    status: Status
    days: float | None = None
    cohort: int = 1

    @property
    def dlt(self) -> bool:
        return self.status == "T"

    @property
    def pending(self) -> bool:
        return self.status == "P"

    @property
    def evaluable(self) -> bool:
        return self.status != "P"

    def token(self) -> str:
        if self.days is None:
            return self.status
        return f"{self.status}({self.days:g})"


@dataclass(frozen=True, slots=True)
class Counts:
    """Per-dose counts (index 0 is dose 1)."""

    treated: NDArray[np.int64]
    evaluable: NDArray[np.int64]
    tox: NDArray[np.int64]
    pending: NDArray[np.int64]


@dataclass(frozen=True)
class Outcomes:
    """Outcomes in enrollment order. Immutable; `then` returns a longer copy."""

    patients: tuple[Patient, ...] = ()

    @classmethod
    def parse(cls, text: str, n_doses: int | None = None) -> Outcomes:
        """Parse the cohort grammar; errors name the 1-based position of the problem."""
        return cls(_Parser(text, n_doses).parse())

    @classmethod
    def coerce(cls, value: Outcomes | str, n_doses: int | None = None) -> Outcomes:
        if isinstance(value, Outcomes):
            if n_doses is not None:
                value.check_doses(n_doses)
            return value
        return cls.parse(value, n_doses)

    @classmethod
    def from_records(
        cls, rows: Iterable[Mapping[str, object]], n_doses: int | None = None
    ) -> Outcomes:
        """The tabular form: rows with `dose`, `dlt` and optional `followup_days`, `cohort`.

        `dlt` accepts 1/0, yes/no, true/false, T/N, or P/pending/empty for pending. Rows
        are taken in order (sorted by `patient` when every row has one). Without a
        `cohort` column each patient is its own cohort.
        """
        rows = list(rows)
        if rows and all(row.get("patient") not in (None, "") for row in rows):
            rows.sort(key=lambda row: _sort_key(row["patient"]))
        patients = []
        for i, row in enumerate(rows):
            where = f"outcomes[{i + 1}]"
            dose = _as_int(row.get("dose"), f"{where}.dose")
            status = _as_status(row.get("dlt"), f"{where}.dlt")
            days = _as_days(row.get("followup_days", row.get("days")), f"{where}.followup_days")
            cohort_raw = row.get("cohort")
            cohort = i + 1 if cohort_raw in (None, "") else _as_int(cohort_raw, f"{where}.cohort")
            patients.append(Patient(dose, status, days, cohort))
        out = cls(tuple(patients))
        if n_doses is not None:
            out.check_doses(n_doses)
        else:
            for p in patients:
                if p.dose < 1:
                    raise _fail(f"dose {p.dose} is not a dose level; doses are numbered from 1")
        return out

    def check_doses(self, n_doses: int) -> None:
        for i, p in enumerate(self.patients):
            if not 1 <= p.dose <= n_doses:
                raise _fail(
                    f"patient {i + 1}: dose {p.dose} is outside 1..{n_doses}",
                )

    # --- views -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.patients)

    def __str__(self) -> str:
        return self.to_string()

    def to_string(self) -> str:
        parts: list[str] = []
        last: tuple[int, int] | None = None
        for p in self.patients:
            key = (p.cohort, p.dose)
            if key != last:
                parts.append(str(p.dose))
                last = key
            parts[-1] += p.token()
        return " ".join(parts)

    def cohorts(self) -> tuple[tuple[Patient, ...], ...]:
        groups: list[list[Patient]] = []
        last: tuple[int, int] | None = None
        for p in self.patients:
            key = (p.cohort, p.dose)
            if key != last:
                groups.append([])
                last = key
            groups[-1].append(p)
        return tuple(tuple(g) for g in groups)

    @property
    def last_dose(self) -> int | None:
        return self.patients[-1].dose if self.patients else None

    def last_cohort(self) -> tuple[Patient, ...]:
        groups = self.cohorts()
        return groups[-1] if groups else ()

    def counts(self, n_doses: int) -> Counts:
        treated = np.zeros(n_doses, dtype=np.int64)
        evaluable = np.zeros(n_doses, dtype=np.int64)
        tox = np.zeros(n_doses, dtype=np.int64)
        pending = np.zeros(n_doses, dtype=np.int64)
        for p in self.patients:
            k = p.dose - 1
            treated[k] += 1
            if p.pending:
                pending[k] += 1
            else:
                evaluable[k] += 1
                tox[k] += p.dlt
        return Counts(treated, evaluable, tox, pending)

    def then(self, dose: int, letters: str) -> Outcomes:
        """These outcomes followed by one more cohort, e.g. ``o.then(3, "NNT")``."""
        cohort = (self.patients[-1].cohort + 1) if self.patients else 1
        more = _Parser(f"{dose}{letters}", None).parse()
        return Outcomes(
            self.patients + tuple(Patient(dose, p.status, p.days, cohort) for p in more)
        )


def _sort_key(value: object) -> tuple[int, str]:
    text = str(value)
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def _as_int(value: object, path: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(str(value).strip())
        if not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        raise _fail(f"expected a whole number, got {value!r}", path) from None


TRUE_WORDS = {"1", "t", "true", "yes", "y", "dlt"}
FALSE_WORDS = {"0", "n", "false", "no", "none"}
PENDING_WORDS = {"", "p", "pending", "na", "nan"}


def _as_status(value: object, path: str) -> Status:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "P"
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return "T"
    if word in FALSE_WORDS:
        return "N"
    if word in PENDING_WORDS:
        return "P"
    raise _fail(f"expected 1/0, yes/no, T/N or P (pending), got {value!r}", path)


def _as_days(value: object, path: str) -> float | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        days = float(str(value))
    except ValueError:
        raise _fail(f"expected a number of days, got {value!r}", path) from None
    if days < 0 or not math.isfinite(days):
        raise _fail(f"expected a non-negative number of days, got {value!r}", path)
    return days


class _Parser:
    """A small hand-written scanner so that every error can point at a character."""

    def __init__(self, text: str, n_doses: int | None) -> None:
        self.text = text
        self.n_doses = n_doses
        self.i = 0

    def error(self, message: str, at: int | None = None) -> InputError:
        pos = (self.i if at is None else at) + 1
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return _fail(f"position {pos}: {message} (in {shown!r})")

    def parse(self) -> tuple[Patient, ...]:
        patients: list[Patient] = []
        cohort = 0
        text = self.text
        while True:
            while self.i < len(text) and text[self.i].isspace():
                self.i += 1
            if self.i >= len(text):
                return tuple(patients)
            cohort += 1
            patients.extend(self.cohort(cohort))
            if self.i < len(text) and not text[self.i].isspace():
                raise self.error(self.unexpected(text[self.i]))

    def unexpected(self, ch: str) -> str:
        if ch.upper() in LETTERS and ch != ch.upper():
            return f"{ch!r} must be upper case ({ch.upper()})"
        return f"unexpected {ch!r}; expected N (no DLT), T (DLT) or P (pending)"

    def cohort(self, cohort: int) -> list[Patient]:
        text = self.text
        start = self.i
        while self.i < len(text) and text[self.i].isdigit():
            self.i += 1
        if self.i == start:
            raise self.error(f"expected a dose number, got {text[self.i]!r}")
        dose = int(text[start : self.i])
        if dose < 1:
            raise self.error(f"dose {dose} is not a dose level; doses are numbered from 1", start)
        if self.n_doses is not None and dose > self.n_doses:
            raise self.error(f"dose {dose} is outside 1..{self.n_doses}", start)
        patients: list[Patient] = []
        while self.i < len(text) and text[self.i] in LETTERS:
            status: Status = text[self.i]  # type: ignore[assignment]
            self.i += 1
            patients.append(Patient(dose, status, self.days(), cohort))
        if not patients:
            if self.i < len(text) and not text[self.i].isspace():
                raise self.error(self.unexpected(text[self.i]))
            raise self.error(f"dose {dose} has no patients; expected N, T or P after it", start)
        return patients

    def days(self) -> float | None:
        text = self.text
        if self.i >= len(text) or text[self.i] != "(":
            return None
        open_at = self.i
        close = text.find(")", open_at)
        if close < 0:
            raise self.error("'(' is not closed; expected follow-up days like P(12)", open_at)
        body = text[open_at + 1 : close].strip()
        try:
            days = float(body)
        except ValueError:
            raise self.error(
                f"expected a number of days inside (), got {body!r}", open_at + 1
            ) from None
        if days < 0 or not math.isfinite(days):
            raise self.error(f"follow-up days must be 0 or more, got {body}", open_at + 1)
        self.i = close + 1
        return days
