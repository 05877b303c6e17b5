"""The evaluation pages are the API's faces: a coordinator enters a baseline and a
post-course-2 evaluation through the form (repeatable rows posted as 'lesions.0.x'), the
form refuses what the API refuses naming the field, the patient page shows the computed
response, and the response page shows the table per dose level for the chair and the
statistician (other sites' patients never counted for site staff)."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from phaseone.protocol import resolve_protocol
from phaseone.web.pages import create_site
from phaseone.workflow import Trial
from tests.web.service_fixtures import PASSWORD, Service


def _login(site: object, who: str, page: str) -> tuple[TestClient, str]:
    client = TestClient(site, base_url="https://testserver")  # type: ignore[arg-type]
    client.post("/login", data={"username": who, "password": PASSWORD, "next": "/"},
                follow_redirects=False)
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    return client, token.group(1) if token else ""


def _fields(day: dt.date, *, primary: str, marrow: str, baseline: bool) -> dict[str, str]:
    fields = {
        "evaluation.date": day.isoformat(),
        "evaluation.kind": "baseline" if baseline else "scheduled",
        "evaluation.mibg.avid": "yes",
        "evaluation.mibg.curie.pelvis": "2" if baseline else "0",
        "evaluation.lesions.0.id": "P1",
        "evaluation.lesions.0.site": "primary",
        "evaluation.lesions.0.diameter_mm": primary,
        "evaluation.lesions.1.id": "",  # an empty repeatable row is left out
    }
    if baseline:
        fields["disease_at_entry"] = "measurable"
    else:
        fields["course"] = "2"
    samples = [("left", "aspirate"), ("right", "aspirate"), ("left", "biopsy"),
               ("right", "biopsy")]
    for i, (side, kind) in enumerate(samples):
        fields |= {f"evaluation.marrow.{i}.side": side, f"evaluation.marrow.{i}.kind": kind,
                   f"evaluation.marrow.{i}.tumour_percent": marrow}
    return fields


def test_coordinator_enters_evaluations_and_sees_the_computed_response(
    service: Service,
) -> None:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-701")
    made = service.ok(service.register("coord_a", patient_id, slot_id), 201)
    level = made["registration"]["dose_level"]
    site = create_site(service.db, Trial.from_protocol(resolve_protocol("nant-2011-04")),
                       policy=service.policy, clock=service.clock)
    path = f"/patients/{patient_id}/evaluations"
    coord, token = _login(site, "coord_a", path)
    start = service.clock.now.date()
    base = _fields(start - dt.timedelta(days=2), primary="50", marrow="30", baseline=True)
    bad = {**base, "evaluation.mibg.curie.pelvis": "4", "csrf_token": token}
    refused = coord.post(path, data=bad, follow_redirects=False)
    assert refused.status_code == 422
    assert "evaluation.mibg.curie.pelvis" in refused.text
    assert 'value="4"' in refused.text  # what was typed is shown again
    done = coord.post(path, data={**base, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303, done.text
    service.clock.advance(days=60)
    # 50 -> 20 mm (-60%: PR), Curie 2 -> 0 and marrow 30% -> 0% in four samples: PR.
    later = _fields(start + dt.timedelta(days=56), primary="20", marrow="0", baseline=False)
    done = coord.post(path, data={**later, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303, done.text
    page = coord.get(path).text
    assert re.search(r"data-overall><strong[^>]*>PR<", page)
    assert re.search(r"data-best>PR<", page)
    assert "data-best>PR<" in coord.get(f"/patients/{patient_id}").text
    other, _ = _login(site, "coord_b", "/patients")
    assert other.get(path).status_code == 404
    for who in ("chair", "stat"):
        client, _ = _login(site, who, "/response")
        shown = client.get("/response").text
        row = re.search(
            rf'data-level="{level}"><th scope="row">[^<]+</th><td>(\d+)</td>'
            r"<td>(\d+)</td>", shown)
        assert row is not None and row.groups() == ("1", "1")
        assert "Event-free survival" in shown
    site_b, _ = _login(site, "coord_b", "/response")
    assert re.search(r'data-level="all"><th scope="row">all</th><td>0</td>',
                     site_b.get("/response").text)


def test_an_evaluation_is_voided_from_the_page_with_a_reason(service: Service) -> None:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-702")
    service.ok(service.register("coord_a", patient_id, slot_id), 201)
    day = service.clock.now.date() - dt.timedelta(days=1)
    made = service.ok(service.post("coord_a", f"/patients/{patient_id}/evaluations", {
        "disease_at_entry": "evaluable",
        "evaluation": {"date": day.isoformat(), "kind": "baseline",
                       "mibg": {"avid": True, "curie": {"pelvis": 1}}}}), 201)
    row_id = made["evaluations"][0]["id"]
    site = create_site(service.db, Trial.from_protocol(resolve_protocol("nant-2011-04")),
                       policy=service.policy, clock=service.clock)
    path = f"/patients/{patient_id}/evaluations"
    coord, token = _login(site, "coord_a", path)
    void = f"{path}/{row_id}/void"
    refused = coord.post(void, data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 422 and "reason" in refused.text
    done = coord.post(void, data={"csrf_token": token, "reason": "entered twice"},
                      follow_redirects=False)
    assert done.status_code == 303
    assert service.ok(service.get("chair", path))["evaluations"] == []
