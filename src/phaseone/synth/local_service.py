"""A service of the virtual trial's own: `phaseone serve` in a child process on a SQLite
file, a free loopback port and a clock file the driver moves; and the whole virtual trial
run against it (the Python API behind `phaseone demo --complete`)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phaseone.synth.steps import run_virtual_trial
from phaseone.synth.virtual_trial import ServiceError, VirtualTrialResult

START = dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC)  # the invented records' screening day


class FileServiceClock:
    """The driver's side of `serve --clock-file`: read and move the service's time."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def today(self) -> dt.date:
        from phaseone.web.clock import read_clock_file

        return read_clock_file(self.path).date()

    def advance(self, days: int) -> None:
        from phaseone.web.clock import read_clock_file, write_clock_file

        write_clock_file(self.path, read_clock_file(self.path) + dt.timedelta(days=days))


@dataclass(frozen=True)
class LocalService:
    base_url: str
    clock: Path
    admin: tuple[str, str]
    database: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def own_service(
    folder: Path,
    start: dt.datetime = START,
    database: Path | None = None,
    protocol: Path | None = None,
) -> Iterator[LocalService]:
    """`phaseone serve` on a new SQLite database (default `folder/virtual-trial.db`) and a
    free loopback port, on a clock file, with `protocol` (default the bundled one); stopped
    (this process's own child) on exit."""
    from phaseone.cli.serve import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
    from phaseone.web.clock import write_clock_file

    folder.mkdir(parents=True, exist_ok=True)
    clock = folder / "clock.txt"
    write_clock_file(clock, start)
    db = (database or folder / "virtual-trial.db").resolve()
    admin = ("admin", f"virtual trial operator {secrets.token_urlsafe(12)}")
    port = _free_port()
    env = {**os.environ, ADMIN_USER_ENV: admin[0], ADMIN_PASSWORD_ENV: admin[1]}
    command = [
        sys.executable, "-m", "phaseone", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database-url", f"sqlite:///{db}", "--insecure-cookies", "--clock-file", str(clock),
        *(("--protocol", str(protocol)) if protocol is not None else ()),
    ]  # fmt: skip
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, server, log_path)
            yield LocalService(base, clock, admin, db)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServiceError(f"the service stopped while starting: {log.read_text()[-500:]}")
        try:
            if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise ServiceError(f"the service did not start within 2 minutes (see {log})")


def run_complete_trial(
    output: Path,
    *,
    patients: int = 30,
    courses: int = 12,
    seed: int = 0,
    sites: tuple[str, ...] = ("chla", "chop", "seattle"),
    database: Path | None = None,
    progress: Callable[[str], None] | None = None,
    tick: Callable[[str, int, int], None] | None = None,
    **options: Any,
) -> VirtualTrialResult:
    """The whole virtual trial against a service of its own: the report, every export and
    `checks.json` are written to `output` (with the service's log and clock file)."""
    with own_service(output, START, database) as service:
        return run_virtual_trial(
            service.base_url, FileServiceClock(service.clock), admin=service.admin,
            patients=patients, seed=seed, sites=sites, courses=courses, output=output,
            progress=progress, tick=tick, **options,
        )  # fmt: skip
