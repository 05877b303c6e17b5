"""Account and site administration: invitations and resets by one-time code (never a
password in a page or a response), role and site changes, recent activity, sites."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from phaseone.store.models import AuditRecord, OneTimeCode, User
from tests.web.service_fixtures import BASE, PASSWORD, Service

NEW_PASSWORD = "violet tractor harbour 1987 lantern"


def _invite(service: Service, username: str = "new.coord", **extra: object) -> object:
    body = {
        "username": username,
        "full_name": "Nova Coordinator",
        "role": "site_coordinator",
        "site_id": "chla",
        "admin_password": PASSWORD,
        **extra,
    }
    return service.post("admin", "/users/invitations", body)


def _login(service: Service, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return int(service.client.post(BASE + "/auth/login", json=body).status_code)


def _redeem(service: Service, username: str, code: str, password: str) -> object:
    body = {"username": username, "code": code, "new_password": password}
    return service.client.post(BASE + "/auth/set-password", json=body)


def _actions(service: Service, action: str) -> int:
    with service.db.transaction() as session:
        return len(
            list(session.scalars(select(AuditRecord.seq).where(AuditRecord.action == action)))
        )


def test_an_invited_person_sets_their_own_password_once(service: Service) -> None:
    made = service.ok(_invite(service), 201)
    code = made["one_time_code"]["code"]
    assert made["user"]["role"] == "site_coordinator" and made["user"]["site_id"] == "chla"
    with service.db.transaction() as session:
        stored = session.scalars(select(OneTimeCode.code_hash)).all()
    assert code not in stored and code.replace("-", "") not in stored  # only a digest
    # No password yet: nothing logs in.
    assert _login(service, "new.coord", "") in (401, 422)
    wrong = _redeem(service, "new.coord", "AAAA-BBBB-CCCC-DDDD", NEW_PASSWORD)
    assert wrong.status_code == 401 and _actions(service, "code_failed") == 1
    weak = _redeem(service, "new.coord", code, "password123")
    assert weak.status_code == 422
    assert {e["path"] for e in weak.json()["errors"]} == {"new_password"}
    # Case, spaces and dashes do not matter; the weak try left the code usable.
    assert (
        _redeem(service, "new.coord", code.lower().replace("-", " "), NEW_PASSWORD).status_code
        == 204
    )
    assert _login(service, "new.coord", NEW_PASSWORD) == 200
    assert _redeem(service, "new.coord", code, NEW_PASSWORD + " again").status_code == 401


def test_issuing_a_code_asks_for_the_admins_password_again(service: Service) -> None:
    refused = _invite(service, admin_password="not my password")
    assert refused.status_code == 401
    with service.db.transaction() as session:
        assert session.scalar(select(User).where(User.username == "new.coord")) is None
    assert _actions(service, "admin_check_failed") == 1


def test_a_reset_code_ends_the_sessions_and_expires(service: Service) -> None:
    uid = service.user_ids["coord_a"]
    assert service.get("coord_a", "/auth/me").status_code == 200
    body = {"admin_password": PASSWORD, "reason": "forgotten"}
    first = service.ok(service.post("admin", f"/users/{uid}/reset-code", body), 201)
    assert service.get("coord_a", "/auth/me").status_code == 401  # the token was revoked
    second = service.ok(service.post("admin", f"/users/{uid}/reset-code", body), 201)
    # A new code withdraws the old one.
    assert _redeem(service, "coord_a", first["code"], NEW_PASSWORD).status_code == 401
    with service.db.transaction() as session:
        session.execute(
            update(OneTimeCode).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        )
    assert _redeem(service, "coord_a", second["code"], NEW_PASSWORD).status_code == 401
    assert _login(service, "coord_a", PASSWORD) == 200  # the old password still works


def test_role_site_and_activity(service: Service, journey) -> None:
    uid = service.user_ids["coord_a"]
    moved = service.patch("admin", f"/users/{uid}", {"site_id": "stanford", "reason": "moved"})
    assert service.ok(moved)["site_id"] == "stanford"
    activity = service.ok(service.get("admin", f"/users/{uid}/activity?limit=5"))["items"]
    assert len(activity) == 5 and {e["username"] for e in activity} == {"coord_a"}
    seqs = [e["seq"] for e in activity]
    assert seqs == sorted(seqs, reverse=True)


def test_sites_are_added_once(service: Service) -> None:
    body = {"id": "rady", "name": "Rady Children's", "city": "San Diego",
            "state": "CA", "country": "United States"}  # fmt: skip
    assert service.ok(service.post("admin", "/sites", body), 201)["id"] == "rady"
    assert service.post("admin", "/sites", body).status_code == 409
    assert service.post("admin", "/sites", {**body, "id": "Bad Id"}).status_code == 422
    names = {s["id"] for s in service.ok(service.get("coord_a", "/sites"))}
    assert "rady" in names


def test_pages_add_a_user_and_show_the_code_once(service: Service, pages) -> None:
    fields = {
        "username": "page.monitor",
        "full_name": "Paige Monitor",
        "role": "monitor",
        "site_id": "",
        "admin_password": PASSWORD,
    }
    shown = pages.post("admin", "/admin/users", fields)
    assert shown.status_code == 200 and "One-time code for page.monitor" in shown.text
    assert PASSWORD not in shown.text
    listing = pages.get("admin", "/admin/users")
    assert "page.monitor" in listing.text and "awaiting first password" in listing.text
    # A site role without a site is refused, naming the field, and nothing is added.
    refused = pages.post(
        "admin", "/admin/users", {**fields, "username": "x.y", "role": "site_coordinator"}
    )
    assert refused.status_code == 422 and "site_id" in refused.text
    # The menu page is refused to a role outside its set (web/pages/nav.py).
    assert pages.get("coord_a", "/admin/users").status_code == 403
    me = service.user_ids["admin"]
    demote = {"role": "monitor", "reason": "x"}
    assert pages.post("admin", f"/admin/users/{me}/change", demote).status_code == 422
