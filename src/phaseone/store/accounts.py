"""Users, logins (with lockout), browser sessions and API tokens. Every change is audited."""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store.access import ACCOUNT_MANAGERS, SITE_ROLES, Actor, Role, Source
from phaseone.store.audit import format_utc
from phaseone.store.errors import AuthenticationError, ConflictError, ThrottledError
from phaseone.store.models import ApiToken, AuditRecord, LoginSession, Site, User
from phaseone.store.scope import Scope
from phaseone.store.security import (
    DEFAULT_POLICY,
    TOKEN_PREFIX,
    SecurityPolicy,
    backoff_seconds,
    check_password_policy,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from phaseone.store.types import utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
# Fields of a user that the audit trail records (never the password hash).
USER_FIELDS = ("username", "full_name", "email", "role", "site_id", "active")
# Audited failures that count toward an address's back-off.
FAILED_ACTIONS = (
    "login_failed",
    "signature_auth_failed",
    "password_check_failed",
    "admin_check_failed",
    "code_failed",
)
# A password hash no password matches (an account waiting for its holder's first password).
UNUSABLE_PREFIX = "!"
# How often a session's last-seen time is written back (it is not audited).
TOUCH_EVERY = dt.timedelta(seconds=60)


def actor_for(user: User, source: Source, client_ip: str | None) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        site_id=user.site_id,
        source=source,
        client_ip=client_ip,
    )


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "site_id": user.site_id,
        "active": user.active,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
    }


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _check_role_site(session: Session, role: Role, site_id: str | None) -> None:
    if role in SITE_ROLES:
        if not site_id:
            raise InputError([Problem("site_id", f"role {role.value} needs a site")])
        site = session.get(Site, site_id)
        if site is None:
            raise InputError([Problem("site_id", f"no site {site_id!r}")])
    elif site_id:
        raise InputError([Problem("site_id", f"role {role.value} sees every site; give no site")])


