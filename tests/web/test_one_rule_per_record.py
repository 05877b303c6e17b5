"""A record type's rules hold through every door: going off study needs a reason through
the generic record API as through the workflow and the pages (entry and correction), and a
course's day 1, height and weight change only through the course workflow, which
recomputes the calendar, BSA and doses."""

from __future__ import annotations

from sqlalchemy import func, select

from phaseone.store.models import ClinicalEvent, Course
from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import Service


def _events(service: Service) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(ClinicalEvent)) or 0)


def _problems(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {p["path"]: p["message"] for p in response.json()["errors"]}


def test_off_study_needs_a_reason_at_every_door(service: Service, journey, pages: Pages) -> None:
    patient = journey["a"]["patients"]
    before = _events(service)
    body = {"patient_id": patient, "kind": "off_study", "event_date": "2024-06-20"}
    for cause in (None, "   "):
        sent = body if cause is None else body | {"cause": cause}
        refused = service.post("coord_a", "/clinical-events", sent)
        assert refused.status_code == 422, refused.text
        # Left out: the record's rule; blank: the body's type (no empty names) says so first.
        assert [p for p in _problems(refused) if p.endswith("cause")], refused.text
    assert "needs a reason" in _problems(service.post("coord_a", "/clinical-events", body))["cause"]
    page = pages.post(
        "coord_a",
        f"/patients/{patient}/events",
        {"kind": "off_study", "event_date": "2024-06-20"},
    )
    assert page.status_code == 422 and refused_fields(page.text) == {"cause"}
    assert _events(service) == before
    # A correction cannot take the reason away either.
    event = journey["a"]["clinical-events"]
    cleared = service.patch("coord_a", f"/clinical-events/{event}", {"cause": None, "reason": "x"})
    assert cleared.status_code == 422 and "needs a reason" in _problems(cleared)["cause"]
    # Progression needs no reason; an off-study with one is stored.
    assert service.post("coord_a", "/clinical-events", body | {"kind": "progression"}).is_success
    assert service.post("coord_a", "/clinical-events", body | {"cause": "parents' wish"}).is_success


def test_a_courses_day_1_height_and_weight_change_only_through_the_course_workflow(
    service: Service, journey
) -> None:
    course_id = journey["a"]["courses"]
    with service.db.transaction() as session:
        course = session.get(Course, course_id)
        assert course is not None
        before = (course.start_date, course.height_cm, course.weight_kg, course.bsa_m2)
    for change in (
        {"start_date": "2024-06-10"},
        {"height_cm": 140.0},
        {"weight_kg": 30.0},
        {"bsa_m2": 1.2},
    ):
        refused = service.patch("coord_a", f"/courses/{course_id}", change | {"reason": "typo"})
        assert refused.status_code == 422, refused.text
        (field,) = change
        assert "course workflow" in _problems(refused)[field]
        assert "/delay" in _problems(refused)[field]
    with service.db.transaction() as session:
        course = session.get(Course, course_id)
        assert course is not None
        assert (course.start_date, course.height_cm, course.weight_kg, course.bsa_m2) == before


def test_a_courses_dose_level_is_not_corrected_apart_from_its_doses(
    service: Service, journey, pages: Pages
) -> None:
    """A course's dose level is chosen when the course starts, where its doses are computed
    (a lower level is a dose modification with its reason); a correction of the level alone
    would leave the doses of the old level, so every door refuses it, naming the field and
    the course workflow."""
    patient, course_id = journey["a"]["patients"], journey["a"]["courses"]
    with service.db.transaction() as s:
        course = s.get(Course, course_id)
        assert course is not None
        # Set up a course at level 2 so that level 1 is a lower one.
        course.dose_level = 2
    for level in (1, 3):
        body = {"dose_level": level, "reason": "entered wrong"}
        refused = service.patch("coord_a", f"/courses/{course_id}", body)
        assert refused.status_code == 422, refused.text
        message = _problems(refused)["dose_level"]
        assert "when a course starts" in message and "/patients/{patient_id}/courses" in message
    # The pages offer no course correction at all.
    page = pages.post(
        "coord_a", f"/patients/{patient}/courses/{course_id}/correct", {"dose_level": "1"}
    )
    assert page.status_code == 404
    with service.db.transaction() as session:
        course = session.get(Course, course_id)
        assert course is not None and course.dose_level == 2
