"""Site scoping on every endpoint: another site's record answers 404, as if it did not exist."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from phaseone.demo.records import screening_record
from phaseone.store.models import Registration
from tests.web.service_fixtures import (
    CREATABLE,
    PASSWORD,
    PATIENT_BORN,
    RECORD_PATHS,
    Service,
    body_for,
)

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
            "sign": _sign(service, who, path, record_id),
        }
        for name, response in calls.items():
            assert response.status_code == 404, (who, path, name, response.text)
            assert "errors" in response.json()
        listed = service.ok(service.get(who, f"/{path}?limit=500"))
        assert record_id not in {item["id"] for item in listed["items"]}
        assert listed["total"] == 1  # only their own site's record


def _sign(service: Service, who: str, path: str, record_id: int) -> object:
    if path == "dlt-determinations":  # signed through the workflow
        body = {"username": who, "password": PASSWORD}
        return service.post(who, f"/{path}/{record_id}/sign", body)
    body = {"meaning_id": "eligibility-confirmed", "username": who, "password": PASSWORD}
    return service.post(who, f"/{path}/{record_id}/signatures", body)


@pytest.mark.parametrize("path", CREATABLE[1:])
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
    decision = service.ok(service.post("chair", "/escalation-decisions/proposals"))["decision"]
    for who in ("inv_a", "coord_b", "stat", "monitor"):
        assert service.get(who, f"/escalation-decisions/{decision['id']}").status_code == 200


def _registrations(service: Service) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Registration)) or 0)


def test_workflow_endpoints_refuse_another_sites_patient(service: Service, journey) -> None:
    """Every workflow step on another site's patient (or slot) answers 404 and writes nothing."""
    b_ready, b_slot = service.ready_patient("stanford", "STANFORD-002")
    a_ready, a_slot = service.ready_patient("chla", "CHLA-002")
    today = service.clock.now.date().isoformat()
    before = (service.audit_count(), _registrations(service))
    for who in ("coord_a", "inv_a"):
        registered_b = journey["b"]["patients"]
        steps = {
            "screen": (
                f"/patients/{b_ready}/screenings",
                {
                    "record": screening_record(
                        "STANFORD-002",
                        "stanford",
                        service.clock.now.date(),
                        sex="female",
                        birth_date=PATIENT_BORN,
                    ),
                    "as_of": today,
                },
            ),
            "register other site's patient on own slot": (
                f"/patients/{b_ready}/registration",
                {
                    "slot_request_id": a_slot,
                    "start_date": today,
                    "height_cm": 120.0,
                    "weight_kg": 22.0,
                },
            ),
            "register own patient on other site's slot": (
                f"/patients/{a_ready}/registration",
                {
                    "slot_request_id": b_slot,
                    "start_date": today,
                    "height_cm": 120.0,
                    "weight_kg": 22.0,
                },
            ),
            "dose": (f"/patients/{registered_b}/doses", {"day": 3, "agent_id": "lenalidomide"}),
            "lab": (
                f"/patients/{registered_b}/labs",
                {"analyte": "anc", "value": 900, "unit": "/uL", "collected_on": today},
            ),
            "adverse event": (
                f"/patients/{registered_b}/adverse-events",
                {
                    "term": "Diarrhea",
                    "grade": 2,
                    "onset": today,
                    "attribution": {"lenalidomide": "possible"},
                },
            ),
            "off treatment": (
                f"/patients/{registered_b}/off-treatment",
                {"ended_on": today, "reason": "physician_decision"},
            ),
            "release": (f"/slot-requests/{b_slot}/release", {"reason": "probe"}),
        }
        for name, (path, body) in steps.items():
            response = service.post(who, path, body)
            assert response.status_code == 404, (who, name, response.text)
            assert "errors" in response.json()
        assert service.get(who, f"/slot-requests/{b_slot}").status_code == 404
        listed = service.ok(service.get(who, "/slot-requests"))
        assert {r["site_id"] for r in listed["items"]} == {"chla"}
        other_site = service.post(who, "/slot-requests", {"reference": "x", "site_id": "stanford"})
        assert other_site.status_code == 403
        # The trial's state is trial-wide, but another site's patients stay anonymous.
        pending = service.ok(service.get(who, "/trial"))["pending"]
        assert {w["site_id"] for w in pending} == {"chla", "stanford"}
        for window in pending:
            named = window["patient"] is not None
            assert named == (window["site_id"] == "chla"), window
        due = service.ok(service.get(who, "/dlt-determinations/due"))
        assert {d["site_id"] for d in due["awaiting_signature"]} == {"chla"}
    assert (service.audit_count(), _registrations(service)) == before
    # The same steps by the patient's own site are accepted (the refusals were about sites).
    assert service.register("coord_b", b_ready, b_slot).status_code == 201
