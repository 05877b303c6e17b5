"""The statistician sees no real date anywhere in the record API: for every record kind it
can list, each date or time the study chair sees (the record's own created_at and
updated_at, its clinical dates, the times of its signatures) reaches the statistician moved
by the patient's date shift, or withheld on a trial-level record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phaseone.web.api.records import EXPOSED
from tests.web.service_fixtures import Service

TRIAL_LEVEL = {"escalation-decisions"}


def _as_date(value: Any) -> dt.date | None:
    """The calendar day of an ISO date or date-time string (None for anything else)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _dated(item: dict[str, Any]) -> dict[str, str]:
    """Every top-level date or time of a record, and each of its signatures' times."""
    found = {k: v for k, v in item.items() if _as_date(v) is not None}
    for n, sig in enumerate(item.get("signatures", [])):
        found[f"signatures[{n}].signed_at"] = sig["signed_at"]
    return found


def _listed(service: Service, who: str, path: str) -> dict[int, dict[str, Any]]:
    page = service.ok(service.get(who, f"/{path}?include_voided=true&limit=200"))
    return {item["id"]: item for item in page["items"]}


def test_statistician_sees_no_real_time_in_any_record_kind(service: Service, journey) -> None:
    service.ok(service.post("chair", "/escalation-decisions/proposals"))
    full_patients = _listed(service, "chair", "patients")
    blind_patients = _listed(service, "stat", "patients")
    # Each patient's shift, from the one date the statistician's shift is known to move.
    shift = {
        pid: (_as_date(blind_patients[pid]["birth_date"]) - _as_date(p["birth_date"])).days
        for pid, p in full_patients.items()
    }
    assert all(days != 0 for days in shift.values())
    checked: dict[str, int] = {}
    for exposed in EXPOSED:
        full = _listed(service, "chair", exposed.path)
        blind = _listed(service, "stat", exposed.path)
        assert full and set(blind) == set(full), exposed.path
        for rid, item in full.items():
            seen = blind[rid]
            pid = rid if exposed.path == "patients" else item.get("patient_id")
            for key, real in _dated(item).items():
                where = f"{exposed.path}/{rid} {key}"
                shown = seen.get(key) if "[" not in key else _signature_time(seen, key)
                if exposed.path in TRIAL_LEVEL:
                    assert shown is None, f"{where}: a real time reaches the statistician"
                    continue
                moved = (_as_date(shown) - _as_date(real)).days  # type: ignore[operator]
                assert moved == shift[pid], f"{where}: {real} shown as {shown}"
                checked[key] = checked.get(key, 0) + 1
    # The bookkeeping times and the signature times were among those checked.
    assert checked["created_at"] and checked["updated_at"]
    assert any(key.startswith("signatures[") for key in checked)


def _signature_time(item: dict[str, Any], key: str) -> Any:
    n = int(key.split("[")[1].split("]")[0])
    return item["signatures"][n]["signed_at"]
