"""Every command of the README's tour runs as written, on the files shipped in examples/."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# `make run` and `make test` set up a whole virtual environment (and `make run` then serves
# the demo until stopped): the tour test runs inside such an environment already, so they
# are not run again here. `serve` runs until stopped: it is started, asked for its login
# page, and stopped (test_serve_answers_its_login_page).
NOT_RUN_HERE = ("make run", "make test", "phaseone serve")


def tour_commands() -> list[tuple[str, int]]:
    """(command line, expected exit status) for each command in the README's sh blocks.

    Continuation lines (ending in a backslash) are joined; a comment ending in "exit N"
    declares the status the command is meant to end with.
    """
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            command, _, comment = line.partition("  #")
            command = command.strip()
            if not command or command.startswith("#"):
                continue
            status = re.search(r"exit (\d+)\s*$", comment)
            commands.append((command, int(status.group(1)) if status else 0))
    return commands


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASEONE_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["HOME"] = str(tmp)
    # `users add` asks for the new password at a terminal; a test has none, so it gives the
    # password the documented way for scripts.
    env["PHASEONE_NEW_PASSWORD"] = "correct horse battery staple 42"
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what a fresh clone holds for the tour: the README and examples/."""
    tmp = tmp_path_factory.mktemp("tour")
    shutil.copy(README, tmp / "README.md")
    shutil.copytree(ROOT / "examples", tmp / "examples")
    return tmp


def test_the_tour_has_its_commands() -> None:
    names = [c.split()[1] for c, _ in tour_commands() if c.startswith("phaseone ")]
    assert len(names) >= 20
    assert {"screen", "design", "simulate", "grade", "nca", "serve", "audit"} <= set(names)


def test_every_tour_command_runs_as_written(workdir: Path) -> None:
    # One test, in README order: `db upgrade` makes the database that `users add` and
    # `audit verify` then use.
    for command, expected in tour_commands():
        if command.startswith(NOT_RUN_HERE):
            continue
        argv = shlex.split(command)
        assert argv[0] == "phaseone", command
        done = subprocess.run(
            [sys.executable, "-m", "phaseone", *argv[1:]],
            cwd=workdir,
            env=_env(workdir),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == expected, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command
    # The files the tour writes are there.
    for written in ("draft.yaml", "results.jsonl", "roadmap.html", "phaseone.sqlite3"):
        assert (workdir / written).stat().st_size > 0, written


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_its_login_page(tmp_path: Path) -> None:
    assert any(c == "phaseone serve" for c, _ in tour_commands())
    port = _free_port()
    env = _env(tmp_path) | {
        "PHASEONE_ADMIN_USERNAME": "admin",
        "PHASEONE_ADMIN_PASSWORD": "correct horse battery staple 42",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "phaseone", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    assert r.status == 200
                    assert "<form" in r.read().decode()
                    break
            except urllib.error.HTTPError:
                raise  # the server answered, but not with the login page
            except OSError:  # not listening yet
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("serve did not start listening")
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/docs", timeout=5) as r:
            assert r.status == 200  # the address the README gives for the API's docs
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        print(errors)  # shown by pytest when the test fails
