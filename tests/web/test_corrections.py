"""Edit checks and corrections through the API and the pages: a dose far above the plan or
a second one on a day needs a named override reason (stored and listed), a date in the
future and an impossible lab value are refused, and a correction or void made on the
patient's chart is audited old -> new with its reason."""

from __future__ import annotations

import datetime as dt

from phaseone.demo.records import screening_record
from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import PATIENT_BORN, T0, Service

Journey = dict[str, dict[str, int]]


def _paths(response: object) -> set[str]:
    return {e["path"] for e in response.json()["errors"]}  # type: ignore[attr-defined]


def test_a_dose_above_the_plan_needs_an_override_reason_that_is_stored(
    service: Service, journey: Journey
) -> None:
    patient = journey["a"]["patients"]
    path = f"/patients/{patient}/doses"
    planned = service.ok(service.post("coord_a", path, {"day": 2, "agent_id": "lenalidomide"}), 201)
    tenfold = planned["planned_dose"] * 10
    body = {"day": 3, "agent_id": "lenalidomide", "given_mg": tenfold, "reason": "as ordered"}
    before = service.audit_count()
    refused = service.post("coord_a", path, body)
    assert refused.status_code == 422 and _paths(refused) == {"override"}
    assert service.audit_count() == before
    accepted = service.post("coord_a", path, body | {"override": "confirmed with pharmacy"})
    dose = service.ok(accepted, 201)
    found = service.ok(service.get("chair", "/audit?action=edit_check_override"))
    (entry,) = [e for e in found["items"] if e["entity_id"] == str(dose["id"])]
    assert entry["field"] == "dose-above-plan"
    assert entry["reason"] == "confirmed with pharmacy"
    assert entry["entity"] == "dose_administrations"


def test_a_second_administration_on_a_day_needs_a_reason(
    service: Service, journey: Journey
) -> None:
    path = f"/patients/{journey['a']['patients']}/doses"
    body = {"day": 4, "agent_id": "lenalidomide"}
    service.ok(service.post("coord_a", path, body), 201)
    again = service.post("coord_a", path, body)
    assert again.status_code == 422 and _paths(again) == {"override"}
    service.ok(service.post("coord_a", path, body | {"override": "vomited, re-dosed"}), 201)


def test_a_dose_or_lab_dated_in_the_future_is_refused(service: Service, journey: Journey) -> None:
    patient = journey["a"]["patients"]
    service.clock.now = T0 + dt.timedelta(days=5)  # course day 6
    dose = service.post(
        "coord_a", f"/patients/{patient}/doses", {"day": 19, "agent_id": "lenalidomide"}
    )
    assert dose.status_code == 422 and _paths(dose) == {"day"}
    lab = {"analyte": "anc", "value": 900, "unit": "/uL", "collected_on": "2024-06-20"}
    refused = service.post("coord_a", f"/patients/{patient}/labs", lab)
    assert refused.status_code == 422 and _paths(refused) == {"collected_on"}


