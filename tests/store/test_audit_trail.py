"""The audit trail: the database refuses UPDATE/DELETE, the hash chain exposes tampering."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from phaseone.store import audit, records
from phaseone.store.access import Role, Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import AuditPending, AuditRecord, Site
from phaseone.store.scope import Scope

OPERATOR = system_actor("cli:test", Source.cli)


def _seed(db: Database, n_patients: int = 3) -> None:
    with db.transaction() as session:
        scope = Scope(session, OPERATOR)
        session.add(Site(id="chla", name="CHLA", country="United States"))
        scope.audit("create", "sites", "chla", new={"name": "CHLA"})
        session.flush()
        for i in range(n_patients):
            patient = records.create(
                scope,
                records.SPECS["patients"],
                {
                    "site_id": "chla",
                    "subject_code": f"P-{i}",
                    "birth_date": dt.date(2015, 1, 1),
                    "sex": "F",
                },
            )
            records.update(
                scope, records.SPECS["patients"], patient.id, {"sex": "M"}, "entry error"
            )


def _drop_triggers(db: Database) -> None:
    """What someone with DDL rights could do: remove the append-only guard."""
    with db.engine.begin() as conn:
        for name in audit.APPEND_ONLY_TRIGGERS[db.engine.dialect.name]:
            on = " ON audit_records" if db.engine.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TRIGGER {name}{on}"))


def test_chain_links_and_hashes_follow_the_documented_formula(database: Database) -> None:
    _seed(database)
    with database.transaction() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    prev = "0" * 64
    for row in rows:
        # row_hash = sha256(prev_hash || canonical JSON of every other column), written out
        # here from the documented formula rather than through the module's own helper.
        body = {
            c: getattr(row, c)
            for c in AuditRecord.__table__.columns.keys()  # noqa: SIM118
            if c != "row_hash"
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert row.prev_hash == prev
        assert row.row_hash == hashlib.sha256((prev + canonical).encode()).hexdigest()
        prev = row.row_hash
    with database.transaction() as session:
        assert audit.verify(session).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET reason = 'rewritten' WHERE seq = 2",
        "DELETE FROM audit_records WHERE seq = 2",
        "DELETE FROM audit_records",
    ],
)
def test_database_refuses_update_and_delete(database: Database, statement: str) -> None:
    _seed(database, 1)
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))
    with database.transaction() as session:
        assert audit.verify(session).ok


def test_postgres_refuses_truncate(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    _seed(database, 1)
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_records"))


def test_tampered_value_is_found_and_named(database: Database) -> None:
    _seed(database)
    _drop_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET new_value = '\"F\"' WHERE seq = 4"))
    with database.transaction() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.problem == "content does not match its row_hash"
    assert result.checked == 3
    assert set(result.missing_triggers) == set(
        audit.APPEND_ONLY_TRIGGERS[database.engine.dialect.name]
    )


def test_deleted_record_is_found_as_a_gap(database: Database) -> None:
    _seed(database)
    _drop_triggers(database)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 3"))
    with database.transaction() as session:
        result = audit.verify(session)
    assert (result.first_bad_seq, result.problem) == (4, "sequence gap: expected 3")


def test_rewritten_chain_tail_is_found_at_the_first_changed_record(database: Database) -> None:
    """Re-hashing one record after editing it still breaks the next record's link."""
    _seed(database)
    _drop_triggers(database)
    with database.transaction() as session:
        row = session.get(AuditRecord, 5)
        assert row is not None
        values = {name: getattr(row, name) for name in audit.HASHED_FIELDS}
        values["reason"] = "innocent"
        forged = audit.row_hash(values)
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_records SET reason = 'innocent', row_hash = :h WHERE seq = 5"),
            {"h": forged},
        )
    with database.transaction() as session:
        result = audit.verify(session)
    assert (result.first_bad_seq, result.problem) == (
        6,
        "prev_hash does not match the previous record",
    )


def test_rolled_back_work_leaves_no_audit(database: Database) -> None:
    _seed(database, 1)
    with database.transaction() as session:
        before = session.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()))
    with pytest.raises(RuntimeError), database.transaction() as session:
        scope = Scope(session, OPERATOR)
        records.create(
            scope,
            records.SPECS["patients"],
            {"site_id": "chla", "subject_code": "X", "birth_date": dt.date(2015, 1, 1), "sex": "F"},
        )
        raise RuntimeError("abandon")
    with database.transaction() as session:
        after = session.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()))
    assert after == before


def test_concurrent_writers_never_fork_the_chain(database: Database) -> None:
    _seed(database, 0)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(10):
                with database.transaction() as session:
                    records.create(
                        Scope(session, OPERATOR),
                        records.SPECS["patients"],
                        {
                            "site_id": "chla",
                            "subject_code": f"W{k}-{i}",
                            "birth_date": dt.date(2015, 1, 1),
                            "sex": "U",
                        },
                    )
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.transaction() as session:
        result = audit.verify(session)
        assert result.ok
        assert result.head_seq == 1 + 60


