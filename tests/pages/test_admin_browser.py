"""The administrator adds an account from the page and its holder sets a password with the
one-time code; a monitor filters the audit trail by patient and downloads it as CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import Served
from .test_browser import login, logout

pytestmark = [pytest.mark.browser, pytest.mark.slow]

THEIR_PASSWORD = "violet tractor harbour 1987 lantern"


def test_an_admin_adds_a_user_who_sets_a_password_with_the_code(page: Any, served: Served) -> None:
    from .conftest import DEMO_PASSWORD

    login(page, served, "admin")
    page.get_by_role("link", name="Administration").click()
    form = page.get_by_role("form", name="Add an account")
    form.get_by_label("Username").fill("new.coord")
    form.get_by_label("Full name").fill("Noor Coordinator")
    form.get_by_label("Role", exact=True).select_option("site_coordinator")
    form.get_by_label("Site").select_option("chla")
    form.get_by_label("Your password").fill(DEMO_PASSWORD)
    form.get_by_role("button", name="Add account and issue a code").click()
    code = page.locator("#one-time-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code), code
    assert DEMO_PASSWORD not in page.content()
    logout(page)

    page.get_by_role("link", name="Have a one-time code? Set your password").click()
    page.get_by_label("Username").fill("new.coord")
    page.get_by_label("One-time code").fill(code)
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Set password").click()
    assert "new_password" in page.locator("div.flash.error").first.inner_text()
    page.get_by_label("One-time code").fill(code)
    page.get_by_label("New password").fill(THEIR_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url(re.compile(r".*/login.*"))
    assert "Password set" in page.locator(".flash").first.inner_text()
    page.get_by_label("Username").fill("new.coord")
    page.get_by_label("Password").fill(THEIR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert "Noor Coordinator" in page.locator("header").inner_text()


def test_a_monitor_filters_the_audit_by_patient_and_downloads_csv(
    page: Any, served: Served, tmp_path: Path
) -> None:
    login(page, served, "monitor")
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Patient id").fill("1")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*patient_id=1.*"))
    rows = page.locator("table.audit tbody tr")
    assert rows.count() > 0
    # Each entry links to its record: patient 1's chart or courses, or the specimen list.
    links = page.locator("table.audit tbody a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert links and all(re.match(r"^/patients/1(/|$)|^/specimens$", h) for h in links), links
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    saved = tmp_path / "trail.csv"
    info.value.save_as(saved)
    found = list(csv.DictReader(io.StringIO(saved.read_text("utf-8"))))
    assert found and {r["patient_id"] for r in found} == {"1"}
    assert {r["subject_code"] for r in found} == {found[0]["subject_code"]}
