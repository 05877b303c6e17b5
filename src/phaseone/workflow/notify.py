"""Notification records: what a site (or everyone) was told, and when."""

from __future__ import annotations

from sqlalchemy import or_, select

from phaseone.store.models import Notification
from phaseone.store.scope import Scope


def notify(
    scope: Scope,
    kind: str,
    message: str,
    *,
    site_id: str | None = None,
    slot_request_id: int | None = None,
) -> Notification:
    """Record a notification (to `site_id`, or to every site when None); audited."""
    note = Notification(
        site_id=site_id, kind=kind, message=message, slot_request_id=slot_request_id
    )
    scope.session.add(note)
    scope.session.flush()
    scope.audit(
        "notify",
        "notifications",
        note.id,
        record_site_id=site_id,
        new={"kind": kind, "message": message, "site_id": site_id},
    )
    return note


def for_actor(scope: Scope, limit: int = 20) -> list[Notification]:
    """The newest notifications the actor may see: their site's and the trial-wide ones."""
    stmt = select(Notification)
    if scope.actor.site_scoped:
        stmt = stmt.where(
            or_(Notification.site_id == scope.actor.site_id, Notification.site_id.is_(None))
        )
    return list(scope.session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))
