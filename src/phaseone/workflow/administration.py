"""Administering accounts and sites: who has an account, invitations and password resets
by one-time code, role and site changes, deactivation and unlocking, and what each person
did lately. The pages, the JSON API and the command line call these same functions.

Issuing a code hands over an account, so a logged-in administrator proves who they are
again first (checked like a login: a wrong password is audited and slows further tries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from phaseone.errors import InputError, Problem
from phaseone.store import accounts, onetime, sites
from phaseone.store.access import ACCOUNT_MANAGERS, SITE_ROLES, Role
from phaseone.store.models import AuditRecord, Site, User
from phaseone.store.scope import Scope
from phaseone.store.security import DEFAULT_POLICY, SecurityPolicy
from phaseone.workflow import auditing

# Who adds sites (the same people who manage accounts).
SITE_MANAGERS = ACCOUNT_MANAGERS


def _prove_admin(scope: Scope, password: str | None, policy: SecurityPolicy) -> None:
    scope.require_role(ACCOUNT_MANAGERS, "manage accounts")
    if scope.actor.user_id is None:
        return  # the operator at the server's command line
    accounts.reauthenticate(
        scope,
        scope.actor.username,
        password or "",
        policy,
        purpose="admin_check",
        refusal="your password is wrong (it is asked again before issuing a code)",
    )


@dataclass(frozen=True)
class AccountRow:
    user: Any
    pending_code: dt.datetime | None  # when the waiting one-time code expires
    never_set: bool  # no password of their own yet
    last_seen: str | None  # the newest audit entry the person made (UTC)

    def as_dict(self) -> dict[str, Any]:
        return {
            **accounts.user_view(self.user),
            "pending_code_expires_at": self.pending_code,
            "awaiting_password": self.never_set,
            "last_activity_at": self.last_seen,
        }


def list_accounts(scope: Scope) -> list[AccountRow]:
    """Every account with its state (administrators only)."""
    scope.require_role(ACCOUNT_MANAGERS, "list accounts")
    session = scope.session
    last = dict(
        session.execute(
            select(AuditRecord.user_id, func.max(AuditRecord.at)).group_by(AuditRecord.user_id)
        ).all()
    )
    rows = []
    for user in session.scalars(select(User).order_by(User.username)):
        code = onetime.pending(session, user.id)
        rows.append(
            AccountRow(
                user,
                None if code is None else code.expires_at,
                user.password_hash.startswith(accounts.UNUSABLE_PREFIX),
                last.get(user.id),
            )
        )
    return rows


def account(scope: Scope, user_id: int) -> AccountRow:
    scope.require_role(ACCOUNT_MANAGERS, "read accounts")
    user = accounts.get_user(scope.session, user_id)
    code = onetime.pending(scope.session, user.id)
    return AccountRow(
        user,
        None if code is None else code.expires_at,
        user.password_hash.startswith(accounts.UNUSABLE_PREFIX),
        None,
    )


def invite(
    scope: Scope,
    *,
    username: str,
    full_name: str,
    role: Role,
    site_id: str | None,
    email: str | None,
    admin_password: str | None,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> tuple[Any, onetime.IssuedCode]:
    """A new account without a password, and the one-time code its holder sets one with."""
    _prove_admin(scope, admin_password, policy)
    user = accounts.add_user(
        scope,
        username=username,
        full_name=full_name,
        role=role,
        password=None,
        site_id=site_id,
        email=email,
        policy=policy,
    )
    return user, onetime.issue(scope, user.id, "invite", "new account", policy)


def reset_code(
    scope: Scope,
    user_id: int,
    *,
    admin_password: str | None,
    reason: str,
    policy: SecurityPolicy = DEFAULT_POLICY,
) -> onetime.IssuedCode:
    """A one-time code for an account to set a new password; its sessions and API tokens
    end at once (the old password keeps working until the code is used)."""
    _prove_admin(scope, admin_password, policy)
    issued = onetime.issue(scope, user_id, "reset", reason, policy)
    accounts.revoke_all(scope.session, user_id)
    return issued


def change_account(scope: Scope, user_id: int, changes: dict[str, Any], reason: str) -> Any:
    """Role, site or active flag (deactivating ends every session and token)."""
    if user_id == scope.actor.user_id and (
        changes.get("active") is False or changes.get("role") not in (None, Role.admin)
    ):
        raise InputError(
            [Problem("role", "an administrator cannot demote or deactivate themselves")]
        )
    role = changes.get("role")
    if role is not None and Role(role) not in SITE_ROLES and "site_id" not in changes:
        changes = {**changes, "site_id": None}  # a trial-wide role belongs to no site
    return accounts.update_user(scope, user_id, changes, reason)


def unlock(scope: Scope, user_id: int, reason: str) -> None:
    accounts.unlock_user(scope, user_id, reason)


def activity(scope: Scope, user_id: int, limit: int = 20) -> auditing.AuditPage:
    """What one person did lately, newest first (from the audit trail)."""
    scope.require_role(ACCOUNT_MANAGERS, "read accounts")
    accounts.get_user(scope.session, user_id)
    return auditing.recent_activity(scope, user_id, limit)


def list_sites(scope: Scope) -> list[Site]:
    return sites.list_sites(scope.session)


# Adding a site is the store's step as it stands (role check, audit); named here so that the
# pages, the API and the command line find every administration step in one module.
add_site = sites.add_site
