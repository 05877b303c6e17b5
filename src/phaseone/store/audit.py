"""The append-only, hash-chained audit trail.

Every change is recorded as pending in the session and written with the transaction's
other changes, unchained, to `audit_pending` (no lock: writers commit in parallel, and
PostgreSQL flushes their commits together). Once the transaction has committed, the writer
seals: under the chain lock (an advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
already holds the write lock) it moves every committed pending entry, its own and others',
into `audit_records`, reading the chain head and appending each entry with

    row_hash = sha256(prev_hash || canonical_json(entry without row_hash))

in one commit however many wait. Within a process one seal runs at a time and writers
that committed before it began ride on it (`_Sealer`). A request answers only after its
entries are sealed; a rolled-back transaction leaves no trace; entries a crashed writer
left pending are sealed by the next seal. The database refuses UPDATE and DELETE on
`audit_records` (triggers made by the migrations); the chain makes any edit made around
them evident to `verify`. It does not make edits impossible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, event, func, insert, select, text, true
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from phaseone.store.access import Actor
from phaseone.store.models import AuditPending, AuditRecord
from phaseone.store.types import utcnow

GENESIS_HASH = "0" * 64
# An arbitrary, fixed key for pg_advisory_xact_lock: "phase1" in ASCII.
CHAIN_LOCK_KEY = 0x706861736531
_PENDING = "phaseone_audit_pending"
_TO_SEAL = "phaseone_audit_to_seal"

# The fields that are hashed, in the order verify() reads them back.
HASHED_FIELDS = (
    "seq",
    "at",
    "user_id",
    "username",
    "role",
    "user_site_id",
    "action",
    "entity",
    "entity_id",
    "record_site_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "source",
    "client_ip",
    "prev_hash",
)

APPEND_ONLY_TRIGGERS = {
    "sqlite": ("audit_records_no_update", "audit_records_no_delete"),
    "postgresql": (
        "audit_records_no_update",
        "audit_records_no_delete",
        "audit_records_no_truncate",
    ),
}


# Plain JSON values, returned as they are. Exact types: an enum that is also a str or an
# int is not one of them.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A value as plain JSON data: dates in ISO 8601, enums by value."""
    # Plain values first: most values are, and every audit entry and signed record's hash
    # comes through here; the checks below cost several times as much per value.
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dt.datetime):
        return format_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """One byte-stable JSON text for a value: sorted keys, no spaces, UTF-8."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_hex(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def row_hash(values: Mapping[str, Any]) -> str:
    body = {name: values[name] for name in HASHED_FIELDS}
    return sha256_hex(str(values["prev_hash"]) + canonical_json(body))


@dataclass(frozen=True)
class Entry:
    """What happened, before it is given a place in the chain."""

    actor: Actor
    action: str
    entity: str
    entity_id: str | None
    record_site_id: str | None = None
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    reason: str | None = None
    at: dt.datetime = dataclasses.field(default_factory=utcnow)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    record_site_id: str | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
    has_old: bool = False,
    has_new: bool = False,
) -> None:
    """Queue one audit entry; it is written when the session commits.

    Values are stored as canonical JSON; `has_old`/`has_new` record an explicit null.
    """
    pending: list[Entry] = session.info.setdefault(_PENDING, [])
    pending.append(
        Entry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            record_site_id=record_site_id,
            field=field,
            old_value=canonical_json(old) if (old is not None or has_old) else None,
            new_value=canonical_json(new) if (new is not None or has_new) else None,
            reason=reason,
        )
    )


def _lock_chain(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


_TAKE = delete(AuditPending).returning(AuditPending.id, AuditPending.entry)
_HEAD = select(AuditRecord.seq, AuditRecord.row_hash).order_by(AuditRecord.seq.desc()).limit(1)


def _head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(_HEAD).first()
    return (0, GENESIS_HASH) if row is None else (row[0], row[1])


def _take_with_head_statement() -> Any:
    taken = _TAKE.cte("taken")
    head = _HEAD.subquery("head")
    return select(taken.c.id, taken.c.entry, head.c.seq, head.c.row_hash).outerjoin(
        head, true()
    )


# The queue emptied and the chain's head read in one round trip (PostgreSQL). Run after
# the chain lock is taken, the statement's snapshot sees every seal committed before it.
_TAKE_WITH_HEAD = _take_with_head_statement()


def _take_with_head(connection: Connection) -> tuple[list[tuple[int, str]], tuple[int, str]]:
    rows = connection.execute(_TAKE_WITH_HEAD).all()
    waiting = sorted((row[0], row[1]) for row in rows)
    if not rows or rows[0][2] is None:
        return waiting, (0, GENESIS_HASH)
    return waiting, (rows[0][2], rows[0][3])


def _unchained(entry: Entry) -> dict[str, Any]:
    """An entry's hashed fields but its place in the chain (`seq`, `prev_hash`)."""
    actor = entry.actor
    return {
        "at": format_utc(entry.at),
        "user_id": actor.user_id,
        "username": actor.username,
        "role": None if actor.role is None else actor.role.value,
        "user_site_id": actor.site_id,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "record_site_id": entry.record_site_id,
        "field": entry.field,
        "old_value": entry.old_value,
        "new_value": entry.new_value,
        "reason": entry.reason,
        "source": actor.source.value,
        "client_ip": actor.client_ip,
    }


