"""Electronic signatures: re-authentication, meaning, printed name, content hash, visible break."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from tests.web.service_fixtures import PASSWORD, Service, body_for


def _unsigned(service: Service, journey: Any) -> int:
    """A screening evaluation entered as a record (the journey's own is signed already)."""
    body = body_for("screening-evaluations", "chla", "", {"patients": journey["a"]["patients"]})
    return int(service.ok(service.post("coord_a", "/screening-evaluations", body), 201)["id"])


def _sign(service: Service, who: str, ev: int, password: str = PASSWORD, user: str = "") -> object:
    body = {"meaning_id": "eligibility-confirmed", "username": user or who, "password": password}
    return service.post(who, f"/screening-evaluations/{ev}/signatures", body)


def test_signature_records_meaning_name_time_and_content_hash(service: Service, journey) -> None:
    ev = _unsigned(service, journey)
    record = service.ok(service.get("inv_a", f"/screening-evaluations/{ev}"))
    sig = service.ok(_sign(service, "inv_a", ev), 201)
    assert sig["meaning"] == "Eligibility confirmed by site investigator"
    assert sig["printed_name"] == "Inv_A Person"
    assert sig["status"] == "valid"
    signed_at = dt.datetime.fromisoformat(sig["signed_at"])
    assert signed_at.utcoffset() == dt.timedelta(0)
    # The hash is SHA-256 over the canonical JSON of {entity, id, content}, recomputed here
    # independently from the record as the API returns it.
    content = {
        k: v
        for k, v in record.items()
        if k
        not in {
            "id",
            "created_at",
            "updated_at",
            "voided",
            "void_reason",
            "deidentified",
            "signatures",
        }
    }
    canonical = json.dumps(
        {"entity": "screening_evaluations", "id": ev, "content": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert sig["content_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    shown = service.ok(service.get("monitor", f"/screening-evaluations/{ev}"))
    assert [s["status"] for s in shown["signatures"]] == ["valid"]


def test_editing_signed_content_breaks_the_signature_visibly_and_is_audited(
    service: Service, journey
) -> None:
    ev = _unsigned(service, journey)
    service.ok(_sign(service, "inv_a", ev), 201)
    changed = service.patch(
        "coord_a", f"/screening-evaluations/{ev}", {"dose_level": 2, "reason": "slot moved"}
    )
    assert service.ok(changed)["signatures"][0]["status"] == "broken"
    trail = service.ok(service.get("chair", "/audit?action=signature_broken"))["items"]
    assert len(trail) == 1
    assert trail[0]["username"] == "coord_a"
    assert "dose_level" in trail[0]["reason"]
    # Signing again covers the new content; the old signature stays, broken.
    service.ok(_sign(service, "inv_a", ev), 201)
    again = service.ok(service.get("inv_a", f"/screening-evaluations/{ev}"))
    statuses = [s["status"] for s in again["signatures"]]
    assert statuses == ["broken", "valid"]


def test_signing_needs_the_signers_own_password(service: Service, journey) -> None:
    ev = _unsigned(service, journey)
    assert _sign(service, "inv_a", ev, password="not my password").status_code == 401
    assert _sign(service, "inv_a", ev, user="coord_a").status_code == 401
    record = service.ok(service.get("inv_a", f"/screening-evaluations/{ev}"))
    assert record["signatures"] == []
    failed = service.ok(service.get("admin", "/audit?action=signature_auth_failed"))
    assert len(failed["items"]) == 1 and failed["items"][0]["username"] == "inv_a"


def test_meaning_must_fit_the_record_and_role(service: Service, journey) -> None:
    ev = _unsigned(service, journey)
    body = {"meaning_id": "dlt-determination", "username": "inv_a", "password": PASSWORD}
    wrong_kind = service.post("inv_a", f"/screening-evaluations/{ev}/signatures", body)
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["errors"][0]["path"] == "meaning_id"
    assert _sign(service, "coord_a", ev).status_code == 403
    meanings = service.ok(service.get("coord_a", "/signature-meanings"))
    assert {m["id"] for m in meanings} >= {"eligibility-confirmed", "dlt-determination"}