def add_user(
    scope: Scope,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str | None,
    site_id: str | None = None,
    email: str | None = None,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> User:
    """Create an account (admin only, or the operator from the command line).

    Without a password the account cannot log in until its holder sets one with a
    one-time code (store/onetime.py)."""
    scope.require_role(ACCOUNT_MANAGERS, "manage accounts")
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InputError(
            [Problem("username", "2-64 characters: lower-case letters, digits, . _ @ -")]
        )
    if not full_name.strip():
        raise InputError([Problem("full_name", "required (it is the printed name on signatures)")])
    _check_role_site(scope.session, role, site_id)
    if password is not None:
        check_password_policy(password, username, policy, (full_name, email or ""))
    if scope.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"username {username!r} is taken")
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email,
        role=role.value,
        site_id=site_id or None,
        password_hash=(
            UNUSABLE_PREFIX + new_token() if password is None else hash_password(password)
        ),
    )
    scope.session.add(user)
    scope.session.flush()
    scope.audit(
        "create",
        "users",
        user.id,
        record_site_id=user.site_id,
        new={name: getattr(user, name) for name in USER_FIELDS},
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    return user


def update_user(scope: Scope, user_id: int, changes: dict[str, Any], reason: str) -> User:
    """Change name, e-mail, role, site or active flag; each changed field is audited."""
    scope.require_role(ACCOUNT_MANAGERS, "manage accounts")
    if not reason or not reason.strip():
        raise InputError([Problem("reason", "a reason is required to change an account")])
    user = get_user(scope.session, user_id)
    role = Role(changes.get("role", user.role))
    site_id = changes.get("site_id", user.site_id)
    _check_role_site(scope.session, role, site_id)
    for name in ("full_name", "email", "role", "site_id", "active"):
        if name not in changes:
            continue
        new = changes[name].value if isinstance(changes[name], Role) else changes[name]
        old = getattr(user, name)
        if new == old:
            continue
        setattr(user, name, new)
        scope.audit(
            "role_change" if name == "role" else "update",
            "users",
            user.id,
            record_site_id=user.site_id,
            field=name,
            old=old,
            new=new,
            has_old=True,
            has_new=True,
            reason=reason.strip(),
        )
    if changes.get("active") is False:
        revoke_all(scope.session, user.id)
    return user


def set_password(
    scope: Scope,
    user_id: int,
    password: str,
    reason: str,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> None:
    user = get_user(scope.session, user_id)
    if scope.actor.user_id != user.id:
        scope.require_role(ACCOUNT_MANAGERS, "set another user's password")
    check_password_policy(password, user.username, policy, (user.full_name, user.email or ""))
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_all(scope.session, user.id)
    scope.audit("password_change", "users", user.id, record_site_id=user.site_id, reason=reason)


def unlock_user(scope: Scope, user_id: int, reason: str) -> None:
    scope.require_role(ACCOUNT_MANAGERS, "unlock accounts")
    user = get_user(scope.session, user_id)
    user.failed_logins = 0
    user.locked_until = None
    scope.audit("unlock", "users", user.id, record_site_id=user.site_id, reason=reason)


def revoke_all(session: Session, user_id: int) -> None:
    """End every browser session and revoke every API token of the account."""
    now = utcnow()
    for login in session.scalars(
        select(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
        )
    ):
        login.revoked_at = now
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now


# --- logging in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    # Seconds the caller must wait before trying again (the attempt was not checked).
    retry_after: int = 0

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def source_wait(
    session: Session, client_ip: str | None, now: dt.datetime, policy: SecurityPolicy
) -> float:
    """Seconds this address must still wait, from its recent failures in the audit trail."""
    if not client_ip:
        return 0.0
    since = format_utc(now - dt.timedelta(minutes=policy.source_window_minutes))
    count, last = session.execute(
        select(func.count(), func.max(AuditRecord.at)).where(
            AuditRecord.action.in_(FAILED_ACTIONS),
            AuditRecord.client_ip == client_ip,
            AuditRecord.at >= since,
        )
    ).one()
    wait = backoff_seconds(
        int(count),
        policy.free_failures_per_source,
        policy.backoff_base_seconds,
        policy.source_backoff_max_seconds,
    )
    if not wait or last is None:
        return 0.0
    last_at = dt.datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return max(0.0, (last_at + dt.timedelta(seconds=wait) - now).total_seconds())


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    source: Source,
    client_ip: str | None,
    policy: SecurityPolicy,
    purpose: str = "login",
    asking: Actor | None = None,
) -> LoginOutcome:
    """Check a username and password; failures slow further attempts down.

    `asking` is who is asking: the logged-in actor when a step re-asks for a password
    (signature, password change), None for a login, whose failures are recorded as an
    anonymous caller (whoever typed the password is not known to be the account's owner).
    An attempt from an address, or on an account, still in its back-off is not checked at
    all (the password is not verified) and says how long to wait. Failures are audited and
    counted in the session; the caller must commit them even though the request fails.
    """
    now = utcnow()
    name = username.strip().lower()[:64]
    caller = asking or Actor(None, "anonymous", None, None, source, client_ip)
    trail = Scope(session, caller)
    user = session.scalar(select(User).where(User.username == name))
    site = None if user is None else user.site_id
    wait = source_wait(session, client_ip, now, policy)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        wait = max(wait, (user.locked_until - now).total_seconds())
    if wait > 0:
        trail.audit(
            f"{purpose}_refused",
            "users",
            None if user is None else user.id,
            record_site_id=site,
            new={"username": name, "retry_after_seconds": math.ceil(wait)},
            reason="too many failed attempts: wait before trying again",
        )
        return LoginOutcome(None, retry_after=math.ceil(wait))
    if user is None:
        verify_password(None, password)
        trail.audit(f"{purpose}_failed", "users", None, new={"username": name})
        return LoginOutcome(None)
    if not verify_password(user.password_hash, password) or not user.active:
        user.failed_logins += 1
        backoff = backoff_seconds(
            user.failed_logins,
            policy.free_failures_per_account,
            policy.backoff_base_seconds,
            policy.account_backoff_max_seconds,
        )
        user.locked_until = now + dt.timedelta(seconds=backoff) if backoff else None
        trail.audit(
            f"{purpose}_failed",
            "users",
            user.id,
            record_site_id=site,
            new={"username": name, "failed_attempts": user.failed_logins},
            reason="inactive account" if user.active is False else "wrong password",
        )
        return LoginOutcome(None)
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    Scope(session, asking or actor_for(user, source, client_ip)).audit(
        purpose, "users", user.id, record_site_id=site
    )
    return LoginOutcome(user)


def change_own_password(
    scope: Scope,
    current_password: str,
    new_password: str,
    reason: str,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> None:
    """The account holder changes their password: the current one is checked like a login
    (a wrong one is audited and counts toward the back-off; the caller commits it), then
    every session and API token of the account is revoked."""
    assert scope.actor.user_id is not None
    user = get_user(scope.session, scope.actor.user_id)
    reauthenticate(
        scope,
        user.username,
        current_password,
        policy,
        purpose="password_check",
        refusal="current password is wrong",
    )
    set_password(scope, user.id, new_password, reason, policy)


def reauthenticate(
    scope: Scope,
    username: str,
    password: str,
    policy: SecurityPolicy,
    *,
    purpose: str,
    refusal: str,
) -> User:
    """The acting person proves who they are again (a password change, a signature): checked
    like a login, so a wrong password is audited and counts toward the back-off."""
    outcome = authenticate(
        scope.session,
        username,
        password,
        source=scope.actor.source,
        client_ip=scope.actor.client_ip,
        policy=policy,
        purpose=purpose,
        asking=scope.actor,
    )
    if outcome.throttled:
        raise ThrottledError(
            f"too many failed attempts: try again in {outcome.retry_after} s",
            outcome.retry_after,
        )
    if outcome.user is None:
        raise AuthenticationError(refusal)
    return outcome.user


@dataclass(frozen=True)
class NewLogin:
    cookie: str
    csrf_token: str
    expires_at: dt.datetime


def start_session(
    session: Session, user: User, policy: SecurityPolicy, client_ip: str | None
) -> NewLogin:
    cookie = new_token()
    csrf = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(hours=policy.session_max_hours)
    session.add(
        LoginSession(
            id=token_digest(cookie),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=expires,
            client_ip=client_ip,
        )
    )
    return NewLogin(cookie, csrf, expires)


# Built once: every request runs one of these, and building the statement costs more CPU
# than the round trip's own work in Python.
_SESSION_AND_USER = (
    select(LoginSession, User)
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.id == bindparam("digest"))
)
_TOKEN_AND_USER = (
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def resolve_session(
    session: Session, cookie: str, policy: SecurityPolicy
) -> tuple[User, LoginSession] | None:
    """The user behind a session cookie, if the session is live (not expired, idle or revoked)."""
    # One round trip for the session and its user: every request starts here.
    found = session.execute(_SESSION_AND_USER, {"digest": token_digest(cookie)}).first()
    if found is None:
        return None
    login, user = found
    now = utcnow()
    if login.revoked_at is not None or login.expires_at <= now:
        return None
    if login.last_seen_at + dt.timedelta(minutes=policy.session_idle_minutes) <= now:
        return None
    if not user.active:
        return None
    if now - login.last_seen_at >= TOUCH_EVERY:
        login.last_seen_at = now
    return user, login


def end_session(scope: Scope, login: LoginSession) -> None:
    login.revoked_at = utcnow()
    scope.audit("logout", "users", login.user_id, record_site_id=scope.actor.site_id)


# --- API tokens ---------------------------------------------------------------------------


def create_api_token(
    scope: Scope, user: User, name: str, expires_days: int | None
) -> tuple[ApiToken, str]:
    """A new bearer token for `user`; the plain token is returned once and never stored."""
    plain = new_token(TOKEN_PREFIX)
    expires = None if expires_days is None else utcnow() + dt.timedelta(days=expires_days)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_digest(plain), expires_at=expires)
    scope.session.add(token)
    scope.session.flush()
    scope.audit(
        "token_create",
        "api_tokens",
        token.id,
        record_site_id=user.site_id,
        new={"name": name, "user_id": user.id, "expires_at": expires},
    )
    return token, plain


def resolve_api_token(session: Session, plain: str) -> User | None:
    found = session.execute(_TOKEN_AND_USER, {"digest": token_digest(plain)}).first()
    if found is None:
        return None
    token, user = found
    now = utcnow()
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
    return user


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_api_token(scope: Scope, token_id: int) -> None:
    token = scope.session.get(ApiToken, token_id)
    if token is None or token.user_id != scope.actor.user_id:
        raise NotFoundError(f"no API token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        scope.audit("token_revoke", "api_tokens", token.id, record_site_id=scope.actor.site_id)
