"""The patient page is a summary: the latest labs and adverse events with links to every
record a page at a time (newest first), the current course's own doses, each record
corrected on its own page, and a number of statements that does not grow with the chart."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import event, select

from phaseone.store import records
from phaseone.store.access import Source, system_actor
from phaseone.store.models import Course
from phaseone.store.scope import Scope
from phaseone.web.pages import page_cache
from tests.web.page_client import Pages
from tests.web.service_fixtures import Service

Journey = dict[str, dict[str, int]]
# The statements one patient page sends (SQLite, a coordinator, a registered patient with
# no disease evaluation; each evaluation table adds one when there is one): the session, the
# site with the registration and which short lists hold a row, a read per long list and per
# short list that holds one, every signature in one, open queries, the trial's state. It
# must not grow with the chart's records, and a new read must be a choice made here.
STATEMENTS_PER_PAGE = 16


def _scope(session: Any) -> Scope:
    return Scope(session, system_actor("cli:test", Source.cli))


def _add_labs(service: Service, patient_id: int, n: int) -> None:
    with service.db.transaction() as session:
        for k in range(n):
            records.create(
                _scope(session),
                records.SPECS["lab_results"],
                {
                    "patient_id": patient_id,
                    "analyte": "alt",
                    "value": 20.0 + k,
                    "unit": "U/L",
                    "collected_on": dt.date(2024, 6, 4) + dt.timedelta(days=k % 20),
                },
            )


def _add_courses(service: Service, patient_id: int, courses: int, doses: int) -> None:
    """Courses 2.. `courses` after course 1, each with `doses` lenalidomide doses."""
    with service.db.transaction() as session:
        scope = _scope(session)
        first = session.scalars(
            select(Course).where(Course.patient_id == patient_id, Course.number == 1)
        ).one()
        for number in range(2, courses + 1):
            start = first.start_date + dt.timedelta(days=28 * (number - 1))
            course = records.create(
                scope,
                records.SPECS["courses"],
                {
                    "patient_id": patient_id,
                    "number": number,
                    "start_date": start,
                    "dose_level": first.dose_level,
                    "height_cm": first.height_cm,
                    "weight_kg": first.weight_kg,
                    "bsa_m2": first.bsa_m2,
                },
            )
            for day in range(1, doses + 1):
                records.create(
                    scope,
                    records.SPECS["dose_administrations"],
                    {
                        "patient_id": patient_id,
                        "course_id": course.id,
                        "agent_id": "lenalidomide",
                        "course_day": day,
                        "administered_on": start + dt.timedelta(days=day - 1),
                        "planned_dose": 15.0,
                        "given_dose": 15.0,
                        "unit": "mg",
                        "how_taken": "swallowed",
                    },
                )


def _rows(page: str, start: str, end: str | None) -> list[str]:
    """The dates of the table rows between two markers."""
    section = page[page.index(start) : page.index(end) if end else None]
    return re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td><th scope=\"row\">", section)


def test_the_chart_shows_the_latest_labs_and_every_lab_is_a_page_away(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient = journey["a"]["patients"]
    _add_labs(service, patient, 60)  # with the journey's one lab: 61
    chart = pages.get("coord_a", f"/patients/{patient}").text
    latest = _rows(chart, 'id="labs"', 'id="adverse-events"')
    assert len(latest) == 10 and latest == sorted(latest, reverse=True)
    assert latest[0] == "2024-06-23"  # 2024-06-04 + 19 days, the newest of the 60
    assert f'href="/patients/{patient}/labs">All labs (61)</a>' in chart

    first = pages.get("coord_a", f"/patients/{patient}/labs").text
    dates = _rows(first, "<main", None)
    assert len(dates) == 50 and dates == sorted(dates, reverse=True)
    assert dates[:10] == latest
    assert "1–50 of 61" in first and "?offset=50#labs" in first
    rest = pages.get("coord_a", f"/patients/{patient}/labs?offset=50").text
    assert len(_rows(rest, "<main", None)) == 11
    assert "51–61 of 61" in rest and "?offset=0#labs" in rest

    other = pages.get("coord_b", f"/patients/{patient}/labs")
    assert other.status_code == 404 and "CHLA" not in other.text


def test_the_chart_shows_the_current_course_and_every_dose_is_a_page_away(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient = journey["a"]["patients"]
    _add_courses(service, patient, courses=3, doses=5)
    chart = pages.get("coord_a", f"/patients/{patient}").text
    assert "Course 3 calendar and doses" in chart
    assert "Doses recorded in course 3 (5)" in chart
    assert 'name="course" value="3"' in chart  # the dose form records into course 3
    every = pages.get("coord_a", f"/patients/{patient}/doses").text
    # The journey's dose of course 1 and the ten of courses 2 and 3.
    assert len(_rows(every, "<main", None)) == 11


def test_each_record_is_corrected_on_its_own_page(journey: Journey, pages: Pages) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    chart = pages.get("coord_a", f"/patients/{patient}").text
    link = f"/patients/{patient}/labs/{lab_id}/correct"
    assert link in chart and "Reason for the correction" not in chart
    page = pages.get("coord_a", link)
    assert page.status_code == 200
    assert "Reason for the correction" in page.text and "Reason for voiding" in page.text
    assert f"/audit?entity=lab_results&amp;entity_id={lab_id}" in page.text
    refused = pages.post("coord_a", link, {"value": "abc", "reason": "re-read"})
    assert refused.status_code == 422
    assert 'value="abc"' in refused.text and 'value="re-read"' in refused.text
    assert "Reason for voiding" in refused.text  # the correction page again, not the chart
    assert pages.get("coord_b", link).status_code == 404  # another site's record
    for path in (f"/patients/{patient}/labs/999999/correct", f"/patients/{patient}/x/1/correct"):
        assert pages.get("coord_a", path).status_code == 404


def _statements(pages: Pages, service: Service, path: str) -> int:
    return len(_sent(pages, service, path))


def _reads(pages: Pages, service: Service, path: str) -> int:
    """The statements but SQLite's BEGIN."""
    return sum(not s.startswith("BEGIN") for s in _sent(pages, service, path))


