"""Browsing the audit trail: keyset pages, the role's scope, de-identification, field-level
changes, exports (themselves audited). Expected values come from the database read
directly or from the values the test itself wrote."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from sqlalchemy import select

from phaseone.store.models import AuditRecord, Patient
from phaseone.workflow.auditing import EXPORT_COLUMNS
from tests.web.service_fixtures import BASE, PATIENT_BORN, Service


def _all_seqs(service: Service, up_to: int) -> list[int]:
    with service.db.transaction() as session:
        stmt = select(AuditRecord.seq).where(AuditRecord.seq <= up_to)
        return sorted(session.scalars(stmt), reverse=True)


def test_keyset_pages_walk_the_whole_trail_without_gaps_or_repeats(
    service: Service, journey
) -> None:
    first = service.ok(service.get("chair", "/audit?limit=7"))
    top = first["items"][0]["seq"]
    seen = [e["seq"] for e in first["items"]]
    cursor = first["older"]
    while cursor is not None:
        page = service.ok(service.get("chair", f"/audit?limit=7&before={cursor}"))
        seen += [e["seq"] for e in page["items"]]
        cursor = page["older"]
    # Reading adds entries, but only above the first page: the walk covers all below it.
    assert seen == _all_seqs(service, top)
    # The newer cursor of page two leads back to exactly page one.
    second = service.ok(service.get("chair", f"/audit?limit=7&before={first['older']}"))
    back = service.ok(service.get("chair", f"/audit?limit=7&after={second['newer']}"))
    assert [e["seq"] for e in back["items"]] == [e["seq"] for e in first["items"]]


def test_site_staff_see_only_their_sites_entries(service: Service, journey) -> None:
    items = service.ok(service.get("coord_a", "/audit?limit=500"))["items"]
    assert items and {e["record_site_id"] for e in items} == {"chla"}
    foreign = journey["b"]["patients"]
    assert service.get("coord_a", f"/audit?patient_id={foreign}").status_code == 404
    assert service.ok(service.get("coord_a", "/audit?site_id=stanford"))["items"] == []
    exported = service.get("inv_a", "/audit/export?format=jsonl")
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert rows and {r["record_site_id"] for r in rows} == {"chla"}


def test_a_patient_filter_finds_the_patients_records_only(service: Service, journey) -> None:
    a = journey["a"]
    items = service.ok(service.get("monitor", f"/audit?patient_id={a['patients']}&limit=500"))
    about = {(e["entity"], e["entity_id"]) for e in items["items"]}
    assert ("patients", str(a["patients"])) in about
    assert ("lab_results", str(a["lab-results"])) in about
    assert ("adverse_events", str(a["adverse-events"])) in about
    assert {e["patient_id"] for e in items["items"]} == {a["patients"]}
    assert ("lab_results", str(journey["b"]["lab-results"])) not in about


def test_the_statistician_sees_patients_records_deidentified(service: Service, journey) -> None:
    pid = journey["a"]["patients"]
    with service.db.transaction() as session:
        shift = session.get(Patient, pid).date_shift_days
    items = service.ok(service.get("stat", "/audit?limit=500"))["items"]
    assert items and all(e["deidentified"] for e in items)
    assert {e["entity"] for e in items} <= {
        "patients", "screening_evaluations", "registrations", "courses",
        "dose_administrations", "lab_results", "adverse_events", "dlt_determinations",
        "clinical_events", "follow_ups", "specimens", "specimen_results", "treatment_ends",
        "screening_records", "disease_evaluations", "mibg_scores", "lesion_measurements",
        "marrow_samples",
    }  # fmt: skip
    created = next(
        e for e in items
        if e["entity"] == "patients" and e["entity_id"] == str(pid) and e["action"] == "create"
    )  # fmt: skip
    assert created["new_value"]["initials"] == "(withheld)"
    assert created["new_value"]["medical_record_number"] == "(withheld)"
    shifted = (PATIENT_BORN + dt.timedelta(days=shift)).isoformat()
    assert created["new_value"]["birth_date"] == shifted
    assert "MRN-77" not in json.dumps(items)
    exported = service.get("stat", "/audit/export?format=jsonl").text
    rows = [json.loads(line) for line in exported.splitlines()]
    assert rows and "MRN-77" not in exported and "AB" not in {r["subject_code"] for r in rows}
    row = next(
        r
        for r in rows
        if (r["entity"], r["entity_id"], r["action"]) == ("patients", str(pid), "create")
    )
    assert json.loads(row["new_value"])["birth_date"] == shifted
    refused = service.get("stat", "/audit?since=2024-01-01")
    assert refused.status_code == 422 and "since" in refused.text


def test_a_correction_reads_old_to_new_with_its_reason(service: Service, journey) -> None:
    lab = journey["a"]["lab-results"]
    fixed = service.patch("coord_a", f"/lab-results/{lab}", {"value": 0.6, "reason": "typo"})
    service.ok(fixed)
    found = service.ok(
        service.get("monitor", f"/audit?entity=lab_results&entity_id={lab}&action=update")
    )
    (entry,) = found["items"]
    assert entry["changes"] == [{"field": "value", "old": "0.4", "new": "0.6"}]
    assert entry["reason"] == "typo" and entry["subject_code"] == "CHLA-001"
    created = service.ok(
        service.get("monitor", f"/audit?entity=lab_results&entity_id={lab}&action=create")
    )["items"][0]
    value = next(c for c in created["changes"] if c["field"] == "value")
    assert value == {"field": "value", "old": None, "new": "0.4"}


def test_the_csv_export_holds_the_filtered_view_and_is_audited(service: Service, journey) -> None:
    pid = journey["a"]["patients"]
    response = service.client.get(
        BASE + f"/audit/export?format=csv&patient_id={pid}", headers=service.as_("monitor")
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert rows and {r["patient_id"] for r in rows} == {str(pid)}
    with service.db.transaction() as session:
        last = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.username == "monitor")
            .order_by(AuditRecord.seq.desc())
        ).first()
    assert last is not None and last.action == "audit_export"
    assert json.loads(last.new_value or "{}") == {"patient_id": pid, "format": "csv"}


def test_bad_filters_name_the_field(service: Service) -> None:
    for query, field in (
        ("since=2024-13-01", "since"),
        ("limit=0", "limit"),
        ("entity=DROP%20TABLE", "entity"),
        ("since=2024-05-02&until=2024-05-01", "until"),
        ("before=3&after=2", "after"),
    ):
        response = service.get("chair", f"/audit?{query}")
        assert response.status_code == 422, query
        assert field in json.dumps(response.json()["errors"]), query


def test_the_api_verify_seals_waiting_entries_then_checks_them(
    service: Service, monkeypatch
) -> None:
    from sqlalchemy import func

    from phaseone.store import audit
    from phaseone.store.models import AuditPending

    # A writer that died between its commit and its seal: its entry waits, unchained.
    with monkeypatch.context() as patched:
        patched.setattr(audit, "seal", lambda engine: 0)
        service.new_patient("coord_a", "chla", "CHLA-WAIT1")
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) >= 1
    result = service.ok(service.get("monitor", "/audit/verify"))
    with service.db.transaction() as session:
        waiting = session.scalar(select(func.count()).select_from(AuditPending))
        chained = [
            json.loads(r.new_value or "{}").get("subject_code")
            for r in session.scalars(
                select(AuditRecord).where(
                    AuditRecord.entity == "patients", AuditRecord.action == "create"
                )
            )
        ]
        head = session.scalar(select(func.max(AuditRecord.seq)))
    assert waiting == 0
    assert "CHLA-WAIT1" in chained
    # The check covered the sealed entry: every record up to the verify entry itself.
    assert result["ok"] and result["checked"] == result["head_seq"] == head - 1


def test_the_audit_pages_check_seals_waiting_entries_too(
    service: Service, pages, monkeypatch
) -> None:
    from sqlalchemy import func

    from phaseone.store import audit
    from phaseone.store.models import AuditPending

    with monkeypatch.context() as patched:
        patched.setattr(audit, "seal", lambda engine: 0)
        service.new_patient("coord_a", "chla", "CHLA-WAIT2")
    answer = pages.as_("monitor").get("/audit?verify=1")
    assert answer.status_code == 200, answer.text[:300]
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditPending)) == 0
