"""Grade a table of lab results (one row per value) and explain each grade.

Required columns: analyte, value, unit. Optional: patient_id, date, lln, uln (per-record
range, same unit as value), age_years and sex (to look the range up in a table when the row
has none), baseline and baseline_uln (or an is_baseline column marking each patient's
baseline row per analyte), symptomatic and intervention (from the linked AE record), fasting
(whether a glucose sample was taken fasting: CTCAE v4.03 hyperglycemia grades 1-2 need it).
Total calcium is albumin-corrected when an albumin value of the same patient and date is
present; the corrected value is what is graded, and the row says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from phaseone.errors import InputError, Problem
from phaseone.labs import analyte as lookup_analyte
from phaseone.safety.ctcae import Clinical, check_version, corrected_calcium, grade_value
from phaseone.safety.ranges import RangeTable, default_ranges, resolve_range

REQUIRED = ("analyte", "value", "unit")
OUTPUT = (
    "grade",
    "term",
    "rule",
    "ctcae_version",
    "graded_value",
    "graded_unit",
    "lln_used",
    "uln_used",
    "range_source",
    "baseline_used",
    "baseline_status",
    "clinical_basis",
    "note",
)


def _blank(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x == ""


def _number(row: dict[str, Any], col: str, path: str) -> float | None:
    x = row.get(col)
    if x is None or _blank(x):
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        raise InputError([Problem(f"{path}.{col}", f"expected a number, got {x!r}")]) from None


def _flag(row: dict[str, Any], col: str, path: str) -> bool | None:
    x = row.get(col)
    if _blank(x):
        return None
    text = str(x).strip().lower()
    if text in {"true", "yes", "y", "1", "1.0"}:
        return True
    if text in {"false", "no", "n", "0", "0.0"}:
        return False
    raise InputError([Problem(f"{path}.{col}", f"expected yes/no (true/false), got {x!r}")])


def grade_labs(
    frame: pd.DataFrame,
    *,
    version: str,
    ranges: Sequence[RangeTable] = (),
    use_default_ranges: bool = True,
) -> pd.DataFrame:
    """The input rows with grade, term, rule and explanation columns added.

    Every problem in the input is reported at once, each naming its row and column.
    """
    checked = check_version(version)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            [
                Problem(c, "required column is missing; expected analyte, value, unit")
                for c in missing
            ]
        )
    tables = tuple(ranges) + ((default_ranges(),) if use_default_ranges else ())
    rows: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in frame.to_dict("records")
    ]
    baselines = _baselines(rows)
    albumin = _albumin_by_visit(rows)
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        path = f"row {i + 1}"
        try:
            _check_date(row, path)
            out.append(_grade_row(row, path, checked, tables, baselines, albumin))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    added = pd.DataFrame(out, columns=list(OUTPUT), index=frame.index)
    return pd.concat([frame, added], axis=1)


def _check_date(row: dict[str, Any], path: str) -> None:
    """A `date` (when given) is a calendar date: it pairs calcium with the same day's albumin."""
    value = row.get("date")
    if _blank(value):
        return
    try:
        dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            [Problem(f"{path}.date", f"expected a date YYYY-MM-DD, got {value!r}")]
        ) from None


def _baselines(rows: list[dict[str, Any]]) -> dict[tuple[Any, str], dict[str, Any]]:
    if not rows or "is_baseline" not in rows[0]:
        return {}
    found: dict[tuple[Any, str], dict[str, Any]] = {}
    for i, row in enumerate(rows):
        if _flag(row, "is_baseline", f"row {i + 1}"):
            found[(row.get("patient_id"), str(row["analyte"]))] = row
    return found


def _albumin_by_visit(rows: list[dict[str, Any]]) -> dict[tuple[Any, Any], dict[str, Any]]:
    return {
        (row.get("patient_id"), row.get("date")): row
        for row in rows
        if str(row.get("analyte")) == "albumin" and not _blank(row.get("value"))
    }


def _grade_row(
    row: dict[str, Any],
    path: str,
    version: str,
    tables: tuple[RangeTable, ...],
    baselines: dict[tuple[Any, str], dict[str, Any]],
    albumin: dict[tuple[Any, Any], dict[str, Any]],
) -> dict[str, Any]:
    analyte_id = str(row["analyte"]).strip()
    spec = lookup_analyte(analyte_id, path=f"{path}.analyte")
    value = _number(row, "value", path)
    if value is None:
        raise InputError([Problem(f"{path}.value", "a value is required")])
    unit = str(row["unit"]).strip() if not _blank(row.get("unit")) else ""
    if not unit:
        raise InputError(
            [
                Problem(
                    f"{path}.unit",
                    f"a unit is required; expected one of: {', '.join(spec.spellings)}",
                )
            ]
        )
    notes: list[str] = []
    if analyte_id == "calcium":
        alb = albumin.get((row.get("patient_id"), row.get("date")))
        if alb is not None:
            alb_value = _number(alb, "value", path)
            assert alb_value is not None
            corrected = corrected_calcium(value, unit, alb_value, str(alb["unit"]))
            # back into the row's unit, so the row's own range still applies as written
            value = corrected / spec.to_canonical(1.0, unit, path=f"{path}.unit")
            notes.append(f"albumin-corrected with albumin {alb_value:g} {alb['unit']}")
        else:
            notes.append("not albumin-corrected: no albumin on the same date")
    lln, uln = _number(row, "lln", path), _number(row, "uln", path)
    source = "result"
    if lln is None and uln is None:
        age = _number(row, "age_years", path)
        sex = None if _blank(row.get("sex")) else str(row["sex"]).strip().upper()
        found = resolve_range(analyte_id, age, sex, tables, path=f"{path}.")
        if found is not None:
            factor = spec.to_canonical(1.0, unit, path=f"{path}.unit")
            lln, uln, source = found.lln / factor, found.uln / factor, found.source
        else:
            source = "none"
    elif _blank(row.get("lln")) != _blank(row.get("uln")):
        source = "result (one limit)"
    baseline = _number(row, "baseline", path)
    baseline_uln = _number(row, "baseline_uln", path)
    base_row = baselines.get((row.get("patient_id"), analyte_id))
    if baseline is None and base_row is not None:
        baseline = _number(base_row, "value", path)
        baseline_uln = _number(base_row, "uln", path)
        if str(base_row.get("unit")).strip() != unit:
            assert baseline is not None
            f_base = spec.to_canonical(1.0, str(base_row["unit"]), path=f"{path}.unit")
            f_row = spec.to_canonical(1.0, unit, path=f"{path}.unit")
            baseline = baseline * f_base / f_row
            baseline_uln = None if baseline_uln is None else baseline_uln * f_base / f_row
    clinical = Clinical(
        symptomatic=_flag(row, "symptomatic", path),
        intervention=_flag(row, "intervention", path),
        fasting=_flag(row, "fasting", path),
    )
    graded = grade_value(
        analyte_id,
        value,
        unit,
        version=version,
        lln=lln,
        uln=uln,
        baseline=baseline,
        baseline_uln=baseline_uln,
        clinical=clinical,
        path=path,
    )
    if graded.note:
        notes.append(graded.note)
    return {
        "grade": graded.grade,
        "term": graded.term,
        "rule": graded.rule,
        "ctcae_version": graded.version,
        "graded_value": graded.value,
        "graded_unit": graded.unit,
        "lln_used": graded.lln,
        "uln_used": graded.uln,
        "range_source": source,
        "baseline_used": graded.baseline,
        "baseline_status": graded.baseline_status,
        "clinical_basis": graded.clinical_basis,
        "note": "; ".join(notes) or None,
    }
