"""The final study report: a section per objective, numbers worked by hand on a small trial,
the data cut-off, and the same document from the same data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.errors import InputError
from phaseone.protocol.model import Objective
from phaseone.reports import render
from phaseone.reports.gather import study_report
from phaseone.reports.study import as_dict, build, frame_html
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
    worst, severe, worst_by_course, severe_by_course, dlts = (tables[n] for n in sorted(tables))
    # By course: both children started course 1 (the denominator), the diarrhoea began in it.
    assert [r for r in worst_by_course if r["term"] == "Diarrhea"] == [
        {
            "course": course,
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
        for course in (1, "all")
    ]
    assert [(r["course"], r["term"], r["g3plus"]) for r in severe_by_course] == [
        (1, "Diarrhea", 1),
        ("all", "Diarrhea", 1),
    ]
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


def test_the_flow_diagram_draws_the_disposition_counts(trial_world: World) -> None:
    report = _report(trial_world)
    (flow,) = report.figures
    assert flow.number == 1 and flow.svg.startswith("<svg")
    # The counts of test_numbers_worked_by_hand, and the differences between the boxes.
    for text in (
        "Consented: 2",
        "Screened: 2",
        "Not eligible: 0",
        "Registered: 2",
        "Treated: 2 (DLT-evaluable: 1)",
        "Registered, not treated: 0",
        "On treatment: 1",
        "Off treatment early: 1",
        "progressive disease: 1",
    ):
        assert f">{text}</text>" in flow.svg, text
    page = _html(report)
    assert "Figure 1. Flow of patients through the trial" in page
    # The appendix names every figure and table with its source and the engine's version.
    appendix = page[page.index("Appendix") :]
    assert "<td>Figure 1</td>" in appendix
    for table in report.tables:
        assert f"<td>Table {table.number}</td><td>{escape(table.title)}</td>" in appendix
    assert appendix.count(f"phaseone {report.engine_version}") == len(report.tables) + 1


def test_mtd_section_gives_the_design_s_final_estimates(trial_world: World) -> None:
    report = _report(trial_world)
    section = next(s for s in report.sections if s.objective.id == "primary-1")
    _counts, final = section.finding.tables
    rows = final.frame.to_dict("records")
    level_ids = [lv.id for lv in trial_world.trial.protocol.dose_levels]
    assert [r["dose level"] for r in rows] == level_ids
    # The design reads signed determinations only; the one of this trial was entered without
    # a signature, so the design has no outcome yet: nobody evaluable, no estimate.
    assert [(r["DLT-evaluable"], r["DLTs"], r["estimated DLT rate"]) for r in rows] == [
        (0, 0, "")
    ] * len(level_ids)
    assert "The design's selection" in section.finding.paragraphs[1]
    assert "RP2D" in section.finding.paragraphs[0]


def test_escalation_history_names_recommendation_and_signature(trial_world: World) -> None:
    columns = list(_report(trial_world).escalation.frame.columns)
    assert columns == [
        "date",
        "from level",
        "decision",
        "to level",
        "the design's recommendation",
        "design",
        "confirmed by",
        "signed (UTC)",
    ]
