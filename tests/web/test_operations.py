"""Operations reports: enrolment by site and month, overdue forms, missing data; each
within the reader's sites. Expected rows are derived by hand from the journey's dates and
the protocol's calendar (nant-2011-04 `assessments`)."""

from __future__ import annotations

import csv
import io

from tests.web.service_fixtures import BASE, Service


def _report(service: Service, who: str, name: str) -> list[dict]:
    return service.ok(service.get(who, f"/operations/{name}"))["rows"]  # type: ignore[no-any-return]


def test_enrolment_by_site_and_month(service: Service, journey) -> None:
    # Both journey patients are registered on the service clock's first day, 2024-06-03.
    assert _report(service, "chair", "enrolment") == [
        {"site_id": "chla", "month": "2024-06", "registered": 1},
        {"site_id": "stanford", "month": "2024-06", "registered": 1},
    ]
    assert _report(service, "coord_a", "enrolment") == [
        {"site_id": "chla", "month": "2024-06", "registered": 1}
    ]
    assert service.get("stat", "/operations/enrolment").status_code == 403
    csv_text = service.client.get(
        BASE + "/operations/enrolment?format=csv", headers=service.as_("monitor")
    ).text
    assert list(csv.reader(io.StringIO(csv_text))) == [
        ["site_id", "month", "registered"],
        ["chla", "2024-06", "1"],
        ["stanford", "2024-06", "1"],
    ]


def test_overdue_labs_follow_the_course_calendar(service: Service, journey) -> None:
    """Course 1 starts 2024-06-03; the clock reads 2024-07-02. The CBC is due on days
    1, 8, 15, 22 (06-03, 06-10, 06-17, 06-24), chemistry on days 1, 8, 15. The only lab
    entered is an ANC (a CBC analyte) on 06-10: it covers the CBC of day 8 alone (the
    others are 7 or more days away, beyond the 3-day grace). So 3 CBCs and 3 chemistries
    are overdue for each patient."""
    rows = [r for r in _report(service, "monitor", "overdue") if r["form"] == "labs"]
    found = sorted((r["subject_code"], r["due_on"], r["what"].split(" (")[0]) for r in rows)
    expected = sorted(
        (code, day, name)
        for code in ("CHLA-001", "STANFORD-001")
        for name, days in (
            ("Complete blood count with differential", ("2024-06-03", "2024-06-17", "2024-06-24")),
            ("Serum chemistry", ("2024-06-03", "2024-06-10", "2024-06-17")),
        )
        for day in days
    )
    assert found == expected
    late = {r["due_on"]: r["days_late"] for r in rows}
    assert late["2024-06-03"] == 29 and late["2024-06-24"] == 8
    own = [r for r in _report(service, "coord_a", "overdue") if r["form"] == "labs"]
    assert {r["site_id"] for r in own} == {"chla"} and len(own) == 6
    # Entering the chemistry of day 15 (06-17) takes it off the list.
    body = {
        "patient_id": journey["a"]["patients"],
        "course_id": journey["a"]["courses"],
        "analyte": "creatinine",
        "value": 0.5,
        "unit": "mg/dL",
        "collected_on": "2024-06-18",
    }
    service.ok(service.post("coord_a", "/lab-results", body), 201)
    own = [r for r in _report(service, "coord_a", "overdue") if r["form"] == "labs"]
    assert len(own) == 5
    assert ("2024-06-17", "Serum chemistry") not in {
        (r["due_on"], r["what"].split(" (")[0]) for r in own
    }


def test_planned_specimens_not_collected_are_overdue_until_entered(
    service: Service, journey
) -> None:
    pid = journey["a"]["patients"]
    planned = service.ok(service.post("coord_a", f"/patients/{pid}/specimens", {"course": 1}), 201)
    codes = {s["code"] for s in planned}
    past = {s["code"] for s in planned if s["planned_on"] < "2024-06-29"}
    rows = [r for r in _report(service, "coord_a", "overdue") if r["form"] == "specimens"]
    listed = {r["what"].split()[-1] for r in rows}
    assert past and listed == past and listed <= codes
    first, second = sorted(past)[:2]
    service.ok(service.post("coord_a", f"/specimens/{second}/missed", {"reason": "no line"}))
    spec = next(s for s in planned if s["code"] == first)
    body = {"collected_on": spec["planned_on"], "collected_time": "09:00"}
    service.ok(service.post("coord_a", f"/specimens/{first}/collection", body))
    rows = [r for r in _report(service, "coord_a", "overdue") if r["form"] == "specimens"]
    status = {r["what"].split()[-1]: r["status"] for r in rows}
    assert first not in status and status[second] == "missed"
    assert not [r for r in _report(service, "coord_b", "overdue") if r["form"] == "specimens"]


def test_missing_required_fields_are_listed_by_site(service: Service, journey) -> None:
    before = [r for r in _report(service, "chair", "missing") if r["entity"] == "lab_results"]
    assert before == []
    body = {
        "patient_id": journey["a"]["patients"],
        "analyte": "ANC",
        "value": 1.1,
        "unit": "10^9/L",
        "collected_on": "2024-06-20",
    }
    lab = service.ok(service.post("coord_a", "/lab-results", body), 201)["id"]
    rows = [r for r in _report(service, "chair", "missing") if r["entity"] == "lab_results"]
    assert [(r["record_id"], r["field"], r["subject_code"]) for r in rows] == [
        (lab, "course_id", "CHLA-001")
    ]
    assert not [r for r in _report(service, "coord_b", "missing") if r["entity"] == "lab_results"]


def test_the_operations_page_and_its_csv(service: Service, journey, pages) -> None:
    page = pages.get("coord_a", "/operations")
    assert page.status_code == 200 and "Enrolment by site and month" in page.text
    assert "STANFORD-001" not in page.text and "CHLA-001" in page.text
    assert pages.get("stat", "/operations").status_code == 403
    download = pages.get("chair", "/operations/overdue.csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert "STANFORD-001" in download.text and "CHLA-001" in download.text


def test_open_queries_are_counted_per_site(service: Service, journey) -> None:
    """Two queries raised on site A's lab and one on site B's, one of A's closed: the counts
    follow from those steps."""
    for suffix in ("a", "a", "b"):
        body = {"entity": "lab_results", "entity_id": journey[suffix]["lab-results"],
                "field": "value", "text": "Please check against the source."}  # fmt: skip
        service.ok(service.post("monitor", "/queries", body), 201)
    queries = service.ok(service.get("monitor", "/queries?site_id=chla"))
    first = (queries["items"] if isinstance(queries, dict) else queries)[0]["id"]
    closed = service.post("monitor", f"/queries/{first}/close", {"text": "Checked."})
    assert closed.status_code == 200, closed.text
    assert _report(service, "chair", "queries") == [
        {"site_id": "chla", "open": 1, "answered": 0, "closed": 1},
        {"site_id": "stanford", "open": 1, "answered": 0, "closed": 0},
    ]
    assert _report(service, "coord_b", "queries") == [
        {"site_id": "stanford", "open": 1, "answered": 0, "closed": 0}
    ]
