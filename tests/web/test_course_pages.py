"""The course pages through the pages' test client: start course 2 with a delay, a refused
form shown again filled in with the field named, a dose on course 2, the roadmap, and what
other sites and the statistician see.

The journey's patient at CHLA started course 1 on 2024-06-03, so course 2 is due on
2024-07-01 (the protocol's 28-day course).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from phaseone.protocol import resolve_protocol
from phaseone.store.models import Course, Patient
from phaseone.web.pages import create_site
from phaseone.workflow import Trial
from tests.web.service_fixtures import PASSWORD, Service


@pytest.fixture
def pages(service: Service) -> Iterator[TestClient]:
    site = create_site(
        service.db, Trial.from_protocol(resolve_protocol("nant-2011-04")), policy=service.policy
    )
    with TestClient(site, base_url="https://testserver") as client:
        yield client


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def courses_stored(service: Service) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Course)) or 0)


def test_course_2_from_the_pages(service: Service, journey, pages: TestClient) -> None:
    service.clock.advance(days=3)  # the counts of 2024-07-04 are not in the future
    patient = journey["a"]["patients"]
    for analyte in ("anc", "platelets"):
        body = {"analyte": analyte, "value": 150, "unit": "10^9/L", "collected_on": "2024-07-04"}
        service.ok(service.post("coord_a", f"/patients/{patient}/labs", body), 201)
    login(pages, "coord_a")
    listing = pages.get(f"/patients/{patient}/courses")
    assert listing.status_code == 200
    assert "Start course 2" in listing.text and 'value="2024-07-01"' in listing.text
    assert f"/patients/{patient}/courses" in pages.get(f"/patients/{patient}").text
    token = csrf(listing.text)
    form = {
        "csrf_token": token,
        "number": "2",
        "start_date": "2024-07-05",
        "height_cm": "nan",
        "weight_kg": "28",
        "dose_level": "1",
        "delay_cause": "scheduling",
        "delay_reason": "holiday weekend",
    }
    refused = pages.post(f"/patients/{patient}/courses", data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "height_cm" in refused.text
    assert 'value="holiday weekend"' in refused.text and 'value="28"' in refused.text
    assert courses_stored(service) == 2  # course 1 of each journey patient, nothing more

    valid = form | {"height_cm": "130"}
    started = pages.post(f"/patients/{patient}/courses", data=valid, follow_redirects=False)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(f"/patients/{patient}/courses/2?ok=")
    page = pages.get(f"/patients/{patient}/courses/2")
    assert "delayed 4 days: scheduling" in page.text and "Day 1 2024-07-05" in page.text
    assert "BSA 1.01" in page.text

    dose = {"csrf_token": token, "form_id": "dose", "day": "1", "agent_id": "lenalidomide"}
    bad = pages.post(
        f"/patients/{patient}/courses/2/doses",
        data=dose | {"given_mg": "inf"},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and "given_mg" in bad.text
    chart = pages.get(f"/patients/{patient}").text
    # The patient page shows the current course: course 2, nothing given yet (course 1's
    # doses are on course 1's page).
    assert "Course 2 calendar and doses" in chart and chart.count(" mg given") == 0
    ok = pages.post(f"/patients/{patient}/courses/2/doses", data=dose, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    assert pages.get(f"/patients/{patient}").text.count(" mg given") == 1
    page = pages.get(f"/patients/{patient}/courses/2")
    assert "as planned" in page.text
    roadmap = pages.get(f"/patients/{patient}/courses/2/roadmap")
    assert roadmap.status_code == 200 and "Fri 05 Jul 2024" in roadmap.text

    missing = pages.post(f"/patients/{patient}/courses/5/doses", data=dose)
    assert missing.status_code == 404 and "course 5 is not started" in missing.text

    login(pages, "coord_b")
    for path in ("", "/2", "/2/roadmap"):
        other = pages.get(f"/patients/{patient}/courses{path}")
        assert other.status_code == 404 and "CHLA-001" not in other.text
    token_b = csrf(pages.get("/").text)
    before = courses_stored(service)
    foreign = pages.post(f"/patients/{patient}/courses", data=valid | {"csrf_token": token_b})
    assert foreign.status_code == 404 and "CHLA-001" not in foreign.text
    assert foreign.headers["content-type"].startswith("text/html")
    assert courses_stored(service) == before

    login(pages, "monitor")
    token_m = csrf(pages.get("/").text)
    read_only = pages.post(f"/patients/{patient}/courses", data=valid | {"csrf_token": token_m})
    assert read_only.status_code == 403 and "may not start courses" in read_only.text
    assert courses_stored(service) == before

    login(pages, "stat")
    shifted = pages.get(f"/patients/{patient}/courses/2")
    # Day 1 is shown by the patient's own shift. (The real date may still appear by
    # chance on another day's row: a shift under four weeks lands a shifted day on it.)
    with service.db.transaction() as session:
        shift = session.scalar(select(Patient.date_shift_days).where(Patient.id == patient))
    assert shift
    day_one = dt.date(2024, 7, 5) + dt.timedelta(days=shift)
    assert shifted.status_code == 200 and f"Day 1 {day_one.isoformat()}" in shifted.text
    assert "Day 1 2024-07-05" not in shifted.text
    assert "roadmap" not in shifted.text.lower().split("<main", 1)[1]
    assert pages.get(f"/patients/{patient}/courses/2/roadmap").status_code == 403
