"""Slot requests: hold or waitlist, expiry, release, and offers down the waitlist.

Every slot change runs under one lock so that two sites asking for the last slot at the
same moment are served one after the other: PostgreSQL takes a transaction-scoped advisory
lock; SQLite's transactions already begin with BEGIN IMMEDIATE (one writer at a time).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store.access import CLINICAL_WRITERS, DECISION_WRITERS
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import Site
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.store.scope import Scope
from phaseone.trial import SlotPlan, SlotRequest, reconcile_slots
from phaseone.workflow.context import Trial
from phaseone.workflow.history import trial_state
from phaseone.workflow.notify import notify

# An arbitrary, fixed key for pg_advisory_xact_lock: "slots" in ASCII.
SLOT_LOCK_KEY = 0x736C6F7473
LIVE = ("held", "waitlisted")


def lock_slots(scope: Scope) -> None:
    """Serialise slot changes until the transaction ends."""
    if scope.session.get_bind().dialect.name == "postgresql":
        scope.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SLOT_LOCK_KEY})


def _plain(row: SlotRow) -> SlotRequest:
    return SlotRequest(
        id=str(row.id),
        site=row.site_id,
        requested_at=row.requested_at,
        status=row.status,  # type: ignore[arg-type]
        hold_expires_at=row.hold_expires_at,
        priority=row.priority,
        reference=row.reference,
    )


def live_requests(scope: Scope) -> list[SlotRow]:
    stmt = select(SlotRow).where(SlotRow.status.in_(LIVE), SlotRow.voided.is_(False))
    return list(scope.session.scalars(stmt.order_by(SlotRow.requested_at, SlotRow.id)))


def _set_status(
    scope: Scope, row: SlotRow, status: str, reason: str, expires: dt.datetime | None
) -> None:
    old = {"status": row.status, "hold_expires_at": row.hold_expires_at}
    row.status = status
    row.hold_expires_at = expires
    if status not in LIVE:
        row.closed_reason = reason
    scope.audit(
        "slot_change",
        "slot_requests",
        row.id,
        record_site_id=row.site_id,
        old=old,
        new={"status": status, "hold_expires_at": expires},
        reason=reason,
    )


def reconcile(scope: Scope, trial: Trial, now: dt.datetime) -> SlotPlan:
    """Bring holds and the waitlist up to date with the trial and the clock (locked, audited).

    Sites whose request is offered a slot, or whose hold lapses or is withdrawn, are told.
    """
    lock_slots(scope)
    state = trial_state(scope.session, trial, now.date())
    rows = {str(r.id): r for r in live_requests(scope)}
    plan = reconcile_slots(
        [_plain(r) for r in rows.values()], state.slots_open, now, trial.slot_policy
    )
    for change in plan.changes:
        row = rows[change.request]
        _set_status(scope, row, change.after, change.reason, change.expires_at)
        if change.after == "held":
            assert change.expires_at is not None
            message = (
                f"A slot at dose level {state.current_level} is held for your request "
                f"{row.reference!r} until {change.expires_at:%Y-%m-%d %H:%M} UTC."
            )
            notify(scope, "slot_offered", message, site_id=row.site_id, slot_request_id=row.id)
        elif change.after == "expired":
            notify(
                scope,
                "hold_expired",
                f"The hold for request {row.reference!r} lapsed: {change.reason}.",
                site_id=row.site_id,
                slot_request_id=row.id,
            )
        elif change.before == "held":
            notify(
                scope,
                "hold_withdrawn",
                f"The hold for request {row.reference!r} was withdrawn ({change.reason}); "
                "it is first on the waitlist.",
                site_id=row.site_id,
                slot_request_id=row.id,
            )
    scope.session.flush()
    return plan


def request_slot(
    scope: Scope,
    trial: Trial,
    reference: str,
    now: dt.datetime,
    site_id: str | None = None,
) -> tuple[SlotRow, SlotPlan]:
    """A site asks for a slot: it is held if one is free, else the request waits in line.

    `reference` is the site's own pseudonymous label (no patient data before consent).
    Site staff ask for their own site; the study chair may ask on a site's behalf.
    """
    scope.require_role(CLINICAL_WRITERS, "request a slot")
    site = scope.actor.site_id if scope.actor.site_scoped else site_id
    if site_id is not None and scope.actor.site_scoped and site_id != scope.actor.site_id:
        raise PermissionDenied("site staff request slots for their own site only")
    if not site or scope.session.get(Site, site) is None:
        raise InputError([Problem("site_id", f"no site {site!r}")])
    reference = reference.strip()
    if not 1 <= len(reference) <= 64:
        raise InputError([Problem("reference", "a site label of 1-64 characters is required")])
    lock_slots(scope)
    row = SlotRow(
        site_id=site,
        reference=reference,
        requested_at=now,
        status="waitlisted",
        priority=0,
        created_by=scope.actor.user_id,
    )
    scope.session.add(row)
    scope.session.flush()
    scope.audit(
        "create",
        "slot_requests",
        row.id,
        record_site_id=site,
        new={"site_id": site, "reference": reference, "requested_at": now},
    )
    plan = reconcile(scope, trial, now)
    if row.status == "waitlisted":
        position = plan.position(str(row.id))
        notify(
            scope,
            "waitlisted",
            f"Request {reference!r} is number {position} on the waitlist; you will be told "
            "when a slot is held for it.",
            site_id=site,
            slot_request_id=row.id,
        )
    return row, plan


def get_request(scope: Scope, request_id: int) -> SlotRow:
    row = scope.session.get(SlotRow, request_id)
    if row is None or row.voided or not scope.actor.sees_site(row.site_id):
        raise NotFoundError(f"no slot request {request_id}")
    return row


def release_slot(
    scope: Scope, trial: Trial, request_id: int, reason: str, now: dt.datetime
) -> SlotPlan:
    """The site gives up a hold or leaves the waitlist; the slot passes down the line."""
    scope.require_role(CLINICAL_WRITERS, "release a slot")
    lock_slots(scope)
    row = get_request(scope, request_id)
    if row.status not in LIVE:
        raise ConflictError(f"slot request {request_id} is already {row.status}")
    if not reason.strip():
        raise InputError([Problem("reason", "say why the slot is released")])
    _set_status(scope, row, "released" if row.status == "held" else "cancelled", reason, None)
    return reconcile(scope, trial, now)


def prioritise(
    scope: Scope, trial: Trial, request_id: int, priority: int, reason: str, now: dt.datetime
) -> SlotPlan:
    """The sponsor moves a request ahead of first-come order, with a recorded reason."""
    scope.require_role(DECISION_WRITERS, "override the waitlist order")
    if not reason.strip():
        raise InputError([Problem("reason", "an override of the waitlist order needs a reason")])
    lock_slots(scope)
    row = get_request(scope, request_id)
    scope.audit(
        "update",
        "slot_requests",
        row.id,
        record_site_id=row.site_id,
        field="priority",
        old=row.priority,
        new=priority,
        has_old=True,
        reason=reason,
    )
    row.priority = priority
    row.priority_reason = reason
    return reconcile(scope, trial, now)


def waitlist(scope: Scope, trial: Trial, now: dt.datetime) -> SlotPlan:
    """The current holds and waitlist (read-only view; no changes are written)."""
    state = trial_state(scope.session, trial, now.date())
    rows = live_requests(scope)
    return reconcile_slots([_plain(r) for r in rows], state.slots_open, now, trial.slot_policy)
