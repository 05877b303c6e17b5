"""The documents from the pages: the study report, the meeting pack and each export, for the
roles the API allows them to (the same rule), each download audited, the statistician's
copies de-identified; the way to them in the navigation for those roles only."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.web.page_client import Pages
from tests.web.service_fixtures import Service

# The six roles, and what the protocol of access gives each (store/access.py and the meeting
# pack's readers): the report and the exports go to whoever may take the trial's data out
# (the statistician de-identified); the meeting pack to the committee's side.
ROLES = {
    "admin": {"report": True, "exports": True, "pack": True},
    "chair": {"report": True, "exports": True, "pack": True},
    "monitor": {"report": True, "exports": True, "pack": True},
    "stat": {"report": True, "exports": True, "pack": False},
    "coord_a": {"report": False, "exports": False, "pack": False},
    "inv_a": {"report": False, "exports": False, "pack": False},
}


@pytest.fixture
def treated(service: Service) -> Service:
    patient, slot = service.ready_patient("chla", "CHLA-001")
    service.register("coord_a", patient, slot)
    return service


@pytest.mark.parametrize("who", sorted(ROLES))
def test_each_role_gets_what_the_api_gives_it(treated: Service, pages: Pages, who: str) -> None:
    allowed = ROLES[who]
    dashboard = pages.get(who, "/")
    assert ('href="/documents"' in dashboard.text) == any(allowed.values())
    listing = pages.get(who, "/documents")
    assert listing.status_code == (200 if any(allowed.values()) else 403)

    before = treated.audit_count()
    report = pages.get(who, "/documents/report.html")
    api_report = treated.get(who, "/reports/study", params={"format": "html"})
    assert (report.status_code == 200) == allowed["report"] == (api_report.status_code == 200)
    if allowed["report"]:
        assert report.headers["content-type"].startswith("text/html")
        assert "attachment" in report.headers["content-disposition"]
        assert "(primary-1)" in report.text
        assert ("de-identified" in report.text) == (who == "stat")

    export = pages.get(who, "/documents/exports/sdtm.zip")
    api_export = treated.get(who, "/exports/sdtm")
    assert (export.status_code == 200) == allowed["exports"] == (api_export.status_code == 200)
    if allowed["exports"]:
        archive = zipfile.ZipFile(io.BytesIO(export.content))
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["deidentified"] is (who == "stat")

    pack = pages.get(who, "/documents/meeting.html")
    api_pack = treated.get(who, "/reports/meeting", params={"format": "html"})
    assert (pack.status_code == 200) == allowed["pack"] == (api_pack.status_code == 200)
    if allowed["pack"]:
        assert "CHLA-001" in pack.text

    # Every document handed over, by either door, is in the audit trail: one record each.
    handed = 2 * sum(allowed.values())
    assert treated.audit_count() - before == handed


def test_every_export_and_the_pdf_from_the_pages(treated: Service, pages: Pages) -> None:
    for kind, member in (
        ("sdtm", "dm.xpt"),
        ("adam", "adsl.xpt"),
        ("odm", "nant-2011-04.odm.xml"),
        ("fhir", "nant-2011-04.fhir.json"),
    ):
        response = pages.get("monitor", f"/documents/exports/{kind}.zip")
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert member in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    pdf = pages.get("chair", "/documents/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_bad_cut_off_is_named_and_the_form_shown_again(treated: Service, pages: Pages) -> None:
    pages.as_("chair")  # signed in (the sign-in is audited) before counting
    before = treated.audit_count()
    page = pages.get("chair", "/documents/report.pdf?as_of=31/12/2026")
    assert page.status_code == 422
    assert "<strong>as_of</strong>: expected a date like 2026-03-01" in page.text
    assert 'value="31/12/2026"' in page.text
    assert treated.audit_count() == before  # nothing was read


def test_the_pack_of_each_pending_decision_from_the_chair_s_queue(
    service: Service, journey: dict[str, dict[str, int]], pages: Pages
) -> None:
    decision = service.ok(service.post("chair", "/escalation-decisions/proposals"))["decision"]
    link = f"/documents/meeting.html?decision={decision['id']}"
    for where in ("/chair", "/documents"):
        assert link.replace("&", "&amp;") in pages.get("chair", where).text, where
    pack = pages.get("chair", link)
    assert pack.status_code == 200
    assert f"decision-{decision['id']}" in pack.headers["content-disposition"]
    # The monitor reads the queue and the pack but signs nothing; the statistician has neither.
    assert link in pages.get("monitor", "/chair").text
    assert pages.get("stat", link).status_code == 404
