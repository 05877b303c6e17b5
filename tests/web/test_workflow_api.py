"""The workflow over JSON: the dose level of a registration is the server's, from the
trial's state; registration needs a held slot and a signed eligible screening; the chair
signs determinations and confirms decisions; every step is audited and one transaction.

Expected decisions are read by hand from the rolling-six grid of the bundled protocol
(Frankel et al., JAMA Netw Open 2020;3(5):e204787, Table 2): 3 enrolled, 3 evaluable,
0 DLT on a level -> escalate; fewer than 3 evaluable -> stay.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from phaseone.demo.records import screening_record
from phaseone.errors import InputError
from phaseone.store import records
from phaseone.store.access import Source, system_actor
from phaseone.store.models import (
    Course,
    DltDetermination,
    EscalationDecision,
    Registration,
    SlotRequest,
)
from phaseone.store.scope import Scope
from phaseone.web.app import create_app
from phaseone.workflow import registration as registration_service
from tests.web.service_fixtures import BASE, PASSWORD, Service, body_for


def count(service: Service, model: Any) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def snapshot(service: Service) -> tuple[int, ...]:
    return (
        service.audit_count(),
        count(service, Registration),
        count(service, Course),
        count(service, DltDetermination),
        count(service, EscalationDecision),
    )


def slot_status(service: Service, slot_id: int) -> str:
    return str(service.ok(service.get("coord_a", f"/slot-requests/{slot_id}"))["status"])


def test_generic_creation_of_workflow_records_is_gone(service: Service, journey) -> None:
    before = snapshot(service)
    patient = journey["a"]["patients"]
    attempts = {
        "registrations": {"patient_id": patient, "registered_on": "2024-06-03", "dose_level": 3},
        "dlt-determinations": {
            "patient_id": patient,
            "determined_on": "2024-07-01",
            "is_dlt": False,
            "evaluable": True,
        },
        "escalation-decisions": {
            "decided_on": "2024-07-01",
            "decision": "escalate",
            "dose_level": 3,
            "design": "rolling-six",
        },
    }
    for path, body in attempts.items():
        for who in ("chair", "coord_a"):
            response = service.post(who, f"/{path}", body)
            assert response.status_code == 405, (path, response.text)
            assert response.json()["errors"][0]["message"]
    assert snapshot(service) == before
    document = service.client.get(BASE + "/openapi.json").json()["paths"]
    for path in attempts:
        assert "post" not in document[f"/api/v1/{path}"]
        assert "get" in document[f"/api/v1/{path}"]  # still listed and read
    for path in ("dlt-determinations", "escalation-decisions"):
        assert f"/api/v1/{path}/{{record_id}}/signatures" not in document
    assert "post" in document["/api/v1/patients/{patient_id}/registration"]


def test_new_operations_are_documented(service: Service) -> None:
    document = service.client.get(BASE + "/openapi.json").json()
    operations = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    expected = {
        ("get", "/api/v1/trial"),
        ("post", "/api/v1/patients/{patient_id}/screenings"),
        ("get", "/api/v1/slot-requests"),
        ("post", "/api/v1/slot-requests"),
        ("get", "/api/v1/slot-requests/{request_id}"),
        ("post", "/api/v1/slot-requests/{request_id}/release"),
        ("post", "/api/v1/slot-requests/{request_id}/priority"),
        ("post", "/api/v1/patients/{patient_id}/registration"),
        ("post", "/api/v1/patients/{patient_id}/doses"),
        ("post", "/api/v1/patients/{patient_id}/labs"),
        ("post", "/api/v1/patients/{patient_id}/adverse-events"),
        ("post", "/api/v1/patients/{patient_id}/off-treatment"),
        ("get", "/api/v1/dlt-determinations/due"),
        ("post", "/api/v1/dlt-determinations/proposals"),
        ("post", "/api/v1/dlt-determinations/{record_id}/sign"),
        ("post", "/api/v1/escalation-decisions/proposals"),
        ("post", "/api/v1/escalation-decisions/{record_id}/confirm"),
    }
    assert expected <= operations
    schema = document["components"]["schemas"]["RegistrationRequest"]
    assert "dose_level" not in schema["properties"]
    assert schema.get("additionalProperties") is False


def test_a_dose_level_in_the_body_is_refused_and_nothing_is_written(service: Service) -> None:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-010")
    before = snapshot(service)
    response = service.register("coord_a", patient_id, slot_id, dose_level=3)
    assert response.status_code == 422
    assert [e["path"] for e in response.json()["errors"]] == ["body.dose_level"]
    assert snapshot(service) == before
    assert slot_status(service, slot_id) == "held"


def test_registration_needs_a_held_slot(service: Service) -> None:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-011")
    before = snapshot(service)
    missing = service.register("coord_a", patient_id, 99_999)
    assert missing.status_code == 404
    assert "slot request" in missing.json()["errors"][0]["message"]
    # The hold lapses after the policy's 48 hours (data/slot_policy.yaml).
    service.clock.advance(hours=49)
    lapsed = service.register("coord_a", patient_id, slot_id)
    assert lapsed.status_code == 409
    assert lapsed.json()["errors"][0]["message"] == (f"slot request {slot_id} is expired, not held")
    assert snapshot(service)[1:] == before[1:]  # no registration, course or decision
    # A released hold cannot be used either.
    again = service.request_slot("coord_a", "second try")
    service.ok(service.post("coord_a", f"/slot-requests/{again['id']}/release", {"reason": "r"}))
    assert slot_status(service, again["id"]) == "released"
    released = service.register("coord_a", patient_id, again["id"])
    assert released.status_code == 409 and "released, not held" in released.text
    assert count(service, Registration) == 0


def test_registration_needs_a_signed_eligible_screening(service: Service) -> None:
    patient = service.new_patient("coord_a", "chla", "CHLA-012")
    slot = service.request_slot("coord_a", "CHLA-012")
    before = snapshot(service)

    def refused(expected: str) -> None:
        response = service.register("coord_a", patient["id"], slot["id"])
        assert response.status_code == 409, response.text
        assert response.json()["errors"][0]["message"] == expected
        assert snapshot(service)[1:] == before[1:]
        assert slot_status(service, slot["id"]) == "held"

    refused("registration needs an eligible screening (no screening)")
    # A screening entered as a record (not the engine's verdict) never qualifies, signed or not.
    entered = body_for("screening-evaluations", "chla", "", {"patients": patient["id"]})
    typed = service.ok(service.post("coord_a", "/screening-evaluations", entered), 201)
    service.sign_eligibility("inv_a", typed["id"])
    refused("registration needs an eligible screening (screening is met)")
    # The engine's eligible screening, not yet signed by the site investigator.
    evaluation = service.screen("coord_a", patient["id"], "CHLA-012", "chla")
    assert (evaluation["overall"], evaluation["dose_level"]) == ("eligible", 1)
    refused("the screening has no valid site investigator signature")
    # Signed, then edited: the signature is broken and no longer counts.
    service.sign_eligibility("inv_a", evaluation["id"])
    service.ok(
        service.patch(
            "coord_a",
            f"/screening-evaluations/{evaluation['id']}",
            {"notes": "transcribed again", "reason": "typo"},
        )
    )
    refused("the screening has no valid site investigator signature")
    service.sign_eligibility("inv_a", evaluation["id"])
    registered = service.ok(service.register("coord_a", patient["id"], slot["id"]), 201)
    assert registered["registration"]["dose_level"] == 1


def test_an_ineligible_screening_is_stored_with_reasons_and_not_registered(
    service: Service,
) -> None:
    day = service.clock.now.date()
    record = screening_record("CHLA-013", "chla", day, age_years=40, sex="female")
    body = {
        "site_id": "chla",
        "subject_code": "CHLA-013",
        "birth_date": record["birth_date"],
        "sex": "F",
    }
    patient = service.ok(service.post("coord_a", "/patients", body), 201)
    body = {"record": record, "as_of": day.isoformat()}
    screened = service.post("coord_a", f"/patients/{patient['id']}/screenings", body)
    evaluation = service.ok(screened, 201)
    assert evaluation["overall"] == "ineligible"
    failed = [c for c in evaluation["criteria"] if c["result"] == "not_met"]
    assert failed and all(c["evidence"]["reason"] for c in failed)
    service.sign_eligibility("inv_a", evaluation["id"])
    slot = service.request_slot("coord_a", "CHLA-013")
    response = service.register("coord_a", patient["id"], slot["id"])
    assert response.status_code == 409
    assert "screening is ineligible" in response.json()["errors"][0]["message"]


def test_screening_errors_name_the_field(service: Service) -> None:
    patient = service.new_patient("coord_a", "chla", "CHLA-014")
    day = service.clock.now.date().isoformat()
    bad = {"record": {"id": "CHLA-014", "birth_date": "not a date"}, "as_of": day}
    response = service.post("coord_a", f"/patients/{patient['id']}/screenings", bad)
    assert response.status_code == 422
    paths = [e["path"] for e in response.json()["errors"]]
    assert paths and all(p.startswith("body.record") for p in paths)
    assert "body.record.birth_date" in paths


def _window_over(service: Service, patients: list[int]) -> list[int]:
    """The windows end; the rules propose; returns the determination ids in patient order."""
    service.clock.advance(days=29)
    queue = service.ok(service.post("chair", "/dlt-determinations/proposals"))
    by_patient = {d["patient_id"]: d["id"] for d in queue["proposed_now"]}
    assert set(by_patient) == set(patients)
    return [by_patient[p] for p in patients]


def _sign(service: Service, determination: int) -> dict[str, Any]:
    body = {"username": "chair", "password": PASSWORD}
    return service.ok(  # type: ignore[no-any-return]
        service.post("chair", f"/dlt-determinations/{determination}/sign", body)
    )


def test_the_assigned_level_is_the_trial_states_after_escalation(service: Service) -> None:
    """Three patients without DLT on level 1, signed; the chair confirms the escalation;
    the next patient is registered on level 2 because the trial's state says so."""
    patients = []
    for n in range(3):
        patient_id, slot_id = service.ready_patient("chla", f"CHLA-02{n}")
        registered = service.ok(service.register("coord_a", patient_id, slot_id), 201)
        assert registered["registration"]["dose_level"] == 1
        assert registered["course"]["dose_level"] == 1
        assert registered["calendar"][0]["day"] == 1
        patients.append(patient_id)
    trial = service.ok(service.get("chair", "/trial"))
    assert trial["current_level"] == 1 and trial["levels"][0]["pending"] == 3
    determinations = _window_over(service, patients)
    # No dose was recorded: the rules find the patients not evaluable. The chair corrects
    # them after review (audited, with a reason) and signs.
    decisions = []
    for det in determinations:
        proposed = service.ok(service.get("chair", f"/dlt-determinations/{det}"))
        assert proposed["evaluable"] is False and proposed["signatures"] == []
        service.ok(
            service.patch(
                "chair",
                f"/dlt-determinations/{det}",
                {"evaluable": True, "is_dlt": False, "reason": "doses confirmed from the diary"},
            )
        )
        signed = _sign(service, det)
        assert [s["status"] for s in signed["determination"]["signatures"]] == ["valid"]
        decisions.append(signed["decision"])
    assert [d["decision"] for d in decisions] == ["stay", "stay", "escalate"]
    escalate = decisions[-1]
    assert (escalate["from_dose_level"], escalate["dose_level"]) == (1, 2)
    before = service.ok(service.get("coord_a", "/trial"))
    assert before["accrual"] == "awaiting_decision" and before["next_level"] is None
    assert before["decisions_awaiting_confirmation"] == [escalate["id"]]
    # Nobody registers while the decision waits.
    waiting, slot = service.ready_patient_waitlisted("chla", "CHLA-030")
    assert slot["status"] == "waitlisted" and slot["waitlist_position"] == 1
    body = {"username": "chair", "password": PASSWORD}
    confirmed = service.ok(
        service.post("chair", f"/escalation-decisions/{escalate['id']}/confirm", body)
    )
    assert confirmed["trial"]["current_level"] == 2
    assert confirmed["trial"]["next_level"] == 2
    assert [s["status"] for s in confirmed["decision"]["signatures"]] == ["valid"]
    # The waitlisted request was offered the slot; the patient is screened for level 2.
    assert slot_status(service, slot["id"]) == "held"
    state = service.ok(service.get("coord_a", "/trial"))
    evaluation = service.screen("coord_a", waiting, "CHLA-030", "chla")
    assert evaluation["dose_level"] == state["next_level"] == 2
    service.sign_eligibility("inv_a", evaluation["id"])
    registered = service.ok(service.register("coord_a", waiting, slot["id"]), 201)
    assert registered["registration"]["dose_level"] == state["next_level"] == 2
    assert registered["course"]["dose_level"] == 2
    assert registered["registration"]["assignment"]["level"] == 2
    # The dose level of a registration is never corrected by hand.
    reg_id = registered["registration"]["id"]
    for who in ("coord_a", "chair"):
        corrected = service.patch(who, f"/registrations/{reg_id}", {"dose_level": 1, "reason": "x"})
        assert corrected.status_code == 422
        assert corrected.json()["errors"][0]["path"] == "body.dose_level"
    assert service.ok(service.get("chair", f"/registrations/{reg_id}"))["dose_level"] == 2
    # Each step is in the audit trail.
    actions = {
        (a["action"], a["entity"])
        for a in service.ok(service.get("chair", "/audit?limit=500"))["items"]
    }
    assert {
        ("create", "screening_evaluations"),
        ("sign", "screening_evaluations"),
        ("create", "slot_requests"),
        ("create", "registrations"),
        ("create", "courses"),
        ("create", "dlt_determinations"),
        ("update", "dlt_determinations"),
        ("sign", "dlt_determinations"),
        ("create", "escalation_decisions"),
        ("sign", "escalation_decisions"),
    } <= actions


