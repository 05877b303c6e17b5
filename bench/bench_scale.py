"""The service at a consortium's scale, and through faults: `phaseone serve --workers N` on
PostgreSQL, many sites and patients, 16+ concurrent clients, and an acknowledged-write ledger.

Seeds (through the store and workflow services directly, in this process) `--sites` sites
with one coordinator each and `--patients` patients spread over them, each with a few labs;
then starts `phaseone serve` and runs `--clients` concurrent clients, each logged in as one
site's coordinator and working on its own site's patients, for `--seconds`:

- lab write   POST /api/v1/patients/{id}/labs (validated, graded, audited, committed)
- patient API GET  /api/v1/patients/{id}
- labs page   GET  /api/v1/lab-results?patient_id={id}
- patient page GET /patients/{id} (the HTML a coordinator opens)

in the proportions 5:2:2:1, or (`--mix writes`) lab writes only, on which the lab write's
goals are judged (p99 < 100 ms, >= 300 writes/s).

Every write the server acknowledged (201) goes into a ledger; at the end each one must be in
the database as acknowledged (0 lost), and `phaseone audit verify` must pass. Faults:
`--kill-every S` kills the whole server (`kill -9` of its process group) every S seconds
and starts it again; `--restart-db-once` restarts PostgreSQL (`pg_ctlcluster`) once, half
way, and waits until it accepts connections. Clients retry a request that got no answer or
a 5xx after a short pause; a write that was never acknowledged may or may not be stored and
is never counted lost (a retried one may be stored twice: each is a separate lab).

    python bench/bench_scale.py                       # 100 sites, 2,000 patients, 16 clients
    python bench/bench_scale.py --reuse --mix writes  # lab writes only: the write's goals
    python bench/bench_scale.py --kill-every 20 --restart-db-once --seconds 90

PostgreSQL comes from PHASEONE_BENCH_DATABASE_URL, else
postgresql+psycopg://postgres@127.0.0.1:5432/phaseone_scale (dropped and made anew).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/phaseone_scale"
PASSWORD = "scale bench passphrase 7"
ADMIN = "scale.admin"
PG_CLUSTER = ("15", "main")
# The request mixes a client can run: (kind, weight).
MIX = (("lab write", 5), ("patient API", 2), ("labs page", 2), ("patient page", 1))
MIXES = {"standard": MIX, "writes": (("lab write", 1),)}
WRITE_KINDS = frozenset({"lab write"})
# The service's speed goals at 16 clients (bench_service.py judges them too).
P99_GOAL_MS = 100  # the patient page and the lab write
WRITES_GOAL_PER_S = 300
RETRY_PAUSE = 0.25


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database and the seed ------------------------------------------------------------


def fresh_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def vacuum_if_autovacuum_is_off(url: str) -> bool:
    """VACUUM the database when PostgreSQL runs without autovacuum (as the build machine's
    does): `audit_pending` is a queue, a row in and out per write, and without vacuuming
    its dead rows pile up run after run and every seal scans them. A deployment keeps
    autovacuum on (the default; docs/deployment.md). True if it vacuumed."""
    import psycopg
    from sqlalchemy.engine import make_url

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
        if row is not None and row[0] == "on":
            return False
        conn.execute("VACUUM (ANALYZE)")
    return True


@dataclass(frozen=True)
class Seeded:
    users: dict[str, str]  # site id -> its coordinator's username
    patients: dict[str, list[int]]  # site id -> its patients' ids


def seed(url: str, sites: int, patients: int, labs_each: int = 2) -> Seeded:
    """Sites, one coordinator per site and `patients` patients with a few labs each, made
    by the same services the API calls (audited like any entry)."""
    from phaseone.protocol import resolve_protocol
    from phaseone.store import accounts
    from phaseone.store.access import Role, Source, system_actor
    from phaseone.store.db import Database
    from phaseone.store.scope import Scope
    from phaseone.store.setup import create_first_admin, prepare
    from phaseone.workflow import Trial, corrections, treatment

    protocol = resolve_protocol("nant-2011-04")
    model = protocol.sites[0]  # invented sites, with the provenance of a real one
    own = [
        model.model_copy(update={"id": f"site{k:03d}", "name": f"Site {k:03d}"})
        for k in range(sites - len(protocol.sites))
    ]
    site_ids = [s.id for s in protocol.sites][:sites] + [s.id for s in own]
    wide = protocol.model_copy(update={"sites": (*protocol.sites, *own)})
    db = Database(url)
    actor = system_actor("bench", Source.cli)
    prepare(db, wide, actor)
    create_first_admin(db, actor, username=ADMIN, full_name="Scale Admin", password=PASSWORD)
    trial = Trial.from_protocol(protocol)
    today = dt.datetime.now(dt.UTC).date()
    users: dict[str, str] = {}
    ids: dict[str, list[int]] = defaultdict(list)
    with db.transaction() as session:
        scope = Scope(session, actor)
        for site in site_ids:
            users[site] = f"coord.{site}"
            accounts.add_user(
                scope,
                username=users[site],
                full_name=f"Coordinator {site}",
                role=Role.site_coordinator,
                password=PASSWORD,
                site_id=site,
            )
    rng = random.Random(7)
    done = 0
    while done < patients:
        with db.transaction() as session:
            scope = Scope(session, actor)
            for n in range(done, min(done + 200, patients)):
                site = site_ids[n % len(site_ids)]
                born = today - dt.timedelta(days=rng.randint(2 * 365, 18 * 365))
                patient = corrections.create(
                    scope,
                    trial,
                    "patients",
                    {"site_id": site, "birth_date": born, "sex": rng.choice("FM")},
                    today=today,
                )
                ids[site].append(patient.id)
                for k in range(labs_each):
                    treatment.record_lab(
                        scope,
                        trial,
                        patient_id=patient.id,
                        analyte_id="anc",
                        value=round(rng.uniform(0.8, 4.0), 2),
                        unit="10^9/L",
                        collected_on=today - dt.timedelta(days=k),
                        today=today,
                    )
        done = min(done + 200, patients)
        log(f"seeded {done}/{patients} patients")
    db.dispose()
    return Seeded(users, dict(ids))


def seeded_before(url: str) -> Seeded:
    """What an earlier run seeded in the database (`--reuse`)."""
    from sqlalchemy import select

    from phaseone.store.db import Database
    from phaseone.store.models import Patient, User

    db = Database(url)
    ids: dict[str, list[int]] = defaultdict(list)
    try:
        with db.transaction() as session:
            users = {
                str(site): str(name)
                for name, site in session.execute(
                    select(User.username, User.site_id).where(User.username.like("coord.%"))
                )
            }
            for pid, site in session.execute(
                select(Patient.id, Patient.site_id).order_by(Patient.id)
            ):
                ids[str(site)].append(int(pid))
    finally:
        db.dispose()
    return Seeded(users, {site: ids[site] for site in users if ids[site]})


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`phaseone serve` in its own process group, so that one signal reaches every worker."""

    def __init__(self, url: str, port: int, workers: int) -> None:
        self.url, self.port, self.workers = url, port, workers
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 300) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parents[1] / "src"),
            "PHASEONE_ADMIN_USERNAME": ADMIN,
            "PHASEONE_ADMIN_PASSWORD": PASSWORD,
        }
        command = [
            sys.executable,
            "-m",
            "phaseone",
            "serve",
            "--database-url",
            self.url,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--insecure-cookies",
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with status {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        self.kill()
        raise RuntimeError("the service did not start")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's live processes (the
        supervisor and its workers: the process group), from /proc. On a shared machine
        CPU per request, unlike latency, does not count the time spent waiting for a core."""
        if self.process is None:
            return 0.0
        group, total = self.process.pid, 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process has ended
            if int(fields[2]) == group:  # pgrp, after state and ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL to the server and all its workers: nothing is shut down cleanly."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


def restart_postgres(url: str) -> float:
    """`pg_ctlcluster 15 main restart`, then wait until it accepts connections: seconds."""
    import psycopg
    from sqlalchemy.engine import make_url

    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", *PG_CLUSTER, "restart"], check=True)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        try:
            with psycopg.connect(plain, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return time.monotonic() - started
        except psycopg.OperationalError:
            if time.monotonic() - started > 120:
                raise
            time.sleep(0.5)


# --- the clients --------------------------------------------------------------------------


@dataclass
class Ack:
    lab_id: int
    patient_id: int
    value: float
    at: float  # time.monotonic() when the acknowledgement arrived


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ledger: list[Ack] = field(default_factory=list)
    elapsed: float = 0.0


class TransportError(Exception):
    """No answer: the line broke, the server was away, or the answer took too long."""


class Connection:
    """One client's keep-alive HTTP/1.1 connection, written by hand.

    The load generator shares the server's cores, so its own cost is kept small: httpx
    spends about 1.5 ms of CPU per request here, this about a fifth of that. It sends the
    session cookie (and the CSRF token on writes) as a browser would, reads each answer
    whole (Content-Length or chunked), connects again when the server closed the line, and
    turns a broken line, a refused connection or a timeout into TransportError."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.head = f"Host: {host}:{port}\r\n"
        self.csrf = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @classmethod
    async def signed_in(cls, host: str, port: int, username: str, password: str) -> Connection:
        connection = cls(host, port)
        status = await connection.sign_in(username, password)
        if status != 200:
            raise RuntimeError(f"{username} could not log in: {status}")
        return connection

    async def sign_in(self, username: str, password: str) -> int:
        """Log in on this line and keep the session cookie and CSRF token: the status."""
        from phaseone.web.auth import SESSION_COOKIE

        body = json.dumps({"username": username, "password": password}).encode()
        status, headers, content = await self.exchange("POST", "/api/v1/auth/login", body)
        if status == 200:
            cookie = next(
                value.split(";", 1)[0].split("=", 1)[1]
                for name, value in headers
                if name == "set-cookie" and value.startswith(SESSION_COOKIE + "=")
            )
            self.head = f"Host: {self.host}:{self.port}\r\nCookie: {SESSION_COOKIE}={cookie}\r\n"
            self.csrf = json.loads(content)["csrf_token"]
        return status

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """(status, body) of one request."""
        status, _, content = await self.exchange(method, path, body)
        return status, content

    async def exchange(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers with lower-case names, body) of one request."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(method, path, body)
        except (OSError, EOFError, ValueError, TimeoutError, asyncio.LimitOverrunError) as exc:
            await self.close()
            raise TransportError(f"{method} {path}: {type(exc).__name__}") from exc

    async def _exchange(
        self, method: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = (
            f"X-CSRF-Token: {self.csrf}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            if method != "GET"
            else ""
        )
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0][9:12])
        headers = [
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        ]
        found = dict(headers)
        if found.get("transfer-encoding") == "chunked":
            content = b""
            while size := int((await self.reader.readline()).strip(), 16):
                content += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readline()
        else:
            content = await self.reader.readexactly(int(found["content-length"]))
        if found.get("connection") == "close":
            await self.close()
        return status, headers, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


