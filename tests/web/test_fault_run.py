"""The fault run in miniature: `phaseone serve` on PostgreSQL is killed with SIGKILL while
clients write labs; the clients retry, and every write the server acknowledged is stored
and the audit chain verifies (bench/bench_scale.py runs the same at scale)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from phaseone.store.testing import SKIP_REASON, postgres_database, postgres_url

pytestmark = pytest.mark.skipif(postgres_url() is None, reason=SKIP_REASON)


def _bench() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "bench_scale.py"
    spec = importlib.util.spec_from_file_location("bench_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_killed_server_loses_no_acknowledged_write() -> None:
    bench = _bench()
    server_url = postgres_url()
    assert server_url is not None
    with postgres_database(server_url, migrated=False) as db:
        url = db.engine.url.render_as_string(hide_password=False)
        db.dispose()
        seeded = bench.seed(url, sites=3, patients=9, labs_each=1)
        server = bench.Server(url, bench.free_port(), workers=2)
        server.start()
        faults = bench.Faults(server, url, seconds=60, kill_every=6, db_once=False)
        try:
            faults.start()
            results = asyncio.run(
                bench.drive(server.base, seeded, clients=4, seconds=14, mix=(("lab write", 1),))
            )
        finally:
            faults.halt.set()
            faults.join()
            server.stop()
        assert server.kills >= 1
        first_back = faults.back_at[0]
        before = [a for a in results.ledger if a.at < first_back]
        after = [a for a in results.ledger if a.at >= first_back]
        # Writes were acknowledged on both sides of the kill, and none of them is lost.
        assert before and after
        assert bench.lost_writes(url, results.ledger) == []
        ok, verdict = bench.audit_verify(url)
        assert ok, verdict
