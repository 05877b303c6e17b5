"""The service's commands: db upgrade, users add, audit verify / export, first-run admin."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.cli.serve import ensure_admin
from phaseone.errors import InputError
from phaseone.store import audit
from phaseone.store.db import Database

runner = CliRunner()


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env)


def test_upgrade_seeds_the_protocols_fifteen_sites_once(database: Database) -> None:
    first = _run("db", "upgrade", "--database-url", _url(database))
    assert first.exit_code == 0, first.output
    assert "15 site(s) added" in first.output
    again = _run("db", "upgrade", "--database-url", _url(database))
    assert "0 site(s) added" in again.output
    current = _run("db", "current", "--database-url", _url(database), "--format", "json")
    info = json.loads(current.output)
    assert info["revision"] == info["newest"]


def test_users_add_and_audit_verify_then_tampering_is_named(database: Database) -> None:
    url = _url(database)
    assert _run("db", "upgrade", "--database-url", url).exit_code == 0
    added = _run(
        "users", "add", "ada", "--role", "site_investigator", "--site", "chla",
        "--full-name", "Ada L", "--database-url", url,
        env={"PHASEONE_NEW_PASSWORD": "a long enough password"},
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    weak = _run(
        "users", "add", "bob", "--role", "monitor", "--full-name", "Bob", "--database-url", url,
        env={"PHASEONE_NEW_PASSWORD": "short"},
    )  # fmt: skip
    # (`phaseone` turns an InputError into one "error: ..." line per problem and exit 2.)
    assert isinstance(weak.exception, InputError)
    assert "password: must be at least 12 characters" in str(weak.exception)
    wrong_site = _run(
        "users", "add", "cy", "--role", "monitor", "--site", "chla", "--full-name", "Cy",
        "--database-url", url, env={"PHASEONE_NEW_PASSWORD": "a long enough password"},
    )  # fmt: skip
    assert isinstance(wrong_site.exception, InputError)
    assert "site_id" in str(wrong_site.exception)
    verified = _run("audit", "verify", "--database-url", url, "--format", "json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True

    with database.engine.begin() as conn:
        for name in audit.APPEND_ONLY_TRIGGERS[database.engine.dialect.name]:
            on = " ON audit_records" if database.engine.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER {name}{on}"))
        conn.execute(text("UPDATE audit_records SET username = 'someone' WHERE seq = 16"))
    broken = _run("audit", "verify", "--database-url", url)
    assert broken.exit_code == 1
    assert "first bad record: seq 16" in broken.output
    assert "triggers missing" in broken.output
    as_json = _run("audit", "verify", "--database-url", url, "--format", "json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)  # only JSON on stdout: the triggers are in it
    assert report["first_bad_seq"] == 16 and report["missing_triggers"]


def test_audit_export_writes_json_lines_and_is_itself_audited(database: Database, tmp_path) -> None:
    url = _url(database)
    _run("db", "upgrade", "--database-url", url)
    out = tmp_path / "trail.jsonl"
    done = _run("audit", "export", "--database-url", url, "--output", str(out))
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 15 and lines[0]["seq"] == 1
    second = tmp_path / "again.jsonl"
    _run("audit", "export", "--database-url", url, "--output", str(second))
    actions = [json.loads(line)["action"] for line in second.read_text().splitlines()]
    assert actions[-1] == "audit_export"


def test_first_run_admin_comes_from_the_environment_never_a_default(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHASEONE_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("PHASEONE_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(typer.Exit):
        ensure_admin(database)
    monkeypatch.setenv("PHASEONE_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("PHASEONE_ADMIN_PASSWORD", "correct horse battery staple")
    ensure_admin(database)
    listed = _run("users", "list", "--database-url", _url(database), "--format", "json")
    users = json.loads(listed.output)
    assert [(u["username"], u["role"]) for u in users] == [("boss", "admin")]


def test_users_reset_code_prints_a_code_that_sets_the_password_once(database: Database) -> None:
    from phaseone.store import onetime
    from phaseone.store.access import Source

    url = _url(database)
    assert _run("db", "upgrade", "--database-url", url).exit_code == 0
    env = {"PHASEONE_NEW_PASSWORD": "a long enough password"}
    added = _run(
        "users", "add", "dee", "--role", "monitor", "--full-name", "Dee M",
        "--database-url", url, env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    out = _run("users", "reset-code", "dee", "--reason", "forgotten", "--database-url", url)
    assert out.exit_code == 0, out.output
    code = out.output.split("one-time code for dee: ")[1].split()[0]
    with database.transaction() as session:
        user = onetime.redeem(
            session, "dee", code, "violet tractor harbour 1987 lantern",
            source=Source.page, client_ip=None,
        )  # fmt: skip
        assert user.username == "dee"
    missing = _run("users", "reset-code", "nobody", "--reason", "x", "--database-url", url)
    assert missing.exit_code != 0