def test_the_store_refuses_a_dose_level_correction_too(service: Service, journey) -> None:
    with service.db.transaction() as session:
        scope = Scope(session, system_actor("cli:test", Source.cli))
        with pytest.raises(InputError) as err:
            records.update(
                scope,
                records.SPECS["registrations"],
                journey["a"]["registrations"],
                {"dose_level": 3},
                "attempt",
            )
    assert [p.path for p in err.value.problems] == ["dose_level"]


def test_signing_a_determination_needs_the_chairs_password(service: Service, journey) -> None:
    det = journey["a"]["dlt-determinations"]
    before = snapshot(service)[1:]
    body = {"username": "chair", "password": "not the password"}
    refused = service.post("chair", f"/dlt-determinations/{det}/sign", body)
    assert refused.status_code == 401
    assert snapshot(service)[1:] == before  # no decision proposed
    assert service.ok(service.get("chair", f"/dlt-determinations/{det}"))["signatures"] == []
    failed = service.ok(service.get("chair", "/audit?action=signature_auth_failed"))
    assert len(failed["items"]) == 1
    due = service.ok(service.get("chair", "/dlt-determinations/due"))
    assert det in {d["id"] for d in due["awaiting_signature"]}
    signed = _sign(service, det)
    again = service.post("chair", f"/dlt-determinations/{det}/sign", body | {"password": PASSWORD})
    assert again.status_code == 409 and "already signed" in again.text
    assert signed["decision"]["design"]


