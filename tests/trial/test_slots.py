"""Slot holds with expiry and the first-come waitlist (trial-operations.md §1.5)."""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.errors import InputError
from phaseone.trial import SlotRequest, load_slot_policy, reconcile_slots

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
POLICY = load_slot_policy()


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def waiting(rid: str, minutes: int, site: str = "chla", priority: int = 0) -> SlotRequest:
    return SlotRequest(rid, site, at(minutes), "waitlisted", priority=priority)


def test_the_bundled_hold_time_is_an_assumption():
    assert POLICY.hold_hours == 48
    assert POLICY.provenance.is_assumed
    assert "not public" in (POLICY.provenance.note or "")


def test_a_free_slot_is_held_for_the_policy_time():
    plan = reconcile_slots([waiting("a", 0)], slots_open=1, as_of=at(5), policy=POLICY)
    (held,) = plan.held
    assert held.id == "a"
    assert held.hold_expires_at == at(5) + dt.timedelta(hours=48)
    (change,) = plan.changes
    assert (change.before, change.after) == ("waitlisted", "held")


def test_without_a_free_slot_requests_wait_in_the_order_they_came():
    requests = [waiting("late", 30, "chop"), waiting("early", 10, "ucsf"), waiting("mid", 20)]
    plan = reconcile_slots(requests, slots_open=0, as_of=at(40), policy=POLICY)
    assert [r.id for r in plan.waitlist] == ["early", "mid", "late"]
    assert plan.position("late") == 3
    assert plan.changes == ()


def test_the_first_come_gets_the_last_slot():
    requests = [waiting("second", 2, "chop"), waiting("first", 1, "ucsf")]
    plan = reconcile_slots(requests, slots_open=1, as_of=at(3), policy=POLICY)
    assert [r.id for r in plan.held] == ["first"]
    assert [r.id for r in plan.waitlist] == ["second"]


def test_a_sponsor_override_goes_first():
    requests = [waiting("a", 1), waiting("b", 2, priority=1)]
    plan = reconcile_slots(requests, slots_open=1, as_of=at(3), policy=POLICY)
    assert [r.id for r in plan.held] == ["b"]


def test_a_lapsed_hold_expires_and_the_slot_passes_down_the_waitlist():
    held = SlotRequest("a", "chla", at(0), "held", hold_expires_at=at(60))
    requests = [held, waiting("b", 10, "chop"), waiting("c", 20, "ucsf")]
    before = reconcile_slots(requests, slots_open=1, as_of=at(59), policy=POLICY)
    assert [r.id for r in before.held] == ["a"] and before.changes == ()
    plan = reconcile_slots(requests, slots_open=1, as_of=at(60), policy=POLICY)
    assert [(c.request, c.after) for c in plan.changes] == [("a", "expired"), ("b", "held")]
    assert [r.id for r in plan.held] == ["b"]
    assert plan.held[0].hold_expires_at == at(60) + dt.timedelta(hours=48)
    assert [r.id for r in plan.waitlist] == ["c"]


def test_the_hold_time_is_configurable():
    policy = load_slot_policy(hold_hours=2)
    plan = reconcile_slots([waiting("a", 0)], slots_open=1, as_of=at(0), policy=policy)
    assert plan.held[0].hold_expires_at == at(120)
    assert policy.provenance.is_assumed and "2 hours" in (policy.provenance.note or "")
    with pytest.raises(InputError, match="hold_hours"):
        load_slot_policy(hold_hours=0)


def test_when_accrual_closes_under_holds_the_newest_wait_first():
    requests = [
        SlotRequest("a", "chla", at(0), "held", hold_expires_at=at(600)),
        SlotRequest("b", "chop", at(5), "held", hold_expires_at=at(600)),
        waiting("c", 10, "ucsf"),
    ]
    plan = reconcile_slots(requests, slots_open=1, as_of=at(20), policy=POLICY)
    assert [r.id for r in plan.held] == ["a"]
    assert [r.id for r in plan.waitlist] == ["b", "c"]
    assert plan.changes[0].reason.startswith("slot withdrawn")


def test_finished_requests_are_left_alone():
    requests = [
        SlotRequest("a", "chla", at(0), "registered"),
        SlotRequest("b", "chla", at(1), "expired"),
        SlotRequest("c", "chla", at(2), "cancelled"),
        waiting("d", 3),
    ]
    plan = reconcile_slots(requests, slots_open=1, as_of=at(4), policy=POLICY)
    assert [r.id for r in plan.held] == ["d"]
    assert plan.free == 0


def test_times_need_their_zone_and_ids_are_unique():
    naive = SlotRequest("a", "chla", dt.datetime(2024, 3, 1), "waitlisted")
    with pytest.raises(InputError) as err:
        reconcile_slots([naive, naive], 1, dt.datetime(2024, 3, 1), POLICY)
    assert [p.path for p in err.value.problems] == [
        "as_of",
        "requests[0].requested_at",
        "requests[1].id",
        "requests[1].requested_at",
    ]
