"""Bringing a database into service: schema, sites from the protocol, the first administrator."""

from __future__ import annotations

from phaseone.protocol.model import Protocol
from phaseone.store import accounts, migrate, sites
from phaseone.store.access import Actor, Role
from phaseone.store.db import Database
from phaseone.store.scope import Scope


def prepare(db: Database, protocol: Protocol, actor: Actor) -> list[str]:
    """Upgrade the schema to the newest revision and add the protocol's missing sites."""
    migrate.upgrade(db.engine)
    with db.transaction() as session:
        return sites.seed_sites(Scope(session, actor), protocol)


def has_users(db: Database) -> bool:
    with db.transaction() as session:
        return accounts.count_users(session) > 0


def create_first_admin(
    db: Database, actor: Actor, *, username: str, full_name: str, password: str
) -> int:
    """The first account, an administrator. There is no default password: one must be given."""
    with db.transaction() as session:
        user = accounts.add_user(
            Scope(session, actor),
            username=username,
            full_name=full_name,
            role=Role.admin,
            password=password,
        )
        return user.id
