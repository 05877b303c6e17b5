"""The trial's state is kept per audit-chain version: a committed change is seen at once,
and a transaction's own uncommitted changes are never answered from what was kept."""

from __future__ import annotations

import datetime as dt

from phaseone.trial import evaluate
from phaseone.workflow import registration as reg_service
from phaseone.workflow.history import load_history, trial_state

from .conftest import T0, World


def pending_codes(world: World, day: dt.date) -> set[str]:
    with world.as_user("chair") as scope:
        return {w.patient for w in trial_state(scope.session, world.trial, day).pending}


def test_a_committed_registration_is_in_the_next_state(world: World) -> None:
    day = T0.date()
    assert pending_codes(world, day) == set()
    assert pending_codes(world, day) == set()  # the second read is the kept one
    patient = world.enrol("chla", T0)
    slot = world.request("chla", T0)
    world.register("chla", patient, slot, T0)
    # The registered patient's DLT window is open: the new state shows it.
    assert pending_codes(world, day) == {"CHLA-001"}
    with world.as_user("chair") as scope:
        kept = trial_state(scope.session, world.trial, day)
        fresh = evaluate(world.trial.protocol, load_history(scope.session), day, world.trial.design)
    for name in ("current_level", "slots_open", "levels", "pending", "proposal", "accrual"):
        assert getattr(kept, name) == getattr(fresh, name), name


def test_a_transactions_own_registration_is_seen_before_it_commits(world: World) -> None:
    day = T0.date()
    patient = world.enrol("chop", T0)
    slot = world.request("chop", T0)
    with world.as_user("coord.chop") as scope:
        before = trial_state(scope.session, world.trial, day)
        assert before.pending == ()
        reg_service.register(
            scope,
            world.trial,
            patient_id=patient,
            slot_request_id=slot,
            start_date=day,
            height_cm=121.5,
            weight_kg=22.4,
            now=T0,
        )
        during = trial_state(scope.session, world.trial, day)
        assert {w.patient for w in during.pending} == {"CHOP-001"}
