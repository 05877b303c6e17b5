"""A patient's records through the API: creation, correction with a reason, voiding, history."""

from __future__ import annotations

from service_fixtures import RECORD_PATHS, Service


def test_every_record_type_can_be_created_read_and_listed(service: Service, journey) -> None:
    for path in RECORD_PATHS:
        record_id = journey["a"][path]
        record = service.ok(service.get("coord_a", f"/{path}/{record_id}"))
        assert record["id"] == record_id
        assert record["voided"] is False
        page = service.ok(service.get("chair", f"/{path}"))
        assert page["total"] == 2  # one per site; the chair sees both


def test_correction_needs_a_reason_and_keeps_the_old_value(service: Service, journey) -> None:
    ae = journey["a"]["adverse-events"]
    refused = service.patch("coord_a", f"/adverse-events/{ae}", {"grade": 3})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"].endswith("reason")
    blank = service.patch("coord_a", f"/adverse-events/{ae}", {"grade": 3, "reason": "  "})
    assert blank.status_code == 422
    fixed = service.ok(
        service.patch("coord_a", f"/adverse-events/{ae}", {"grade": 3, "reason": "source check"})
    )
    assert fixed["grade"] == 3
    history = service.ok(service.get("monitor", f"/adverse-events/{ae}/history"))
    assert [h["action"] for h in history] == ["create", "update"]
    create, update = history
    assert create["new_value"]["grade"] == 4
    assert (update["field"], update["old_value"], update["new_value"]) == ("grade", 4, 3)
    assert update["reason"] == "source check"
    assert update["username"] == "coord_a"
    assert update["role"] == "site_coordinator"
    assert update["user_site_id"] == "chla"
    assert update["source"] == "api"
    assert update["at"].endswith("Z")


def test_void_keeps_the_row_and_hides_it_from_lists(service: Service, journey) -> None:
    lab = journey["a"]["lab-results"]
    service.ok(service.post("coord_a", f"/lab-results/{lab}/void", {"reason": "wrong patient"}))
    record = service.ok(service.get("coord_a", f"/lab-results/{lab}"))
    assert record["voided"] is True and record["void_reason"] == "wrong patient"
    listed = service.ok(service.get("coord_a", "/lab-results"))
    assert lab not in [r["id"] for r in listed["items"]]
    with_voided = service.ok(service.get("coord_a", "/lab-results?include_voided=true"))
    assert lab in [r["id"] for r in with_voided["items"]]
    again = service.patch("coord_a", f"/lab-results/{lab}", {"value": 1.0, "reason": "x"})
    assert again.status_code == 409


def test_pagination(service: Service) -> None:
    for n in range(7):
        service.new_patient("coord_a", "chla", f"CHLA-1{n:02d}")
    first = service.ok(service.get("coord_a", "/patients?limit=3"))
    assert (first["total"], len(first["items"]), first["next_offset"]) == (7, 3, 3)
    last = service.ok(service.get("coord_a", "/patients?limit=3&offset=6"))
    assert len(last["items"]) == 1 and last["next_offset"] is None
    codes = [p["subject_code"] for p in first["items"] + last["items"]]
    assert codes == ["CHLA-100", "CHLA-101", "CHLA-102", "CHLA-106"]


def test_errors_name_the_field(service: Service) -> None:
    body = {"site_id": "chla", "subject_code": "X-1", "birth_date": "2015-13-40", "sex": "Q"}
    response = service.post("coord_a", "/patients", body)
    assert response.status_code == 422
    paths = {e["path"] for e in response.json()["errors"]}
    assert {"body.birth_date", "body.sex"} <= paths


def test_duplicate_subject_code_is_a_conflict(service: Service) -> None:
    service.new_patient("coord_a", "chla", "CHLA-050")
    again = service.post(
        "coord_a",
        "/patients",
        {"site_id": "chla", "subject_code": "CHLA-050", "birth_date": "2015-01-01", "sex": "F"},
    )
    assert again.status_code == 409
    assert "subject_code" in again.json()["errors"][0]["message"]


def test_reference_to_another_patients_course_is_refused(service: Service, journey) -> None:
    other = service.new_patient("coord_a", "chla", "CHLA-002")
    body = {
        "patient_id": other["id"],
        "course_id": journey["a"]["courses"],
        "analyte": "ANC",
        "value": 1.0,
        "unit": "10^9/L",
        "collected_on": "2024-01-01",
    }
    response = service.post("coord_a", "/lab-results", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "course_id"
