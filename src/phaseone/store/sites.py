"""Sites: seeded from a protocol's `sites`, read by everyone, managed by the administrator."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Protocol
from phaseone.store.access import ACCOUNT_MANAGERS
from phaseone.store.errors import ConflictError
from phaseone.store.models import Site
from phaseone.store.scope import Scope

SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def seed_sites(scope: Scope, protocol: Protocol) -> list[str]:
    """Add the protocol's sites that are not stored yet; returns the ids added (audited)."""
    existing = set(scope.session.scalars(select(Site.id)))
    added = []
    for site in protocol.sites:
        if site.id in existing:
            continue
        row = Site(
            id=site.id, name=site.name, city=site.city, state=site.state, country=site.country
        )
        scope.session.add(row)
        scope.audit(
            "create",
            "sites",
            site.id,
            record_site_id=site.id,
            new={
                "name": site.name,
                "city": site.city,
                "state": site.state,
                "country": site.country,
                "protocol": protocol.id,
            },
        )
        added.append(site.id)
    scope.session.flush()
    return added


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.id)))


def add_site(
    scope: Scope,
    *,
    site_id: str,
    name: str,
    country: str,
    city: str | None = None,
    state: str | None = None,
) -> Site:
    """Add a site (administrators, or the operator); audited."""
    scope.require_role(ACCOUNT_MANAGERS, "add sites")
    if not SITE_ID.match(site_id):
        raise InputError([Problem("id", "lower-case letters, digits, . _ - (up to 64)")])
    if scope.session.get(Site, site_id) is not None:
        raise ConflictError(f"site {site_id!r} exists")
    row = Site(id=site_id, name=name.strip(), city=city, state=state, country=country.strip())
    scope.session.add(row)
    scope.session.flush()
    scope.audit(
        "create",
        "sites",
        site_id,
        record_site_id=site_id,
        new={"name": row.name, "city": city, "state": state, "country": row.country},
    )
    return row
