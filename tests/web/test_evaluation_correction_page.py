"""Correcting a disease evaluation on its own page: the evaluation's form filled in with what
is stored, posted through the API's input model to the same service as PUT /evaluations/{id},
with a reason; every changed value is audited with it, nothing the form does not show is
lost, and only the patient's own site staff (and the chair) may correct."""

from __future__ import annotations

from html.parser import HTMLParser

from sqlalchemy import select

from phaseone.store.models import AuditRecord
from tests.web.page_client import Pages, refused_fields
from tests.web.service_fixtures import Service
from tests.web.test_evaluations_api import _after_course_2, _baseline, _registered


class _Form(HTMLParser):
    """The fields a browser would post from the page's evaluation form, as filled in."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "evaluation-form":
            self._inside = True
        if not self._inside:
            return
        if tag == "input" and "name" in a:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._inside = False


def _form_on(page_html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page_html)
    return parser.fields


def _measurements(service: Service, patient_id: int) -> list[dict[str, object]]:
    shown = service.ok(service.get("chair", f"/patients/{patient_id}/evaluations"))
    return [(e["measurements"], e["overall"]) for e in shown["evaluations"]]


def test_an_evaluation_is_corrected_on_its_page_with_a_reason(
    service: Service, pages: Pages
) -> None:
    patient_id = _registered(service)
    path = f"/patients/{patient_id}/evaluations"
    # A node with values the form does not show (not a target, avid, biopsy-proven).
    node = {"id": "N1", "site": "lymph_node", "diameter_mm": 8, "target": False,
            "avid": True, "biopsy_proven": True}
    baseline = _baseline(service)
    baseline["evaluation"]["lesions"].append(node)
    service.ok(service.post("coord_a", path, baseline), 201)
    later = _after_course_2(service, 24)
    later["evaluation"]["lesions"].append(node)
    service.clock.advance(days=60)
    made = service.ok(service.post("inv_a", path, later), 201)
    row_id = made["evaluations"][1]["id"]
    before = _measurements(service, patient_id)
    assert before[1][1] == "PR"  # primary 40 -> 24 mm: a 40% fall
    page = f"{path}/{row_id}/correct"
    # Who may open the form: the patient's own site and the chair; not the others.
    assert pages.get("coord_b", page).status_code == 404
    for who in ("stat", "monitor", "admin"):
        assert pages.get(who, page).status_code == 403, who
    shown = pages.get("coord_a", page)
    assert shown.status_code == 200
    typed = _form_on(shown.text)
    assert typed["evaluation.lesions.0.diameter_mm"] == "24.0"
    assert typed["evaluation.date"] == later["evaluation"]["date"]
    assert typed["course"] == "2"
    typed.pop("csrf_token")
    # Without a reason: refused naming it, nothing changed.
    refused = pages.post("coord_a", page, typed | {"reason": ""})
    assert refused.status_code == 422 and "reason" in refused_fields(refused.text)
    assert _measurements(service, patient_id) == before
    # The form as stored, posted back with a reason, changes nothing at all.
    kept = pages.post("coord_a", page, typed | {"reason": "checked against source"})
    assert kept.status_code == 303, kept.text
    assert _measurements(service, patient_id) == before
    # The primary re-read as 6 mm: that one value changes, audited with the reason.
    fixed = typed | {"evaluation.lesions.0.diameter_mm": "6", "reason": "radiology re-read"}
    done = pages.post("coord_a", page, fixed)
    assert done.status_code == 303, done.text
    after = _measurements(service, patient_id)
    assert [m["diameter_mm"] for m in after[1][0]["lesions"]] == [6.0, 8.0]
    assert after[1][0]["lesions"][1] == before[1][0]["lesions"][1]
    with service.db.transaction() as session:
        audited = session.scalars(
            select(AuditRecord).where(AuditRecord.reason == "radiology re-read")
        ).all()
    assert [(a.entity, a.field, a.old_value, a.new_value) for a in audited] == [
        ("lesion_measurements", "diameter_mm", "24.0", "6.0")
    ]
    # The evaluations page links each evaluation to its correction.
    assert f'href="{page}"' in pages.get("coord_a", path).text
