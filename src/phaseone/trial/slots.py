"""Slot holds and the waitlist.

A site asks for a slot. While the open dose level has a slot that no one holds, the
request is held for the policy's time (`hold_hours`, data/slot_policy.yaml); otherwise it
joins the waitlist. The waitlist is first come, first served by the time of the request;
a sponsor override (a higher `priority`, with its reason recorded by the caller) goes
first. `reconcile_slots` is run whenever anything changes (a request, a registration, a
determination, a decision, the clock): it lets lapsed holds expire, withdraws the newest
holds when accrual closes under them, and offers free slots down the waitlist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from phaseone.errors import InputError, Problem
from phaseone.protocol.provenance import Provenance

SlotStatus = Literal["held", "waitlisted", "registered", "expired", "released", "cancelled"]
LIVE: frozenset[str] = frozenset({"held", "waitlisted"})


@dataclass(frozen=True)
class SlotPolicy:
    hold_hours: float
    provenance: Provenance
    waitlist_order: Literal["first_come"] = "first_come"

    @property
    def hold(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hold_hours)


@cache
def _default_policy() -> SlotPolicy:
    text = resources.files("phaseone.trial").joinpath("data/slot_policy.yaml").read_text()
    data = yaml.safe_load(text)
    return SlotPolicy(
        hold_hours=float(data["hold_hours"]),
        provenance=Provenance.model_validate(data["provenance"]),
        waitlist_order=data["waitlist_order"],
    )


def load_slot_policy(hold_hours: float | None = None) -> SlotPolicy:
    """The bundled policy (an assumption: the real rules are not public), optionally with
    another hold time, which then carries its own provenance."""
    policy = _default_policy()
    if hold_hours is None:
        return policy
    if not hold_hours > 0:
        raise InputError([Problem("hold_hours", f"expected a positive number, got {hold_hours}")])
    note = f"configured for this deployment ({hold_hours:g} hours)"
    provenance = Provenance(source="assumed", note=note)
    return replace(policy, hold_hours=hold_hours, provenance=provenance)


@dataclass(frozen=True)
class SlotRequest:
    """A site's request for a slot. Waitlist entries hold no patient data before consent:
    `reference` is the site's own pseudonymous label."""

    id: str
    site: str
    requested_at: dt.datetime
    status: SlotStatus
    hold_expires_at: dt.datetime | None = None
    priority: int = 0
    reference: str | None = None


@dataclass(frozen=True)
class SlotChange:
    request: str
    site: str
    before: SlotStatus
    after: SlotStatus
    expires_at: dt.datetime | None
    reason: str


@dataclass(frozen=True)
class SlotPlan:
    """The requests after reconciling, and the changes to make (and audit)."""

    as_of: dt.datetime
    slots_open: int
    changes: tuple[SlotChange, ...]
    held: tuple[SlotRequest, ...]
    waitlist: tuple[SlotRequest, ...]

    @property
    def free(self) -> int:
        return max(self.slots_open - len(self.held), 0)

    def position(self, request_id: str) -> int | None:
        """1-based place on the waitlist, or None if not waiting."""
        for i, r in enumerate(self.waitlist):
            if r.id == request_id:
                return i + 1
        return None

    def request(self, request_id: str) -> SlotRequest | None:
        for r in (*self.held, *self.waitlist):
            if r.id == request_id:
                return r
        return None


def waitlist_key(r: SlotRequest) -> tuple[int, dt.datetime, str]:
    return (-r.priority, r.requested_at, r.id)


def _check(requests: list[SlotRequest], slots_open: int, as_of: dt.datetime) -> None:
    problems: list[Problem] = []
    if as_of.tzinfo is None:
        problems.append(Problem("as_of", "expected a UTC time with its zone"))
    if slots_open < 0:
        problems.append(Problem("slots_open", f"expected 0 or more, got {slots_open}"))
    seen: set[str] = set()
    for i, r in enumerate(requests):
        if r.id in seen:
            problems.append(Problem(f"requests[{i}].id", f"{r.id!r} appears twice"))
        seen.add(r.id)
        if r.requested_at.tzinfo is None:
            problems.append(Problem(f"requests[{i}].requested_at", "expected a time with its zone"))
        if r.status == "held" and r.hold_expires_at is None:
            problems.append(Problem(f"requests[{i}].hold_expires_at", "a hold needs its expiry"))
    if problems:
        raise InputError(problems)


def reconcile_slots(
    requests: list[SlotRequest] | tuple[SlotRequest, ...],
    slots_open: int,
    as_of: dt.datetime,
    policy: SlotPolicy,
) -> SlotPlan:
    """Expire lapsed holds, withdraw holds beyond the open slots, offer free slots in order."""
    requests = list(requests)
    _check(requests, slots_open, as_of)
    changes: list[SlotChange] = []
    held: list[SlotRequest] = []
    waiting: list[SlotRequest] = []
    for r in requests:
        if r.status == "held":
            assert r.hold_expires_at is not None
            if r.hold_expires_at <= as_of:
                changes.append(
                    SlotChange(
                        r.id,
                        r.site,
                        "held",
                        "expired",
                        r.hold_expires_at,
                        f"hold lapsed at {r.hold_expires_at.isoformat()}",
                    )
                )
            else:
                held.append(r)
        elif r.status == "waitlisted":
            waiting.append(r)

    # Accrual closed under some holds: the newest give their slot back and wait first.
    held.sort(key=waitlist_key)
    while len(held) > slots_open:
        r = held.pop()
        changes.append(
            SlotChange(
                r.id,
                r.site,
                "held",
                "waitlisted",
                None,
                "slot withdrawn: accrual at the open level is on hold",
            )
        )
        waiting.append(replace(r, status="waitlisted", hold_expires_at=None))

    waiting.sort(key=waitlist_key)
    expires = as_of + policy.hold
    while waiting and len(held) < slots_open:
        r = waiting.pop(0)
        changes.append(
            SlotChange(
                r.id,
                r.site,
                "waitlisted",
                "held",
                expires,
                f"slot held until {expires.isoformat()} ({policy.hold_hours:g} h)",
            )
        )
        held.append(replace(r, status="held", hold_expires_at=expires))
    return SlotPlan(as_of, slots_open, tuple(changes), tuple(held), tuple(waiting))