class Client:
    """One site's coordinator on its own connection: logs in (again after a restart if need
    be) and retries."""

    def __init__(self, base: str, username: str, patients: list[int], seed: int) -> None:
        address = urlsplit(base)
        assert address.hostname is not None and address.port is not None
        self.line = Connection(address.hostname, address.port)
        self.username, self.patients = username, patients
        self.rng = random.Random(seed)
        self.today = dt.datetime.now(dt.UTC).date().isoformat()
        self.serial = seed * 1_000_000

    async def login(self, give_up: float) -> bool:
        """Log in, retrying while the server or the database is away; False past give_up."""
        while time.monotonic() < give_up:
            try:
                status: int | None = await self.line.sign_in(self.username, PASSWORD)
            except TransportError:
                status = None
            if status is not None and status < 500:
                if status != 200:  # a refused login is the bench's own error
                    raise RuntimeError(f"{self.username} could not log in: {status}")
                return True
            await asyncio.sleep(RETRY_PAUSE)
        return False

    def next_value(self) -> float:
        # Distinct, plausible ANC values: each write can be found again by its value.
        self.serial += 1
        return 1.0 + (self.serial % 1_000_000) / 1_000_000

    async def send(self, kind: str, patient: int, value: float) -> tuple[int, bytes]:
        if kind == "lab write":
            body = {"analyte": "anc", "value": value, "unit": "10^9/L", "collected_on": self.today}
            path = f"/api/v1/patients/{patient}/labs"
            return await self.line.request("POST", path, json.dumps(body).encode())
        if kind == "patient API":
            return await self.line.request("GET", f"/api/v1/patients/{patient}")
        if kind == "labs page":
            path = f"/api/v1/lab-results?patient_id={patient}&limit=50"
            return await self.line.request("GET", path)
        return await self.line.request("GET", f"/patients/{patient}")

    async def one(self, kind: str, results: Results, give_up: float) -> None:
        """One request until answered (retried on no answer, 5xx or a lost session)."""
        patient = self.rng.choice(self.patients)
        value = self.next_value()
        started = time.perf_counter()
        while True:
            try:
                answer: tuple[int, bytes] | None = await self.send(kind, patient, value)
            except TransportError:
                answer = None
            if answer is not None and answer[0] == 401:
                answer = None
                await self.login(give_up)
            if answer is not None and answer[0] < 500:
                break
            if time.monotonic() > give_up:
                results.refused[kind] += 1
                return
            results.retries[kind] += 1
            await asyncio.sleep(RETRY_PAUSE)
        results.latencies[kind].append((time.perf_counter() - started) * 1000)
        status, content = answer
        if status >= 400:
            results.refused[kind] += 1
        elif kind in WRITE_KINDS:
            lab = json.loads(content)["lab"]
            results.ledger.append(Ack(int(lab["id"]), patient, value, time.monotonic()))


