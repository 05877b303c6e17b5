"""The service at the door: one application (pages and API), security headers, no caching
of patient data, the request-size limit, and logs without tracebacks or values."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from phaseone.protocol import resolve_protocol
from phaseone.store import records as store_records
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.setup import prepare
from phaseone.web.app import create_app
from phaseone.web.hardening import WebSettings
from tests.web.service_fixtures import BASE, Service


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'service.sqlite3'}")
    prepare(db, resolve_protocol("nant-2011-04"), system_actor("cli:test", Source.cli))
    yield db
    db.dispose()


def _client(db: Database, base_url: str = "https://testserver", **settings: object) -> TestClient:
    return TestClient(
        create_app(db, settings=WebSettings(**settings)),  # type: ignore[arg-type]
        base_url=base_url,
        raise_server_exceptions=False,
    )


@pytest.mark.parametrize("path", ["/login", "/", "/api/v1/auth/me", "/api/v1/sites"])
def test_every_answer_carries_the_security_headers(bare: Database, path: str) -> None:
    response = _client(bare).get(path, follow_redirects=False)
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["strict-transport-security"].startswith("max-age=")


def test_static_files_may_be_cached_and_pages_have_no_inline_script(bare: Database) -> None:
    client = _client(bare)
    assert "cache-control" not in client.get("/static/site.js").headers
    page = client.get("/login").text
    assert "<script>" not in page and "<script src=" in page and "style=" not in page


def test_hsts_follows_the_scheme_unless_told(bare: Database) -> None:
    plain = _client(bare, base_url="http://testserver")
    assert "strict-transport-security" not in plain.get("/login").headers
    forced = _client(bare, base_url="http://testserver", hsts="always")
    assert "strict-transport-security" in forced.get("/login").headers
    off = _client(bare, hsts="off")
    assert "strict-transport-security" not in off.get("/login").headers


def test_a_body_over_the_limit_is_refused_with_413(bare: Database) -> None:
    client = _client(bare, max_body_bytes=4096)
    declared = client.post(BASE + "/auth/login", content=b"x" * 5000)
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["message"].startswith("request body too large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(5):
            yield b"y" * 1000

    form = {"content-type": "application/x-www-form-urlencoded"}
    streamed = client.post("/login", content=chunks(), headers=form)
    assert streamed.status_code == 413
    assert streamed.headers["x-content-type-options"] == "nosniff"


def test_an_internal_error_is_logged_by_type_only(
    service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret value MRN-77 in the message")

    monkeypatch.setattr(store_records, "present_many", explode)
    app = create_app(service.db, policy=service.policy)
    with (
        caplog.at_level(logging.INFO),
        TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client,
    ):
        response = client.get(
            BASE + "/patients?subject_code=CHLA-001", headers=service.as_("chair")
        )
    assert response.status_code == 500
    assert response.headers["cache-control"] == "no-store"
    # The server's records (the test client logs its own request line, query and all).
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    logged = "\n".join(r.getMessage() for r in server)
    assert "RuntimeError" in logged
    assert "MRN-77" not in logged and "CHLA-001" not in logged
    assert all(r.exc_info is None for r in server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_the_pages_and_the_api(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PHASEONE_ADMIN_USERNAME": "admin",
        "PHASEONE_ADMIN_PASSWORD": "quiet harbour lantern 42",
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    db_url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "phaseone", "serve", "--port", str(port), "--database-url", db_url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                login = httpx.get(base + "/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.25)
        else:
            raise AssertionError("the service did not start")
        assert login.status_code == 200 and "<form" in login.text
        home = httpx.get(base + "/", follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"].startswith("/login")
        assert httpx.get(base + "/api/v1/auth/me").status_code == 401
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "Traceback" not in output


def test_a_worker_freezes_what_it_built_at_start(tmp_path: Path) -> None:
    """The objects a worker builds at start (some 340,000) are frozen, so that a full
    garbage collection under load does not walk them all and stop the worker's requests."""
    program = (
        "import gc\n"
        "from phaseone.web.app import app_from_environment\n"
        "app_from_environment()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    env = {
        **os.environ,
        "PHASEONE_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    frozen, walked = (int(word) for word in done.stdout.split())
    assert frozen > 100_000
    assert walked < frozen / 20
