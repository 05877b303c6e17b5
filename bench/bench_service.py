"""The service over HTTP: a real `phaseone serve --workers N` on PostgreSQL, 16 clients.

Builds the demo trial in a fresh PostgreSQL database, gives one CHLA patient 12 courses
(about 400 labs and 250 doses), starts `phaseone serve` in its own processes and drives it
with concurrent clients, each logged in with its own session:

- the patient page (`GET /patients/{id}`, the HTML a coordinator opens), as served again
  with nothing changed (kept: web/pages/page_cache.py) and rendered anew at every view
  (what a view costs after any change in the trial),
- the same patient over the API (`GET /api/v1/patients/{id}`) and one page of its labs,
- a lab write (`POST /api/v1/patients/{id}/labs`: validated, graded, audited, committed).

    python bench/bench_service.py [--workers 4] [--clients 16] [--seconds 15] [--runs 3]

PostgreSQL comes from PHASEONE_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/phaseone_bench (dropped and made anew).
Every figure includes the client's own time (a hand-written keep-alive HTTP/1.1 client in
this process, on the same cores as the server). The CPU columns are per request: the
server's processes (user + system, from /proc; PostgreSQL's not included) and this client
process; unlike latencies they do not count the time spent waiting for a core, so they
compare runs on a loaded machine.
There is no peer service to run beside ours; the table reports ours only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
from bench_scale import (
    P99_GOAL_MS,
    WRITES_GOAL_PER_S,
    Connection,
    Server,
    free_port,
    fresh_database,
    percentile,
    vacuum_if_autovacuum_is_off,
)
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from phaseone.demo.build import build_demo
from phaseone.protocol import resolve_protocol
from phaseone.store import records
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import Course, Patient
from phaseone.store.scope import Scope

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/phaseone_bench"
PASSWORD = "bench service passphrase 7"
USER = "coord.chla"
COURSES = 12
LABS_PER_COURSE = 33  # 396 labs
DOSES_PER_COURSE = 21  # 252 doses
ANALYTES = (("anc", 1.5, "10^9/L"), ("hemoglobin", 11.0, "g/dL"), ("alt", 30.0, "U/L"))


def _seed(url: str) -> tuple[int, int]:
    """The demo trial plus a long treatment history for one CHLA patient: (patient, other)."""
    db = Database(url)
    today = dt.datetime.now(dt.UTC).date()
    build_demo(db, resolve_protocol("nant-2011-04"), today, PASSWORD)
    with db.transaction() as session:
        scope = Scope(session, system_actor("bench", Source.cli))
        chla = list(
            session.scalars(select(Patient).where(Patient.site_id == "chla").order_by(Patient.id))
        )
        patient, other = chla[0], chla[1]
        first = session.scalars(
            select(Course).where(Course.patient_id == patient.id).order_by(Course.number)
        ).first()
        assert first is not None
        # Courses every 14 days from course 1 (registered 170 days ago): all in the past.
        start = first.start_date
        for number in range(1, COURSES + 1):
            course_start = start + dt.timedelta(days=14 * (number - 1))
            if number == 1:
                course = first
            else:
                course = records.create(
                    scope,
                    records.SPECS["courses"],
                    {
                        "patient_id": patient.id,
                        "number": number,
                        "start_date": course_start,
                        "dose_level": first.dose_level,
                        "height_cm": first.height_cm,
                        "weight_kg": first.weight_kg,
                        "bsa_m2": first.bsa_m2,
                    },
                )
            for k in range(LABS_PER_COURSE):
                analyte, base, unit = ANALYTES[k % len(ANALYTES)]
                records.create(
                    scope,
                    records.SPECS["lab_results"],
                    {
                        "patient_id": patient.id,
                        "course_id": course.id,
                        "analyte": analyte,
                        "value": base * (0.6 + 0.05 * (k % 9)),
                        "unit": unit,
                        "collected_on": course_start + dt.timedelta(days=k % 14),
                    },
                )
            for day in range(1, DOSES_PER_COURSE + 1):
                records.create(
                    scope,
                    records.SPECS["dose_administrations"],
                    {
                        "patient_id": patient.id,
                        "course_id": course.id,
                        "agent_id": "lenalidomide",
                        "course_day": day,
                        "administered_on": course_start + dt.timedelta(days=(day - 1) % 14),
                        "planned_dose": 15.0,
                        "given_dose": 15.0,
                        "unit": "mg",
                        "how_taken": "swallowed",
                    },
                )
        ids = patient.id, other.id
    db.dispose()
    return ids


def _seeded(url: str) -> tuple[int, int]:
    """The two CHLA patients an earlier run seeded."""
    db = Database(url)
    with db.transaction() as session:
        chla = list(
            session.scalars(
                select(Patient.id).where(Patient.site_id == "chla").order_by(Patient.id)
            )
        )
    db.dispose()
    return chla[0], chla[1]


Request = Callable[[Connection, int], Awaitable[tuple[int, bytes]]]


async def _drive(
    host: str, port: int, clients: int, seconds: float, request: Request
) -> tuple[list[float], int, float]:
    """`clients` concurrent loops of `request` for `seconds`: latencies (ms), errors, time."""
    connections = [await Connection.signed_in(host, port, USER, PASSWORD) for _ in range(clients)]
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def loop(connection: Connection) -> None:
        nonlocal errors
        n = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            status, _ = await request(connection, n)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status >= 400:
                errors += 1
            n += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        await connection.close()
    return latencies, errors, elapsed


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v:.0f} ms" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="Server processes.")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Measure each request type this many times, each with new connections.",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Use the database seeded by an earlier run."
    )
    parser.add_argument(
        "--only",
        choices=("page", "rendered", "patient", "labs", "write"),
        action="append",
        help="Measure only these request types (repeatable; default: all five).",
    )
    args = parser.parse_args()
    console = Console()
    url = os.environ.get("PHASEONE_BENCH_DATABASE_URL", DEFAULT_URL)
    if args.reuse:
        patient, other = _seeded(url)
    else:
        fresh_database(url)
        with console.status("Seeding: the demo trial and a patient with 12 courses..."):
            patient, other = _seed(url)
    if vacuum_if_autovacuum_is_off(url):
        console.print("PostgreSQL runs without autovacuum here: VACUUM before measuring.")
    host, port = "127.0.0.1", free_port()
    base = f"http://{host}:{port}"
    server = Server(url, port, args.workers)
    server.start()
    try:
        today = dt.datetime.now(dt.UTC).date().isoformat()

        async def patient_page(c: Connection, _: int) -> tuple[int, bytes]:
            return await c.request("GET", f"/patients/{patient}")

        async def page_rendered(c: Connection, n: int) -> tuple[int, bytes]:
            # A query string is never kept (page_cache): every view is rendered anew.
            return await c.request("GET", f"/patients/{patient}?view={n}")

        async def patient_api(c: Connection, _: int) -> tuple[int, bytes]:
            return await c.request("GET", f"/api/v1/patients/{patient}")

        async def labs_page(c: Connection, n: int) -> tuple[int, bytes]:
            return await c.request(
                "GET", f"/api/v1/lab-results?patient_id={patient}&offset={n % 8 * 50}"
            )

        async def lab_write(c: Connection, n: int) -> tuple[int, bytes]:
            body = {
                "analyte": "anc",
                "value": 1.0 + (n % 10) / 10,
                "unit": "10^9/L",
                "collected_on": today,
                "course": 1,
            }
            return await c.request(
                "POST", f"/api/v1/patients/{other}/labs", json.dumps(body).encode()
            )

        table = Table(
            title=(
                f"phaseone serve --workers {args.workers}, PostgreSQL, {args.clients} clients, "
                f"{args.seconds:g} s each (patient: {COURSES} courses, "
                f"{COURSES * LABS_PER_COURSE} labs, {COURSES * DOSES_PER_COURSE} doses)"
            )
        )
        columns = (
            "request",
            "n",
            "errors",
            "p50 ms",
            "p99 ms",
            "req/s",
            "server CPU ms",
            "client CPU ms",
        )
        for name in columns:
            table.add_column(name, justify="right" if name != "request" else "left")
        kinds = {
            "page": ("patient page (HTML)", patient_page),
            "rendered": ("patient page, rendered every view", page_rendered),
            "patient": ("patient (API)", patient_api),
            "labs": ("labs, one page of 50 (API)", labs_page),
            "write": ("lab write (API)", lab_write),
        }
        measured: dict[str, list[tuple[float, float]]] = {}
        for label, request in (kinds[k] for k in args.only or kinds):
            for run in range(1, args.runs + 1):
                # Each run opens its clients' connections anew: which worker each lands
                # on is the kernel's choice, and an uneven share moves the tail.
                asyncio.run(_drive(host, port, args.clients, 2.0, request))  # warm-up
                server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
                latencies, errors, elapsed = asyncio.run(
                    _drive(host, port, args.clients, args.seconds, request)
                )
                server_cpu = server.cpu_seconds() - server_cpu
                client_cpu = time.process_time() - client_cpu
                p99, rate = percentile(latencies, 99), len(latencies) / elapsed
                measured.setdefault(label, []).append((p99, rate))
                table.add_row(
                    label if args.runs == 1 else f"{label}, run {run}",
                    str(len(latencies)),
                    str(errors),
                    f"{statistics.median(latencies):.1f}",
                    f"{p99:.1f}",
                    f"{rate:.0f}",
                    f"{server_cpu / len(latencies) * 1000:.1f}",
                    f"{client_cpu / len(latencies) * 1000:.1f}",
                )
        console.print(table)
        goals: list[tuple[str, list[bool]]] = []
        if "patient page (HTML)" in measured:
            p99s = [p99 for p99, _ in measured["patient page (HTML)"]]
            met = [p < P99_GOAL_MS for p in p99s]
            goals.append((f"patient page p99 < {P99_GOAL_MS} ms: {_ms(p99s)}", met))
        if "lab write (API)" in measured:
            p99s = [p99 for p99, _ in measured["lab write (API)"]]
            rates = [rate for _, rate in measured["lab write (API)"]]
            met = [p < P99_GOAL_MS for p in p99s]
            goals.append((f"lab write p99 < {P99_GOAL_MS} ms: {_ms(p99s)}", met))
            shown = ", ".join(f"{r:.0f}/s" for r in rates)
            met = [r >= WRITES_GOAL_PER_S for r in rates]
            goals.append((f"lab writes >= {WRITES_GOAL_PER_S}/s: {shown}", met))
        for goal, met in goals:
            verdict = "[green]met[/]" if all(met) else "[red]not met[/]"
            runs = f" (in {sum(met)} of {len(met)} runs)" if len(met) > 1 else ""
            console.print(f"goal {goal}: {verdict}{runs}")
        console.print(f"load average now: {os.getloadavg()[0]:.1f}")
        with httpx.Client(base_url=base) as one:
            one.post("/api/v1/auth/login", json={"username": USER, "password": PASSWORD})
            size = len(one.get(f"/patients/{patient}").content)
        console.print(f"The patient page is {size / 1024:.0f} KB.")
        console.print(
            "Timings include the clients (same machine, same cores as the server); "
            "a shared machine makes them noisy."
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
