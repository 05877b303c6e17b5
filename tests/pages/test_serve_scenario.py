"""A trial run on `phaseone serve` (not the demo), in a real Chromium.

The service runs in a subprocess on a new SQLite database and a clock file; accounts are
made with `phaseone users add`. A coordinator at CHLA screens a new child with the
structured form (no JSON), the site investigator signs, the coordinator registers her,
gives course 1, corrects a lab with a reason and finds it in the audit trail, and starts
course 2 at a lower dose level after a delay. A coordinator at Stanford then finds neither
the patient nor her code anywhere.

The protocol is NANT 2011-04 with its design starting at dose level 2 (a protocol is data:
`serve --protocol FILE`), so that a lower level exists for course 2's dose modification
without first running three patients through the windows of level 1.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from phaseone.demo.records import screening_record
from phaseone.eligibility import parse_record, record_data
from phaseone.protocol import resolve_protocol
from phaseone.web.clock import write_clock_file
from phaseone.web.pages import record_form

from .conftest import (
    SKIP_REASON,
    browser_available,
    chromium,
    fill_course_2_late_and_lower,
    flash,
    shot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The invented records' screening day; course 1 starts on it, course 2 is due 28 days on.
DAY_1 = dt.date(2024, 6, 3)
BORN = dt.date(2016, 3, 1)
PASSWORD = f"scenario passphrase {secrets.token_urlsafe(9)}"
PEOPLE = (
    ("coord.chla", "site_coordinator", "chla", "Casey Coordinator"),
    ("inv.chla", "site_investigator", "chla", "Ines Investigator"),
    ("coord.stanford", "site_coordinator", "stanford", "Sam Coordinator"),
)


@dataclass(frozen=True)
class Service:
    url: str
    clock: Path

    def set_day(self, day: dt.date) -> None:
        write_clock_file(self.clock, dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC))


def _protocol_starting_at_level_2(folder: Path) -> Path:
    text = (
        resources.files("phaseone.protocol")
        .joinpath("data/protocols/nant-2011-04.yaml")
        .read_text("utf-8")
    )
    assert text.count("\n  starting_dose_level: 1\n") == 1
    path = folder / "nant-2011-04-from-level-2.yaml"
    path.write_text(text.replace("\n  starting_dose_level: 1\n", "\n  starting_dose_level: 2\n"))
    return path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    if not browser_available():
        pytest.skip(SKIP_REASON)
    from phaseone.synth.local_service import own_service

    folder = tmp_path_factory.mktemp("serve")
    start = dt.datetime.combine(DAY_1, dt.time(9), tzinfo=dt.UTC)
    protocol = _protocol_starting_at_level_2(folder)
    with own_service(folder, start, protocol=protocol) as served:
        env = {**os.environ, "PHASEONE_NEW_PASSWORD": PASSWORD}
        for username, role, site, name in PEOPLE:
            command = [
                sys.executable, "-m", "phaseone", "users", "add", username,
                "--role", role, "--site", site, "--full-name", name,
                "--database-url", f"sqlite:///{served.database}",
            ]  # fmt: skip
            made = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert made.returncode == 0, made.stdout + made.stderr
        yield Service(served.base_url, served.clock)


@pytest.fixture(scope="module")
def browser(service: Service) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


def login(page: Any, service: Service, username: str) -> None:
    page.goto(f"{service.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))


def fill_screening_form(page: Any, values: dict[str, str]) -> None:
    """Type a record into the structured form as a person would: add rows where a list
    needs more, choose the analyte before its unit, tick "none" boxes."""
    form = record_form.layout(resolve_protocol("nant-2011-04"))
    for name in form.lists:
        wanted = 1 + max(
            (int(k[len(name) + 1 :].split("]")[0]) for k in values if k.startswith(f"{name}[")),
            default=-1,
        )
        rows = page.locator(f'table[data-rows="{name}"] tbody tr')
        while rows.count() < wanted:
            page.locator(f'button.add-row[data-for="{name}"]').click()
    scope = page.locator('form[aria-label="Screening form"]')
    for name, value in values.items():
        field = scope.locator(f'[name="{name}"]')
        if name.endswith(record_form.NONE_SUFFIX):
            field.check()
        elif field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_a_trial_run_on_serve(service: Service, browser: Any) -> None:
    coordinator = _page(browser)
    login(coordinator, service, "coord.chla")
    coordinator.get_by_role("link", name="Patients").click()
    coordinator.get_by_label("Date of birth").fill(BORN.isoformat())
    coordinator.get_by_label("Sex").select_option("F")
    coordinator.get_by_role("button", name="Add patient").click()
    added = re.search(r"Patient (\S+) added", flash(coordinator))
    assert added, flash(coordinator)
    code = added.group(1)
    patient_url = coordinator.url.split("?")[0].split("#")[0]

    # Screening with the form: the invented eligible record, typed field by field.
    record = screening_record(code, "chla", DAY_1, sex="female", birth_date=BORN)
    form = record_form.layout(resolve_protocol("nant-2011-04"))
    values = record_form.form_from_record(form, record_data(parse_record(record)))
    assert coordinator.locator('textarea[name="record"]').is_hidden()  # the advanced option
    fill_screening_form(coordinator, values)
    coordinator.locator('form[aria-label="Screening form"] button[value="draft"]').click()
    assert "Draft saved" in flash(coordinator)
    assert "reopened below" in coordinator.content()
    coordinator.locator('form[aria-label="Screening form"]').scroll_into_view_if_needed()
    shot(coordinator, "patient-screening-form", full=False)
    coordinator.locator('form[aria-label="Screening form"] button[value="screen"]').click()
    assert "Screened: eligible (dose level 2)" in flash(coordinator)
    shot(coordinator, "patient-eligibility", full=False)

    investigator = _page(browser)
    login(investigator, service, "inv.chla")
    investigator.goto(patient_url)
    investigator.get_by_label("Password for inv.chla").fill(PASSWORD)
    investigator.get_by_role("button", name="Sign eligibility").click()
    assert "Eligibility signed" in flash(investigator)

    # A slot, registration at the level the server assigns, course 1's first dose.
    coordinator.goto(f"{service.url}/")
    coordinator.get_by_label("Your site's reference").fill("referral 1")
    coordinator.get_by_role("button", name="Request a slot").click()
    coordinator.goto(patient_url)
    held = coordinator.locator("#slot_request_id option", has_text="referral 1")
    coordinator.get_by_label("Held slot").select_option(held.get_attribute("value"))
    coordinator.get_by_label("Height (cm)", exact=True).fill("121.5")
    coordinator.get_by_label("Weight (kg)", exact=True).fill("22.4")
    coordinator.get_by_role("button", name="Register").click()
    assert "Registered at dose level 2" in flash(coordinator)
    coordinator.get_by_role("button", name="Record dose").click()
    assert "Day 1: lenalidomide planned" in flash(coordinator)

    # Course 2 is due on day 29; the counts of day 32 are entered, one corrected.
    service.set_day(DAY_1 + dt.timedelta(days=31))
    coordinator.goto(patient_url)
    for analyte, value in (("anc", "1200"), ("platelets", "150000")):
        coordinator.locator("#lab-analyte").select_option(analyte)
        coordinator.locator("#lab-unit").select_option("/uL")
        coordinator.locator("#lab-value").fill(value)
        coordinator.get_by_role("button", name="Save lab").click()
        assert "aved" in flash(coordinator), flash(coordinator)
    row = coordinator.locator("#labs tbody tr", has_text="anc")
    row.get_by_role("link", name="Correct or void").click()
    coordinator.get_by_label("Value", exact=True).fill("1250")
    coordinator.get_by_label("Reason for the correction").fill("transcription error, lab report")
    coordinator.get_by_role("button", name="Save correction").click()
    assert "orrect" in flash(coordinator), flash(coordinator)
    row = coordinator.locator("#labs tbody tr", has_text="anc")
    row.get_by_role("link", name="Correct or void").click()
    coordinator.get_by_role("link", name="History of this record").click()
    history_url = coordinator.url
    audit = coordinator.locator("table.audit tbody").inner_text()
    assert "transcription error, lab report" in audit
    assert "1200" in audit and "1250" in audit

    # Course 2: three days late (a delay), one level lower (a dose modification).
    coordinator.goto(f"{patient_url}/courses")
    due = DAY_1 + dt.timedelta(days=28)
    fill_course_2_late_and_lower(coordinator, due, 1)
    coordinator.get_by_role("button", name="Start course 2").click()
    listing = coordinator.goto(f"{patient_url}/courses")
    assert listing is not None and listing.status == 200
    course_2 = coordinator.locator("tbody tr", has_text="Course 2").inner_text()
    assert "3 days" in course_2 and "grade 3 rash in course 1" in course_2
    course_url = f"{patient_url}/courses/2"

    # Another site's coordinator: no patient, no code, anywhere.
    other = _page(browser)
    login(other, service, "coord.stanford")
    for path in ("/", "/patients", "/specimens", "/escalation"):
        shown = other.goto(f"{service.url}{path}")
        assert shown is not None and shown.status == 200, path
        assert code not in other.content(), path
    # Their audit trail holds their own site's records only: not the lab's history.
    for url in (f"{service.url}/audit", history_url):
        shown = other.goto(url)
        assert shown is not None and shown.status in (200, 404), url
        assert code not in other.content(), url
        assert "transcription error, lab report" not in other.content(), url
    for url in (patient_url, f"{patient_url}/courses", course_url):
        shown = other.goto(url)
        assert shown is not None and shown.status == 404, url
        assert code not in other.content(), url
    for page in (coordinator, investigator, other):
        assert page.js_errors == []
