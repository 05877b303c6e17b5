"""Each role's allowed and forbidden actions (403 when forbidden, never a silent success)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from phaseone.demo.records import screening_record
from tests.web.service_fixtures import (
    PASSWORD,
    PATIENT_BORN,
    PEOPLE,
    RECORD_PATHS,
    Service,
    body_for,
)

Action = Callable[[Service, str, dict[str, dict[str, int]]], Any]


def _new_patient(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.post(
        who, "/patients", body_for("patients", "chla", f"CHLA-{who.replace('_', '.')}", {})
    )


def _new_ae(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = body_for("adverse-events", "chla", "", {"patients": j["a"]["patients"]})
    body.pop("course_id")
    return s.post(who, "/adverse-events", body)


def _correct_ae(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.patch(who, f"/adverse-events/{j['a']['adverse-events']}", {"grade": 3, "reason": "r"})


def _screen(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    record = screening_record(
        "CHLA-001", "chla", s.clock.now.date(), sex="female", birth_date=PATIENT_BORN
    )
    body = {"record": record, "as_of": s.clock.now.date().isoformat()}
    return s.post(who, f"/patients/{j['a']['patients']}/screenings", body)


def _request_slot(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.post(who, "/slot-requests", {"reference": f"by {who}", "site_id": "chla"})


def _release_slot(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    slot = s.request_slot("coord_a", f"release by {who}")
    return s.post(who, f"/slot-requests/{slot['id']}/release", {"reason": "family declined"})


def _register(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    patient_id, slot_id = s.ready_patient("chla", f"CHLA-R.{who.replace('_', '.')}")
    return s.register(who, patient_id, slot_id)


def _record_dose(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"day": 2, "agent_id": "lenalidomide"}
    return s.post(who, f"/patients/{j['a']['patients']}/doses", body)


def _record_lab(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"analyte": "anc", "value": 400, "unit": "/uL", "collected_on": "2024-06-12"}
    return s.post(who, f"/patients/{j['a']['patients']}/labs", body)


def _off_treatment(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"ended_on": "2024-06-20", "reason": "physician_decision"}
    return s.post(who, f"/patients/{j['a']['patients']}/off-treatment", body)


def _propose_dlts(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.post(who, "/dlt-determinations/proposals")


def _propose_decision(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.post(who, "/escalation-decisions/proposals")


def _confirm_decision(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    decision = s.ok(s.post("chair", "/escalation-decisions/proposals"))["decision"]
    body = {"username": who, "password": PASSWORD}
    return s.post(who, f"/escalation-decisions/{decision['id']}/confirm", body)


def _read_trial(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, "/trial")


def _list_slots(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, "/slot-requests")


def _add_user(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {
        "username": f"new_{who}",
        "full_name": "New Person",
        "role": "monitor",
        "password": "another long password",
    }
    return s.post(who, "/users", body)


def _list_users(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, "/users")


def _read_audit(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, "/audit")


def _export_audit(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, "/audit/export")


def _history(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, f"/patients/{j['a']['patients']}/history")


def _read_patient(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.get(who, f"/patients/{j['a']['patients']}")


def _sign_eligibility(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"meaning_id": "eligibility-confirmed", "username": who, "password": PASSWORD}
    return s.post(who, f"/screening-evaluations/{j['a']['screening-evaluations']}/signatures", body)


def _sign_dlt(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"username": who, "password": PASSWORD}
    return s.post(who, f"/dlt-determinations/{j['a']['dlt-determinations']}/sign", body)


ACTIONS: dict[str, Action] = {
    "create patient": _new_patient,
    "create adverse event": _new_ae,
    "correct adverse event": _correct_ae,
    "screen patient": _screen,
    "request slot": _request_slot,
    "release slot": _release_slot,
    "register patient": _register,
    "record dose": _record_dose,
    "record lab": _record_lab,
    "off treatment": _off_treatment,
    "propose DLT determinations": _propose_dlts,
    "add user": _add_user,
    "list users": _list_users,
    "read audit": _read_audit,
    "export audit": _export_audit,
    "read history": _history,
    "read patient": _read_patient,
    "sign eligibility": _sign_eligibility,
    "sign DLT determination": _sign_dlt,
    "propose escalation decision": _propose_decision,
    "confirm escalation decision": _confirm_decision,
    "read trial": _read_trial,
    "list slot requests": _list_slots,
}

CLINICAL = {
    "create patient",
    "create adverse event",
    "correct adverse event",
    "screen patient",
    "request slot",
    "release slot",
    "register patient",
    "record dose",
    "record lab",
    "off treatment",
}
READ = {"read patient", "read history", "read trial", "list slot requests"}
# Every role browses and exports the audit trail within its own scope (workflow/auditing.py).
AUDIT = {"read audit", "export audit"}
ALLOWED: dict[str, set[str]] = {
    "admin": {"add user", "list users"} | READ | AUDIT,
    "chair": CLINICAL
    | READ
    | {
        "propose DLT determinations",
        "sign DLT determination",
        "propose escalation decision",
        "confirm escalation decision",
    }
    | AUDIT,
    "inv_a": CLINICAL | READ | AUDIT | {"sign eligibility"},
    "coord_a": CLINICAL | READ | AUDIT,
    "stat": {"read patient", "read trial", "list slot requests"} | AUDIT,
    "monitor": READ | AUDIT,
}


@pytest.mark.parametrize("who", sorted(ALLOWED))
def test_role_permissions(service: Service, journey, who: str) -> None:
    assert who in {p[0] for p in PEOPLE}
    for name, action in ACTIONS.items():
        response = action(service, who, journey)
        if name in ALLOWED[who]:
            assert response.status_code in (200, 201), (who, name, response.text)
        else:
            assert response.status_code == 403, (who, name, response.text)
            assert response.json()["errors"][0]["message"]


def test_monitor_writes_nothing_anywhere(service: Service, journey) -> None:
    before = service.audit_count()
    for path in RECORD_PATHS:
        record_id = journey["a"][path]
        assert service.patch("monitor", f"/{path}/{record_id}", {"reason": "x"}).status_code == 403
        void = service.post("monitor", f"/{path}/{record_id}/void", {"reason": "x"})
        assert void.status_code == 403
    for name in sorted(CLINICAL - {"create patient", "register patient", "release slot"}):
        assert ACTIONS[name](service, "monitor", journey).status_code == 403, name
    # Only the monitor's own reads are recorded; no change was.
    assert service.audit_count() == before


def test_statistician_sees_deidentified_data(service: Service, journey) -> None:
    patient_id = journey["a"]["patients"]
    full = service.ok(service.get("chair", f"/patients/{patient_id}"))
    blind = service.ok(service.get("stat", f"/patients/{patient_id}"))
    assert full["initials"] == "AB" and full["medical_record_number"] == "MRN-77"
    assert blind["initials"] is None and blind["medical_record_number"] is None
    assert blind["deidentified"] is True and full["deidentified"] is False
    assert blind["birth_date"] != full["birth_date"]

    def days(a: str, b: str) -> int:
        import datetime as dt

        return (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days

    shift = days(blind["birth_date"], full["birth_date"])
    assert 1 <= abs(shift) <= 365
    assert days(blind["consent_date"], full["consent_date"]) == shift
    ae_id = journey["a"]["adverse-events"]
    ae_full = service.ok(service.get("chair", f"/adverse-events/{ae_id}"))
    ae_blind = service.ok(service.get("stat", f"/adverse-events/{ae_id}"))
    assert days(ae_blind["onset_date"], ae_full["onset_date"]) == shift
    assert ae_blind["term_verbatim"] is None  # free text may name people
    assert ae_blind["grade"] == ae_full["grade"]
    ev_id = journey["a"]["screening-evaluations"]
    ev_full = service.ok(service.get("chair", f"/screening-evaluations/{ev_id}"))
    ev_blind = service.ok(service.get("stat", f"/screening-evaluations/{ev_id}"))
    dated = [(c["criterion_id"], _dates(c["evidence"])) for c in ev_full["criteria"]]
    criterion, found = next((cid, found) for cid, found in dated if found)
    shifted = next(c for c in ev_blind["criteria"] if c["criterion_id"] == criterion)
    assert [days(b, a) for a, b in zip(found, _dates(shifted["evidence"]), strict=True)] == [
        shift
    ] * len(found)
    dlt_id = journey["a"]["dlt-determinations"]
    dlt_full = service.ok(service.get("chair", f"/dlt-determinations/{dlt_id}"))
    dlt_blind = service.ok(service.get("stat", f"/dlt-determinations/{dlt_id}"))
    assert days(dlt_blind["detail"]["window"][1], dlt_full["detail"]["window"][1]) == shift
    # The trial state names no patient's dates to the statistician.
    trial = service.ok(service.get("stat", "/trial"))
    assert trial["pending"] and all(w["window_end"] is None for w in trial["pending"])


def _dates(value: Any) -> list[str]:
    """Every ISO date inside an engine's evidence, in order."""
    if isinstance(value, str):
        return [value] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else []
    if isinstance(value, dict):
        return [d for key in sorted(value) for d in _dates(value[key])]
    if isinstance(value, list):
        return [d for item in value for d in _dates(item)]
    return []
