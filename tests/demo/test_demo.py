"""`phaseone demo --no-serve`: the demo trial is built through the workflow, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.protocol import resolve_protocol
from phaseone.store import audit
from phaseone.store.db import Database
from phaseone.store.models import AuditRecord, Registration, Signature, Site, User
from phaseone.store.security import verify_password
from phaseone.trial import LevelState
from phaseone.workflow import Trial
from phaseone.workflow.history import trial_state

pytestmark = pytest.mark.slow


def test_the_demo_is_a_trial_in_progress_built_through_the_workflow(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--database", str(path), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "demo trial written" in result.output
    # The database file is its owner's only; no password file is kept beside it.
    assert path.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{path}.logins").exists()
    # Each account has its own password, printed once.
    shown = {
        cells[0]: cells[1]
        for line in result.output.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 4
    }
    password = shown["coord.chla"]
    assert len(password) >= 16 and shown["inv.chla"] != password
    assert len(set(shown.values()) - {"password"}) == 10

    db = Database(f"sqlite:///{path}")
    try:
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Site)) == 15
            roles = set(session.scalars(select(User.role)))
            assert roles == {
                "admin",
                "study_chair",
                "site_coordinator",
                "site_investigator",
                "statistician",
                "monitor",
            }
            levels = sorted(session.scalars(select(Registration.dose_level)))
            assert levels == [1] * 3 + [2] * 6 + [3] * 3
            meanings = {s.meaning_id for s in session.scalars(select(Signature))}
            assert meanings == {
                "eligibility-confirmed",
                "dlt-determination",
                "escalation-decision",
            }
            # Made by the workflow: every step is in the audit trail, and it verifies.
            actions = set(session.scalars(select(AuditRecord.action)))
            assert {"create", "sign", "slot_change", "notify"} <= actions
            assert audit.verify(session).ok
            trial = Trial.from_protocol(resolve_protocol("nant-2011-04"))
            state = trial_state(session, trial, dt.datetime.now(dt.UTC).date())
            assert state.current_level == 3
            assert state.level(2).dlt == 1
            assert state.level(3).state is LevelState.OPEN
            assert [w.due for w in state.pending] == [True, False, False]
    finally:
        db.dispose()

    again = runner.invoke(app, ["demo", "--database", str(path), "--no-serve"])
    assert again.exit_code == 0 and "using the demo trial" in again.output
    assert password not in again.output
    # The printed password is the account's.
    with db.transaction() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "coord.chla"))
    assert verify_password(stored, password) and not verify_password(stored, shown["inv.chla"])
