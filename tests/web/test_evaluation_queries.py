"""Queries on disease evaluations and their measurements: raised by the monitor or the chair
on the evaluation or on one lesion's diameter, counted under the evaluation's form, shown
and answered at the patient's own site only."""

from __future__ import annotations

from sqlalchemy import select

from phaseone.store.models import LesionMeasurement
from tests.web.page_client import Pages
from tests.web.service_fixtures import Service
from tests.web.test_evaluations_api import _baseline, _registered


def test_queries_are_raised_on_evaluations_and_their_measurements(
    service: Service, pages: Pages
) -> None:
    patient_id = _registered(service)
    made = service.ok(
        service.post("coord_a", f"/patients/{patient_id}/evaluations", _baseline(service)), 201
    )
    evaluation_id = made["evaluations"][0]["id"]
    with service.db.transaction() as session:
        lesion_id = session.scalar(
            select(LesionMeasurement.id).where(LesionMeasurement.evaluation_id == evaluation_id)
        )
    on_evaluation = {
        "entity": "disease_evaluations", "entity_id": evaluation_id,
        "field": "evaluated_on", "text": "Which scan date is this?",
    }
    on_lesion = {
        "entity": "lesion_measurements", "entity_id": lesion_id,
        "field": "diameter_mm", "text": "The report says 42 mm.",
    }
    # Another site's staff do not find the record; this site's staff may not raise.
    assert service.post("coord_b", "/queries", on_evaluation).status_code == 404
    assert service.post("coord_a", "/queries", on_evaluation).status_code == 403
    first = service.ok(service.post("monitor", "/queries", on_evaluation), 201)
    second = service.ok(service.post("chair", "/queries", on_lesion), 201)
    form = f"evaluation:{patient_id}:{evaluation_id}"
    assert first["form_key"] == second["form_key"] == form
    assert first["site_id"] == second["site_id"] == "chla"
    # A field the record does not have is named as such.
    wrong = service.post("monitor", "/queries", on_lesion | {"field": "grade"})
    assert wrong.status_code == 422 and "not a field of the lesion measurement" in wrong.text
    # Scoped per site: the patient's site sees both, the other site none.
    assert {q["id"] for q in service.ok(service.get("coord_a", "/queries"))["items"]} == {
        first["id"], second["id"]
    }
    assert service.ok(service.get("coord_b", "/queries"))["total"] == 0
    assert service.get("coord_b", f"/queries/{first['id']}").status_code == 404
    # The site answers; a correction of a measurement goes through the evaluation's own form.
    answered = service.post("coord_a", f"/queries/{first['id']}/answer", {"text": "Day 1 scan"})
    assert answered.status_code == 200, answered.text
    fixed = service.post(
        "coord_a", f"/queries/{second['id']}/answer",
        {"text": "Re-read", "corrected": True, "value": 42},
    )
    assert fixed.status_code == 422 and "corrected on its own page" in fixed.text
    # The page to raise one shows the record's fields to the chair and hides it elsewhere.
    new = f"/queries/new?entity=lesion_measurements&entity_id={lesion_id}"
    shown = pages.get("chair", new)
    assert shown.status_code == 200 and "diameter_mm" in shown.text
    assert pages.get("coord_b", new).status_code == 404
