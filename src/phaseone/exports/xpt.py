"""SAS transport version 5 files, checked against the format's limits before anything is written.

ReadStat-based writers (pyreadstat among them) silently cut long version-5 variable names and
labels, so two columns can collapse into one name. Every limit is checked here first and a
breach is an error naming the dataset, the variable and, for values, the row.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from phaseone.errors import InputError, Problem
from phaseone.exports.metadata import Domain

if TYPE_CHECKING:
    import pandas as pd

NAME = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
# The creation and modification stamps of the library and member headers (ddMMMyy:hh:mm:ss).
HEADER_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
OBSERVATIONS = b"HEADER RECORD*******OBS     HEADER RECORD"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MAX_LABEL = 40
MAX_CHAR = 200


def _ascii_problem(text: str) -> str | None:
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        return "has characters outside ASCII"
    return None


def check(domain: Domain, frame: pd.DataFrame) -> list[Problem]:
    """Every way `frame` would not survive as a version-5 transport file of `domain`."""
    problems: list[Problem] = []
    where = domain.name
    if not NAME.match(domain.name):
        problems.append(Problem(where, "dataset name must be 1-8 of A-Z and 0-9, from a letter"))
    if len(domain.label.encode("ascii", "replace")) > MAX_LABEL:
        problems.append(Problem(where, f"dataset label longer than {MAX_LABEL} bytes"))
    expected = list(domain.names)
    if list(frame.columns) != expected:
        problems.append(
            Problem(where, f"columns {list(frame.columns)} differ from the definition {expected}")
        )
        return problems
    for var in domain.variables:
        path = f"{where}.{var.name}"
        if not NAME.match(var.name):
            problems.append(
                Problem(path, "variable name must be 1-8 of A-Z and 0-9, from a letter")
            )
        label_problem = _ascii_problem(var.label)
        if label_problem or len(var.label) > MAX_LABEL:
            problems.append(Problem(path, f"label must be ASCII and at most {MAX_LABEL} bytes"))
        problems.extend(_check_values(path, var.type, frame[var.name].tolist()))
    return problems


def _check_values(path: str, kind: str, values: Sequence[object]) -> list[Problem]:
    problems: list[Problem] = []
    for row, value in enumerate(values, start=1):
        if kind == "num":
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(Problem(f"{path}[{row}]", f"expected a number, got {value!r}"))
            elif math.isinf(value):
                problems.append(Problem(f"{path}[{row}]", "infinite values cannot be stored"))
        else:
            if value is None:
                continue
            if not isinstance(value, str):
                problems.append(Problem(f"{path}[{row}]", f"expected text, got {value!r}"))
                continue
            bad = _ascii_problem(value)
            if bad:
                problems.append(Problem(f"{path}[{row}]", bad))
            elif len(value) > MAX_CHAR:
                problems.append(Problem(f"{path}[{row}]", f"longer than {MAX_CHAR} characters"))
    return problems


def write(
    domain: Domain, frame: pd.DataFrame, directory: Path, created: dt.datetime | None = None
) -> Path:
    """Write `frame` as `<domain>.xpt` (lower-case file name, as submissions name them).

    With `created`, the headers carry that time instead of the clock's, so the same data and
    stamp give the same bytes.
    """
    problems = check(domain, frame)
    if problems:
        raise InputError(problems)
    return write_checked(domain, frame, directory, created)


def write_checked(
    domain: Domain, frame: pd.DataFrame, directory: Path, created: dt.datetime | None = None
) -> Path:
    """`write` for a frame that `check` has already passed (a package checks every dataset
    before it writes any)."""
    import pyreadstat

    out = frame.copy()
    for var in domain.variables:
        if var.type == "char":
            out[var.name] = out[var.name].fillna("").astype(str)
        else:
            out[var.name] = out[var.name].astype("float64")
    path = directory / f"{domain.name.lower()}.xpt"
    pyreadstat.write_xport(
        out,
        str(path),
        file_label=domain.label,
        column_labels=[v.label for v in domain.variables],
        table_name=domain.name,
        file_format_version=5,
        variable_format={v.name: v.format for v in domain.variables if v.format} or None,
    )
    if created is not None:
        _restamp(path, created)
    return path


def _restamp(path: Path, created: dt.datetime) -> None:
    data = path.read_bytes()
    end = data.index(OBSERVATIONS)
    month = MONTHS[created.month - 1]
    stamp = f"{created:%d}{month}{created:%y:%H:%M:%S}".encode("ascii")
    header = HEADER_STAMP.sub(stamp, data[:end])
    path.write_bytes(header + data[end:])
