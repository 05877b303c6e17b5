"""Courses over the API: start, delay, doses planned vs given, roadmap, dose intensity; roles,
sites and bad input named by field.

The journey's patients were registered on 2024-06-03 (course 1 day 1) at level 1 with
height 128 cm and weight 26.5 kg; the clock stands 29 days later, so course 2 is due on
2024-07-01 (the protocol's 28-day course).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select

from phaseone.store.models import AuditRecord, Course
from tests.web.service_fixtures import Service

DUE_2 = "2024-07-01"


def counts(service: Service, who: str, patient: int, on: str = "2024-06-30") -> None:
    for analyte, value in (("anc", 1.2), ("platelets", 150)):
        body = {"analyte": analyte, "value": value, "unit": "10^9/L", "collected_on": on}
        service.ok(service.post(who, f"/patients/{patient}/labs", body), 201)


def stored(service: Service) -> tuple[int, int]:
    with service.db.transaction() as session:
        courses = session.scalar(select(func.count()).select_from(Course)) or 0
        audit = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
    return int(courses), int(audit)


def start_body(**extra: Any) -> dict[str, Any]:
    return {"start_date": DUE_2, "height_cm": 130, "weight_kg": 28} | extra


def test_course_2_starts_and_its_doses_are_planned_vs_given(service: Service, journey) -> None:
    patient = journey["a"]["patients"]
    counts(service, "coord_a", patient)
    started = service.ok(
        service.post("coord_a", f"/patients/{patient}/courses", start_body(number=2)), 201
    )
    course = started["course"]
    assert (course["number"], course["start_date"], course["dose_level"]) == (2, DUE_2, 1)
    assert course["bsa_m2"] == round(math.sqrt(130 * 28 / 3600), 2) == 1.01
    assert course["delay_days"] == 0
    assert started["calendar"][0]["date"] == DUE_2
    listed = service.ok(service.get("coord_a", f"/patients/{patient}/courses"))
    assert [c["number"] for c in listed["items"]] == [1, 2]
    assert listed["next"] == {"number": 3, "due": "2024-07-29", "dose_level": 1, "blocked": None}

    service.clock.advance(days=7)  # day 8 of course 2 (a dose is never dated in the future)
    service.ok(
        service.post(
            "coord_a",
            f"/patients/{patient}/doses",
            {"course": 2, "day": 8, "agent_id": "dinutuximab"},
        ),
        201,
    )
    doses = service.ok(service.get("coord_a", f"/patients/{patient}/courses/2/doses"))
    din = [d for d in doses["days"] if d["agent_id"] == "dinutuximab"]
    assert [d["day"] for d in din] == [8, 9, 10, 11]
    # 17.5 mg/m2/day x 1.01 m2, infused as calculated.
    assert din[0]["planned_mg"] == din[0]["given_mg"] == round(17.5 * 1.01, 4)
    assert [d["status"] for d in din] == ["as planned"] + ["not recorded"] * 3
    assert din[0]["date"] == "2024-07-08"

    roadmap = service.get("coord_a", f"/patients/{patient}/courses/2/roadmap")
    assert roadmap.status_code == 200 and roadmap.headers["content-type"].startswith("text/html")
    assert "Mon 01 Jul 2024" in roadmap.text
    rows = service.ok(service.get("coord_a", f"/dose-intensity?patient_id={patient}"))["items"]
    din2 = next(r for r in rows if r["course"] == 2 and r["agent_id"] == "dinutuximab")
    assert din2["intensity"] == 0.25 and din2["given_days"] == 1


def test_a_delay_moves_day_1_and_needs_its_cause(service: Service, journey) -> None:
    service.clock.advance(days=8)  # 2024-07-10: the counts of 07-09 are not in the future
    patient = journey["a"]["patients"]
    counts(service, "coord_a", patient, on="2024-07-09")
    late = service.post(
        "coord_a", f"/patients/{patient}/courses", start_body(start_date="2024-07-10")
    )
    assert late.status_code == 422
    assert [e["path"] for e in late.json()["errors"]] == ["delay_cause"]
    ok = service.ok(
        service.post(
            "coord_a",
            f"/patients/{patient}/courses",
            start_body(start_date="2024-07-10", delay_cause="myelosuppression"),
        ),
        201,
    )["course"]
    assert (ok["delay_days"], ok["delay_cause"]) == (9, "myelosuppression")
    body = {"start_date": "2024-07-15", "delay_cause": "scheduling", "delay_reason": "holiday"}
    assert service.post("monitor", f"/patients/{patient}/courses/2/delay", body).status_code == 403
    moved = service.ok(service.post("coord_a", f"/patients/{patient}/courses/2/delay", body))
    assert (moved["start_date"], moved["delay_days"]) == ("2024-07-15", 14)
    history = service.ok(service.get("chair", f"/courses/{moved['id']}/history"))
    change = next(h for h in history if h["field"] == "start_date")
    assert "delayed 5 days" in change["reason"]


def test_roles_and_sites(service: Service, journey) -> None:
    a, b = journey["a"]["patients"], journey["b"]["patients"]
    counts(service, "coord_a", a)
    before = stored(service)
    assert service.post("coord_b", f"/patients/{a}/courses", start_body()).status_code == 404
    assert service.post("monitor", f"/patients/{a}/courses", start_body()).status_code == 403
    assert service.post("stat", f"/patients/{a}/courses", start_body()).status_code == 403
    assert service.get("coord_b", f"/patients/{a}/courses/1/doses").status_code == 404
    assert service.get("coord_b", f"/patients/{a}/courses/1/roadmap").status_code == 404
    assert stored(service)[0] == before[0]

    # The statistician reads shifted dates and no roadmap (it carries real dates).
    real = service.ok(service.get("coord_a", f"/patients/{a}/courses/1/doses"))
    shifted = service.ok(service.get("stat", f"/patients/{a}/courses/1/doses"))
    assert real["start_date"] == "2024-06-03" != shifted["start_date"]
    assert service.get("stat", f"/patients/{a}/courses/1/roadmap").status_code == 403
    listed = service.ok(service.get("stat", f"/patients/{a}/courses"))
    assert listed["next"]["due"] is None
    assert listed["items"][0]["start_date"] != "2024-06-03"

    everyone = service.ok(service.get("stat", "/dose-intensity"))["items"]
    assert {r["subject_code"] for r in everyone} == {"CHLA-001", "STANFORD-001"}
    own = service.ok(service.get("coord_b", "/dose-intensity"))["items"]
    assert {r["subject_code"] for r in own} == {"STANFORD-001"}
    assert service.get("coord_b", f"/dose-intensity?patient_id={a}").status_code == 404
    assert b  # site B's patient has its own rows above


def test_bad_input_is_named_and_nothing_is_stored(service: Service, journey) -> None:
    patient = journey["a"]["patients"]
    counts(service, "coord_a", patient)
    before = stored(service)
    cases = {
        "body.height_cm": start_body(height_cm=-5),
        "body.weight_kg": start_body(weight_kg="nan"),
        "body.start_date": start_body(start_date="9999-12-31"),
        "body.delay_cause": start_body(delay_cause="Not A Term!"),
        "body.level_reason": start_body(level_reason="\x00"),
        "body.extra": start_body(extra=1),
    }
    for path, body in cases.items():
        answer = service.post("coord_a", f"/patients/{patient}/courses", body)
        assert answer.status_code == 422, (path, answer.text)
        assert path in [e["path"] for e in answer.json()["errors"]], (path, answer.text)
    early = service.post(
        "coord_a", f"/patients/{patient}/courses", start_body(start_date="2024-06-20")
    )
    assert early.status_code == 422 and early.json()["errors"][0]["path"] == "start_date"
    assert stored(service) == before
