"""KIR and FcγR association with response from the trial database: the best responses the
disease evaluations give, beside typing imported from the core lab, in the command line and
in the study report's kir-fcgr section. The 2x2 tables are worked by hand below and their
Fisher p computed here with scipy from those hand-made tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from scipy.stats import fisher_exact
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.exports import snapshot as snapshots
from phaseone.reports.correlative_analyses import kir_fcgr
from phaseone.reports.findings import StudyData
from phaseone.workflow import correlative_data, results
from phaseone.workflow import evaluations as service
from phaseone.workflow import specimens as spec_service
from tests.workflow.conftest import T0, World
from tests.workflow.test_evaluations import _after_course_2, _evaluation

DAY = dt.timedelta(days=1)
# Patients 1-2 respond (primary 50 -> 30 mm, a 40% fall, MIBG and marrow cleared: PR);
# 3-4 do not (nothing changed from baseline: SD). Patients 1-2 are FCGR2A 131H/H and carry
# HLA-C C1 and C2; 3-4 are FCGR2A 131R/R and C1/C1, so KIR2DL1 (a C2 receptor) lacks its
# ligand in them alone.
PATIENTS = (
    (_after_course_2(30), "H/H", "C*07:01+C*05:01", "PR"),
    (_after_course_2(30), "H/H", "C*07:01+C*05:01", "PR"),
    (_after_course_2(50, marrow=20, pelvis=2), "R/R", "C*07:01+C*07:01", "SD"),
    (_after_course_2(50, marrow=20, pelvis=2), "R/R", "C*07:01+C*07:01", "SD"),
)
# Responders with / without the characteristic: 2 of 2 with H/H, 0 of 2 without; KIR2DL1
# ligand missing: 0 of 2 with, 2 of 2 without.
HH_TABLE = [[2, 0], [0, 2]]
MISSING_TABLE = [[0, 2], [2, 0]]


def _enter(world: World) -> list[str]:
    codes, lines = [], ["specimen_id,analyte,value,unit"]
    for after, fcgr2a, hla_c, _ in PATIENTS:
        patient_id = world.patient_on("chla", T0)
        with world.as_user("coord.chla") as scope:
            service.record(scope, world.trial, patient_id=patient_id,
                           evaluation=_evaluation(), disease_at_entry="measurable",
                           today=T0.date())
            service.record(scope, world.trial, patient_id=patient_id, evaluation=after,
                           course=2, today=(T0 + 60 * DAY).date())
            planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id,
                                                   course=1)
            codes.append(planned[0].patient.subject_code)
            immune = next(s for s in planned
                          if (s.assessment_id, s.course_day) == ("immune", 1))
            code = spec_service.collect(scope, specimen_id=immune.id,
                                        collected_on=immune.planned_on,
                                        collected_time=None).code
        typing = (("FCGR2A", fcgr2a), ("HLA-A", "A*02:01+A*24:02"),
                  ("HLA-B", "B*07:02+B*44:02"), ("HLA-C", hla_c), ("KIR2DL1", "present"),
                  ("KIR2DL3", "present"), ("KIR3DL1", "present"))
        lines += [f"{code},{gene},{call}," for gene, call in typing]
    with world.as_user("chair") as scope:
        results.commit(scope, ("\n".join(lines) + "\n").encode(), "core-lab.csv")
    return codes


def _row(rows: list[dict[str, Any]], characteristic: str) -> dict[str, Any]:
    return next(r for r in rows if r["characteristic"] == characteristic)


def _counts(row: dict[str, Any]) -> list[list[int]]:
    a, n1 = row["responders_with"], row["n_with"]
    c, n0 = row["responders_without"], row["n_without"]
    return [[a, n1 - a], [c, n0 - c]]


def test_genotypes_meet_the_best_responses_the_evaluations_give(world: World) -> None:
    codes = _enter(world)
    with world.as_user("chair") as scope:
        found = correlative_data.read(scope, world.trial)
    assert [(p.patient, p.best_response) for p in found.patients] == [
        (code, best) for code, (*_, best) in zip(codes, PATIENTS, strict=True)]

    hh_p = fisher_exact(HH_TABLE).pvalue  # 1/3: the hypergeometric tail of [[2,0],[0,2]]
    missing_p = fisher_exact(MISSING_TABLE).pvalue
    db = ["--database-url", world.db.url, "--format", "json"]
    got = CliRunner().invoke(app, ["correlatives", "fcgr", *db])
    assert got.exit_code == 0, got.output
    hh = _row(json.loads(got.output)["rows"], "FCGR2A 131H/H")
    assert _counts(hh) == HH_TABLE and abs(hh["p_value"] - hh_p) < 1e-12
    got = CliRunner().invoke(app, ["correlatives", "kir", *db])
    assert got.exit_code == 0, got.output
    missing = _row(json.loads(got.output)["rows"], "KIR2DL1 ligand missing")
    assert _counts(missing) == MISSING_TABLE and abs(missing["p_value"] - missing_p) < 1e-12

    with world.as_user("chair") as scope:
        snap = snapshots.read(scope, world.trial.protocol, purpose="study report")
    # The section reads the protocol and the snapshot only.
    data = StudyData(world.trial.protocol, snap, {}, {}, cast(Any, None), ())
    finding = kir_fcgr(data)
    by_title = {t.title: t.frame for t in finding.tables}
    fcgr_rows = by_title["Fc gamma receptor genotype and response"].to_dict("records")
    assert _counts(_row(fcgr_rows, "FCGR2A 131H/H")) == HH_TABLE
    kir_rows = by_title["KIR status and response"].to_dict("records")
    assert abs(_row(kir_rows, "KIR2DL1 ligand missing")["p_value"] - missing_p) < 1e-12
    assert not any("once best responses" in n for n in finding.paragraphs)
