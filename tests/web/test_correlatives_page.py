"""The correlatives page and its API: the statistician and the chair see the immune
comparison (table and figure) from the one service; site staff are refused; with no
results the page says why it cannot be given yet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select

from phaseone.protocol import resolve_protocol
from phaseone.store import accounts
from phaseone.store.access import Source
from phaseone.store.models import User
from phaseone.store.scope import Scope
from phaseone.web.pages import create_site
from phaseone.workflow import Trial, results, treatment
from phaseone.workflow import specimens as spec_service
from tests.web.service_fixtures import PASSWORD, Service

TRIAL = Trial.from_protocol(resolve_protocol("nant-2011-04"))


@contextmanager
def _as(service: Service, username: str) -> Iterator[Scope]:
    with service.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        yield Scope(session, accounts.actor_for(user, Source.page, "127.0.0.1"))


def _login(site: object, who: str) -> TestClient:
    client = TestClient(site, base_url="https://testserver")  # type: ignore[arg-type]
    client.post("/login", data={"username": who, "password": PASSWORD, "next": "/"},
                follow_redirects=False)
    return client


def _immune_results(service: Service) -> None:
    """One level-1 patient's NK count on day 1 (150) and day 8 (210)."""
    patient_id, slot_id = service.ready_patient("chla", "CHLA-701")
    service.ok(service.register("coord_a", patient_id, slot_id), 201)
    with _as(service, "coord_a") as scope:
        treatment.record_dose(scope, TRIAL, patient_id=patient_id, course=1, day=1,
                              agent_id="lenalidomide")
        planned = spec_service.schedule_course(scope, TRIAL, patient_id=patient_id, course=1)
        immune = {s.course_day: s for s in planned if s.assessment_id == "immune"}
        for day in (1, 8):
            spec_service.collect(scope, specimen_id=immune[day].id,
                                 collected_on=immune[day].planned_on, collected_time=None)
        codes = {day: immune[day].code for day in (1, 8)}
    lab = (f"specimen_id,analyte,value,unit\n{codes[1]},nk,150,cells/uL\n"
           f"{codes[8]},nk,210,cells/uL\n")
    with _as(service, "chair") as scope:
        results.commit(scope, lab.encode(), "immune.csv")


def test_statistician_sees_the_comparison_and_site_staff_do_not(service: Service) -> None:
    site = create_site(service.db, TRIAL, policy=service.policy)
    stats = _login(site, "stat")
    empty = stats.get("/correlatives")
    assert empty.status_code == 200
    assert "Cannot be given yet: no immune monitoring results have been imported" in empty.text
    _immune_results(service)
    page = stats.get("/correlatives").text
    assert 'href="/correlatives" aria-current="page"' in page
    assert "<td>nk</td>" in page and 'src="data:image/svg+xml;base64,' in page
    # By hand: the one patient's change is 210 - 150 = 60, in the low-dose group.
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "60.0" in cells
    body = service.ok(service.get("stat", "/correlatives/immune"))
    assert body["available"] is True
    [row] = body["rows"]
    assert (row["analyte"], row["study_day"], row["n_low"], row["median_change_low"]) == (
        "nk", 8, 1, 60.0)
    assert row["n_high"] == 0 and row["p_value"] is None  # no high-dose patient yet
    chair = _login(site, "chair")
    assert "<td>nk</td>" in chair.get("/correlatives").text
    coord = _login(site, "coord_a")
    assert "Correlatives" not in coord.get("/specimens").text  # not in the site's menu
    refused = coord.get("/correlatives")
    assert refused.status_code == 403
    assert service.get("coord_a", "/correlatives/immune").status_code == 403
