"""Screening with the structured form: generated from the record's schema and the protocol,
parsed into the API's input model and screened by the same service; drafts; re-screening
that shows what changed; a refused form comes back filled in, naming each input."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from sqlalchemy import select

from phaseone.demo.records import screening_record
from phaseone.eligibility import parse_record, record_data
from phaseone.protocol import resolve_protocol
from phaseone.store.models import AuditRecord, ScreeningEvaluation, ScreeningRecord
from phaseone.web.pages import record_form
from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import PATIENT_BORN, Service

PROTOCOL = resolve_protocol("nant-2011-04")


def _form() -> record_form.FormLayout:
    return record_form.layout(PROTOCOL)


def _eligible_values(code: str, day: dt.date) -> dict[str, str]:
    """The form filled in with the invented eligible record (as a person would type it)."""
    record = screening_record(code, "chla", day, sex="female", birth_date=PATIENT_BORN)
    return record_form.form_from_record(_form(), record_data(parse_record(record)))


def test_the_form_has_an_input_for_the_record_fields_and_the_protocols_labs() -> None:
    form = _form()
    kinds = {name: i.kind for name, i in form.inputs.items()}
    assert kinds["prior_therapies[].start"] == "date"
    assert kinds["prior_therapies[].category"] == "choice"
    assert kinds["disease_history.relapses[].date"] == "date"
    assert kinds["labs[].value"] == "number"
    assert kinds["labs[].unit"] == "unit"
    assert kinds["performance[].value"] == "integer"
    assert kinds["can_swallow_capsules"] == "flag"
    # Identity is the registered patient's: not on the form.
    assert not {"birth_date", "sex", "site", "id"} & set(kinds)
    # The companion study the protocol names (NANT 2004-05), with the schema's choices.
    study = form.inputs["companion_studies.nant-2004-05.status"]
    assert study.options == ("enrolled", "will_enroll", "declined")
    # One lab row per analyte the NANT 2011-04 criteria read (read off the protocol's
    # eligibility section by hand: ANC, monocytes (APC = ANC + monocytes), platelets,
    # hemoglobin, creatinine for age, GFR, bilirubin, ALT, AST, triglycerides).
    proposed = [p["labs[].analyte"] for p in form.lists["labs"].proposed]
    assert sorted(proposed) == sorted(
        [
            "anc",
            "monocytes",
            "platelets",
            "hemoglobin",
            "creatinine",
            "gfr",
            "bilirubin",
            "alt",
            "ast",
            "triglycerides",
        ]
    )
    # Prior therapies may be unknown (left out) or known to be none ([]).
    assert form.lists["prior_therapies"].may_be_unknown
    assert not form.lists["labs"].may_be_unknown


def test_a_record_survives_the_form_both_ways() -> None:
    record = screening_record(
        "N1", "chla", dt.date(2024, 6, 3), sex="female", birth_date=PATIENT_BORN
    )
    values = record_form.form_from_record(_form(), record_data(parse_record(record)))
    back = record_form.record_from_form(_form(), values).record
    identity = {k: record[k] for k in ("id", "site", "birth_date", "sex")}
    assert parse_record({**back, **identity}) == parse_record(record)


def test_blank_rows_and_none_boxes() -> None:
    form = _form()
    values = {
        **record_form.proposed_values(form),  # untouched proposed lab rows: left out
        "prior_therapies:none": "yes",
        "transfusions[0].date": "",
        "measurements[2].date": "2024-06-01",
        "measurements[2].weight_kg": "22.5",
    }
    posted = record_form.record_from_form(form, values)
    assert posted.record == {
        "prior_therapies": [],
        "measurements": [{"date": "2024-06-01", "weight_kg": 22.5}],
    }
    # The record's item 0 is the form's row 2: an error is named as the form names it.
    assert posted.form_path("measurements[0].date") == "measurements[2].date"


def _patient(service: Service, code: str) -> int:
    return int(service.new_patient("coord_a", "chla", code)["id"])


def _screenings(service: Service, patient_id: int) -> list[ScreeningEvaluation]:
    with service.db.transaction() as session:
        return list(
            session.scalars(
                select(ScreeningEvaluation).where(ScreeningEvaluation.patient_id == patient_id)
            )
        )


def _post(pages: Pages, patient_id: int, values: dict[str, str], **extra: str) -> Any:
    day = dt.date(2024, 6, 3).isoformat()
    return pages.post(
        "coord_a", f"/patients/{patient_id}/screen", {"as_of": day, **values, **extra}
    )


def test_a_coordinator_screens_with_the_form(service: Service, pages: Pages) -> None:
    patient_id = _patient(service, "CHLA-F01")
    done = _post(
        pages, patient_id, _eligible_values("CHLA-F01", dt.date(2024, 6, 3)), action="screen"
    )
    assert done.status_code == 303, done.text
    (evaluation,) = _screenings(service, patient_id)
    # The invented record is eligible on 2024-06-03 (the service fixtures' screening day).
    assert evaluation.overall == "eligible"
    page = pages.get("coord_a", f"/patients/{patient_id}").text
    assert "Filled in with the record of the last screening" in page


def test_a_refused_form_comes_back_filled_in_naming_each_input(
    service: Service, pages: Pages
) -> None:
    patient_id = _patient(service, "CHLA-F02")
    pages.as_("coord_a")  # signed in (the login is audited) before counting
    before = service.audit_count()
    values = {
        "labs[3].analyte": "anc",
        "labs[3].unit": "/uL",
        "labs[3].value": "lots",
        "prior_therapies[1].category": "radiation",
        "prior_therapies[1].start": "2024-05-01",
        "prior_therapies[1].end": "2024-04-01",
    }
    refused = _post(pages, patient_id, values, action="screen")
    assert refused.status_code == 422
    # Not a number, no collection date, a last dose before the first.
    assert refused_fields(refused.text) == {
        "labs[3].value",
        "labs[3].date",
        "prior_therapies[1].end",
    }
    assert 'value="lots"' in refused.text and 'value="2024-04-01"' in refused.text
    assert re.search(r'name="labs\[3\]\.value"[^>]*aria-invalid="true"', refused.text)
    assert _screenings(service, patient_id) == [] and service.audit_count() == before


def test_identity_is_not_on_the_form_and_a_pasted_clash_is_refused(
    service: Service, pages: Pages
) -> None:
    patient_id = _patient(service, "CHLA-F03")
    refused = _post(pages, patient_id, {"birth_date": "2004-01-01"}, action="screen")
    assert refused.status_code == 422 and refused_fields(refused.text) == {"birth_date"}
    pasted = '{"birth_date": "2004-01-01", "sex": "male"}'
    refused = _post(pages, patient_id, {"record": pasted}, action="screen")
    assert refused_fields(refused.text) == {"record.birth_date", "record.sex"}
    assert pasted in html.unescape(refused.text)  # the textarea as typed


def test_a_draft_is_saved_audited_and_reopened(service: Service, pages: Pages) -> None:
    patient_id = _patient(service, "CHLA-F04")
    values = {
        "labs[0].analyte": "anc",
        "labs[0].unit": "/uL",
        "labs[0].value": "1500",
        "labs[0].date": "2024-06-01",
    }
    saved = _post(pages, patient_id, values, action="draft", dose_level="2")
    assert saved.status_code == 303, saved.text
    assert _screenings(service, patient_id) == []  # not screened
    with service.db.transaction() as session:
        (draft,) = session.scalars(select(ScreeningRecord)).all()
        assert draft.evaluation_id is None and draft.dose_level == 2
        audited = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "screening_records",
                AuditRecord.entity_id == str(draft.id),
            )
        ).all()
    assert [a.action for a in audited] == ["create"]
    page = pages.get("coord_a", f"/patients/{patient_id}").text
    assert "reopened below" in page
    assert re.search(r'name="labs\[0\]\.value"[^>]*value="1500"', page)
    # Screening it: the draft is no longer open.
    done = _post(pages, patient_id, values, action="screen")
    assert done.status_code == 303
    assert "reopened below" not in pages.get("coord_a", f"/patients/{patient_id}").text


def test_rescreening_shows_what_changed_and_which_verdicts_moved(
    service: Service, pages: Pages
) -> None:
    patient_id = _patient(service, "CHLA-F05")
    values = _eligible_values("CHLA-F05", dt.date(2024, 6, 3))
    assert _post(pages, patient_id, values, action="screen").status_code == 303
    anc = next(k for k, v in values.items() if v == "anc").replace("analyte", "value")
    # ANC 0.3 x 10^9/L = 300/uL, below the protocol's 750/uL.
    assert _post(pages, patient_id, {**values, anc: "0.3"}, action="screen").status_code == 303
    first, second = _screenings(service, patient_id)
    assert (first.overall, second.overall) == ("eligible", "ineligible")
    page = pages.get("coord_a", f"/patients/{patient_id}").text
    assert "overall eligible → ineligible" in page
    changed = page[page.index('class="record-changes"') :]
    assert f"<code>{anc}</code>: 1.8 → 0.3" in changed.split("</ul>")[0]
    assert "<strong>met → not met</strong>" in page


def test_the_api_saves_and_reads_a_draft_as_the_page_does(service: Service) -> None:
    patient_id = _patient(service, "CHLA-F06")
    assert service.ok(service.get("coord_a", f"/patients/{patient_id}/screening-record")) is None
    body = {
        "record": {"labs": [{"analyte": "anc", "value": -1, "unit": "/uL", "date": "2024-06-01"}]},
        "as_of": "2024-06-03",
    }
    refused = service.post("coord_a", f"/patients/{patient_id}/screening-drafts", body)
    assert refused.status_code == 422
    assert [e["path"] for e in refused.json()["errors"]] == ["body.record.labs[0].value"]
    body["record"]["labs"][0]["value"] = 1500
    saved = service.ok(
        service.post("coord_a", f"/patients/{patient_id}/screening-drafts", body), 201
    )
    assert saved["evaluation_id"] is None and saved["record"]["labs"][0]["value"] == 1500
    # Identity is the registered patient's (filled in), and the draft reads back.
    assert saved["record"]["birth_date"] == PATIENT_BORN.isoformat()
    assert service.ok(service.get("coord_a", f"/patients/{patient_id}/screening-record")) == saved
    # Another site's coordinator: not found.
    assert service.get("coord_b", f"/patients/{patient_id}/screening-record").status_code == 404
    # The statistician sees the record's dates shifted by the patient's offset.
    seen = service.ok(service.get("stat", f"/patients/{patient_id}/screening-record"))
    assert seen["deidentified"] and seen["record"]["birth_date"] != PATIENT_BORN.isoformat()
    assert seen["as_of"] != "2024-06-03" and seen["created_at"] is None
