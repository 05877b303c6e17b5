"""A monitor's and an investigator's walk through queries, source-data verification and
the casebook's signature and lock, in a real Chromium over the demo trial."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import DEMO_PASSWORD, Served
from .test_browser import every_field_labelled, flash, login, logout

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PATIENT = 1  # the first demo patient, at CHLA, has labs


def test_a_query_on_a_lab_is_corrected_by_the_site_and_closed_and_sdv_clears(
    page: Any, served: Served
) -> None:
    chart = f"{served.url}/patients/{PATIENT}"
    login(page, served, "monitor")
    page.goto(chart)
    page.locator("#labs").get_by_role("link", name="Raise query").first.click()
    option = page.get_by_label("Field").locator("option:checked").inner_text()
    old = float(option.split("=")[1])
    every_field_labelled(page)
    page.get_by_label("Question").fill("The lab report shows a different value; please check.")
    page.get_by_role("button", name="Raise query").click()
    page.wait_for_url(re.compile(r".*/queries/\d+.*"))
    query_url = page.url.split("?")[0]
    assert page.locator("#query-status").inner_text() == "open"
    form_key = re.search(r"form (labs:\d+:[0-9-]+)", page.locator("p.meta").inner_text())
    assert form_key
    # The monitor verifies the lab panel of that date against source.
    page.goto(f"{chart}/monitoring")
    row = page.locator(f'tr[data-form="{form_key.group(1)}"]')
    row.get_by_role("button").click()
    assert "verified against source" in flash(page)
    assert page.locator(f'tr[data-form="{form_key.group(1)}"] .sdv-state').inner_text() == (
        "verified"
    )
    logout(page)

    login(page, served, "coord.chla")
    page.goto(chart)
    page.locator("#labs a.q-open").first.click()
    new = round(old * 1.05, 3)
    page.get_by_label(re.compile("^Answer \\(also")).fill(
        "Transcription error; the report says so."
    )
    page.get_by_label(re.compile("Correct value with this answer")).check()
    page.get_by_label(re.compile("Corrected value")).fill(str(new))
    every_field_labelled(page)
    page.get_by_role("button", name="Send answer").click()
    assert "answered" in flash(page)
    assert page.locator("#query-status").inner_text() == "answered"
    assert "→" in page.locator("p.correction").inner_text()
    logout(page)

    login(page, served, "monitor")
    page.goto(f"{chart}/monitoring")
    state = page.locator(f'tr[data-form="{form_key.group(1)}"] .sdv-state').inner_text()
    assert state == "changed since verification"
    page.goto(query_url)
    page.get_by_label("Close the query: why").fill("Matches the lab report now.")
    page.get_by_role("button", name="Close the query").click()
    assert page.locator("#query-status").inner_text() == "closed"
    page.goto(f"{served.url}/queries?status=closed")
    assert page.get_by_role("link", name=re.compile(r"Query \d+")).count() >= 1
    logout(page)


def test_the_investigator_signs_the_casebook_and_a_change_needs_an_unlock(
    page: Any, served: Served
) -> None:
    chart = f"{served.url}/patients/{PATIENT}"
    login(page, served, "inv.chla")
    page.goto(f"{chart}/monitoring")
    page.get_by_label(re.compile("Password for")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign casebook").click()
    assert "Casebook signed" in flash(page)
    assert "locked" in page.locator("#casebook-state").inner_text()
    logout(page)

    def correct_first_lab(reason: str) -> None:
        page.goto(chart)
        page.locator("#labs").get_by_role("link", name="Correct or void").first.click()
        value = page.get_by_label("Value", exact=True)
        value.fill(str(round(float(value.input_value()) * 1.1, 3)))
        page.get_by_label("Reason for the correction").fill(reason)
        page.get_by_role("button", name="Save correction").click()

    login(page, served, "coord.chla")
    correct_first_lab("late correction")
    assert "locked" in page.locator("div.flash.error").first.inner_text()
    logout(page)

    login(page, served, "chair")
    page.goto(f"{chart}/monitoring")
    page.get_by_label("Reason for unlocking").fill("A monitor's query needs a correction.")
    page.get_by_role("button", name="Unlock casebook").click()
    assert "Casebook unlocked" in flash(page)
    logout(page)

    login(page, served, "coord.chla")
    correct_first_lab("correction after the unlock")
    assert "Corrected (audited with the reason)" in flash(page)
    page.goto(f"{chart}/monitoring")
    assert "BROKEN" in page.locator("#casebook").inner_text()