def _write_pending(session: Session) -> None:
    """Write the session's entries with its changes (runs just before commit): they are
    committed, or rolled back, together. No lock is taken here."""
    pending: list[Entry] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()
    # Core, not the ORM: no objects are made for rows nothing reads again.
    session.connection().execute(
        insert(AuditPending), [{"entry": json.dumps(_unchained(e))} for e in pending]
    )
    session.info[_TO_SEAL] = True


def seal_waiting(connection: Connection) -> int:
    """Give every committed pending entry its place in the chain, oldest first, inside the
    transaction open on `connection`, under the chain lock (held until that transaction
    ends). Returns how many were sealed."""
    _lock_chain(connection)
    # Taken off the queue and chained in one transaction: both happen, or neither.
    if connection.dialect.name == "postgresql":
        waiting, head = _take_with_head(connection)
    else:  # SQLite has no DELETE inside WITH: two statements
        taken = connection.execute(_TAKE)
        waiting = sorted((row[0], row[1]) for row in taken)
        head = _head(connection) if waiting else (0, GENESIS_HASH)
    if not waiting:
        return 0
    seq, prev = head
    rows = []
    for _, entry in waiting:
        seq += 1
        values: dict[str, Any] = {**json.loads(entry), "seq": seq, "prev_hash": prev}
        values["row_hash"] = prev = row_hash(values)
        rows.append(values)
    connection.execute(insert(AuditRecord), rows)
    return len(waiting)


def seal(engine: Engine) -> int:
    """Seal every committed pending entry in one transaction of its own: many writers'
    entries share one commit (group commit). Returns how many were sealed. Entries a
    crashed writer left behind are sealed by the next seal (or `phaseone audit verify`)."""
    with engine.begin() as connection:
        return seal_waiting(connection)


