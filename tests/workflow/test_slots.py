"""Slot holds, expiry, the first-come waitlist and notifications, through the services."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from phaseone.store.errors import ConflictError
from phaseone.store.models import Notification
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.workflow import slots as slot_service
from phaseone.workflow.adjudication import refresh

from .conftest import T0, World

HOUR = dt.timedelta(hours=1)


def statuses(world: World) -> dict[int, str]:
    with world.db.transaction() as session:
        return {r.id: r.status for r in session.scalars(select(SlotRow))}


def notes(world: World, kind: str) -> list[Notification]:
    with world.db.transaction() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == kind)))


def fill_level(world: World) -> list[int]:
    """Six holds: every slot of a newly opened rolling-six level."""
    sites = ["chla", "chop", "ucsf", "chla", "chop", "ucsf"]
    return [world.request(site, T0 + i * dt.timedelta(minutes=1)) for i, site in enumerate(sites)]


def test_six_holds_then_the_waitlist_in_order_of_request(world: World) -> None:
    held = fill_level(world)
    late = world.request("chla", T0 + 30 * dt.timedelta(minutes=1), "late")
    early = world.request("chop", T0 + 20 * dt.timedelta(minutes=1), "early")
    assert [statuses(world)[i] for i in held] == ["held"] * 6
    assert statuses(world)[late] == statuses(world)[early] == "waitlisted"
    with world.as_user("chair") as scope:
        plan = slot_service.waitlist(scope, world.trial, T0 + HOUR)
        # First come, first served by the time of the request, not by the order of entry.
        assert [int(r.id) for r in plan.waitlist] == [early, late]
    told = notes(world, "waitlisted")
    assert {n.site_id for n in told} == {"chla", "chop"}
    assert any("number 1 on the waitlist" in n.message for n in told)


def test_a_lapsed_hold_passes_to_the_first_on_the_waitlist(world: World) -> None:
    held = fill_level(world)
    waiting = world.request("ucsf", T0 + HOUR, "waiting")
    later = world.request("chla", T0 + 2 * HOUR, "later")
    # The bundled policy holds a slot for 48 hours.
    with world.as_user("chair") as scope:
        refresh(scope, world.trial, T0 + 47 * HOUR)
    assert statuses(world)[held[0]] == "held"
    with world.as_user("chair") as scope:
        refresh(scope, world.trial, T0 + 49 * HOUR)
    now = statuses(world)
    assert now[held[0]] == "expired"
    # Every one of the six lapsed; the two waiting requests get holds, in order.
    assert all(now[i] == "expired" for i in held)
    assert now[waiting] == now[later] == "held"
    offers = notes(world, "slot_offered")
    assert [n.slot_request_id for n in offers][-2:] == [waiting, later]
    assert len(notes(world, "hold_expired")) == 6


def test_releasing_a_hold_offers_it_down_the_line(world: World) -> None:
    held = fill_level(world)
    waiting = world.request("ucsf", T0 + HOUR, "waiting")
    with world.as_user("coord.chla") as scope:
        slot_service.release_slot(scope, world.trial, held[0], "family declined", T0 + 2 * HOUR)
    assert statuses(world)[held[0]] == "released"
    assert statuses(world)[waiting] == "held"
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError, match="already"):
        slot_service.release_slot(scope, world.trial, held[0], "again", T0 + 2 * HOUR)


def test_the_sponsor_may_move_a_request_ahead_with_a_reason(world: World) -> None:
    held = fill_level(world)
    first = world.request("ucsf", T0 + HOUR, "first")
    second = world.request("chop", T0 + 2 * HOUR, "second")
    with world.as_user("chair") as scope:
        slot_service.prioritise(
            scope, world.trial, second, 1, "sibling donor timing", T0 + 3 * HOUR
        )
    with world.as_user("coord.chla") as scope:
        slot_service.release_slot(scope, world.trial, held[0], "not eligible", T0 + 4 * HOUR)
    assert statuses(world)[second] == "held"
    assert statuses(world)[first] == "waitlisted"


def _concurrent_last_slot(world: World, *, meet_inside: bool) -> None:
    """Two sites ask for the sixth slot together. On PostgreSQL both transactions are open
    and have read before either asks; SQLite admits one writing transaction at a time, so
    there the two meet just before opening theirs."""
    fill = [
        world.request(s, T0 + i * dt.timedelta(minutes=1))
        for i, s in enumerate(["chla", "chop", "ucsf", "chla", "chop"])
    ]
    assert len(fill) == 5
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def ask(site: str) -> None:
        try:
            if not meet_inside:
                barrier.wait(timeout=10)
            with world.as_user(f"coord.{site}") as scope:
                if meet_inside:
                    barrier.wait(timeout=10)
                row, _ = slot_service.request_slot(scope, world.trial, f"last {site}", T0 + HOUR)
                results[site] = row.status
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(site,)) for site in ("chop", "ucsf")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(results.values()) == ["held", "waitlisted"]
    live = [s for s in statuses(world).values() if s == "held"]
    assert len(live) == 6


@pytest.mark.postgres
def test_two_sites_asking_for_the_last_slot_at_once_on_postgresql(pg_world: World) -> None:
    _concurrent_last_slot(pg_world, meet_inside=True)


def test_two_sites_asking_for_the_last_slot_at_once_on_sqlite(world: World) -> None:
    _concurrent_last_slot(world, meet_inside=False)
