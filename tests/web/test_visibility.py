"""Scoping at every door: a site's dashboard and notifications name only its own subjects,
the statistician sees no real date on the pages either, and a subject code gives no hint
of another site's patient."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from phaseone.store.access import Source
from phaseone.store.accounts import actor_for, get_user
from phaseone.store.scope import Scope
from phaseone.workflow import notify
from tests.web.service_fixtures import PASSWORD, Service

ISO_DATE = re.compile(r"\b(19|20|21)\d{2}-\d{2}-\d{2}\b")


def _page(service: Service, who: str, path: str) -> str:
    """`path` as `who` sees it after logging in to the pages."""
    with TestClient(service.client.app, base_url="https://testserver") as client:
        login = client.post(
            "/login", data={"username": who, "password": PASSWORD}, follow_redirects=False
        )
        assert login.status_code == 303 and "error" not in login.headers["location"]
        response = client.get(path)
        assert response.status_code == 200, response.text
        return response.text


def _notes(service: Service, who: str) -> list[notify.NotificationView]:
    with service.db.transaction() as session:
        user = get_user(session, service.user_ids[who])
        return notify.for_actor(Scope(session, actor_for(user, Source.page, None)), 100)


def test_a_sites_notifications_name_only_its_own_subjects(service: Service, journey) -> None:
    mine = " ".join(n.message for n in _notes(service, "coord_b"))
    assert "STANFORD-001" in mine
    assert "CHLA-001" not in mine
    # Every site still learns that slots were filled, without whose.
    assert mine.count("A patient was registered at dose level") == 2
    central = " ".join(n.message for n in _notes(service, "chair"))
    assert "CHLA-001" in central and "STANFORD-001" in central


def test_a_sites_dashboard_names_only_its_own_subjects(service: Service, journey) -> None:
    page = _page(service, "coord_b", "/")
    assert "STANFORD-001" in page
    assert "CHLA-001" not in page
    assert "(another site)" in page
    assert "CHLA-001" in _page(service, "coord_a", "/")


def test_the_statisticians_dashboard_shows_no_real_date(service: Service, journey) -> None:
    page = _page(service, "stat", "/")
    # The footer's protocol version (a registry record date) is not about anyone.
    main = page[page.index("<main") : page.index("</main>")]
    assert ISO_DATE.search(main) is None, ISO_DATE.search(main)
    assert "withheld" in main
    # The same page for the chair shows the dates: the statistician's are withheld, not absent.
    assert ISO_DATE.search(_page(service, "chair", "/")) is not None
    notes = _notes(service, "stat")
    assert notes and all(n.created_at is None for n in notes)
    assert not any(ISO_DATE.search(n.message) for n in notes)


def test_the_api_and_the_pages_withhold_the_same_window_dates(service: Service, journey) -> None:
    trial = service.ok(service.get("stat", "/trial"))
    assert trial["next_window_close"] is None
    assert all(w["window_end"] is None and w["reason"] is None for w in trial["pending"])


def _patient(code: str | None) -> dict[str, object]:
    body: dict[str, object] = {"site_id": "chla", "birth_date": "2015-01-01", "sex": "F"}
    if code is not None:
        body["subject_code"] = code
    return body


def test_another_sites_code_answers_as_any_code_outside_ones_prefix(
    service: Service, journey
) -> None:
    taken = service.post("coord_a", "/patients", _patient("STANFORD-001"))  # exists
    free = service.post("coord_a", "/patients", _patient("STANFORD-999"))  # does not
    assert taken.status_code == free.status_code == 422
    assert taken.json() == free.json()
    assert taken.json()["errors"][0]["path"] == "subject_code"
    assert "CHLA-" in taken.json()["errors"][0]["message"]
    # Inside its own prefix a site can only clash with its own patient.
    assert service.post("coord_a", "/patients", _patient("CHLA-001")).status_code == 409


def test_the_server_numbers_subjects_across_the_trial(service: Service, journey) -> None:
    first = service.ok(service.post("coord_a", "/patients", _patient(None)), 201)
    second = service.ok(
        service.post("coord_b", "/patients", {**_patient(None), "site_id": "stanford"}), 201
    )
    # Two patients exist already (the journey's): the next numbers are 3 and 4.
    assert (first["subject_code"], second["subject_code"]) == ("S-0003", "S-0004")


def test_the_statistician_sees_no_real_time_of_a_decision_or_a_slot_request(
    service: Service,
) -> None:
    """Trial-level times (not a patient's, so no shift applies) are withheld from the
    statistician, in the API and on the pages, and shown to everyone else."""
    decision = service.ok(service.post("chair", "/escalation-decisions/proposals"))["decision"]
    held = service.request_slot("coord_a", "next child")
    assert held["status"] == "held"
    path = f"/escalation-decisions/{decision['id']}"
    theirs = service.ok(service.get("stat", path))
    assert theirs["decided_on"] is None and theirs["created_at"] is None
    assert theirs["deidentified"] is True
    ours = service.ok(service.get("chair", path))
    assert ours["decided_on"] == service.clock.now.date().isoformat()
    (slot,) = service.ok(service.get("stat", "/slot-requests"))["items"]
    assert slot["requested_at"] is None and slot["hold_expires_at"] is None
    (slot,) = service.ok(service.get("chair", "/slot-requests"))["items"]
    assert slot["requested_at"] is not None and slot["hold_expires_at"] is not None
    for page_path in ("/", "/escalation"):
        page = _page(service, "stat", page_path)
        main = page[page.index("<main") : page.index("</main>")]
        assert ISO_DATE.search(main) is None, (page_path, ISO_DATE.search(main))
    main = _page(service, "chair", "/escalation")
    assert service.clock.now.date().isoformat() in main
