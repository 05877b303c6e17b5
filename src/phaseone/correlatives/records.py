"""The correlative engines' inputs: typed records per specimen result, and their CSV reading.

A core lab's results arrive as rows; each engine takes plain records, whatever their
source (a CSV here, the trial database later). Validation names the line and the field of
every bad value and reports all of them at once; nothing is returned until all rows are
valid.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from phaseone.errors import InputError, Problem

SPECIMEN_TYPES = ("blood", "marrow", "serum", "plasma", "pbmc", "buccal", "tumor")


@dataclass(frozen=True)
class Measurement:
    """One numeric result of one specimen: a cell count, a cytokine, a titre, a Ct value."""

    patient: str
    specimen_type: str
    study_day: int  # day 1 = first day of protocol therapy; pre-treatment days are <= 0
    analyte: str
    value: float  # math.inf: a qPCR well with no amplification (Ct "undetermined")
    unit: str
    specimen_id: str | None = None
    line: int | None = None  # where the record came from, for messages


@dataclass(frozen=True)
class GenotypeCall:
    """One typing result: an HLA allele pair, a KIR gene's presence, an FcγR genotype."""

    patient: str
    gene: str
    call: str
    specimen_id: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class PatientGroup:
    """A patient's dose level and, once evaluated, best overall response."""

    patient: str
    dose_level: int
    best_response: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]


def read_rows(source: Path | str, required: Sequence[str],
              optional: Sequence[str] = (), *, name: str | None = None,
              problems: list[Problem] | None = None) -> list[Row]:
    """Rows of a UTF-8 CSV file (or text) with the required columns present and non-empty.

    Column names are matched without regard to case or surrounding spaces. Raises
    InputError naming the file, line and column of every problem; with `problems`, row
    problems are added there instead (and their rows left out) so that the caller can
    report them together with its own checks.
    """
    if isinstance(source, Path):
        label = name or str(source)
        try:
            text = source.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError([Problem("", f"not UTF-8 text (byte {exc.start}); save the file "
                                          "as UTF-8 CSV", file=label)]) from None
        except OSError as exc:
            raise InputError([Problem("", f"cannot read: {exc.strerror}", file=label)]) from None
    else:
        label = name or "<text>"
        text = source
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InputError([Problem("", "empty file; expected a header row", file=label)])
    names = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError([Problem(c, f"missing column; expected columns "
                                     f"{', '.join(required)}", file=label, line=1)
                          for c in missing])
    wanted = [*required, *optional]
    collect = problems is not None
    problems = problems if problems is not None else []
    rows: list[Row] = []
    for raw in reader:
        if not any(cell.strip() for cell in raw):
            continue
        line = reader.line_num
        if len(raw) > len(names):
            problems.append(Problem("", f"{len(raw)} cells but the header has {len(names)}",
                                    file=label, line=line))
            continue
        cells = {n: (raw[i].strip() if i < len(raw) else "") for i, n in enumerate(names)}
        empty = [c for c in required if not cells.get(c)]
        for column in empty:
            problems.append(Problem(column, "empty; a value is required", file=label,
                                    line=line))
        if not empty:
            rows.append(Row(line, {c: cells.get(c, "") for c in wanted}))
    if problems and not collect:
        raise InputError(problems)
    if not rows and not problems:
        raise InputError([Problem("", "no data rows", file=label)])
    return rows


def _int(cells: dict[str, str], column: str, problems: list[Problem], label: str,
         line: int) -> int | None:
    text = cells[column]
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    problems.append(Problem(column, f"expected a whole number, got {text!r}", file=label,
                            line=line))
    return None


UNDETECTED_WORDS = ("undetermined", "undetected", "no ct")


def _float(cells: dict[str, str], column: str, problems: list[Problem], label: str,
           line: int, undetected: bool = False) -> float | None:
    text = cells[column]
    if undetected and text.lower() in UNDETECTED_WORDS:
        return math.inf
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value):
        return value
    problems.append(Problem(column, f"expected a number, got {text!r}", file=label, line=line))
    return None


