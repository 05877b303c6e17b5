"""The monitoring pages: a query raised from the chart, answered with a correction and
closed; a form verified and shown as changed; a casebook signed, locked and unlocked. The
pages call the same services as the API (checked through the API afterwards)."""

from __future__ import annotations

import re

from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import PASSWORD, Service

Journey = dict[str, dict[str, int]]


def test_a_query_from_the_chart_to_closed(service: Service, journey: Journey, pages: Pages) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    chart = pages.get("monitor", f"/patients/{patient}")
    assert chart.status_code == 200
    link = f"/queries/new?entity=lab_results&amp;entity_id={lab_id}&amp;field=value"
    assert link in chart.text
    # Site staff get no "raise" link, and the statistician has no query pages at all.
    assert "Raise query" not in pages.get("coord_a", f"/patients/{patient}").text
    assert pages.get("stat", "/queries").status_code == 403
    empty = pages.post(
        "monitor", "/queries", {"entity": "lab_results", "entity_id": str(lab_id), "field": "value"}
    )
    assert empty.status_code == 422 and refused_fields(empty.text) == {"text"}
    raised = pages.post(
        "monitor",
        "/queries",
        {
            "entity": "lab_results",
            "entity_id": str(lab_id),
            "field": "value",
            "text": "Source: 0.5?",
        },
    )
    assert raised.status_code == 303
    qid = int(re.search(r"/queries/(\d+)", raised.headers["location"]).group(1))
    flagged = pages.get("coord_a", f"/patients/{patient}")
    assert f'href="/queries/{qid}"' in flagged.text
    assert pages.get("coord_b", f"/queries/{qid}").status_code == 404
    bad = pages.post(
        "coord_a", f"/queries/{qid}/answer", {"text": "typo", "corrected": "true", "value": "many"}
    )
    assert bad.status_code == 422 and refused_fields(bad.text) == {"value"}
    assert 'value="many"' in bad.text
    answered = pages.post(
        "coord_a",
        f"/queries/{qid}/answer",
        {"text": "transcription error", "corrected": "true", "value": "0.5"},
    )
    assert answered.status_code == 303
    assert service.ok(service.get("coord_a", f"/lab-results/{lab_id}"))["value"] == 0.5
    closed = pages.post("monitor", f"/queries/{qid}/close", {"text": "matches source"})
    assert closed.status_code == 303
    thread = pages.get("monitor", f"/queries/{qid}").text
    assert "Corrected value: 0.4 → 0.5" in thread and 'id="query-status">closed' in thread
    assert f'href="/queries/{qid}"' not in pages.get("coord_a", f"/patients/{patient}").text
    listing = pages.get("chair", "/queries?status=closed").text
    assert f"Query {qid}</a>" in listing


def test_sdv_and_casebook_from_the_monitoring_page(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient, lab_id = journey["a"]["patients"], journey["a"]["lab-results"]
    key = f"labs:{patient}:2024-06-10"
    page = pages.get("monitor", f"/patients/{patient}/monitoring").text
    assert f'value="{key}"' in page
    assert pages.post("coord_a", f"/patients/{patient}/sdv", {"form_key": key}).status_code == 403
    assert pages.post("monitor", f"/patients/{patient}/sdv", {"form_key": key}).status_code == 303
    assert "verified</span>" in pages.get("coord_a", f"/patients/{patient}/monitoring").text
    assert "Sign casebook" in pages.get("inv_a", f"/patients/{patient}/monitoring").text
    signed = pages.post(
        "inv_a", f"/patients/{patient}/casebook/sign", {"username": "inv_a", "password": PASSWORD}
    )
    assert signed.status_code == 303 and "error" not in signed.headers["location"]
    refused = pages.post(
        "coord_a", f"/patients/{patient}/labs/{lab_id}/correct", {"value": "0.6", "reason": "late"}
    )
    assert refused.status_code == 409 and "locked" in refused.text
    sdv_page = pages.get("monitor", "/sdv").text
    assert "chla" in sdv_page
    unlocked = pages.post(
        "chair", f"/patients/{patient}/casebook/unlock", {"reason": "query needs a correction"}
    )
    assert unlocked.status_code == 303
    fixed = pages.post(
        "coord_a", f"/patients/{patient}/labs/{lab_id}/correct", {"value": "0.6", "reason": "late"}
    )
    assert fixed.status_code == 303
    after = pages.get("monitor", f"/patients/{patient}/monitoring").text
    assert "BROKEN: the casebook changed after signing" in after
    assert "changed since verification" in after


def test_an_open_query_on_a_dose_shows_on_the_course_page(
    service: Service, journey: Journey, pages: Pages
) -> None:
    patient, dose_id = journey["a"]["patients"], journey["a"]["dose-administrations"]
    body = {
        "entity": "dose_administrations",
        "entity_id": dose_id,
        "field": "given_dose",
        "text": "Pharmacy log says 10 mg",
    }
    qid = service.ok(service.post("monitor", "/queries", body), 201)["id"]
    course = pages.get("coord_a", f"/patients/{patient}/courses/1")
    assert course.status_code == 200 and f'href="/queries/{qid}"' in course.text
    service.ok(service.post("monitor", f"/queries/{qid}/close", {"text": "withdrawn"}))
    assert (
        f'href="/queries/{qid}"' not in pages.get("coord_a", f"/patients/{patient}/courses/1").text
    )
