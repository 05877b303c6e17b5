"""`phaseone virtual-trial`: drive virtual patients through a running service to an MTD."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from phaseone.cli.output import console, fail
from phaseone.cli.serve import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_database(folder: Path) -> str:
    """The database URL of the service `own_service` starts in `folder`."""
    return f"sqlite:///{folder / 'virtual-trial.db'}"


@contextmanager
def own_service(
    folder: Path, start: dt.datetime, protocol: Path | None = None
) -> Iterator[tuple[str, Path, tuple[str, str]]]:
    """`phaseone serve` on a new SQLite database and a free loopback port, on a clock file
    (and `protocol`, default the bundled one); stopped (this process's own child) on exit.
    Yields (base URL, clock file, admin)."""
    from phaseone.web.clock import write_clock_file

    clock = folder / "clock.txt"
    write_clock_file(clock, start)
    admin = ("admin", f"virtual trial operator {secrets.token_urlsafe(12)}")
    port = _free_port()
    env = {**os.environ, ADMIN_USER_ENV: admin[0], ADMIN_PASSWORD_ENV: admin[1]}
    command = [
        sys.executable, "-m", "phaseone", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--database-url", service_database(folder),
        "--insecure-cookies", "--clock-file", str(clock),
        *(("--protocol", str(protocol)) if protocol is not None else ()),
    ]  # fmt: skip
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, folder / "serve.log")
        yield base, clock, admin
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise fail(f"the service stopped while starting: {log.read_text()[-500:]}")
        try:
            if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise fail(f"the service did not start within 2 minutes (see {log})")


def virtual_trial(
    url: str | None = typer.Option(
        None,
        "--url",
        help="A running service (loopback only), started with `serve --clock-file`; "
        "default: start one on a temporary SQLite database.",
    ),
    clock_file: Path | None = typer.Option(
        None, "--clock-file", help="With --url: the clock file that service reads."
    ),
    patients: int = typer.Option(30, "--patients", min=1, max=2000, help="Virtual patients."),
    seed: int = typer.Option(0, "--seed", help="Seed of every draw."),
    sites: str = typer.Option("chla,chop,seattle", "--sites", help="Site ids, comma-separated."),
) -> None:
    """Run a virtual trial through the service's JSON API, as sites and the chair would:
    screening, racing slot requests, registration, course 1, DLT determinations and
    signed decisions to an MTD. Then check the audit chain, read back every acknowledged
    write and compare the DLTs per level in the SDTM export with those signed.

    With --url, the administrator's username and password come from
    PHASEONE_ADMIN_USERNAME and PHASEONE_ADMIN_PASSWORD. Every model is invented for
    simulation (docs/synth.md).
    """
    from rich.table import Table

    from phaseone.synth.virtual_trial import run_virtual_trial

    chosen = tuple(s.strip() for s in sites.split(",") if s.strip())
    with console.status("starting") as status:

        def progress(message: str) -> None:
            status.update(message)
            console.log(message)

        if url is None:
            with (
                tempfile.TemporaryDirectory(prefix="phaseone-virtual-") as folder,
                own_service(Path(folder), START) as (base, clock, admin),
            ):
                progress(f"service at {base}")
                result = run_virtual_trial(
                    base, FileServiceClock(clock), admin=admin, patients=patients,
                    seed=seed, sites=chosen, progress=progress,
                )  # fmt: skip
        else:
            admin_user, admin_password = (
                os.environ.get(ADMIN_USER_ENV),
                os.environ.get(ADMIN_PASSWORD_ENV),
            )
            if clock_file is None or not admin_user or not admin_password:
                raise fail(
                    f"--url needs --clock-file and {ADMIN_USER_ENV}, {ADMIN_PASSWORD_ENV} set"
                )
            result = run_virtual_trial(
                url, FileServiceClock(clock_file), admin=(admin_user, admin_password),
                patients=patients, seed=seed, sites=chosen, progress=progress,
            )  # fmt: skip
    table = Table(title=f"Virtual trial (seed {seed})")
    for column in ("dose level", "patients", "DLTs signed", "DLTs in SDTM export"):
        table.add_column(column, justify="right")
    for level, (n, dlts) in result.per_level().items():
        table.add_row(str(level), str(n), str(dlts), str(result.dlts_exported.get(level, 0)))
    console.print(table)
    console.print(
        f"screened {result.screened} (screen failures {result.screen_failures}); "
        f"slot requests {result.slot_requests} (waitlisted {result.waitlisted}); "
        f"MTD: {result.mtd if result.mtd is not None else 'not reached'}"
    )
    console.print(
        f"audit chain verifies: {result.audit_verified}; acknowledged writes read back: "
        f"{result.acknowledged - len(result.missing)}/{result.acknowledged}"
    )
    if not result.ok:
        raise fail("the checks of the whole failed (see above)")
