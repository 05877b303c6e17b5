"""What one request costs: CPU time and database round trips per request, one at a time.

The service's application runs in this process (no HTTP server, no concurrency) over the
PostgreSQL database `bench_service.py` seeds: the CHLA patient with 12 courses (about 400
labs and 250 doses). For each request type it prints the mean wall time, the mean CPU time
of this process (the application and the in-process client; PostgreSQL's own CPU is not
counted) and the queries sent per request. CPU time and query counts move little with the
machine's load, unlike latencies under concurrency, so they compare branches and changes.

    python bench/bench_service.py --seconds 1     # once: seeds the database
    python bench/bench_requests.py [--n 50]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).parent))
from bench_service import DEFAULT_URL, PASSWORD, USER, _seeded

from phaseone.store.db import Database
from phaseone.store.security import SecurityPolicy
from phaseone.web.app import create_app


async def _measure(url: str, n: int) -> list[tuple[str, float, float, float]]:
    patient, other = _seeded(url)
    db = Database(url)
    app = create_app(db, policy=SecurityPolicy(cookie_secure=False))
    queries = 0

    def count(*_: Any) -> None:
        nonlocal queries
        queries += 1

    event.listen(db.engine, "before_cursor_execute", count)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    rows = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.post(
            "/api/v1/auth/login", json={"username": USER, "password": PASSWORD}
        )
        login.raise_for_status()
        csrf = login.json()["csrf_token"]
        lab = {
            "analyte": "anc",
            "value": 1.2,
            "unit": "10^9/L",
            "collected_on": today,
            "course": 1,
        }
        views = itertools.count()
        requests: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
            ("patient page (HTML), kept", lambda: client.get(f"/patients/{patient}")),
            (
                # A query string is never kept (page_cache): every view is rendered anew.
                "patient page (HTML), rendered",
                lambda: client.get(f"/patients/{patient}?view={next(views)}"),
            ),
            ("patient (API)", lambda: client.get(f"/api/v1/patients/{patient}")),
            (
                "labs, one page of 50 (API)",
                lambda: client.get(f"/api/v1/lab-results?patient_id={patient}"),
            ),
            (
                "lab write (API)",
                lambda: client.post(
                    f"/api/v1/patients/{other}/labs", json=lab, headers={"X-CSRF-Token": csrf}
                ),
            ),
        ]
        for label, send in requests:
            for _ in range(3):
                (await send()).raise_for_status()
            queries = 0
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                (await send()).raise_for_status()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append((label, wall / n * 1000, cpu / n * 1000, queries / n))
    db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="Requests of each type.")
    args = parser.parse_args()
    url = os.environ.get("PHASEONE_BENCH_DATABASE_URL", DEFAULT_URL)
    rows = asyncio.run(_measure(url, args.n))
    print(f"{'request':<32} {'wall ms':>8} {'CPU ms':>8} {'queries':>8}")
    for label, wall, cpu, queries in rows:
        print(f"{label:<32} {wall:>8.1f} {cpu:>8.1f} {queries:>8.1f}")
    print(f"(one request at a time, in process; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
