"""Specimens, manifests, result imports and PK over JSON: the six roles, site scoping of
every list, and an import with a bad row that stores nothing and names its line."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from phaseone.store.models import SpecimenResult
from tests.web.service_fixtures import BASE, Service


def _registered(service: Service) -> int:
    patient_id, slot_id = service.ready_patient("chla", "CHLA-501")
    service.ok(service.register("coord_a", patient_id, slot_id), 201)
    return patient_id


def _csv(rows: list[str]) -> dict[str, Any]:
    text = "specimen_id,analyte,value,unit\n" + "\n".join(rows) + "\n"
    return {"file": ("lab.csv", text.encode(), "text/csv")}


def test_specimen_journey_roles_and_scoping(service: Service) -> None:
    patient_id = _registered(service)
    path = f"/patients/{patient_id}/specimens"
    assert service.post("coord_b", path, {"course": 1}).status_code == 404
    for who in ("stat", "monitor", "admin"):
        assert service.post(who, path, {"course": 1}).status_code == 403
    planned = service.ok(service.post("coord_a", path, {"course": 1}), 201)
    assert {s["assessment_id"] for s in planned} >= {"pk-lenalidomide", "haca", "immune"}
    # Every list is scoped: the other site sees nothing, trial-wide roles see everything.
    for who in ("coord_b", "inv_b"):
        assert service.ok(service.get(who, "/specimens")) == []
    for who in ("chair", "stat", "monitor", "admin", "inv_a"):
        assert len(service.ok(service.get(who, "/specimens"))) == len(planned)
    assert all(s["deidentified"] for s in service.ok(service.get("stat", "/specimens")))
    haca = next(s for s in planned if s["assessment_id"] == "haca")
    code = haca["code"]
    assert service.get("coord_b", f"/specimens/{code}").status_code == 404
    label = service.get("coord_a", f"/specimens/{code}/label")
    assert label.status_code == 200 and code in label.text and "CHLA-501" in label.text
    body = {"collected_on": haca["planned_on"], "collected_time": "25:00"}
    bad = service.post("coord_a", f"/specimens/{code}/collection", body)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"].endswith("collected_time")
    body["collected_time"] = "08:15"
    for who in ("stat", "monitor", "admin"):
        assert service.post(who, f"/specimens/{code}/collection", body).status_code == 403
    assert service.post("coord_b", f"/specimens/{code}/collection", body).status_code == 404
    done = service.ok(service.post("inv_a", f"/specimens/{code}/collection", body))
    assert (done["status"], done["collected_time"]) == ("collected", "08:15")
    # A manifest: shipped by the site, received centrally.
    shipment = service.ok(service.post("coord_a", "/shipments",
                                       {"codes": [code], "shipped_on": haca["planned_on"]}), 201)
    assert [s["code"] for s in shipment["specimens"]] == [code]
    assert service.ok(service.get("coord_b", "/shipments")) == []
    assert len(service.ok(service.get("monitor", "/shipments"))) == 1
    receipt = {"received_on": haca["planned_on"], "conditions": {code: "good"}}
    rpath = f"/shipments/{shipment['id']}/receipt"
    for who in ("coord_a", "inv_a", "stat", "monitor", "admin"):
        assert service.post(who, rpath, receipt).status_code == 403
    got = service.ok(service.post("chair", rpath, receipt))
    assert got["status"] == "received" and got["specimens"][0]["status"] == "received"
    # Results: one bad row stores nothing and names its line; the fixed file imports.
    rows = [f"{code},haca,0,titre", f"{code},cd3,12,cells/mL"]
    for who in ("coord_a", "stat", "monitor", "admin"):
        assert service.client.post(
            BASE + "/result-imports/preview", files=_csv(rows), headers=service.as_(who)
        ).status_code == 403
    refused = service.client.post(BASE + "/result-imports", files=_csv(rows),
                                  headers=service.as_("chair"))
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["line"], error["path"]) == (3, "unit")
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SpecimenResult)) == 0
    rows[1] = f"{code},cd3,12,cells/uL"
    shown = service.ok(service.client.post(BASE + "/result-imports/preview", files=_csv(rows),
                                           headers=service.as_("chair")))
    assert shown["count"] == 2 and len(shown["sha256"]) == 64
    stored = service.ok(service.client.post(BASE + "/result-imports", files=_csv(rows),
                                            headers=service.as_("chair")), 201)
    assert stored["count"] == 2
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SpecimenResult)) == 2
    # A stored result is voided with a reason (chair only), then a corrected file imports.
    stored_rows = service.ok(service.get("monitor", f"/specimens/{code}/results"))
    assert len(stored_rows) == 2
    assert service.get("coord_b", f"/specimens/{code}/results").status_code == 404
    cd3 = next(r for r in stored_rows if r["analyte"] == "cd3")
    vpath = f"/specimen-results/{cd3['id']}/void"
    for who in ("coord_a", "stat", "monitor", "admin"):
        assert service.post(who, vpath, {"reason": "wrong unit"}).status_code == 403
    assert service.post("chair", vpath, {}).status_code == 422
    assert service.ok(service.post("chair", vpath, {"reason": "re-assayed"}))["voided"]
    again = service.client.post(BASE + "/result-imports", headers=service.as_("chair"),
                                files=_csv([f"{code},cd3,14,cells/uL"]))
    assert again.status_code == 201, again.text
    # PK with no concentrations yet says so.
    pk = service.get("chair", "/pk/lenalidomide")
    assert pk.status_code == 422 and "no concentrations" in pk.json()["errors"][0]["message"]
