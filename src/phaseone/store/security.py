"""Passwords (argon2id), random tokens, and the account security policy."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from phaseone.errors import InputError, Problem

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one argon2
    check. Made on first use: hashing at import would slow every command's start."""
    return _hasher.hash(secrets.token_hex(16))

TOKEN_PREFIX = "po_"


@dataclass(frozen=True)
class SecurityPolicy:
    """Account security settings. The defaults are design choices, not regulatory numbers."""

    max_failed_logins: int = 5
    lockout_minutes: int = 15
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    min_password_length: int = 12
    cookie_secure: bool = True


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if `password` matches; an unknown user still costs one verification."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_password_policy(password: str, username: str, policy: SecurityPolicy) -> None:
    problems = []
    if len(password) < policy.min_password_length:
        problems.append(
            Problem("password", f"must be at least {policy.min_password_length} characters")
        )
    if username and username.lower() in password.lower():
        problems.append(Problem("password", "must not contain the username"))
    if problems:
        raise InputError(problems)


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a session cookie or API token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


DEFAULT_POLICY = SecurityPolicy()
