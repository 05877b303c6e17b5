"""One-time codes: how a person sets their own password (a new account's first one, or
after a reset) without anyone else ever seeing it.

The administrator issues a code; it is shown once (or passed on out of band) and only its
SHA-256 is stored. Its holder types it with their username and a new password, which must
pass the password policy. A code works once, until it expires, and issuing a new one
withdraws the old. Wrong codes are audited and slow the address down like failed logins.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from phaseone.errors import InputError, Problem
from phaseone.store import accounts
from phaseone.store.access import ACCOUNT_MANAGERS, Actor, Source
from phaseone.store.errors import AuthenticationError, ThrottledError
from phaseone.store.models import OneTimeCode, User
from phaseone.store.scope import Scope
from phaseone.store.security import (
    DEFAULT_POLICY,
    SecurityPolicy,
    check_password_policy,
    hash_password,
    token_digest,
)
from phaseone.store.types import utcnow

# Easy to read aloud and type: no 0/O, no 1/I/L.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LENGTH = 4, 4  # 16 characters: about 79 bits
PURPOSES = ("invite", "reset")
REFUSED = "the username or code is wrong, used or expired"


@dataclass(frozen=True)
class IssuedCode:
    """A code as issued: shown once, never stored in clear."""

    code: str
    expires_at: dt.datetime
    purpose: str


def new_code() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join(groups)


def normalise(code: str) -> str:
    """A code as typed, made comparable: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue(
    scope: Scope,
    user_id: int,
    purpose: str,
    reason: str,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> IssuedCode:
    """A new code for an account (administrators, or the operator); earlier unused codes of
    the account are withdrawn. Audited without the code."""
    scope.require_role(ACCOUNT_MANAGERS, "issue one-time codes")
    if purpose not in PURPOSES:
        raise InputError([Problem("purpose", f"expected one of {', '.join(PURPOSES)}")])
    user = accounts.get_user(scope.session, user_id)
    now = utcnow()
    for old in _live_codes(scope.session, user.id, now):
        old.revoked_at = now
    code = new_code()
    expires = now + dt.timedelta(hours=policy.one_time_code_hours)
    scope.session.add(
        OneTimeCode(
            user_id=user.id,
            code_hash=token_digest(normalise(code)),
            purpose=purpose,
            created_at=now,
            created_by=scope.actor.user_id,
            expires_at=expires,
        )
    )
    scope.audit(
        "code_issue",
        "users",
        user.id,
        record_site_id=user.site_id,
        new={"purpose": purpose, "expires_at": expires},
        reason=reason,
    )
    return IssuedCode(code, expires, purpose)


def _live_codes(session: Session, user_id: int, now: dt.datetime) -> list[OneTimeCode]:
    stmt = select(OneTimeCode).where(
        OneTimeCode.user_id == user_id,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.revoked_at.is_(None),
        OneTimeCode.expires_at > now,
    )
    return list(session.scalars(stmt))


def pending(session: Session, user_id: int) -> OneTimeCode | None:
    """The account's code still waiting to be used, if any (for the administrator's list)."""
    live = _live_codes(session, user_id, utcnow())
    return live[-1] if live else None


def redeem(
    session: Session,
    username: str,
    code: str,
    new_password: str,
    *,
    source: Source,
    client_ip: str | None,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> User:
    """Set the account's password with its one-time code. A wrong, used or expired code is
    audited and counts toward the address's back-off (the caller commits it even though the
    request fails); a password the policy refuses leaves the code unused."""
    now = utcnow()
    name = username.strip().lower()[:64]
    anonymous = Scope(session, Actor(None, "anonymous", None, None, source, client_ip))
    wait = accounts.source_wait(session, client_ip, now, policy)
    if wait > 0:
        anonymous.audit(
            "code_refused",
            "users",
            None,
            new={"username": name, "retry_after_seconds": math.ceil(wait)},
            reason="too many failed attempts: wait before trying again",
        )
        raise ThrottledError(
            f"too many failed attempts: try again in {math.ceil(wait)} s", math.ceil(wait)
        )
    user = session.scalar(select(User).where(User.username == name))
    found = None
    if user is not None and user.active:
        digest = token_digest(normalise(code))
        found = next((c for c in _live_codes(session, user.id, now) if c.code_hash == digest), None)
    if user is None or found is None:
        anonymous.audit(
            "code_failed",
            "users",
            None if user is None else user.id,
            record_site_id=None if user is None else user.site_id,
            new={"username": name},
        )
        raise AuthenticationError(REFUSED)
    try:
        check_password_policy(
            new_password, user.username, policy, (user.full_name, user.email or "")
        )
    except InputError as exc:
        raise InputError([Problem("new_password", p.message) for p in exc.problems]) from None
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.failed_logins = 0
    user.locked_until = None
    found.used_at = now
    accounts.revoke_all(session, user.id)
    Scope(session, accounts.actor_for(user, source, client_ip)).audit(
        "password_set_with_code",
        "users",
        user.id,
        record_site_id=user.site_id,
        new={"purpose": found.purpose},
    )
    return user
