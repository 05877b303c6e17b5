"""Sites: seeded from a protocol's `sites`, read by everyone, managed by the administrator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from phaseone.protocol.model import Protocol
from phaseone.store.models import Site
from phaseone.store.scope import Scope


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
