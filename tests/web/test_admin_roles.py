"""Who may do each new monitoring and administration action, for all six roles, through
the API and the pages; and what each role's lists and counts hold (scoping)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.web.service_fixtures import PASSWORD, Service

ROLES = ("admin", "chair", "inv_a", "coord_a", "stat", "monitor")
Action = Callable[[Service, str, dict[str, dict[str, int]]], Any]


def _invite(s: Service, who: str, j: Any) -> Any:
    body = {"username": f"inv.{who}", "full_name": "Invited Person", "role": "monitor",
            "admin_password": PASSWORD}  # fmt: skip
    return s.post(who, "/users/invitations", body)


def _reset(s: Service, who: str, j: Any) -> Any:
    body = {"admin_password": PASSWORD, "reason": "forgotten"}
    return s.post(who, f"/users/{s.user_ids['coord_b']}/reset-code", body)


def _activity(s: Service, who: str, j: Any) -> Any:
    return s.get(who, f"/users/{s.user_ids['coord_b']}/activity")


def _add_site(s: Service, who: str, j: Any) -> Any:
    body = {"id": f"site-{who.replace('_', '-')}", "name": "A New Site", "country": "Canada"}
    return s.post(who, "/sites", body)


def _unlock(s: Service, who: str, j: Any) -> Any:
    return s.post(who, f"/users/{s.user_ids['coord_b']}/unlock", {"reason": "confirmed"})


def _browse(s: Service, who: str, j: Any) -> Any:
    return s.get(who, "/audit?limit=5")


def _export_csv(s: Service, who: str, j: Any) -> Any:
    return s.get(who, "/audit/export?format=csv")


def _report(name: str) -> Action:
    return lambda s, who, j: s.get(who, f"/operations/{name}")


ACTIONS: dict[str, Action] = {
    "invite user": _invite,
    "issue reset code": _reset,
    "read activity": _activity,
    "add site": _add_site,
    "unlock user": _unlock,
    "browse audit": _browse,
    "export audit csv": _export_csv,
    "enrolment report": _report("enrolment"),
    "overdue report": _report("overdue"),
    "missing report": _report("missing"),
    "queries report": _report("queries"),
}
ADMIN_ONLY = {"invite user", "issue reset code", "read activity", "add site", "unlock user"}
REPORTS = {"enrolment report", "overdue report", "missing report", "queries report"}
AUDIT = {"browse audit", "export audit csv"}
ALLOWED = {
    "admin": ADMIN_ONLY | AUDIT | REPORTS,
    "chair": AUDIT | REPORTS,
    "inv_a": AUDIT | REPORTS,
    "coord_a": AUDIT | REPORTS,
    "stat": AUDIT,
    "monitor": AUDIT | REPORTS,
}


@pytest.mark.parametrize("who", ROLES)
def test_new_actions_by_role(service: Service, journey, who: str) -> None:
    for name, action in ACTIONS.items():
        response = action(service, who, journey)
        if name in ALLOWED[who]:
            assert response.status_code in (200, 201), (who, name, response.text)
        else:
            assert response.status_code == 403, (who, name, response.text)


MENU = {"/admin/users", "/audit", "/operations"}
PAGES = {
    "/admin/users": {"admin"},
    "/admin/sites": {"admin"},
    "/audit": set(ROLES),
    "/operations": set(ROLES) - {"stat"},
}


def test_pages_by_role(service: Service, journey, pages) -> None:
    for who in ROLES:
        for path, allowed in PAGES.items():
            status = pages.get(who, path).status_code
            # A page of the main menu is refused as such (403); others answer as not found.
            refused = 403 if path in MENU else 404
            assert status == (200 if who in allowed else refused), (who, path, status)
        # A form posted by a role that may not use it changes nothing.
        refused = pages.post(who, "/admin/sites", {"id": f"p-{who.replace('_', '-')}",
                                                   "name": "X", "country": "Y"})  # fmt: skip
        assert refused.status_code == 303 if who == "admin" else refused.status_code in (403, 404)
    made = {s["id"] for s in service.ok(service.get("chair", "/sites"))}
    assert {m for m in made if m.startswith("p-")} == {"p-admin"}


def test_lists_and_counts_hold_only_the_readers_sites(service: Service, journey) -> None:
    for who, sites in (("coord_a", {"chla"}), ("inv_b", {"stanford"})):
        entries = service.ok(service.get(who, "/audit?limit=500"))["items"]
        assert {e["record_site_id"] for e in entries} == sites, who
        for name in ("enrolment", "overdue", "missing"):
            rows = service.ok(service.get(who, f"/operations/{name}"))["rows"]
            assert {r["site_id"] for r in rows} <= sites, (who, name)
    everyone = service.ok(service.get("monitor", "/operations/overdue"))["rows"]
    assert {r["site_id"] for r in everyone} == {"chla", "stanford"}
