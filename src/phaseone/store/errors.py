"""Errors the store and its adapters raise on purpose (all are PhaseoneError)."""

from __future__ import annotations

from phaseone.errors import NotFoundError, PhaseoneError

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDenied",
    "ThrottledError",
]


class AuthenticationError(PhaseoneError):
    """No valid login, session, token or re-authentication."""


class PermissionDenied(PhaseoneError):
    """The actor's role does not allow this action."""


class ConflictError(PhaseoneError):
    """The action clashes with what is stored (a duplicate, a broken reference)."""


class ThrottledError(AuthenticationError):
    """Too many failed attempts from this address or on this account: wait and retry."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