def read_measurements(source: Path | str, *, name: str | None = None,
                      analytes: Iterable[str] | None = None,
                      undetected: bool = False) -> list[Measurement]:
    """Numeric results: patient, specimen_type, study_day, analyte, value, unit [specimen_id].

    Every row of one analyte must share one unit. With `analytes`, only those analytes are
    accepted (matched exactly; the message lists them). With `undetected` (qPCR Ct values),
    a value written "undetermined" or "undetected" is read as infinity.
    """
    label = name or (str(source) if isinstance(source, Path) else "<text>")
    problems: list[Problem] = []
    rows = read_rows(source, ("patient", "specimen_type", "study_day", "analyte", "value",
                              "unit"), ("specimen_id",), name=label, problems=problems)
    allowed = set(analytes) if analytes is not None else None
    out: list[Measurement] = []
    units: dict[str, tuple[str, int]] = {}
    for row in rows:
        c = row.cells
        kind = c["specimen_type"].lower()
        if kind not in SPECIMEN_TYPES:
            problems.append(Problem("specimen_type", f"unknown specimen type {kind!r}; expected "
                                    f"one of {', '.join(SPECIMEN_TYPES)}", file=label,
                                    line=row.line))
        if allowed is not None and c["analyte"] not in allowed:
            problems.append(Problem("analyte", f"unknown analyte {c['analyte']!r}; expected one "
                                    f"of {', '.join(sorted(allowed))}", file=label,
                                    line=row.line))
        day = _int(c, "study_day", problems, label, row.line)
        value = _float(c, "value", problems, label, row.line, undetected)
        first = units.setdefault(c["analyte"], (c["unit"], row.line))
        if first[0] != c["unit"]:
            problems.append(Problem("unit", f"{c['analyte']} is in {first[0]!r} on line "
                                    f"{first[1]}; expected the same unit, got {c['unit']!r}",
                                    file=label, line=row.line))
        if day is not None and value is not None:
            out.append(Measurement(c["patient"], kind, day, c["analyte"], value, c["unit"],
                                   c["specimen_id"] or None, row.line))
    _no_duplicates(problems, label, ((m.line, (m.patient, m.specimen_type, m.study_day,
                                               m.analyte)) for m in out),
                   "patient, specimen type, study day and analyte")
    if problems:
        raise InputError(problems)
    return out


def read_genotypes(source: Path | str, *, name: str | None = None) -> list[GenotypeCall]:
    """Typing results: patient, gene, call [specimen_id]. Calls are parsed by each engine."""
    label = name or (str(source) if isinstance(source, Path) else "<text>")
    rows = read_rows(source, ("patient", "gene", "call"), ("specimen_id",), name=label)
    return [GenotypeCall(r.cells["patient"], r.cells["gene"], r.cells["call"],
                         r.cells["specimen_id"] or None, r.line) for r in rows]


def read_patients(source: Path | str, *, name: str | None = None) -> list[PatientGroup]:
    """Patients: patient, dose_level [best_response]."""
    label = name or (str(source) if isinstance(source, Path) else "<text>")
    problems: list[Problem] = []
    rows = read_rows(source, ("patient", "dose_level"), ("best_response",), name=label,
                     problems=problems)
    out: list[PatientGroup] = []
    for row in rows:
        level = _int(row.cells, "dose_level", problems, label, row.line)
        if level is not None:
            out.append(PatientGroup(row.cells["patient"], level,
                                    row.cells["best_response"].upper() or None, row.line))
    _no_duplicates(problems, label, ((p.line, p.patient) for p in out), "patient")
    if problems:
        raise InputError(problems)
    return out


def _no_duplicates(problems: list[Problem], label: str,
                   keyed: Iterable[tuple[int | None, object]], what: str) -> None:
    seen: dict[object, int | None] = {}
    for line, key in keyed:
        if key in seen:
            problems.append(Problem("", f"duplicate {what} (first on line {seen[key]})",
                                    file=label, line=line))
        else:
            seen[key] = line