class _Sealer:
    """One seal at a time per engine in this process; a writer whose commit came before a
    seal began rides on that seal instead of running one of its own.

    A seal takes every entry committed before its DELETE ran, so a seal that *began* after
    a writer committed has sealed that writer's entries. Writers that finish while a seal
    runs wait for it, and the next seal (run by one of them) covers them all: one lock,
    one round of statements and one commit for many writers."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.begun = 0  # seals begun in this process
        self.done = 0  # the newest of them that committed
        self.running = False

    def after_commit(self, engine: Engine) -> None:
        """Return once a seal begun after this call has committed (or raise its error)."""
        with self.cond:
            wanted = self.begun + 1  # the first seal to begin from now on covers us
            while self.running and self.done < wanted:
                self.cond.wait()
            if self.done >= wanted:
                return
            self.running = True
            self.begun += 1
            mine = self.begun
        sealed = False
        try:
            seal(engine)
            sealed = True
        finally:
            with self.cond:
                self.running = False
                if sealed:
                    self.done = max(self.done, mine)
                self.cond.notify_all()


_sealers: weakref.WeakKeyDictionary[Engine, _Sealer] = weakref.WeakKeyDictionary()
_sealers_lock = threading.Lock()


def _sealer(engine: Engine) -> _Sealer:
    with _sealers_lock:
        found = _sealers.get(engine)
        if found is None:
            # The sealer holds no reference to its engine: the entry goes with the engine.
            found = _sealers[engine] = _Sealer()
        return found


def _seal_after_commit(session: Session, transaction: SessionTransaction) -> None:
    # After the transaction has ended and given its connection back: sealing takes one
    # of its own, and a request must not hold two.
    if transaction.parent is None and session.info.pop(_TO_SEAL, False):
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        _sealer(engine).after_commit(engine)


def committed_version(session: Session) -> tuple[object, ...] | None:
    """A version of the committed data as `session` sees it, which moves with every
    committed change and never comes back; it versions whatever is derived from the stored
    data. None while the session holds changes of its own not yet committed, which no
    version describes.

    On PostgreSQL it is the snapshot the statement reads with (`pg_current_snapshot()`:
    the next transaction id and those still running): two equal snapshots see the same
    committed transactions, so the same data. Reading it costs nothing, however many rows
    the tables hold. On SQLite it is the chain's head and the newest entry waiting to be
    sealed: every committed change writes an entry, and a seal, which takes entries away,
    moves the head. (SQLite's writers hold its one write lock from their first statement,
    so they commit in the order their entries were numbered; PostgreSQL's need not.)"""
    if session.info.get(_PENDING) or session.new or session.deleted:
        return None
    if session.get_bind().dialect.name == "postgresql":
        return (str(session.execute(_SNAPSHOT).scalar_one()),)
    head = select(func.max(AuditRecord.seq)).scalar_subquery()
    newest = select(func.max(AuditPending.id)).scalar_subquery()
    row = session.execute(select(head, newest)).one()
    return int(row[0] or 0), int(row[1] or 0)


_SNAPSHOT = text("SELECT pg_current_snapshot()::text")


def _discard(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_TO_SEAL, None)


def install(factory: sessionmaker[Session]) -> None:
    """Make every session of `factory` write its audit entries with its changes, and seal
    them into the chain once it has committed."""
    event.listen(factory, "before_commit", _write_pending)
    event.listen(factory, "after_transaction_end", _seal_after_commit)
    event.listen(factory, "after_rollback", _discard)


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The outcome of re-computing the chain: how far it holds, and the first break."""

    checked: int
    head_seq: int
    first_bad_seq: int | None
    problem: str | None
    missing_triggers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.missing_triggers

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "missing_triggers": list(self.missing_triggers),
        }


def _records(session: Session) -> Iterator[AuditRecord]:
    stmt = select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=2000)
    yield from session.scalars(stmt)


def installed_triggers(session: Session) -> set[str]:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_records'"
    else:
        sql = (
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid = to_regclass('audit_records')"
        )
    return {str(name) for name in session.scalars(text(sql))}


def seal_and_verify(session: Session) -> Verification:
    """Seal what waits, then recompute the whole chain: the one check behind `phaseone
    audit verify`, `GET /api/v1/audit/verify` and the audit page. Entries committed but
    not yet sealed (a writer between its commit and its seal, or one that died there)
    join the chain first, so the check covers every committed change. The seal is
    committed with whatever `session` holds so far, before the long read, so that the
    chain lock is not held while the whole trail is read."""
    seal_waiting(session.connection())
    session.commit()
    return verify(session)


def verify(session: Session) -> Verification:
    """Recompute the whole chain; report the first record whose link or hash is wrong."""
    expected_prev, expected_seq, checked, head = GENESIS_HASH, 1, 0, 0
    first_bad: int | None = None
    problem: str | None = None
    for rec in _records(session):
        head = rec.seq
        if first_bad is None:
            values = {name: getattr(rec, name) for name in (*HASHED_FIELDS, "row_hash")}
            if rec.seq != expected_seq:
                first_bad, problem = rec.seq, f"sequence gap: expected {expected_seq}"
            elif rec.prev_hash != expected_prev:
                first_bad, problem = rec.seq, "prev_hash does not match the previous record"
            elif row_hash(values) != rec.row_hash:
                first_bad, problem = rec.seq, "content does not match its row_hash"
            else:
                checked += 1
            expected_prev, expected_seq = rec.row_hash, rec.seq + 1
    wanted = APPEND_ONLY_TRIGGERS.get(session.get_bind().dialect.name, ())
    present = installed_triggers(session)
    missing = tuple(name for name in wanted if name not in present)
    return Verification(checked, head, first_bad, problem, missing)