def test_an_impossible_lab_value_is_refused_by_api_page_and_correction(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient = journey["a"]["patients"]
    lab = {"analyte": "sodium", "value": 1400, "unit": "mmol/L", "collected_on": "2024-06-05"}
    api = service.post("coord_a", f"/patients/{patient}/labs", lab)
    assert api.status_code == 422 and _paths(api) == {"value"}
    page = pages.post("coord_a", f"/patients/{patient}/labs", {k: str(v) for k, v in lab.items()})
    assert page.status_code == 422 and refused_fields(page.text) == {"value"}
    # 1400 mmol/L is impossible; 140 (the value meant) is not.
    saved = service.ok(
        service.post("coord_a", f"/patients/{patient}/labs", lab | {"value": 140}), 201
    )
    lab_id = saved["lab"]["id"]
    wrong = service.patch("coord_a", f"/lab-results/{lab_id}", {"value": 1400, "reason": "typo"})
    assert wrong.status_code == 422 and _paths(wrong) == {"value"}


def test_a_correction_and_a_void_on_the_chart_are_audited_with_their_reason(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    chart = pages.get("coord_a", f"/patients/{patient}")
    assert f"/patients/{patient}/labs/{lab_id}/correct" in chart.text

    no_reason = pages.post(
        "coord_a", f"/patients/{patient}/labs/{lab_id}/correct", {"value": "0.5"}
    )
    assert no_reason.status_code == 422 and refused_fields(no_reason.text) == {"reason"}
    assert 'value="0.5"' in no_reason.text  # typed value shown again

    fields = {"value": "0.5", "reason": "transcription error"}
    done = pages.post("coord_a", f"/patients/{patient}/labs/{lab_id}/correct", fields)
    assert done.status_code == 303, done.text[:2000]
    history = service.ok(service.get("coord_a", f"/lab-results/{lab_id}/history"))
    change = [h for h in history if h["action"] == "update"][-1]
    assert (change["field"], change["old_value"], change["new_value"]) == ("value", 0.4, 0.5)
    assert change["reason"] == "transcription error" and change["source"] == "page"

    audit = pages.get("chair", f"/audit?entity=lab_results&entity_id={lab_id}")
    assert "transcription error" in audit.text

    ae_id = journey["a"]["adverse-events"]
    voided = pages.post(
        "coord_a", f"/patients/{patient}/adverse-events/{ae_id}/void", {"reason": "wrong patient"}
    )
    assert voided.status_code == 303
    ae = service.ok(service.get("coord_a", f"/adverse-events/{ae_id}"))
    assert ae["voided"] and ae["void_reason"] == "wrong patient"


def test_another_site_cannot_correct_a_record_from_the_pages(
    journey: Journey, pages: Pages, service: Service
) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    pages.as_("coord_b")  # signing in is audited: before counting
    before = service.audit_count()
    fields = {"value": "9", "reason": "not mine"}
    other = pages.post("coord_b", f"/patients/{patient}/labs/{lab_id}/correct", fields)
    assert other.status_code == 404
    assert service.audit_count() == before


def test_rescreening_shows_which_verdicts_moved(service: Service, pages: Pages) -> None:
    """Screened at 40 (ineligible on age), then with the birth date corrected to the
    child's and screened again: the chart names the criteria whose verdict moved."""
    day = service.clock.now.date()
    record = screening_record("CHLA-020", "chla", day, age_years=40, sex="female")
    body = {
        "site_id": "chla",
        "subject_code": "CHLA-020",
        "birth_date": record["birth_date"],
        "sex": "F",
    }
    patient = service.ok(service.post("coord_a", "/patients", body), 201)["id"]
    first = {"record": record, "as_of": day.isoformat()}
    assert (
        service.ok(service.post("coord_a", f"/patients/{patient}/screenings", first), 201)[
            "overall"
        ]
        == "ineligible"
    )
    fixed = {"birth_date": PATIENT_BORN.isoformat(), "reason": "birth year mistyped"}
    service.ok(service.patch("coord_a", f"/patients/{patient}", fixed))
    for name in ("birth_date", "sex", "site"):
        del record[name]
    again = service.post("coord_a", f"/patients/{patient}/screenings", first)
    assert service.ok(again, 201)["overall"] == "eligible"
    chart = pages.get("coord_a", f"/patients/{patient}").text
    assert "overall ineligible → eligible" in chart
    assert "not met → met" in chart


def test_off_treatment_dated_after_today_is_refused_by_api_and_page(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient = journey["a"]["patients"]
    later = (service.clock.now.date() + dt.timedelta(days=3)).isoformat()
    body = {"ended_on": later, "reason": "physician_decision"}
    api = service.post("coord_a", f"/patients/{patient}/off-treatment", body)
    assert api.status_code == 422 and _paths(api) == {"ended_on"}
    page = pages.post("coord_a", f"/patients/{patient}/off-treatment", body)
    assert page.status_code == 422 and refused_fields(page.text) == {"ended_on"}
