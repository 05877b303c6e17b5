"""Site coordinator and study chair walks through the pages, in a real Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from phaseone.demo.records import screening_record

from .conftest import DEMO_PASSWORD, Served, fill_course_2_late_and_lower, flash, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.id && document.querySelector(`label[for="${el.id}"]`))
                && !el.closest('label') && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id)"""


def login(page: Any, served: Served, username: str) -> None:
    page.goto(f"{served.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/$"))


def logout(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/login.*"))


def every_field_labelled(page: Any) -> None:
    assert page.evaluate(UNLABELLED) == []


def test_coordinator_screens_registers_and_records_an_adverse_event(
    page: Any, served: Served
) -> None:
    login(page, served, "coord.chla")
    every_field_labelled(page)
    shot(page, "dashboard")

    page.get_by_role("link", name="Patients").click()
    page.get_by_label("Study number").fill("CHLA-100")
    page.get_by_label("Date of birth").fill("2018-01-15")
    page.get_by_label("Sex").select_option("M")
    page.get_by_role("button", name="Add patient").click()
    assert "Patient CHLA-100 added" in flash(page)
    patient_url = page.url.split("?")[0]

    # The advanced option: a pasted JSON record (the form is typed in test_serve_scenario).
    every_field_labelled(page)
    record = screening_record("CHLA-100", "chla", served.today, birth_date=dt.date(2018, 1, 15))
    page.get_by_text("Advanced: paste a JSON record").click()
    page.get_by_label("Patient record").fill(json.dumps(record))
    pasted = page.locator('form[aria-label="Screen a pasted JSON record"]')
    pasted.get_by_role("button", name="Screen", exact=True).click()
    assert "Screened: eligible (dose level 3)" in flash(page)
    checklist = page.locator(".checklist li")
    assert checklist.count() > 50
    assert "high-risk neuroblastoma" in checklist.first.inner_text()
    every_field_labelled(page)
    logout(page)

    login(page, served, "inv.chla")
    page.goto(patient_url)
    page.get_by_label("Password for inv.chla").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign eligibility").click()
    assert flash(page) == "Eligibility signed."
    assert "Eligibility confirmed by site investigator" in page.locator(".sigs").inner_text()
    logout(page)

    login(page, served, "coord.chla")
    page.get_by_label("Your site's reference").fill("referral 100")
    page.get_by_role("button", name="Request a slot").click()
    assert "Slot held until" in flash(page)
    page.goto(patient_url)
    held = page.locator("#slot_request_id option", has_text="referral 100")
    page.get_by_label("Held slot").select_option(held.get_attribute("value"))
    page.get_by_label("Height (cm)", exact=True).fill("121.5")
    page.get_by_label("Weight (kg)", exact=True).fill("22.4")
    page.get_by_role("button", name="Register").click()
    assert "Registered at dose level 3; BSA 0.87 m2" in flash(page)
    calendar = page.locator("table.calendar")
    assert "Lenalidomide" in calendar.locator("tbody tr").first.inner_text()

    page.get_by_role("button", name="Record dose").click()
    assert re.search(r"Day 1: lenalidomide planned [\d.]+ mg, given [\d.]+ mg", flash(page))

    # The grade appears as the value is typed: ANC 400/uL is grade 4 (CTCAE v4.03, < 500).
    page.get_by_label("Analyte").select_option("anc")
    page.get_by_label("Unit").select_option("/uL")
    value = page.get_by_label("Value", exact=True)
    value.press_sequentially("400", delay=30)
    preview = page.locator("#grade-preview")
    preview.filter(has_text="grade 4").wait_for()
    assert "Neutrophil count decreased" in preview.inner_text()
    value.fill("1200")
    preview.filter(has_text="grade 2").wait_for()  # 1000-1500/uL
    shot(page, "patient-lab-entry", full=False)
    page.get_by_role("button", name="Save lab").click()
    assert "CTCAE grade 2" in flash(page)

    page.get_by_label("CTCAE term").fill("Diarrhea")
    page.get_by_label("Grade", exact=True).select_option("2")
    page.get_by_label("Lenalidomide").select_option("possible")
    page.get_by_role("button", name="Save adverse event").click()
    assert flash(page) == "Adverse event saved: Diarrhea grade 2."
    assert "Diarrhea" in page.locator("#adverse-events table").inner_text()
    every_field_labelled(page)
    course_2_with_a_dose_modification_and_a_delay(page, patient_url, served)


def course_2_with_a_dose_modification_and_a_delay(
    page: Any, patient_url: str, served: Served
) -> None:
    """Course 2 of the patient just registered at level 3 (day 1 today): the counts, then
    course 2 three days late at level 2 with a new height and weight."""
    page.goto(patient_url)
    page.locator("#lab-analyte").select_option("platelets")
    page.locator("#lab-unit").select_option("/uL")
    page.locator("#lab-value").fill("150000")
    page.get_by_role("button", name="Save lab").click()
    assert "platelets" in flash(page).lower()
    page.get_by_role("link", name="All courses").first.click()
    due = served.today + dt.timedelta(days=28)
    fill_course_2_late_and_lower(page, due, 2)
    every_field_labelled(page)
    page.get_by_role("button", name="Start course 2").click()
    # BSA: Mosteller sqrt(124 x 23 / 3600) = 0.890 m2.
    assert flash(page) == "Course 2 started at dose level 2; BSA 0.89 m2."
    meta = page.locator("p.meta").inner_text()
    assert "delayed 3 days: scheduling" in meta
    assert "dose modification: grade 3 rash in course 1" in meta
    assert "Lenalidomide" in page.locator("table.calendar").inner_text()
    every_field_labelled(page)
    shot(page, "course-2", full=False)
    page.get_by_role("link", name="Printable roadmap").click()
    assert "2 of 12" in page.locator("body").inner_text()


def test_a_site_user_cannot_open_another_sites_patient(page: Any, served: Served) -> None:
    login(page, served, "coord.chop")
    page.goto(f"{served.url}/patients/1")  # the first demo patient is at CHLA
    assert page.locator("h1").inner_text() == "Not available"


def test_chair_signs_a_determination_and_confirms_the_decision(page: Any, served: Served) -> None:
    login(page, served, "chair")
    page.get_by_role("link", name="Chair's queue").click()
    card = page.locator("article.card").first
    assert "proposed: no DLT, evaluable" in card.inner_text()
    every_field_labelled(page)
    shot(page, "chair-queue")
    card.get_by_label(re.compile("Password for chair")).fill(DEMO_PASSWORD)
    card.get_by_role("button", name="Sign determination").click()
    assert "Determination signed. The design proposes to continue accrual at dose level 3" in flash(
        page
    )
    decision = page.locator("article.card", has_text="The design proposes")
    decision.get_by_label(re.compile("Password for chair")).fill(DEMO_PASSWORD)
    decision.get_by_role("button", name="Confirm decision").click()
    page.wait_for_url(re.compile(r".*/escalation.*"))
    assert "Decision confirmed: continue accrual at dose level 3" in flash(page)
    first_row = page.locator("table tbody tr").first
    assert "confirmed" in first_row.inner_text()
    assert "Dr. Chris Chair" in first_row.inner_text()
    shot(page, "escalation")

    page.get_by_role("link", name="Audit trail").click()
    page.get_by_role("link", name="Verify the hash chain").click()
    assert "intact" in page.locator("p[role=status]").inner_text()
    assert "sign" in page.locator("table.audit").inner_text()
    shot(page, "audit", full=False)


def test_the_dashboard_is_usable_with_the_keyboard_on_a_tablet(page: Any, served: Served) -> None:
    page.set_viewport_size({"width": 820, "height": 1180})
    login(page, served, "coord.chop")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 820, f"the page scrolls sideways on a tablet ({width}px)"
    shot(page, "dashboard-tablet")


def test_assumed_dose_levels_are_marked_on_the_dashboard(page: Any, served: Served) -> None:
    """The bundled protocol's dose amounts are not public: every level says so."""
    login(page, served, "coord.chla")
    rows = page.locator("section[aria-labelledby=levels-h] tbody tr")
    assert rows.count() == 5
    for i in range(rows.count()):
        assert "assumed" in rows.nth(i).inner_text()
    note = page.locator("section[aria-labelledby=levels-h] p.footnote").inner_text()
    assert "not stated in the public registry record" in note
    assert "illustrative only" in note  # the protocol file's own note on the amounts


def test_a_lab_is_corrected_with_a_reason_and_the_chair_finds_it_in_the_audit(
    page: Any, served: Served
) -> None:
    login(page, served, "coord.chla")
    page.goto(f"{served.url}/patients/1")  # the first demo patient (CHLA) has labs
    page.locator("#labs").get_by_role("link", name="Correct or void").first.click()
    history = page.get_by_role("link", name="History of this record").get_attribute("href")
    value = page.get_by_label("Value", exact=True)
    value.fill("abc")  # refused, and shown again as typed
    page.get_by_label("Reason for the correction").fill("re-read from the lab report")
    page.get_by_role("button", name="Save correction").click()
    assert "value" in page.locator("div.flash.error").first.inner_text()
    assert page.get_by_label("Value", exact=True).input_value() == "abc"
    assert page.get_by_label("Reason for the correction").input_value() == (
        "re-read from the lab report"
    )
    every_field_labelled(page)
    shot(page, "correction", full=False)
    page.get_by_label("Value", exact=True).fill("2100")
    page.get_by_role("button", name="Save correction").click()
    assert "Corrected (audited with the reason)" in flash(page)
    every_field_labelled(page)
    logout(page)

    login(page, served, "chair")
    page.goto(f"{served.url}{history}")
    trail = page.locator("table.audit").inner_text()
    assert "re-read from the lab report" in trail and "2100" in trail


def _bilateral_marrow(page: Any, percent: str) -> None:
    """Aspirates and biopsies from both sides (marrow CR needs all four: INRC 2017)."""
    samples = [("left", "aspirate"), ("right", "aspirate"), ("left", "biopsy"), ("right", "biopsy")]
    for i, (side, kind) in enumerate(samples):
        page.locator(f"#marrow-{i}-side").select_option(side)
        page.locator(f"#marrow-{i}-kind").select_option(kind)
        page.locator(f"#marrow-{i}-pct").fill(percent)


def test_coordinator_enters_evaluations_and_the_chair_sees_the_response_table(
    page: Any, served: Served
) -> None:
    """S-0001 (CHLA, dose level 1) was registered 170 days ago in the demo, which entered a
    baseline evaluation for it; the coordinator corrects that baseline on its own page."""
    login(page, served, "coord.chla")
    page.goto(f"{served.url}/patients")
    page.get_by_role("link", name="S-0001").first.click()
    page.get_by_role("link", name="Enter or view evaluations").click()
    every_field_labelled(page)
    page.locator('a[href$="/correct"]').first.click()
    every_field_labelled(page)
    baseline = served.today - dt.timedelta(days=172)
    page.get_by_label("Date of the evaluation").fill(baseline.isoformat())
    page.get_by_label("Kind").select_option("baseline")
    page.get_by_label("Disease status at entry (baseline only)").select_option("measurable")
    page.get_by_label("Tumour MIBG-avid?").select_option("yes")
    page.locator("#curie-pelvis").fill("2")
    page.locator("#lesion-0-id").fill("P1")
    page.locator("#lesion-0-site").select_option("primary")
    page.locator("#lesion-0-mm").fill("50")
    _bilateral_marrow(page, "30")
    page.get_by_label("Reason for the correction").fill("baseline transcribed from the scan report")
    page.get_by_role("button", name="Save the correction").click()
    assert "corrected" in flash(page)
    # Repeatable rows: the script adds a fourth lesion row, numbered on.
    page.get_by_role("button", name="Add a lesion").click()
    assert page.locator("#lesion-3-id").count() == 1
    after = served.today - dt.timedelta(days=110)
    page.get_by_label("Date of the evaluation").fill(after.isoformat())
    page.get_by_label("Kind").select_option("scheduled")
    page.get_by_label("After course (scheduled evaluations)").select_option("2")
    page.get_by_label("Tumour MIBG-avid?").select_option("yes")
    page.locator("#curie-pelvis").fill("0")
    page.locator("#lesion-0-id").fill("P1")
    page.locator("#lesion-0-site").select_option("primary")
    page.locator("#lesion-0-mm").fill("20")  # 50 -> 20 mm: -60%, PR (>= 30% fall)
    _bilateral_marrow(page, "0")
    page.get_by_role("button", name="Save the evaluation").click()
    assert "recorded" in flash(page)
    # Bone and marrow clear, primary PR: overall PR, computed by the engine.
    assert page.locator("tr[data-evaluation] [data-overall]").last.inner_text() == "PR"
    assert page.locator("[data-best]").first.inner_text() == "PR"
    shot(page, "evaluations", full=False)
    logout(page)

    login(page, served, "chair")
    page.get_by_role("link", name="Response").click()
    level_1 = page.locator('#response-rates tr[data-level="1"]')
    cells = level_1.locator("td").all_inner_texts()
    # The demo gives each of level 1's three patients a baseline: three evaluable, one responder.
    assert cells[:2] == ["3", "1"]
    assert "Event-free survival" in page.locator("table.survival").first.inner_text()
    shot(page, "response", full=False)
