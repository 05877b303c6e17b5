"""Each role's allowed and forbidden actions (403 when forbidden, never a silent success)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from service_fixtures import PEOPLE, Service, body_for

Action = Callable[[Service, str, dict[str, dict[str, int]]], Any]


def _new_patient(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.post(who, "/patients", body_for("patients", "chla", f"N-{who}", {}))


def _new_ae(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = body_for("adverse-events", "chla", "", {"patients": j["a"]["patients"]})
    body.pop("course_id")
    return s.post(who, "/adverse-events", body)


def _correct_ae(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    return s.patch(who, f"/adverse-events/{j['a']['adverse-events']}", {"grade": 3, "reason": "r"})


def _new_dlt(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = body_for("dlt-determinations", "chla", "", {"patients": j["a"]["patients"]})
    return s.post(who, "/dlt-determinations", body)


def _new_decision(s: Service, who: str, j: dict[str, dict[str, int]]) -> Any:
    body = {"decided_on": "2024-02-01", "decision": "stay", "design": "rolling-six"}
    return s.post(who, "/escalation-decisions", body)


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
    body = {"meaning_id": "dlt-determination", "username": who, "password": PASSWORD}
    return s.post(who, f"/dlt-determinations/{j['a']['dlt-determinations']}/signatures", body)


from service_fixtures import PASSWORD  # noqa: E402

ACTIONS: dict[str, Action] = {
    "create patient": _new_patient,
    "create adverse event": _new_ae,
    "correct adverse event": _correct_ae,
    "create DLT determination": _new_dlt,
    "create escalation decision": _new_decision,
    "add user": _add_user,
    "list users": _list_users,
    "read audit": _read_audit,
    "export audit": _export_audit,
    "read history": _history,
    "read patient": _read_patient,
    "sign eligibility": _sign_eligibility,
    "sign DLT determination": _sign_dlt,
}

CLINICAL = {"create patient", "create adverse event", "correct adverse event"}
READ = {"read patient", "read history"}
ALLOWED: dict[str, set[str]] = {
    "admin": {"add user", "list users", "read audit", "export audit"} | READ,
    "chair": CLINICAL
    | READ
    | {
        "create DLT determination",
        "create escalation decision",
        "read audit",
        "export audit",
        "sign DLT determination",
    },
    "inv_a": CLINICAL | READ | {"sign eligibility"},
    "coord_a": CLINICAL | READ,
    "stat": {"read patient"},
    "monitor": READ | {"read audit", "export audit"},
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
    for path, record_id in journey["a"].items():
        assert service.patch("monitor", f"/{path}/{record_id}", {"reason": "x"}).status_code == 403
        void = service.post("monitor", f"/{path}/{record_id}/void", {"reason": "x"})
        assert void.status_code == 403
    # Only the monitor's own reads are recorded; no change was.
    assert service.audit_count() == before


def test_statistician_sees_deidentified_data(service: Service, journey) -> None:
    patient_id = journey["a"]["patients"]
    full = service.ok(service.get("chair", f"/patients/{patient_id}"))
    blind = service.ok(service.get("stat", f"/patients/{patient_id}"))
    assert full["initials"] == "CD" and full["medical_record_number"] == "MRN-1"
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
    dated = next(c for c in ev_full["criteria"] if "date" in (c["evidence"] or {}))
    shifted = next(c for c in ev_blind["criteria"] if c["criterion_id"] == dated["criterion_id"])
    assert days(shifted["evidence"]["date"], dated["evidence"]["date"]) == shift
    dlt_id = journey["a"]["dlt-determinations"]
    dlt_full = service.ok(service.get("chair", f"/dlt-determinations/{dlt_id}"))
    dlt_blind = service.ok(service.get("stat", f"/dlt-determinations/{dlt_id}"))
    assert days(dlt_blind["detail"]["window_end"], dlt_full["detail"]["window_end"]) == shift
