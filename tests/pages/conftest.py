"""A demo trial served on a free port, and Debian's Chromium driven by Playwright.

Browser tests run in CI (`.ci/run` installs chromium with apt-get). Locally, without
/usr/bin/chromium and without CI set, they are skipped with a loud reason; in CI a missing
browser is a failure, never a skip.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The password the test builds the demo with (the demo command makes a random one).
DEMO_PASSWORD = "browser-test-password"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = (
    "BROWSER TESTS NOT RUN: /usr/bin/chromium is missing (apt-get install -y chromium); "
    "CI installs it and runs them"
)


def browser_available() -> bool:
    present = Path(CHROMIUM).exists() or shutil.which("chromium") is not None
    if not present and os.environ.get("CI"):
        pytest.fail(f"CI is set but {CHROMIUM} is missing: .ci/run must install chromium")
    return present


@dataclass(frozen=True)
class Served:
    url: str
    today: dt.date


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not browser_available():
        pytest.skip(SKIP_REASON)
    import uvicorn

    from phaseone.demo.build import POLICY, build_demo
    from phaseone.protocol import resolve_protocol
    from phaseone.store.db import Database
    from phaseone.web.pages import create_site
    from phaseone.workflow import Trial

    protocol = resolve_protocol("nant-2011-04")
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    db = Database(f"sqlite:///{path}")
    today = dt.datetime.now(dt.UTC).date()
    build_demo(db, protocol, today, DEMO_PASSWORD)
    app = create_site(db, Trial.from_protocol(protocol), policy=POLICY)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", today)
    server.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    found = context.new_page()
    errors: list[str] = []
    found.on("pageerror", lambda exc: errors.append(str(exc)))
    yield found
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def flash(page: Any) -> str:
    """The page's first message (done, or refused)."""
    return str(page.locator(".flash").first.inner_text())


def shot(page: Any, name: str, full: bool = True) -> None:
    """A screenshot for the docs, when PHASEONE_SCREENSHOTS names a folder."""
    where = shots_dir()
    if where is not None:
        where.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(where / f"{name}.png"), full_page=full)


def fill_course_2_late_and_lower(page: Any, due: dt.date, level: int) -> None:
    """The course-2 form: day 1 three days after `due` for a scheduling reason, at the
    lower `level` after a rash (height 124 cm, weight 23 kg)."""
    assert page.get_by_label("Day 1", exact=True).input_value() == due.isoformat()
    page.get_by_label("Day 1", exact=True).fill((due + dt.timedelta(days=3)).isoformat())
    page.get_by_label("Height (cm), measured for this course").fill("124")
    page.get_by_label("Weight (kg), measured for this course").fill("23")
    page.get_by_label("Dose level", exact=True).select_option(str(level))
    page.get_by_label("Reason for a lower dose level").fill("grade 3 rash in course 1")
    page.get_by_label("Cause of a delay (if day 1 is late)").select_option("scheduling")
    page.get_by_label("Delay in your words").fill("family travel")


def shots_dir() -> Path | None:
    """Where to save screenshots for the docs (PHASEONE_SCREENSHOTS=docs/img), if anywhere."""
    value = os.environ.get("PHASEONE_SCREENSHOTS")
    return Path(value) if value else None
