"""Audit browsing: the time to read one page of the trail near its start, in the middle
and at its oldest end, by keyset (workflow/auditing.browse, what the pages and the API
call) beside the same page by OFFSET (what a page-number pager does).

    python bench/bench_audit_browse.py [--rows 200000] [--limit 50]

On a temporary SQLite database with `--rows` synthetic entries (a patient's lab result
updated over and over, at two sites). Times are the median of 5 reads, in milliseconds,
printed with the load average: on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from phaseone.store import migrate
from phaseone.store.access import Role, Source, system_actor
from phaseone.store.audit import GENESIS_HASH
from phaseone.store.db import Database
from phaseone.store.models import AuditRecord
from phaseone.store.scope import Scope
from phaseone.workflow import auditing


def _fill(db: Database, rows: int) -> None:
    batch = []
    with db.transaction() as session:
        for seq in range(1, rows + 1):
            batch.append(
                {
                    "seq": seq,
                    "at": f"2025-{1 + seq % 12:02d}-01T00:00:00.000000Z",
                    "user_id": 1,
                    "username": "coord",
                    "role": "site_coordinator",
                    "user_site_id": "chla" if seq % 2 else "stanford",
                    "action": "update",
                    "entity": "lab_results",
                    "entity_id": str(seq % 500 + 1),
                    "record_site_id": "chla" if seq % 2 else "stanford",
                    "field": "value",
                    "old_value": "0.4",
                    "new_value": "0.5",
                    "reason": "typo",
                    "source": "api",
                    "client_ip": None,
                    "prev_hash": GENESIS_HASH,
                    "row_hash": GENESIS_HASH,
                }
            )
            if len(batch) == 10_000:
                session.execute(insert(AuditRecord), batch)
                batch = []
        if batch:
            session.execute(insert(AuditRecord), batch)


def _median_ms(func: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate.upgrade(db.engine)
        _fill(db, args.rows)
        actor = system_actor("bench", Source.cli)
        monitor = actor.__class__(None, "monitor", Role.monitor, None, Source.api)
        print(f"load average {os.getloadavg()[0]:.1f}; {args.rows:,} entries; "
              f"pages of {args.limit}")  # fmt: skip
        print(f"{'page':<14}{'keyset ms':>12}{'offset ms':>12}")
        for label, skip in (
            ("newest", 0),
            ("middle", args.rows // 2),
            ("oldest", args.rows - args.limit),
        ):
            before = args.rows - skip + 1

            def keyset(before: int = before) -> None:
                with db.transaction() as session:
                    query = auditing.AuditQuery(before=before, limit=args.limit)
                    auditing.browse(Scope(session, monitor), query)
                    session.rollback()  # do not grow the trail with the reads

            def offset(skip: int = skip) -> None:
                with db.transaction() as session:
                    stmt = (
                        select(AuditRecord)
                        .order_by(AuditRecord.seq.desc())
                        .limit(args.limit)
                        .offset(skip)
                    )
                    list(session.scalars(stmt))

            print(f"{label:<14}{_median_ms(keyset):>12.1f}{_median_ms(offset):>12.1f}")
        db.dispose()


if __name__ == "__main__":
    main()
