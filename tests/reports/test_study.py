"""The final study report: a section per objective, numbers worked by hand on a small trial,
the data cut-off, and the same document from the same data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.errors import InputError
from phaseone.protocol.model import Objective
from phaseone.reports import render
from phaseone.reports.study import as_dict, build, frame_html
from phaseone.workflow.reporting import study_report
from tests.workflow.conftest import T0, World

AFTER = T0.date() + dt.timedelta(days=40)


def _report(world: World, as_of: dt.date = AFTER):
    with world.as_user("chair") as scope:
        return study_report(scope, world.trial, as_of)


def _html(report, generated: str = "STAMP") -> str:
    return render.html(
        "study.html", report=report, generated=generated, footer="f", frame_html=frame_html
    )


def test_every_objective_of_the_protocol_has_its_section(trial_world: World) -> None:
    report = _report(trial_world)
    ids = [o.id for o in trial_world.trial.protocol.objectives]
    assert [s.objective.id for s in report.sections] == ids
    page = _html(report)
    for objective_id in ids:
        assert f"({objective_id})" in page
    # Objectives without data say why, naming what is missing.
    unavailable = {s.objective.id: s.finding.unavailable for s in report.sections}
    assert unavailable["secondary-6"] == "no disease evaluations have been recorded"
    assert unavailable["primary-2"] is None and unavailable["primary-1"] is None


def test_numbers_worked_by_hand(trial_world: World) -> None:
    report = _report(trial_world)
    # Two consented, screened, eligible, registered and treated children; CHLA-001 went off
    # treatment for progression after a DLT the chair judged evaluable; CHOP-002 goes on.
    assert report.disposition == {
        "consented": 2,
        "screened": 2,
        "eligible": 2,
        "registered": 2,
        "treated": 2,
        "dlt_evaluable": 1,
        "on_treatment": 1,
        "completed": 0,
        "discontinued": 1,
    }
    assert report.off_treatment == {"PROGRESSIVE DISEASE": 1}
    tables = as_dict(report)["sections"]["primary-2"]["tables"]
    worst, severe, dlts = (tables[n] for n in sorted(tables))
    diarrhea = [r for r in worst if r["term"] == "Diarrhea" and r["dose_level"] == "all"]
    assert diarrhea == [
        {
            "dose_level": "all",
            "term": "Diarrhea",
            "n_patients": 2,
            "g1": 0,
            "g2": 0,
            "g3": 1,
            "g4": 0,
            "g5": 0,
            "g3plus": 1,
            "pct_g3plus": 50.0,
        }
    ]
    assert [r["term"] for r in severe] == ["Diarrhea", "Diarrhea"]  # its level, then all
    assert sum(r["patients with a DLT"] for r in dlts) == 1
    assert "CHLA-001: Diarrhea grade 3" in " ".join(r["DLT events"] for r in dlts)
    # Tables are numbered in order through the report.
    assert [t.number for t in report.tables] == list(range(1, len(report.tables) + 1))


def test_data_cut_off_leaves_out_what_came_after(trial_world: World) -> None:
    # Day 9 of course 1: the diarrhoea (day 10), its DLT determination and the end of
    # treatment (day 21) had not happened yet.
    report = _report(trial_world, T0.date() + dt.timedelta(days=8))
    assert report.disposition["discontinued"] == 0 and report.disposition["dlt_evaluable"] == 0
    tables = as_dict(report)["sections"]["primary-2"]["tables"]
    assert not any(r["term"] == "Diarrhea" for rows in tables.values() for r in rows if "term" in r)


def test_same_data_same_document_apart_from_the_stamp(trial_world: World) -> None:
    first = _html(_report(trial_world), "2025-01-01 00:00 UTC")
    second = _html(_report(trial_world), "2026-12-31 23:59 UTC")
    assert first != second
    strip = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert strip.sub("", first) == strip.sub("", second)


def test_an_objective_naming_an_unknown_analysis_is_refused(trial_world: World) -> None:
    protocol = trial_world.trial.protocol
    odd = protocol.model_copy(
        update={
            "objectives": (
                Objective(
                    id="x-1", kind="secondary", text="t", provenance="registry", analysis="nope"
                ),
            )
        }
    )
    with pytest.raises(InputError) as err:
        build(odd, None, None, (), AFTER)  # type: ignore[arg-type]
    assert err.value.problems[0].path == "objectives.x-1.analysis"


def test_cli_writes_the_pdf(trial_world: World, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "study",
            "-o",
            str(out),
            "--as-of",
            AFTER.isoformat(),
            "--database-url",
            str(trial_world.db.url),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