def _sent(pages: Pages, service: Service, path: str) -> list[str]:
    client = pages.as_("coord_a")
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(service.db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(service.db.engine, "before_cursor_execute", count)
    return sent


def test_the_chart_sends_a_bounded_number_of_statements(
    service: Service, journey: Journey, pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_cache, "KEPT_PAGES", 0)  # every view rendered: its reads counted
    patient = journey["a"]["patients"]
    path = f"/patients/{patient}"
    pages.get("coord_a", path)  # the trial's state is cached after the first page
    small = _statements(pages, service, path)
    _add_courses(service, patient, courses=12, doses=21)
    _add_labs(service, patient, 120)
    pages.get("coord_a", path)
    large = _statements(pages, service, path)
    assert large == small, "the chart's statements grow with the patient's records"
    assert large <= STATEMENTS_PER_PAGE, large


def test_a_registered_patients_checklist_is_a_page_away(journey: Journey, pages: Pages) -> None:
    patient = journey["a"]["patients"]  # registered in the journey
    chart = pages.get("coord_a", f"/patients/{patient}").text
    assert f'href="/patients/{patient}/eligibility"' in chart
    assert 'class="checklist"' not in chart
    page = pages.get("coord_a", f"/patients/{patient}/eligibility")
    assert page.status_code == 200 and 'class="checklist"' in page.text
    assert page.text.count('<li class="depth-') > 10
    assert pages.get("coord_b", f"/patients/{patient}/eligibility").status_code == 404


def test_a_chart_opened_again_unchanged_is_not_rendered_again(
    service: Service, journey: Journey, pages: Pages
) -> None:
    """Kept under the trial's committed version, the day and the login session: the second
    view reads only the session and the version; any write in the trial, another day or
    another viewer renders it anew, so no view is ever stale."""
    patient = journey["a"]["patients"]
    path = f"/patients/{patient}"
    pages.as_("inv_a")  # signed in first: a login is a change, and would render it anew
    first = pages.get("coord_a", path).text
    # The session and the version. (A commit elsewhere in a shared PostgreSQL cluster moves
    # the version too and renders the page again: the next view is then kept.)
    assert min(_reads(pages, service, path) for _ in range(3)) == 2
    assert pages.get("coord_a", path).text == first

    # Another viewer of the same chart, nothing changed: a page of their own (their name,
    # their token), not the one kept for the first.
    theirs = pages.get("inv_a", path).text
    assert "Inv_A Person" in theirs and "Coord_A Person" not in theirs
    assert pages.tokens["inv_a"] in theirs and pages.tokens["coord_a"] not in theirs

    # A write by someone else, over the API: the next view shows it.
    lab = {
        "analyte": "alt",
        "value": 987.0,
        "unit": "U/L",
        "course": 1,
        "collected_on": service.clock.now.date().isoformat(),
    }
    service.ok(service.post("inv_a", f"/patients/{patient}/labs", lab), 201)
    assert _reads(pages, service, path) > 2
    assert ">987" in pages.get("coord_a", path).text

    # The next day renders it again (what is due and what is open depends on the day).
    service.clock.advance(days=1)
    assert _reads(pages, service, path) > 2
    # A message after a step (a query string) is never kept.
    shown = pages.get("coord_a", path + "?ok=Lab+saved").text
    assert "Lab saved" in shown and "Lab saved" not in pages.get("coord_a", path).text
