"""Queries, source-data verification and casebook signatures through the API: every new
action for all six roles (and another site's staff), scoping of every new list, states
that survive a restart and appear in the audit export.

The expected statuses are the role table of store/access.py written out by hand:
raise/close/re-open = monitor and study chair; answer = the record's own site staff;
verify = monitor; sign = the site's investigator; unlock = study chair and administrator;
reading = everyone but the statistician, who may count queries by site or form only.
Another site's staff get 404 (the record does not exist for them).
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from phaseone.store.db import Database
from phaseone.web.app import create_app
from tests.web.service_fixtures import BASE, PASSWORD, Service

Journey = dict[str, dict[str, int]]
EVERYONE = ("admin", "chair", "inv_a", "coord_a", "inv_b", "coord_b", "stat", "monitor")


def _raise(service: Service, who: str, lab_id: int) -> object:
    body = {"entity": "lab_results", "entity_id": lab_id, "field": "value", "text": "Source?"}
    return service.post(who, "/queries", body)


def _statuses(service: Service, call: object, expected: dict[str, int]) -> None:
    """Call for the refused roles first, then the allowed one (which changes state)."""
    order = sorted(expected, key=lambda who: expected[who] < 300)
    got = {who: call(who).status_code for who in order}  # type: ignore[operator]
    assert got == expected


def test_every_query_action_for_every_role(service: Service, journey: Journey) -> None:
    lab_id = journey["a"]["lab-results"]
    refused = {"admin": 403, "stat": 403, "inv_a": 403, "coord_a": 403}
    other_site = {"inv_b": 404, "coord_b": 404}
    _statuses(
        service, lambda who: _raise(service, who, lab_id), {**refused, **other_site, "chair": 201}
    )
    qid = service.ok(_raise(service, "monitor", lab_id), 201)["id"]

    def step(name: str) -> object:
        return lambda who: service.post(who, f"/queries/{qid}/{name}", {"text": "done"})

    _statuses(
        service,
        step("answer"),
        {"admin": 403, "chair": 403, "monitor": 403, "stat": 403, **other_site, "coord_a": 200},
    )
    raisers_only = {"admin": 403, "stat": 403, "inv_a": 403, "coord_a": 403, **other_site}
    _statuses(service, step("close"), {**raisers_only, "monitor": 200})
    _statuses(service, step("reopen"), {**raisers_only, "chair": 200})
    readers = {who: 200 for who in EVERYONE} | {"stat": 403}
    _statuses(service, lambda who: service.get(who, "/queries"), readers)
    _statuses(service, lambda who: service.get(who, f"/queries/{qid}"), readers | other_site)
    _statuses(service, lambda who: service.get(who, "/query-counts?by=patient"), readers)
    _statuses(
        service,
        lambda who: service.get(who, "/query-counts?by=site"),
        {who: 200 for who in EVERYONE},
    )


def test_every_sdv_and_casebook_action_for_every_role(service: Service, journey: Journey) -> None:
    patient = journey["a"]["patients"]
    other_site = {"inv_b": 404, "coord_b": 404}
    forms = service.ok(service.get("monitor", f"/patients/{patient}/forms"))
    key = next(f["key"] for f in forms if f["form_type"] == "labs")
    _statuses(
        service,
        lambda who: service.post(who, "/sdv", {"form_key": key}),
        {
            "admin": 403,
            "chair": 403,
            "inv_a": 403,
            "coord_a": 403,
            "stat": 403,
            **other_site,
            "monitor": 201,
        },
    )
    readers = {who: 200 for who in EVERYONE} | {"stat": 403}
    _statuses(service, lambda who: service.get(who, "/sdv-progress"), readers)
    _statuses(
        service, lambda who: service.get(who, f"/patients/{patient}/forms"), readers | other_site
    )
    _statuses(
        service, lambda who: service.get(who, f"/patients/{patient}/casebook"), readers | other_site
    )

    def sign(who: str) -> object:
        body = {"username": who, "password": PASSWORD}
        return service.post(who, f"/patients/{patient}/casebook/sign", body)

    _statuses(
        service,
        sign,
        {
            "admin": 403,
            "chair": 403,
            "monitor": 403,
            "stat": 403,
            "coord_a": 403,
            **other_site,
            "inv_a": 200,
        },
    )

    def unlock(who: str) -> object:
        body = {"reason": "a query needs a correction"}
        return service.post(who, f"/patients/{patient}/casebook/unlock", body)

    _statuses(
        service,
        unlock,
        {"monitor": 403, "stat": 403, "inv_a": 403, "coord_a": 403, **other_site, "admin": 200},
    )


def test_lists_and_counts_are_scoped_to_the_site(service: Service, journey: Journey) -> None:
    for suffix in ("a", "b"):
        service.ok(_raise(service, "monitor", journey[suffix]["lab-results"]), 201)
    mine = service.ok(service.get("coord_a", "/queries"))
    assert mine["total"] == 1 and {q["site_id"] for q in mine["items"]} == {"chla"}
    assert service.ok(service.get("monitor", "/queries"))["total"] == 2
    counts = service.ok(service.get("inv_b", "/query-counts?by=site"))
    assert [(c["key"], c["open"]) for c in counts] == [("stanford", 1)]
    assert len(service.ok(service.get("stat", "/query-counts?by=form"))) == 1
    progress = service.ok(service.get("coord_b", "/sdv-progress?by=patient"))
    assert [p["key"] for p in progress] == ["STANFORD-001"]
    assert {p["key"] for p in service.ok(service.get("monitor", "/sdv-progress"))} == {
        "chla",
        "stanford",
    }


def test_an_answer_corrects_the_value_and_links_the_change(
    service: Service, journey: Journey
) -> None:
    lab_id = journey["a"]["lab-results"]
    qid = service.ok(_raise(service, "monitor", lab_id), 201)["id"]
    bad = service.post(
        "coord_a", f"/queries/{qid}/answer", {"text": "typo", "corrected": True, "value": "lots"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "value"
    done = service.ok(
        service.post(
            "coord_a",
            f"/queries/{qid}/answer",
            {"text": "typo: source says 0.5", "corrected": True, "value": 0.5},
        )
    )
    assert done["status"] == "answered"
    assert done["messages"][-1]["correction"] == {"field": "value", "old": 0.4, "new": 0.5}
    lab = service.ok(service.get("coord_a", f"/lab-results/{lab_id}"))
    assert lab["value"] == 0.5
    trail = service.ok(service.get("chair", f"/audit?entity=lab_results&entity_id={lab_id}"))
    (change,) = [e for e in trail["items"] if e["action"] == "update"]
    assert change["reason"] == "typo: source says 0.5"


def test_states_survive_a_restart_and_are_in_the_audit_export(
    service: Service, journey: Journey
) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    qid = service.ok(_raise(service, "monitor", lab_id), 201)["id"]
    key = f"labs:{patient}:2024-06-10"
    service.ok(service.post("monitor", "/sdv", {"form_key": key}), 201)
    service.ok(
        service.post(
            "inv_a",
            f"/patients/{patient}/casebook/sign",
            {"username": "inv_a", "password": PASSWORD},
        )
    )
    refused = service.patch("coord_a", f"/lab-results/{lab_id}", {"value": 0.6, "reason": "x"})
    assert refused.status_code == 409
    # A restarted service: a new engine and application on the same database.
    url = service.db.engine.url.render_as_string(hide_password=False)
    fresh = Database(url)
    app = create_app(fresh, policy=service.policy, clock=service.clock)
    with TestClient(app, base_url="https://testserver") as again:
        headers = service.as_("monitor")
        query = again.get(f"{BASE}/queries/{qid}", headers=headers).json()
        assert query["status"] == "open"
        forms = again.get(f"{BASE}/patients/{patient}/forms", headers=headers).json()
        assert {f["key"]: f["state"] for f in forms}[key] == "verified"
        book = again.get(f"{BASE}/patients/{patient}/casebook", headers=headers).json()
        assert book["locked"] and book["signatures"][0]["status"] == "valid"
        exported = again.get(f"{BASE}/audit/export", headers=service.as_("chair")).text
    fresh.dispose()
    actions = {json.loads(line)["action"] for line in exported.splitlines()}
    assert {"query_raise", "sdv_verify", "sign"} <= actions
