"""Site scoping on every endpoint: another site's record answers 404, as if it did not exist."""

from __future__ import annotations

import pytest
from service_fixtures import RECORD_PATHS, Service, body_for

SITE_USERS = (("inv_a", "b"), ("coord_a", "b"), ("inv_b", "a"), ("coord_b", "a"))


@pytest.mark.parametrize("path", RECORD_PATHS)
def test_other_sites_record_is_not_found_on_every_endpoint(
    service: Service, journey, path: str
) -> None:
    for who, other in SITE_USERS:
        record_id = journey[other][path]
        calls = {
            "read": service.get(who, f"/{path}/{record_id}"),
            "correct": service.patch(who, f"/{path}/{record_id}", {"reason": "probe"}),
            "void": service.post(who, f"/{path}/{record_id}/void", {"reason": "probe"}),
            "history": service.get(who, f"/{path}/{record_id}/history"),
            "sign": service.post(
                who,
                f"/{path}/{record_id}/signatures",
                {"meaning_id": "eligibility-confirmed", "username": who, "password": "x"},
            ),
        }
        for name, response in calls.items():
            assert response.status_code == 404, (who, path, name, response.text)
            assert "errors" in response.json()
        listed = service.ok(service.get(who, f"/{path}?limit=500"))
        assert record_id not in {item["id"] for item in listed["items"]}
        assert listed["total"] == 1  # only their own site's record


@pytest.mark.parametrize("path", RECORD_PATHS[1:])
def test_records_cannot_be_added_to_another_sites_patient(
    service: Service, journey, path: str
) -> None:
    other_patient = {"patients": journey["b"]["patients"]}
    body = body_for(path, "stanford", "X", other_patient)
    body.pop("course_id", None)
    body.pop("adverse_event_id", None)
    for who in ("coord_a", "inv_a"):
        response = service.post(who, f"/{path}", body)
        assert response.status_code == 404, response.text


def test_filters_cannot_reach_another_site(service: Service, journey) -> None:
    b_patient = journey["b"]["patients"]
    for path in RECORD_PATHS[1:]:
        by_patient = service.ok(service.get("coord_a", f"/{path}?patient_id={b_patient}"))
        assert by_patient["total"] == 0
        by_site = service.ok(service.get("coord_a", f"/{path}?site_id=stanford"))
        assert by_site["total"] == 0
    assert service.ok(service.get("coord_a", "/patients?site_id=stanford"))["total"] == 0


def test_patients_are_created_only_at_ones_own_site(service: Service) -> None:
    body = {"site_id": "stanford", "subject_code": "S-9", "birth_date": "2015-01-01", "sex": "F"}
    assert service.post("coord_a", "/patients", body).status_code == 403
    assert service.post("chair", "/patients", body).status_code == 201


def test_central_roles_see_every_site(service: Service, journey) -> None:
    for who in ("chair", "monitor", "stat", "admin"):
        for path in RECORD_PATHS:
            listed = service.ok(service.get(who, f"/{path}"))
            assert listed["total"] == 2, (who, path)


def test_escalation_decisions_belong_to_no_site_and_everyone_reads_them(service: Service) -> None:
    body = {"decided_on": "2024-02-01", "decision": "escalate", "design": "rolling-six"}
    decision = service.ok(service.post("chair", "/escalation-decisions", body), 201)
    for who in ("inv_a", "coord_b", "stat", "monitor"):
        assert service.get(who, f"/escalation-decisions/{decision['id']}").status_code == 200
