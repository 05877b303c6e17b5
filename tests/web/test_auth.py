"""Login sessions, CSRF, lockout, API tokens, and one transaction per request."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from phaseone.protocol import resolve_protocol
from phaseone.store import records as store_records
from phaseone.store.models import AuditRecord, LoginSession, Patient
from phaseone.web.app import create_app
from phaseone.web.pages import create_site
from phaseone.workflow import Trial
from tests.web.service_fixtures import BASE, PASSWORD, Service

PATIENT = {"site_id": "chla", "subject_code": "CHLA-300", "birth_date": "2015-01-01", "sex": "F"}


def _login(service: Service, username: str, password: str = PASSWORD) -> tuple[int, dict]:
    response = service.client.post(
        BASE + "/auth/login", json={"username": username, "password": password}
    )
    return response.status_code, response.json()


def _actions(service: Service, username: str) -> list[str]:
    with service.db.transaction() as session:
        stmt = select(AuditRecord.action).where(AuditRecord.username == username)
        return list(session.scalars(stmt.order_by(AuditRecord.seq)))


def test_login_sets_a_secure_http_only_cookie(service: Service) -> None:
    response = service.client.post(
        BASE + "/auth/login", json={"username": "coord_a", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].lower()
    assert "phaseone_session=" in cookie
    for flag in ("httponly", "secure", "samesite=strict"):
        assert flag in cookie
    assert response.json()["user"]["username"] == "coord_a"
    assert "password" not in response.text
    assert _actions(service, "coord_a")[-1] == "login"


def test_page_login_sets_the_same_cookie(service: Service) -> None:
    site = create_site(
        service.db, Trial.from_protocol(resolve_protocol("nant-2011-04")), policy=service.policy
    )
    with TestClient(site, base_url="https://testserver") as client:
        response = client.post(
            "/login",
            data={"username": "coord_a", "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"].lower()
    assert "phaseone_session=" in cookie
    for flag in ("httponly", "secure", "samesite=strict", "path=/"):
        assert flag in cookie


def test_cookie_changes_need_the_csrf_token(service: Service) -> None:
    status, body = _login(service, "coord_a")
    assert status == 200
    csrf = body["csrf_token"]
    # Reading needs no token.
    assert service.client.get(BASE + "/patients").status_code == 200
    missing = service.client.post(BASE + "/patients", json=PATIENT)
    assert missing.status_code == 403 and "CSRF" in missing.json()["errors"][0]["message"]
    wrong = service.client.post(BASE + "/patients", json=PATIENT, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    right = service.client.post(BASE + "/patients", json=PATIENT, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201, right.text


def test_logout_ends_the_session(service: Service) -> None:
    _, body = _login(service, "coord_a")
    out = service.client.post(BASE + "/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    service.client.cookies.clear()
    assert service.client.get(BASE + "/auth/me").status_code == 401


def test_an_idle_session_expires(service: Service) -> None:
    _login(service, "coord_a")
    assert service.client.get(BASE + "/auth/me").status_code == 200
    idle = dt.timedelta(minutes=service.policy.session_idle_minutes + 1)
    with service.db.transaction() as session:
        session.execute(update(LoginSession).values(last_seen_at=dt.datetime.now(dt.UTC) - idle))
    assert service.client.get(BASE + "/auth/me").status_code == 401


def test_repeated_failures_lock_the_account(service: Service) -> None:
    limit = service.policy.max_failed_logins
    for _ in range(limit):
        status, body = _login(service, "inv_a", "wrong password!!")
        assert status == 401
        assert body["errors"][0]["message"].startswith("invalid username or password")
    # Locked: the right password is refused too, with the same message.
    status, _ = _login(service, "inv_a")
    assert status == 401
    actions = _actions(service, "inv_a")
    assert actions.count("login_failed") == limit
    assert "lockout" in actions and actions[-1] == "login_refused"
    unlock = service.post("admin", f"/users/{service.user_ids['inv_a']}/unlock", {"reason": "ok"})
    assert unlock.status_code == 200
    assert _login(service, "inv_a")[0] == 200


def test_unknown_usernames_are_refused_and_audited(service: Service) -> None:
    status, body = _login(service, "nobody")
    assert status == 401
    assert body["errors"][0]["message"].startswith("invalid username or password")
    assert _actions(service, "nobody") == ["login_failed"]


def test_api_tokens_can_be_created_used_and_revoked(service: Service) -> None:
    made = service.ok(service.post("coord_a", "/auth/tokens", {"name": "script"}), 201)
    token = made["token"]
    assert token.startswith("po_")
    headers = {"Authorization": f"Bearer {token}"}
    assert service.client.get(BASE + "/auth/me", headers=headers).json()["username"] == "coord_a"
    listed = service.ok(service.get("coord_a", "/auth/tokens"))
    assert "token" not in listed[0]
    gone = service.delete("coord_a", f"/auth/tokens/{made['id']}")
    assert gone.status_code == 204
    assert service.client.get(BASE + "/auth/me", headers=headers).status_code == 401
    bogus = {"Authorization": "Bearer po_not-a-token"}
    assert service.client.get(BASE + "/patients", headers=bogus).status_code == 401
    assert service.client.get(BASE + "/patients").status_code == 401


def test_role_change_is_audited_and_deactivation_locks_out(service: Service) -> None:
    uid = service.user_ids["coord_a"]
    changed = service.patch("admin", f"/users/{uid}", {"role": "monitor", "reason": "x"})
    assert changed.status_code == 422  # a monitor belongs to no site
    changed = service.patch(
        "admin", f"/users/{uid}", {"role": "site_investigator", "reason": "promoted"}
    )
    assert changed.json()["role"] == "site_investigator"
    history = service.ok(service.get("admin", f"/audit?entity=users&entity_id={uid}"))["items"]
    change = next(h for h in history if h["action"] == "role_change")
    assert (change["old_value"], change["new_value"]) == ("site_coordinator", "site_investigator")
    assert change["username"] == "admin" and change["reason"] == "promoted"
    service.patch("admin", f"/users/{uid}", {"active": False, "reason": "left the site"})
    assert service.get("coord_a", "/patients").status_code == 401


def test_reading_the_audit_trail_is_audited(service: Service) -> None:
    service.ok(service.get("monitor", "/audit?limit=5"))
    service.client.get(BASE + "/audit/export", headers=service.as_("monitor"))
    assert _actions(service, "monitor")[-2:] == ["audit_read", "audit_export"]


def test_a_failed_request_writes_nothing(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server error after the patient row and its audit entry were written leaves no trace."""
    app = create_app(service.db, policy=service.policy)
    before = service.audit_count()

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("simulated failure after the write")

    monkeypatch.setattr(store_records, "present_many", explode)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        response = c.post(BASE + "/patients", json=PATIENT, headers=service.as_("coord_a"))
    assert response.status_code == 500
    assert response.json()["errors"][0]["message"].startswith("internal error")
    assert "CHLA-300" not in response.text
    with service.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
    assert service.audit_count() == before


def test_a_constraint_failure_midway_writes_nothing(service: Service, journey) -> None:
    """Two criteria with one id: the evaluation row is inserted, then the criteria fail."""
    before = service.audit_count()
    body = {
        "patient_id": journey["a"]["patients"],
        "evaluated_on": "2024-01-09",
        "overall": "met",
        "criteria": [
            {"criterion_id": "age", "result": "met"},
            {"criterion_id": "age", "result": "not_met"},
        ],
    }
    response = service.post("coord_a", "/screening-evaluations", body)
    assert response.status_code == 409, response.text
    listed = service.ok(service.get("chair", "/screening-evaluations"))
    assert listed["total"] == 2  # the journey's two, nothing more
    assert service.audit_count() == before  # listing is not audited; nothing else happened
