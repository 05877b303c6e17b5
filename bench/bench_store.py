"""Concurrent writers against the store: throughput, p50/p99 latency, nothing lost.

Each writer thread records adverse events, one per transaction, through the same repository
code the API uses (scoping, audit trail, hash chain). A write counts as acknowledged when its
commit returns. Afterwards every acknowledged id must be present and the audit chain intact.

    python bench/bench_store.py [--writes 200] [--writers 1,4,16] [--sqlite]

PostgreSQL comes from PHASEONE_BENCH_DATABASE_URL, else PHASEONE_TEST_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/postgres; the run uses a throw-away schema.
There is no published peer figure for this workload; the table reports ours only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from phaseone.store import audit, records
from phaseone.store.access import Actor, Role, Source
from phaseone.store.db import Database
from phaseone.store.models import AdverseEvent, Site
from phaseone.store.scope import Scope
from phaseone.store.testing import postgres_database, sqlite_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COORDINATOR = Actor(1, "bench", Role.site_coordinator, "chla", Source.api, "127.0.0.1")


def _prepare(db: Database, n_patients: int) -> list[int]:
    with db.transaction() as session:
        session.add(Site(id="chla", name="CHLA", country="United States"))
        session.flush()
        scope = Scope(session, COORDINATOR)
        patients = [
            records.create(
                scope,
                records.SPECS["patients"],
                {
                    "site_id": "chla",
                    "subject_code": f"CHLA-B{i}",
                    "birth_date": dt.date(2015, 1, 1),
                    "sex": "U",
                },
            )
            for i in range(n_patients)
        ]
        return [p.id for p in patients]


def _run(db: Database, writers: int, writes: int) -> dict[str, object]:
    patients = _prepare(db, writers)
    latencies: list[float] = []
    acknowledged: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(writers)

    def writer(k: int) -> None:
        start_gate.wait()
        mine_lat, mine_ids = [], []
        try:
            for i in range(writes):
                t0 = time.perf_counter()
                with db.transaction() as session:
                    ae = records.create(
                        Scope(session, COORDINATOR),
                        records.SPECS["adverse_events"],
                        {
                            "patient_id": patients[k],
                            "term_verbatim": f"event {i}",
                            "grade": 1 + i % 4,
                            "ctcae_version": "5.0",
                            "onset_date": dt.date(2024, 1, 1),
                            "attribution": {"lenalidomide": "possible"},
                        },
                    )
                    ae_id = ae.id
                mine_lat.append(time.perf_counter() - t0)
                mine_ids.append(ae_id)
        except BaseException as exc:
            failures.append(exc)
        with lock:
            latencies.extend(mine_lat)
            acknowledged.extend(mine_ids)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    with db.transaction() as session:
        stored = set(session.scalars(select(AdverseEvent.id)))
        chain = audit.verify(session)
    missing = [i for i in acknowledged if i not in stored]
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    return {
        "writers": writers,
        "acknowledged": len(acknowledged),
        "failed": len(failures),
        "throughput": len(acknowledged) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * p99,
        "missing": len(missing),
        "chain_ok": chain.ok,
        "audit_records": chain.head_seq,
    }


def _database(kind: str, url: str, writers: int) -> AbstractContextManager[Database]:
    if kind == "postgresql":
        return postgres_database(url, pool_size=writers + 1)
    return sqlite_database(Path(tempfile.mkdtemp(prefix="phaseone-bench-")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200, help="writes per writer")
    parser.add_argument("--writers", default="1,4,16", help="comma-separated writer counts")
    parser.add_argument("--sqlite", action="store_true", help="also run on a SQLite file")
    args = parser.parse_args()
    url = (
        os.environ.get("PHASEONE_BENCH_DATABASE_URL")
        or os.environ.get("PHASEONE_TEST_DATABASE_URL")
        or DEFAULT_PG
    )
    kinds = ["postgresql"] + (["sqlite"] if args.sqlite else [])
    console = Console()
    table = Table(title="store: concurrent writers, one adverse event + audit per commit")
    # acked: commits that returned; lost: acked ids not found afterwards.
    for column in ("db", "writers", "acked", "writes/s", "p50 ms", "p99 ms", "lost", "failed",
                   "chain"):  # fmt: skip
        table.add_column(column, justify="right")
    bad = False
    for kind in kinds:
        for writers in (int(w) for w in args.writers.split(",")):
            try:
                with _database(kind, url, writers) as db:
                    r = _run(db, writers, args.writes)
            except Exception as exc:  # no server: say so and go on
                console.print(f"[yellow]{kind}: not run ({type(exc).__name__}: {exc})[/]")
                break
            bad |= bool(r["missing"]) or not r["chain_ok"] or bool(r["failed"])
            table.add_row(
                "pg" if kind == "postgresql" else kind,
                str(r["writers"]),
                str(r["acknowledged"]),
                f"{r['throughput']:.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                str(r["missing"]),
                str(r["failed"]),
                "ok" if r["chain_ok"] else "BROKEN",
            )
    console.print(table)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
