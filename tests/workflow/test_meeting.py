"""The dose-escalation meeting pack, gathered through the workflow and rendered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.reports import render
from phaseone.store.errors import PermissionDenied
from phaseone.workflow import treatment
from phaseone.workflow.meeting import meeting_pack
from tests.workflow.conftest import T0, World


@pytest.fixture
def cohort(world: World) -> World:
    first = world.patient_on("chla", T0, doses=3)
    with world.as_user("coord.chla") as scope:
        treatment.record_adverse_event(
            scope,
            world.trial,
            patient_id=first,
            term="Nausea",
            grade=2,
            onset=T0.date() + dt.timedelta(days=4),
            attribution={"lenalidomide": "possible"},
            course=1,
        )
    return world


def test_pack_for_an_open_window(cohort: World) -> None:
    as_of = T0.date() + dt.timedelta(days=5)
    with cohort.as_user("chair") as scope:
        pack = meeting_pack(scope, cohort.trial, as_of)
    (patient,) = pack.patients
    assert patient.subject == "CHLA-001" and patient.window == "open"
    assert patient.course_start == T0.date()
    doses = {d.agent.lower(): d for d in patient.doses}
    assert (doses["lenalidomide"].days_given, doses["lenalidomide"].days_planned) == (3, 21)
    assert doses["lenalidomide"].mg_given == pytest.approx(doses["lenalidomide"].mg_planned)
    (tox,) = patient.toxicities
    assert (tox.term, tox.grade, tox.in_window) == ("Nausea", 2, True)
    assert patient.determination is None and pack.decision is None
    # One patient is pending: the table has both ways that patient can go.
    assert pack.what_if.basis == "pending" and len(pack.what_if.scenarios) == 2
    page = render.html("meeting.html", pack=pack, generated="now", footer="f")
    assert "CHLA-001" in page and "Nausea" in page and "No decision is waiting" in page
    assert render.pdf(page).startswith(b"%PDF")


def test_site_staff_cannot_read_the_pack(cohort: World) -> None:
    with cohort.as_user("coord.chla") as scope, pytest.raises(PermissionDenied):
        meeting_pack(scope, cohort.trial, T0.date())


def test_cli_writes_the_pack(cohort: World, tmp_path: Path) -> None:
    out = tmp_path / "pack.html"
    as_of = (T0.date() + dt.timedelta(days=5)).isoformat()
    result = CliRunner().invoke(
        app,
        [
            "report",
            "meeting",
            "-o",
            str(out),
            "--as-of",
            as_of,
            "--database-url",
            str(cohort.db.url),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "CHLA-001" in out.read_text()
    bad = CliRunner().invoke(
        app,
        ["report", "meeting", "-o", str(tmp_path / "p.txt"), "--database-url", str(cohort.db.url)],
    )
    assert bad.exit_code == 2 and "--output" in bad.output
