"""Notification records: what a site (or everyone) was told, and when.

A message addressed to every site never names a subject: a patient's code goes only to
the patient's own site (the study chair, monitors and statisticians read every site's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from phaseone.store.models import Notification
from phaseone.store.scope import Scope
from phaseone.workflow import visibility


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


@dataclass(frozen=True)
class NotificationView:
    """A notification as the actor may see it: no real date for a de-identified role."""

    kind: str
    message: str
    created_at: dt.datetime | None


def for_actor(scope: Scope, limit: int = 20) -> list[NotificationView]:
    """The newest notifications the actor may see: their site's and the trial-wide ones."""
    stmt = select(Notification)
    if scope.actor.site_scoped:
        stmt = stmt.where(
            or_(Notification.site_id == scope.actor.site_id, Notification.site_id.is_(None))
        )
    rows = scope.session.scalars(stmt.order_by(Notification.id.desc()).limit(limit))
    if not visibility.shows_real_dates(scope):
        return [
            NotificationView(n.kind, visibility.trial_text(scope, n.message), None) for n in rows
        ]
    return [NotificationView(n.kind, n.message, n.created_at) for n in rows]
