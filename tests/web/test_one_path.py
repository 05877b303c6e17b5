"""One validation path: every bad input of the corpus (bad_inputs.py) is refused by the
page and by the API alike, naming the same fields, with nothing stored and no 5xx; the
refused page shows the form again as typed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.bad_inputs import FORMS, TWENTY_MB, WriteForm, with_value
from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import BASE, Service


def _api_fields(response: Any) -> set[str]:
    return {e["path"].removeprefix("body.") for e in response.json()["errors"]}


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_every_bad_input_is_refused_alike_by_page_and_api(
    service: Service, journey: dict[str, dict[str, int]], pages: Pages, form: WriteForm
) -> None:
    valid = form.valid(journey)
    pages.as_("coord_a")  # signing in is audited: before counting
    mismatches = []
    for field, value in form.bad:
        body = with_value(valid, field, value)
        before = service.audit_count()
        api = service.client.request(
            form.api_method.upper(),
            BASE + form.api_path(journey),
            content=json.dumps(body),  # NaN and Infinity as Python writes them
            headers={**service.as_("coord_a"), "content-type": "application/json"},
        )
        page = pages.post("coord_a", form.page_path(journey), form.page_fields(body))
        shown = "20 MB" if value is TWENTY_MB else repr(value)
        assert api.status_code < 500 and page.status_code < 500, (field, shown)
        assert service.audit_count() == before, f"{form.name}: {field}={shown} was stored"
        if page.status_code == 413:  # a form too large to read names no field
            assert api.status_code in (413, 422), (field, shown)
            continue
        assert api.status_code == page.status_code == 422, (
            field,
            shown,
            api.status_code,
            page.status_code,
        )
        assert 'role="alert"' in page.text, (field, shown, page.text[:3000])
        from_api, from_page = _api_fields(api), refused_fields(page.text)
        if from_api != from_page or not from_api:
            mismatches.append((field, shown, sorted(from_api), sorted(from_page)))
    assert not mismatches, mismatches


def test_a_refused_page_form_comes_back_as_typed(
    journey: dict[str, dict[str, int]], pages: Pages
) -> None:
    patient = journey["a"]["patients"]
    fields = {"analyte": "anc", "value": "1e308", "unit": "/uL", "collected_on": "0001-01-01"}
    page = pages.post("coord_a", f"/patients/{patient}/labs", fields)
    assert page.status_code == 422
    assert refused_fields(page.text) == {"value", "collected_on"}
    assert 'name="value" inputmode="decimal" value="1e308"' in page.text
    assert 'value="0001-01-01"' in page.text


def test_the_known_crashes_stay_fixed(
    service: Service, journey: dict[str, dict[str, int]], pages: Pages
) -> None:
    """A NaN dose made the chart answer 500 for good; a year-1 lab date made the
    statistician's lab list answer 500 (date shifting overflowed). Both are refused at the
    door now, and the chart and the list answer."""
    patient = journey["a"]["patients"]
    dose = {"day": "5", "agent_id": "lenalidomide", "given_mg": "nan"}
    assert pages.post("coord_a", f"/patients/{patient}/doses", dose).status_code == 422
    lab = {"analyte": "anc", "value": "900", "unit": "/uL", "collected_on": "0001-01-01"}
    assert pages.post("coord_a", f"/patients/{patient}/labs", lab).status_code == 422
    for who in ("coord_a", "inv_a", "chair", "monitor"):
        assert pages.get(who, f"/patients/{patient}").status_code == 200, who
    assert service.get("stat", "/lab-results").status_code == 200
    assert pages.get("stat", f"/patients/{patient}").status_code == 404