def test_actor_is_recorded_for_each_action(database: Database) -> None:
    _seed(database, 0)
    from phaseone.store.access import Actor

    chair = Actor(7, "chair", Role.study_chair, None, Source.api, "10.0.0.9")
    with database.transaction() as session:
        records.create(
            Scope(session, chair),
            records.SPECS["escalation_decisions"],
            {"decided_on": dt.date(2024, 2, 1), "decision": "escalate", "design": "rolling-six"},
        )
    with database.transaction() as session:
        last = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert last is not None
    assert (last.user_id, last.username, last.role, last.source, last.client_ip) == (
        7,
        "chair",
        "study_chair",
        "api",
        "10.0.0.9",
    )
    assert last.at.endswith("Z")


def _patient(session: object, code: str) -> None:
    records.create(
        Scope(session, OPERATOR),  # type: ignore[arg-type]
        records.SPECS["patients"],
        {"site_id": "chla", "subject_code": code, "birth_date": dt.date(2015, 1, 1), "sex": "U"},
    )


def test_each_commit_is_sealed_before_the_writer_goes_on(database: Database) -> None:
    _seed(database, 0)
    with database.transaction() as session:
        _patient(session, "A")
    with database.transaction() as session:
        waiting = session.scalar(select(func.count()).select_from(AuditPending))
        newest = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert waiting == 0
    assert newest is not None and newest.action == "create" and newest.entity == "patients"


def test_entries_a_crashed_writer_left_waiting_are_sealed_by_the_next_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(database, 0)
    # The writer dies between its commit and sealing: its entry is stored, not chained.
    with monkeypatch.context() as patched:
        patched.setattr(audit, "seal", lambda engine: 0)
        with database.transaction() as session:
            _patient(session, "CRASHED")
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 1
        head = session.scalar(select(func.max(AuditRecord.seq)))
    with database.transaction() as session:
        _patient(session, "NEXT")
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
        tail = list(
            session.scalars(select(AuditRecord).where(AuditRecord.seq > head).order_by("seq"))
        )
        result = audit.verify(session)
    # Both entries are in the chain, the crashed writer's first (it was written first).
    codes = [json.loads(r.new_value or "{}").get("subject_code") for r in tail]
    assert codes == ["CRASHED", "NEXT"]
    assert result.ok and result.head_seq == head + 2


def test_verify_seals_what_is_waiting_then_checks_it(database: Database) -> None:
    from typer.testing import CliRunner

    from phaseone.cli import app

    _seed(database, 0)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(audit, "seal", lambda engine: 0)
        with database.transaction() as session:
            _patient(session, "WAITING")
    url = database.engine.url.render_as_string(hide_password=False)
    out = CliRunner().invoke(app, ["audit", "verify", "--database-url", url, "--format", "json"])
    assert out.exit_code == 0, out.output
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
        sealed = session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.entity == "patients")
        )
    assert sealed == 1


def test_every_concurrent_writer_returns_with_its_entries_sealed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers in one process share seals (one at a time; a writer that committed before a
    seal began rides on it), yet none returns before its own entry is in the chain."""
    _seed(database, 0)
    seals: list[int] = []
    real_seal = audit.seal
    monkeypatch.setattr(audit, "seal", lambda engine: seals.append(real_seal(engine)) or 0)
    missing: list[str] = []
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(8):
                code = f"S{k}-{i}"
                with database.transaction() as session:
                    _patient(session, code)
                with database.transaction() as session:
                    chained = session.scalar(
                        select(func.count())
                        .select_from(AuditRecord)
                        .where(AuditRecord.new_value.contains(f'"subject_code":"{code}"'))
                    )
                if chained != 1:
                    missing.append(code)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and missing == []
    # Every entry sealed exactly once, by one seal or another.
    assert sum(seals) == 48
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
        result = audit.verify(session)
    assert result.ok and result.head_seq == 1 + 48


def test_the_committed_version_moves_when_writers_commit_out_of_order(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages and the trial's state are kept under `committed_version`: a writer whose entry
    was numbered first but committed last must still move it, or a reader would be served
    what it computed before that commit."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: commits cannot interleave there")
    _seed(database, 0)
    monkeypatch.setattr(audit, "seal", lambda engine: 0)  # both stay waiting, as between
    first = database.factory()  # commit and seal
    try:
        _patient(first, "NUMBERED FIRST")
        audit._write_pending(first)  # its entry takes the lower number, still uncommitted
        with database.transaction() as second:
            _patient(second, "COMMITTED FIRST")
        with database.transaction() as reader:
            before = audit.committed_version(reader)
        first.commit()
    finally:
        first.close()
    with database.transaction() as reader:
        after = audit.committed_version(reader)
    assert before is not None and after is not None and after != before
    monkeypatch.undo()
    with database.transaction() as session:
        assert audit.verify(session).ok


def test_the_committed_version_moves_with_every_commit_and_only_then(
    database: Database,
) -> None:
    _seed(database, 0)

    def version() -> object:
        with database.transaction() as reader:
            return audit.committed_version(reader)

    # PostgreSQL's snapshot spans the cluster: another client's commit may move it too, so
    # two reads in a row must agree at least once in a few tries (never, if reading moved it).
    assert any(version() == version() for _ in range(3)), "nothing was committed"
    first = version()
    with database.transaction() as session:
        _patient(session, "NEW")
        assert audit.committed_version(session) is None, "its own change is not committed"
    assert version() != first