async def drive(
    base: str,
    seeded: Seeded,
    clients: int,
    seconds: float,
    progress: Callable[[Results], None] | None = None,
    grace: float = 300.0,
    mix: tuple[tuple[str, int], ...] = MIX,
) -> Results:
    """`clients` coordinators (of different sites) run the request mix for `seconds`."""
    sites = sorted(seeded.patients)
    kinds = [k for k, _ in mix]
    weights = [w for _, w in mix]
    results = Results()
    crew = [
        Client(base, seeded.users[sites[i % len(sites)]], seeded.patients[sites[i % len(sites)]], i)
        for i in range(clients)
    ]
    logins_by = time.monotonic() + grace
    for client in crew:
        if not await client.login(logins_by):
            raise RuntimeError(f"{client.username} could not log in")
    stop = time.monotonic() + seconds
    give_up = stop + grace

    async def loop(client: Client) -> None:
        while time.monotonic() < stop:
            await client.one(client.rng.choices(kinds, weights)[0], results, give_up)

    async def report() -> None:
        while time.monotonic() < stop:
            await asyncio.sleep(5)
            if progress is not None:
                progress(results)

    started = time.perf_counter()
    reporter = asyncio.ensure_future(report())
    await asyncio.gather(*(loop(c) for c in crew))
    reporter.cancel()
    results.elapsed = time.perf_counter() - started
    for client in crew:
        await client.line.close()
    return results


