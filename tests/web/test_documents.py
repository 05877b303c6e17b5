"""Exports and reports over the API: who may have them, what they hold, and the audit."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.web.service_fixtures import Service


@pytest.fixture
def treated(service: Service) -> Service:
    patient, slot = service.ready_patient("chla", "N1104-001")
    service.register("coord_a", patient, slot)
    return service


def test_exports_for_the_roles_allowed_and_no_one_else(treated: Service) -> None:
    for who in ("coord_a", "inv_b"):
        assert treated.get(who, "/exports/sdtm").status_code == 403
    response = treated.get("chair", "/exports/sdtm")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"dm.xpt", "ae.xpt", "define.xml", "manifest.json"} <= set(archive.namelist())
    assert json.loads(archive.read("manifest.json"))["deidentified"] is False
    # The statistician's copy is de-identified whatever is asked.
    stats = zipfile.ZipFile(io.BytesIO(treated.get("stat", "/exports/sdtm").content))
    assert json.loads(stats.read("manifest.json"))["deidentified"] is True
    odm = zipfile.ZipFile(io.BytesIO(treated.get("monitor", "/exports/odm").content))
    assert odm.namelist() == ["nant-2011-04.odm.xml"]
    assert treated.get("chair", "/exports/xlsx").status_code == 422


def test_each_download_is_audited(treated: Service) -> None:
    before = treated.audit_count()
    assert treated.get("chair", "/exports/fhir").status_code == 200
    assert treated.audit_count() == before + 1


def test_reports(treated: Service) -> None:
    page = treated.get("chair", "/reports/study", params={"format": "html"})
    assert page.status_code == 200 and "(primary-1)" in page.text
    pdf = treated.get("chair", "/reports/study")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    pack = treated.get("chair", "/reports/meeting", params={"format": "html"})
    assert pack.status_code == 200 and "N1104-001" in pack.text
    assert treated.get("coord_a", "/reports/meeting").status_code == 403
    assert treated.get("coord_a", "/reports/study").status_code == 403
