"""Passwords (argon2id), the password policy, random tokens, and the account security policy."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
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

# Words a guesser aiming at this service tries first; zxcvbn treats them as a dictionary.
SERVICE_WORDS = (
    "phaseone",
    "phase",
    "trial",
    "neuroblastoma",
    "lenalidomide",
    "dinutuximab",
    "isotretinoin",
    "nant",
    "oncology",
    "pediatric",
    "hospital",
    "children",
)


@dataclass(frozen=True)
class SecurityPolicy:
    """Account security settings. The defaults are design choices, not regulatory numbers.

    Failed logins slow the next attempt down instead of locking the account: after
    `free_failures_per_account` consecutive failures an account's next attempt waits
    `backoff_base_seconds * 2**k`, at most `account_backoff_max_seconds` (kept short so that
    nobody can keep the owner out for long); after `free_failures_per_source` failures from
    one address within `source_window_minutes`, that address waits likewise, at most
    `source_backoff_max_seconds`.
    """

    free_failures_per_account: int = 5
    account_backoff_max_seconds: int = 60
    free_failures_per_source: int = 10
    source_window_minutes: int = 15
    source_backoff_max_seconds: int = 900
    backoff_base_seconds: float = 1.0
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    min_password_length: int = 12
    # zxcvbn's score 0-4; 3 is "safely unguessable: moderate protection from offline attack".
    min_password_score: int = 3
    cookie_secure: bool = True
    # How long a one-time code to set one's own password stays valid.
    one_time_code_hours: int = 72


def backoff_seconds(failures: int, free: int, base: float, cap: float) -> float:
    """How long to wait before the next attempt after `failures` failures (0 while free)."""
    if failures < free:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - free, 30)))


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


def check_password_policy(
    password: str,
    username: str,
    policy: SecurityPolicy,
    personal: Iterable[str] = (),
) -> None:
    """Refuse short, common or guessable passwords, naming why.

    The strength estimate is zxcvbn's (dictionaries of common passwords, names and words,
    keyboard patterns, dates, repeats and l33t substitutions), told also the username, the
    person's own words (`personal`: name, e-mail) and the words of this service.
    """
    problems = []
    if len(password) < policy.min_password_length:
        problems.append(
            Problem("password", f"must be at least {policy.min_password_length} characters")
        )
    if username and username.lower() in password.lower():
        problems.append(Problem("password", "must not contain the username"))
    if not problems and len(password) <= 200:
        # zxcvbn's cost grows with length; a passphrase over 200 characters is not guessable.
        from zxcvbn import zxcvbn

        words = [username, *(w for p in personal for w in p.replace("@", " ").split())]
        found = zxcvbn(password, user_inputs=[*SERVICE_WORDS, *(w for w in words if w)])
        if found["score"] < policy.min_password_score:
            feedback = found["feedback"]
            hint = " ".join(
                s for s in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if s
            )
            problems.append(
                Problem(
                    "password",
                    "too easy to guess (common words, names, trial terms, patterns or "
                    "repeats); use a longer passphrase of unrelated words"
                    + (f". {hint}" if hint else ""),
                )
            )
    if problems:
        raise InputError(problems)


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a session cookie or API token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


DEFAULT_POLICY = SecurityPolicy()