# --- the checks ---------------------------------------------------------------------------


def lost_writes(url: str, ledger: list[Ack]) -> list[Ack]:
    """The acknowledged writes that are not in the database as acknowledged."""
    from sqlalchemy import select

    from phaseone.store.db import Database
    from phaseone.store.models import LabResult

    db = Database(url)
    stored: dict[int, tuple[int, float, bool]] = {}
    try:
        with db.transaction() as session:
            ids = [a.lab_id for a in ledger]
            for start in range(0, len(ids), 5000):
                rows = session.execute(
                    select(
                        LabResult.id, LabResult.patient_id, LabResult.value, LabResult.voided
                    ).where(LabResult.id.in_(ids[start : start + 5000]))
                ).all()
                stored.update({r[0]: (r[1], r[2], r[3]) for r in rows})
    finally:
        db.dispose()
    return [
        a
        for a in ledger
        if stored.get(a.lab_id) is None
        or stored[a.lab_id][0] != a.patient_id
        or abs(stored[a.lab_id][1] - a.value) > 1e-9
        or stored[a.lab_id][2]
    ]


def audit_verify(url: str) -> tuple[bool, str]:
    """`phaseone audit verify` on the database, as an operator runs it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "phaseone", "audit", "verify", "--database-url", url],
        env=env,
        capture_output=True,
        text=True,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


# --- faults -------------------------------------------------------------------------------


class Faults(threading.Thread):
    """Kills and restarts the server every `kill_every` seconds; restarts PostgreSQL once."""

    def __init__(
        self, server: Server, url: str, seconds: float, kill_every: float | None, db_once: bool
    ) -> None:
        super().__init__(daemon=True)
        self.server, self.url, self.seconds = server, url, seconds
        self.kill_every, self.db_once = kill_every, db_once
        self.halt = threading.Event()
        self.events: list[str] = []
        self.back_at: list[float] = []  # when the server answered again after each kill

    def run(self) -> None:
        begun = time.monotonic()
        db_at = begun + self.seconds / 2 if self.db_once else None
        next_kill = begun + self.kill_every if self.kill_every else None
        while not self.halt.wait(0.2):
            now = time.monotonic()
            if now - begun > self.seconds:
                return
            if db_at is not None and now >= db_at:
                db_at = None
                took = restart_postgres(self.url)
                self.events.append(f"PostgreSQL restarted at {now - begun:.0f} s ({took:.1f} s)")
                log(self.events[-1])
            if next_kill is not None and now >= next_kill:
                self.server.kill()
                self.server.kills += 1
                t0 = time.monotonic()
                self.server.start()
                self.back_at.append(time.monotonic())
                self.events.append(
                    f"server killed (SIGKILL) at {now - begun:.0f} s, "
                    f"answering again after {time.monotonic() - t0:.1f} s"
                )
                log(self.events[-1])
                next_kill = time.monotonic() + (self.kill_every or 0)


# --- the report ---------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def table(results: Results) -> list[str]:
    lines = [
        f"{'request':<14} {'n':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'retried':>8} {'refused':>8}"
    ]
    for kind, _ in MIX:
        if kind not in results.latencies:
            continue  # not in this run's mix
        lat = results.latencies[kind]
        lines.append(
            f"{kind:<14} {len(lat):>7} {len(lat) / results.elapsed:>7.1f} "
            f"{percentile(lat, 50):>8.1f} {percentile(lat, 99):>8.1f} "
            f"{results.retries.get(kind, 0):>8} {results.refused.get(kind, 0):>8}"
        )
    return lines


def write_goals(results: Results) -> list[str]:
    """The lab write's goals, judged on a run of lab writes only and without faults."""
    writes = results.latencies["lab write"]
    p99, rate = percentile(writes, 99), len(writes) / results.elapsed
    return [
        f"goal lab write p99 < {P99_GOAL_MS} ms: {p99:.0f} ms: "
        + ("met" if p99 < P99_GOAL_MS else "not met"),
        f"goal lab writes >= {WRITES_GOAL_PER_S}/s: {rate:.0f}/s: "
        + ("met" if rate >= WRITES_GOAL_PER_S else "not met"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kill-every", type=float, default=None, metavar="SECONDS")
    parser.add_argument("--restart-db-once", action="store_true")
    parser.add_argument(
        "--mix",
        choices=tuple(MIXES),
        default="standard",
        help="standard: lab writes 5, patient API 2, labs page 2, patient page 1; "
        "writes: lab writes only (the lab write's goals are judged on this mix).",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Use the database an earlier run seeded."
    )
    args = parser.parse_args()
    url = os.environ.get("PHASEONE_BENCH_DATABASE_URL", DEFAULT_URL)
    if args.reuse:
        seeded = seeded_before(url)
        args.sites = len(seeded.users)
        args.patients = sum(len(v) for v in seeded.patients.values())
    else:
        fresh_database(url)
        log(f"seeding {args.sites} sites, {args.patients} patients (through the services)")
        t0 = time.monotonic()
        seeded = seed(url, args.sites, args.patients)
        log(f"seeded in {time.monotonic() - t0:.0f} s")
    if vacuum_if_autovacuum_is_off(url):
        log("PostgreSQL runs without autovacuum here: VACUUM before measuring")
    log(f"starting phaseone serve --workers {args.workers}")
    server = Server(url, free_port(), args.workers)
    server.start()
    faults = Faults(server, url, args.seconds, args.kill_every, args.restart_db_once)
    try:
        faults.start()

        def progress(r: Results) -> None:
            done = sum(len(v) for v in r.latencies.values())
            log(f"{done} requests answered, {len(r.ledger)} writes acknowledged")

        results = asyncio.run(
            drive(server.base, seeded, args.clients, args.seconds, progress, mix=MIXES[args.mix])
        )
    finally:
        faults.halt.set()
        faults.join()
        server.stop()
    lost = lost_writes(url, results.ledger)
    ok, verdict = audit_verify(url)
    print()
    print(
        f"phaseone serve --workers {args.workers}, PostgreSQL, {args.sites} sites, "
        f"{args.patients} patients, {args.clients} clients, {args.mix} mix, "
        f"{results.elapsed:.0f} s"
    )
    print("\n".join(table(results)))
    if args.mix == "writes" and not faults.events:
        print("\n".join(write_goals(results)))
    for event in faults.events:
        print(f"fault: {event}")
    print(f"acknowledged writes: {len(results.ledger)}; lost: {len(lost)}")
    print(
        f"audit verify: {'ok' if ok else 'FAILED'}: {verdict.splitlines()[-1] if verdict else ''}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    return 0 if ok and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
