"""The specimen pages are the API's faces: a coordinator records a PK sample's collection
time (the form refuses what the API refuses), the chair previews a results file, sees a
bad row named by its line, and stores the fixed file."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from phaseone.protocol import resolve_protocol
from phaseone.store.models import Specimen, SpecimenResult
from phaseone.web.pages import create_site
from phaseone.workflow import Trial
from tests.web.page_client import refused_fields
from tests.web.service_fixtures import PASSWORD, Service


def _login(site: object, who: str) -> tuple[TestClient, str]:
    client = TestClient(site, base_url="https://testserver")  # type: ignore[arg-type]
    client.post(
        "/login", data={"username": who, "password": PASSWORD, "next": "/"}, follow_redirects=False
    )
    page = client.get("/specimens")
    assert page.status_code == 200, page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return client, token.group(1) if token else ""


def test_collection_form_and_import_with_preview(service: Service) -> None:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-601")
    service.ok(service.register("coord_a", patient_id, slot_id), 201)
    planned = service.ok(
        service.post("coord_a", f"/patients/{patient_id}/specimens", {"course": 1}), 201
    )
    pk = next(s for s in planned if s["assessment_id"] == "pk-lenalidomide")
    site = create_site(
        service.db, Trial.from_protocol(resolve_protocol("nant-2011-04")), policy=service.policy
    )
    coord, token = _login(site, "coord_a")
    assert pk["code"] in coord.get("/specimens").text
    other, _ = _login(site, "coord_b")
    assert pk["code"] not in other.get("/specimens").text
    path = f"/specimens/{pk['code']}/collection"
    refused = coord.post(
        path, data={"csrf_token": token, "collected_on": "2024-06-02"}, follow_redirects=False
    )
    # Refused as the API refuses it, and the form comes back as typed, naming the field.
    assert refused.status_code == 422
    assert refused_fields(refused.text) == {"collected_time"}
    assert f'id="on-{pk["code"]}" name="collected_on" type="date" value="2024-06-02"' in (
        refused.text
    )
    done = coord.post(
        path,
        data={"csrf_token": token, "collected_on": pk["planned_on"], "collected_time": "08:02:30"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "ok=" in done.headers["location"]
    with service.db.transaction() as session:
        row = session.scalar(select(Specimen).where(Specimen.code == pk["code"]))
        assert row is not None and (row.status, row.collected_time) == ("collected", "08:02:30")
    # The chair imports: a bad row is named and nothing is stored; the fixed file is.
    chair, chair_token = _login(site, "chair")
    bad = f"specimen_id,analyte,value,unit\n{pk['code']},lenalidomide,12,mg/dL\n"
    shown = chair.post(
        "/result-imports/preview",
        data={"csrf_token": chair_token},
        files={"file": ("lab.csv", bad.encode(), "text/csv")},
    )
    assert shown.status_code == 200 and "line 2: unit:" in shown.text
    good = bad.replace("mg/dL", "ng/mL")
    shown = chair.post(
        "/result-imports/preview",
        data={"csrf_token": chair_token},
        files={"file": ("lab.csv", good.encode(), "text/csv")},
    )
    assert "Store these 1 results" in shown.text
    content = re.search(r'name="content" value="([^"]+)"', shown.text)
    assert content is not None
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SpecimenResult)) == 0
    stored = chair.post(
        "/result-imports/commit",
        follow_redirects=False,
        data={"csrf_token": chair_token, "content": content.group(1), "file_name": "lab.csv"},
    )
    assert stored.status_code == 303 and "ok=" in stored.headers["location"]
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SpecimenResult)) == 1
    # A coordinator's page refuses the import as the API does.
    refused = coord.post(
        "/result-imports/commit",
        follow_redirects=False,
        data={"csrf_token": token, "content": content.group(1), "file_name": "lab.csv"},
    )
    assert refused.status_code == 403 and "may not" in refused.text
