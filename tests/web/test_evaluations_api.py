"""Disease evaluations, responses, follow-up and survival over JSON: the six roles, site
scoping of every list, the engine's bounds named as fields, corrections with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.web.service_fixtures import Service

SIX = ("admin", "chair", "inv_a", "coord_a", "stat", "monitor")


def _registered(service: Service, site: str = "chla", code: str = "CHLA-601") -> int:
    patient_id, slot_id = service.ready_patient(site, code)
    who = "coord_a" if site == "chla" else "coord_b"
    service.ok(service.register(who, patient_id, slot_id), 201)
    return patient_id


def _baseline(service: Service) -> dict[str, Any]:
    day = service.clock.now.date() - dt.timedelta(days=3)
    return {
        "disease_at_entry": "measurable",
        "evaluation": {
            "date": day.isoformat(),
            "kind": "baseline",
            "mibg": {"avid": True, "curie": {"pelvis": 2, "thighs": 1}},
            "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 40}],
            "marrow": [{"side": s, "kind": "aspirate", "tumour_percent": 10}
                       for s in ("left", "right")],
        },
    }


def _after_course_2(service: Service, primary_mm: float) -> dict[str, Any]:
    day = service.clock.now.date() + dt.timedelta(days=55)
    return {
        "course": 2,
        "evaluation": {
            "date": day.isoformat(),
            "kind": "scheduled",
            "label": "after course 2",
            "mibg": {"avid": True, "curie": {}},
            "lesions": [{"id": "P1", "site": "primary", "diameter_mm": primary_mm}],
            "marrow": [{"side": s, "kind": k, "tumour_percent": 0}
                       for s in ("left", "right") for k in ("aspirate", "biopsy")],
        },
    }


def test_evaluations_roles_scoping_and_computed_response(service: Service) -> None:
    patient_id = _registered(service)
    path = f"/patients/{patient_id}/evaluations"
    for who in ("stat", "monitor", "admin"):
        assert service.post(who, path, _baseline(service)).status_code == 403
    assert service.post("coord_b", path, _baseline(service)).status_code == 404
    service.ok(service.post("coord_a", path, _baseline(service)), 201)
    later, corrected = _after_course_2(service, 24), _after_course_2(service, 6)
    service.clock.advance(days=60)
    # Primary 40 -> 24 mm is a 40% fall (PR >= 30%); bone and marrow clear: PR overall.
    made = service.ok(service.post("inv_a", path, later), 201)
    assert made["evaluations"][1]["overall"] == "PR"
    assert made["best_response"] == "PR"
    for who in SIX:
        shown = service.ok(service.get(who, path))
        assert [e["overall"] for e in shown["evaluations"]] == ["NE", "PR"]
    real = service.ok(service.get("chair", path))["evaluations"][0]["date"]
    assert service.ok(service.get("stat", path))["evaluations"][0]["date"] != real
    for who in ("coord_b", "inv_b"):
        assert service.get(who, path).status_code == 404
        assert service.ok(service.get(who, "/response"))["patients"] == []
    for who in SIX:
        table = service.ok(service.get(who, "/response"))
        assert [p["patient_id"] for p in table["patients"]] == ["CHLA-601"]
    # Correct the primary to 6 mm (< 10 mm: CR) with a reason; the response follows.
    row_id = made["evaluations"][1]["id"]
    fixed = corrected
    assert service.client.put(
        f"/api/v1/evaluations/{row_id}", json=fixed, headers=service.as_("inv_a")
    ).status_code == 422  # no reason
    fixed["reason"] = "radiology re-read"
    for who in ("coord_b", "stat", "monitor"):
        code = service.client.put(f"/api/v1/evaluations/{row_id}", json=fixed,
                                  headers=service.as_(who)).status_code
        assert code in (403, 404)
    done = service.ok(service.client.put(f"/api/v1/evaluations/{row_id}", json=fixed,
                                         headers=service.as_("inv_a")))
    assert done["evaluations"][1]["overall"] == "CR" and done["best_response"] == "CR"


def test_bad_measurements_are_refused_naming_the_field(service: Service) -> None:
    patient_id = _registered(service)
    path = f"/patients/{patient_id}/evaluations"
    cases = [
        (("mibg", "curie", "pelvis"), 4, "evaluation.mibg.curie.pelvis"),
        (("lesions", 0, "diameter_mm"), -3, "evaluation.lesions.0.diameter_mm"),
        (("marrow", 0, "tumour_percent"), 140, "evaluation.marrow.0.tumour_percent"),
    ]
    before = service.audit_count()
    for (a, b, c), value, field in cases:
        body = _baseline(service)
        body["evaluation"][a][b][c] = value
        refused = service.post("coord_a", path, body)
        assert refused.status_code == 422
        assert [e["path"].removeprefix("body.") for e in refused.json()["errors"]] == [field]
    body = _baseline(service)
    body["evaluation"]["kind"] = "unscheduled"
    body.pop("disease_at_entry")
    refused = service.post("coord_a", path, body)  # after baseline rules: before registration
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "evaluation.date"
    assert service.audit_count() == before


def test_follow_up_and_survival_are_scoped(service: Service) -> None:
    patient_id = _registered(service)
    service.ok(service.post("coord_a", f"/patients/{patient_id}/evaluations",
                            _baseline(service)), 201)
    record = service.ok(service.get("chair", f"/patients/{patient_id}/follow-up"))
    assert record["disease_at_entry"] == "measurable" and record["events"] == []
    assert service.get("coord_b", f"/patients/{patient_id}/follow-up").status_code == 404
    for who in SIX:
        found = service.ok(service.get(who, "/survival"))
        assert found["efs"]["summary"][0]["n"] == 1
        assert found["os"]["summary"][0]["events"] == 0
    assert service.ok(service.get("coord_b", "/survival")) == {"efs": None, "os": None}
    assert service.ok(service.get("coord_b", "/follow-up/schedule")) == []


def test_follow_up_visits_after_treatment_with_overdue_flags(service: Service) -> None:
    patient_id = _registered(service)
    start = service.clock.now.date()
    ended = start + dt.timedelta(days=10)
    service.clock.advance(days=11)
    service.ok(service.post("coord_a", f"/patients/{patient_id}/off-treatment",
                            {"ended_on": ended.isoformat(), "reason": "physician_decision"}),
               201)
    # NANT 2011-04 follow_up: every 3 months to 12, every 6 to 36, yearly to 60; window 30
    # days. Three months after the end is ended + 3 months; 31 days later it is overdue.
    due = dt.date(ended.year + (ended.month + 2) // 12, (ended.month + 2) % 12 + 1, ended.day)
    late = (due + dt.timedelta(days=31)).isoformat()
    path = f"/follow-up/schedule?as_of={late}"
    for who in ("chair", "coord_a", "inv_a", "monitor", "admin"):
        [shown] = service.ok(service.get(who, path))
        months = [v["month"] for v in shown["visits"]]
        assert months == [3, 6, 9, 12, 18, 24, 30, 36, 48, 60]
        assert shown["visits"][0]["due"] == due.isoformat()
        assert [v["month"] for v in shown["visits"] if v["overdue"]] == [3]
    for who in ("coord_b", "inv_b", "stat"):  # other site; no real dates for the statistician
        assert service.ok(service.get(who, path)) == []
    service.clock.now = dt.datetime.combine(due, dt.time(9), tzinfo=dt.UTC)
    service.ok(service.post("coord_a", "/follow-ups", {
        "patient_id": patient_id, "contact_date": due.isoformat(), "vital_status": "alive"}), 201)
    [shown] = service.ok(service.get("chair", path))
    assert not any(v["overdue"] for v in shown["visits"])
    assert shown["visits"][0]["done"] == due.isoformat()