def test_a_failed_workflow_request_writes_nothing(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server error after the registration, course and audit rows were written."""
    patient_id, slot_id = service.ready_patient("chla", "CHLA-040")
    before = snapshot(service)

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("simulated failure after the writes")

    monkeypatch.setattr(registration_service, "notify", explode)
    app = create_app(service.db, policy=service.policy, clock=service.clock)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        body = {
            "slot_request_id": slot_id,
            "start_date": service.clock.now.date().isoformat(),
            "height_cm": 120.0,
            "weight_kg": 22.0,
        }
        response = c.post(
            BASE + f"/patients/{patient_id}/registration", json=body, headers=service.as_("coord_a")
        )
    assert response.status_code == 500
    assert snapshot(service) == before
    with service.db.transaction() as session:
        slot = session.get(SlotRequest, slot_id)
        assert slot is not None and slot.status == "held"


def test_workflow_changes_need_the_csrf_token_with_a_cookie(service: Service) -> None:
    login = service.client.post(
        BASE + "/auth/login", json={"username": "coord_a", "password": PASSWORD}
    )
    token = service.ok(login)["csrf_token"]
    body = {"reference": "cookie request"}
    refused = service.client.post(BASE + "/slot-requests", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert service.ok(service.client.get(BASE + "/slot-requests"))["items"] == []
    accepted = service.client.post(
        BASE + "/slot-requests", json=body, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 201
    assert accepted.json()["site_id"] == "chla"


def test_the_waitlist_is_first_come_and_the_chair_can_move_a_request(service: Service) -> None:
    # Rolling six: six slots on a new level; the seventh and eighth requests wait.
    held = [service.request_slot("coord_a", f"h{n}") for n in range(6)]
    assert {s["status"] for s in held} == {"held"}
    first = service.request_slot("coord_b", "first in line")
    service.clock.advance(minutes=1)
    second = service.request_slot("coord_a", "second in line")
    assert (first["waitlist_position"], second["waitlist_position"]) == (1, 2)
    refused = service.post(
        "coord_a", f"/slot-requests/{second['id']}/priority", {"priority": 5, "reason": "r"}
    )
    assert refused.status_code == 403
    moved = service.ok(
        service.post(
            "chair",
            f"/slot-requests/{second['id']}/priority",
            {"priority": 5, "reason": "sponsor: last patient before the site closes"},
        )
    )
    assert moved["waitlist_position"] == 1
    service.ok(service.post("coord_a", f"/slot-requests/{held[0]['id']}/release", {"reason": "r"}))
    assert slot_status(service, second["id"]) == "held"
    listed = service.ok(service.get("chair", "/slot-requests"))
    assert (listed["slots_open"], listed["waitlisted"]) == (6, 1)


def test_a_course_cannot_raise_the_registered_dose_level(service: Service, journey) -> None:
    """The journey's patient is registered on level 1 (the starting level); a course may stay
    there or go lower (a dose modification), never higher. Courses are made by the workflow
    (POST /patients/{id}/courses), not through the generic record API."""
    patient = journey["a"]["patients"]
    before = snapshot(service)
    course = body_for("courses", "chla", "", journey["a"]) | {"number": 3, "dose_level": 2}
    assert service.post("coord_a", "/courses", course).status_code == 405
    refused = service.post(
        "coord_a",
        f"/patients/{patient}/courses",
        {"start_date": "2024-07-01", "height_cm": 128, "weight_kg": 26.5, "dose_level": 2},
    )
    assert refused.status_code == 422
    assert "above the registered level 1" in refused.text and "dose_level" in refused.text
    assert snapshot(service) == before
    course_id = journey["a"]["courses"]
    raised = service.patch("coord_a", f"/courses/{course_id}", {"dose_level": 2, "reason": "typo"})
    assert raised.status_code == 422 and "when a course starts" in raised.text


def test_a_screening_record_of_someone_else_is_refused_naming_the_fields(
    service: Service,
) -> None:
    """A pasted record whose birth date, sex or site differ from the registered patient's
    would screen another child: refused, naming each field, and nothing is stored."""
    patient = service.new_patient("coord_a", "chla", "CHLA-014")
    day = service.clock.now.date()
    record = screening_record("CHLA-014", "chop", day, age_years=20, sex="male")
    before = service.audit_count()
    body = {"record": record, "as_of": day.isoformat()}
    refused = service.post("coord_a", f"/patients/{patient['id']}/screenings", body)
    assert refused.status_code == 422
    paths = sorted(e["path"] for e in refused.json()["errors"])
    assert paths == ["body.record.birth_date", "body.record.sex", "body.record.site"]
    assert service.audit_count() == before

    # Left out, they are taken from the registered patient (born 2014-03-05, female): a
    # record that would be 20 years old is screened at 10 and found eligible.
    record = screening_record("CHLA-014", "chop", day, age_years=20, sex="female")
    for name in ("birth_date", "sex", "site"):
        del record[name]
    body = {"record": record, "as_of": day.isoformat()}
    screened = service.post("coord_a", f"/patients/{patient['id']}/screenings", body)
    assert service.ok(screened, 201)["overall"] == "eligible"
