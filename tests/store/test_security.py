"""Password hashing and verification (argon2id)."""

from __future__ import annotations

import subprocess
import sys

from phaseone.store.security import hash_password, verify_password


def test_a_password_verifies_against_its_hash_only() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")


def test_an_unknown_user_never_verifies() -> None:
    # No stored hash: the check still runs (against a throwaway hash) and fails.
    assert not verify_password(None, "")
    assert not verify_password(None, "anything at all")


def test_importing_hashes_nothing() -> None:
    """Commands import the security module; an argon2 hash at import would slow them all."""
    code = (
        "import argon2, phaseone.store.security as s\n"
        "calls = []\n"
        "argon2.PasswordHasher.hash = lambda self, p: calls.append(p)\n"
        "import importlib; importlib.reload(s)\n"
        "assert calls == [], calls\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
