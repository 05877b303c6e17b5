"""Login sessions, CSRF, lockout, API tokens, and one transaction per request."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from phaseone.protocol import resolve_protocol
from phaseone.store import records as store_records
from phaseone.store.models import ApiToken, AuditRecord, LoginSession, Patient, User
from phaseone.store.security import backoff_seconds
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


def test_repeated_failures_slow_the_account_down_without_locking_it(service: Service) -> None:
    free = service.policy.free_failures_per_account
    for _ in range(free):
        status, body = _login(service, "inv_a", "wrong password!!")
        assert status == 401
        assert body["errors"][0]["message"] == "invalid username or password"
    # In its back-off the account's next attempt is not checked at all: 429, with the wait.
    response = service.client.post(
        BASE + "/auth/login", json={"username": "inv_a", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "try again in" in response.json()["errors"][0]["message"]
    # The wait is short and ends by itself: no administrator needed.
    with service.db.transaction() as session:
        session.execute(update(User).where(User.username == "inv_a").values(locked_until=None))
    assert _login(service, "inv_a")[0] == 200


def test_the_account_back_off_is_capped_and_doubles(service: Service) -> None:
    policy = service.policy
    waits = [backoff_seconds(n, policy.free_failures_per_account, 1.0, 60.0) for n in range(4, 14)]
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_failures_from_one_address_throttle_that_address(service: Service) -> None:
    """Guessing across many accounts from one address is slowed down by address."""
    free = service.policy.free_failures_per_source
    for n in range(free):
        assert _login(service, f"nobody{n}", "wrong password!!")[0] == 401
    response = service.client.post(
        BASE + "/auth/login", json={"username": "coord_b", "password": PASSWORD}
    )
    assert response.status_code == 429
    # Nobody's account was touched: coord_b has no failure counted.
    with service.db.transaction() as session:
        assert session.scalar(select(User.failed_logins).where(User.username == "coord_b")) == 0


def test_a_failed_login_is_recorded_as_anonymous(service: Service) -> None:
    _login(service, "inv_a", "wrong password!!")
    with service.db.transaction() as session:
        row = session.scalars(select(AuditRecord).where(AuditRecord.action == "login_failed")).one()
    assert row.username == "anonymous" and row.user_id is None and row.role is None
    assert row.entity_id == str(service.user_ids["inv_a"])
    assert '"inv_a"' in (row.new_value or "")
    assert "inv_a" not in _actions(service, "inv_a")  # nothing recorded as done by inv_a


def test_a_wrong_current_password_is_audited_and_counts(service: Service) -> None:
    body = {"current_password": "not my password!", "new_password": "violet anchor drifts slowly"}
    for _ in range(service.policy.free_failures_per_account):
        response = service.post("coord_a", "/auth/password", body)
        assert response.status_code == 401
    actions = _actions(service, "coord_a")
    assert actions.count("password_check_failed") == service.policy.free_failures_per_account
    right = {**body, "current_password": PASSWORD}
    assert service.post("coord_a", "/auth/password", right).status_code == 429


def test_changing_the_password_revokes_api_tokens_and_sessions(service: Service) -> None:
    assert _login(service, "coord_a")[0] == 200
    body = {"current_password": PASSWORD, "new_password": "violet anchor drifts slowly"}
    response = service.post("coord_a", "/auth/password", body)
    assert response.status_code == 204, response.text
    # The token the change was made with is revoked, and so is the browser session.
    assert service.get("coord_a", "/auth/me").status_code == 401
    assert service.client.get(BASE + "/auth/me").status_code == 401
    with service.db.transaction() as session:
        live = session.scalars(
            select(ApiToken).where(
                ApiToken.user_id == service.user_ids["coord_a"], ApiToken.revoked_at.is_(None)
            )
        ).all()
    assert live == []
    assert _login(service, "coord_a", "violet anchor drifts slowly")[0] == 200


@pytest.mark.parametrize(
    "password", ["password123", "neuroblastoma1", "Neuroblastoma2024!", "aaaaaaaaaaaaaa"]
)
def test_the_policy_refuses_common_and_trivial_passwords(service: Service, password: str) -> None:
    body = {"current_password": PASSWORD, "new_password": password}
    response = service.post("coord_a", "/auth/password", body)
    assert response.status_code == 422
    problem = response.json()["errors"][0]
    assert problem["path"] == "password"
    assert "characters" in problem["message"] or "too easy to guess" in problem["message"]
    assert password not in response.text


def test_unknown_usernames_are_refused_and_audited(service: Service) -> None:
    status, body = _login(service, "nobody")
    assert status == 401
    assert body["errors"][0]["message"].startswith("invalid username or password")
    assert _actions(service, "nobody") == []
    with service.db.transaction() as session:
        row = session.scalars(select(AuditRecord).where(AuditRecord.action == "login_failed")).one()
    assert row.username == "anonymous" and row.entity_id is None
    assert '"nobody"' in (row.new_value or "")


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
