"""Core-laboratory results files: preview (validate, show what would be stored), then commit.

The file is read by phaseone.correlatives.records (one CSV validator for the project); this
module maps each row to a specimen by its label id and refuses the whole file if any row
is bad. A commit stores every row or none, and is audited with the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phaseone.correlatives.records import core_lab_analytes, decode_text, read_lab_results
from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import CENTRAL_LAB_WRITERS
from phaseone.store.models import ResultImport, Specimen, SpecimenResult
from phaseone.store.scope import Scope
from phaseone.workflow.specimens import SPECIMENS

RESULTS = records.EntitySpec(
    "specimen_results", "specimen result", SpecimenResult, CENTRAL_LAB_WRITERS
)
# Results are read from specimens that reached the laboratory (or were at least collected).
_RESULTABLE = ("collected", "processed", "shipped", "received")


@dataclass(frozen=True)
class Preview:
    file_name: str
    sha256: str
    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"file_name": self.file_name, "sha256": self.sha256, "rows": self.rows,
                "count": len(self.rows)}


def preview(scope: Scope, data: bytes, file_name: str) -> Preview:
    """Validate a results file against the analyte catalogue and the stored specimens.

    Raises InputError naming the line and column of every problem (all at once).
    """
    scope.require_role(CENTRAL_LAB_WRITERS, "import laboratory results")
    digest = hashlib.sha256(data).hexdigest()
    text = decode_text(data, file_name)
    rows = read_lab_results(text, core_lab_analytes(), name=file_name)
    problems: list[Problem] = []
    already = scope.session.scalar(
        select(ResultImport.id).where(ResultImport.sha256 == digest,
                                      ResultImport.voided.is_(False))
    )
    if already is not None:
        problems.append(Problem("", f"this file (SHA-256 {digest[:12]}...) was already imported "
                                f"as import {already}", file=file_name))
    codes = {r.specimen_id.strip().upper() for r in rows}
    found = {
        s.code: s
        for s in scope.session.scalars(
            records.visible(scope, SPECIMENS).where(
                Specimen.code.in_(codes), Specimen.voided.is_(False)
            )
        )
    }
    stored = {
        (r.specimen_id, r.analyte)
        for r in scope.session.scalars(
            select(SpecimenResult).where(
                SpecimenResult.specimen_id.in_([s.id for s in found.values()]),
                SpecimenResult.voided.is_(False),
            )
        )
    }
    out = []
    for r in rows:
        code = r.specimen_id.strip().upper()
        specimen = found.get(code)
        if specimen is None:
            problems.append(Problem("specimen_id", f"no specimen {r.specimen_id!r}",
                                    file=file_name, line=r.line))
            continue
        if specimen.status not in _RESULTABLE:
            problems.append(Problem("specimen_id", f"specimen {code} is {specimen.status}; "
                                    "results need a collected specimen", file=file_name,
                                    line=r.line))
            continue
        if (specimen.id, r.analyte) in stored:
            problems.append(Problem("analyte", f"specimen {code} already has a {r.analyte} "
                                    "result; void it before importing another", file=file_name,
                                    line=r.line))
            continue
        undetected = r.value is not None and math.isinf(r.value)
        out.append({
            "line": r.line, "specimen_id": code, "specimen": specimen.id,
            "subject_code": specimen.patient.subject_code,
            "assessment_id": specimen.assessment_id, "analyte": r.analyte,
            "value": None if undetected else r.value, "undetected": undetected,
            "call": r.call, "unit": r.unit,
        })
    if problems:
        raise InputError(problems)
    return Preview(file_name, digest, out)


def commit(scope: Scope, data: bytes, file_name: str) -> tuple[ResultImport, Preview]:
    """Store every row of a valid file (in the caller's one transaction), or nothing."""
    checked = preview(scope, data, file_name)
    batch = ResultImport(file_name=file_name[:200], sha256=checked.sha256,
                         rows=len(checked.rows), created_by=scope.actor.user_id)
    scope.session.add(batch)
    scope.session.flush()
    scope.audit("import", "result_imports", batch.id, new=records.content(batch),
                reason=f"core-lab results file {file_name}")
    patients = {
        s.id: s.patient_id
        for s in scope.session.scalars(
            select(Specimen).where(Specimen.id.in_([r["specimen"] for r in checked.rows]))
        )
    }
    for row in checked.rows:
        records.create(scope, RESULTS, {
            "patient_id": patients[row["specimen"]], "specimen_id": row["specimen"],
            "import_id": batch.id, "analyte": row["analyte"], "value": row["value"],
            "undetected": row["undetected"], "call": row["call"], "unit": row["unit"],
            "source_line": row["line"],
        })
    return batch, checked


def void_result(scope: Scope, result_id: int, reason: str) -> SpecimenResult:
    """Withdraw one stored result (kept, marked void, audited); a corrected value is then
    imported in a new file."""
    row: SpecimenResult = records.void(scope, RESULTS, result_id, reason)
    return row


def results_of(scope: Scope, specimen_id: int) -> list[SpecimenResult]:
    """The results of a specimen the actor may see (void ones included, marked)."""
    specimen = records.get(scope, SPECIMENS, specimen_id)
    stmt = select(SpecimenResult).where(SpecimenResult.specimen_id == specimen.id)
    return list(scope.session.scalars(stmt.order_by(SpecimenResult.id)))
