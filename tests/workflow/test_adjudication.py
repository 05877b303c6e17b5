"""DLT windows end, the rules propose, the chair signs; the design proposes, the chair confirms.

Expected decisions are read by hand from the rolling-six grid of Frankel et al., JAMA Netw
Open 2020, Table 2 (the bundled protocol's grid): 3 enrolled, 3 evaluable, 0 DLT ->
escalate; 2 DLTs on a level -> de-escalate; 6 enrolled with outcomes pending -> hold.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from phaseone.store import records
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import (
    AuditRecord,
    DltDetermination,
    EscalationDecision,
    Notification,
    SlotRequest,
)
from phaseone.trial import LevelState
from phaseone.workflow import treatment as treat_service
from phaseone.workflow.adjudication import (
    change_determination,
    confirm_decision,
    open_decisions,
    refresh,
    sign_determination,
)
from phaseone.workflow.history import trial_state, valid_signature

from .conftest import PASSWORD, POLICY, T0, World

DAY = dt.timedelta(days=1)
WINDOW_OVER = T0 + 28 * DAY  # course 1 day 28 is T0 + 27 days


def determinations(world: World) -> list[DltDetermination]:
    with world.db.transaction() as session:
        return list(session.scalars(select(DltDetermination).order_by(DltDetermination.id)))


def sign_all(world: World, now: dt.datetime) -> list[tuple[str, int | None]]:
    """The chair signs every open determination; returns the proposal after each."""
    proposals = []
    for det in determinations(world):
        with world.as_user("chair") as scope:
            if det.voided or valid_signature(
                scope.session, "dlt_determinations", det, "dlt-determination"
            ):
                continue
            decision = sign_determination(
                scope,
                world.trial,
                det.id,
                username="chair",
                password=PASSWORD,
                policy=POLICY,
                now=now,
            )
            proposals.append((decision.decision, decision.dose_level))
    return proposals


def confirm_open(world: World, now: dt.datetime) -> None:
    with world.as_user("chair") as scope:
        (decision,) = open_decisions(scope)
        confirm_decision(
            scope,
            world.trial,
            decision.id,
            username="chair",
            password=PASSWORD,
            policy=POLICY,
            now=now,
        )


def state(world: World, now: dt.datetime):  # type: ignore[no-untyped-def]
    with world.db.transaction() as session:
        return trial_state(session, world.trial, now.date())


def three_without_dlt(world: World) -> list[int]:
    return [world.patient_on(site, T0) for site in ("chla", "chop", "ucsf")]


def test_three_without_dlt_escalate_after_the_chair_confirms(world: World) -> None:
    three_without_dlt(world)
    with world.as_user("chair") as scope:
        assert refresh(scope, world.trial, WINDOW_OVER - DAY) == []  # windows still open
    with world.as_user("chair") as scope:
        made = refresh(scope, world.trial, WINDOW_OVER)
        assert [(d.is_dlt, d.evaluable, d.rule) for d in made] == [(False, True, "no_dlt")] * 3
    # Unsigned, they do not count yet.
    assert state(world, WINDOW_OVER).level(1).pending == 3
    proposals = sign_all(world, WINDOW_OVER)
    # 1 then 2 evaluable of 3: same level; 3 of 3 without DLT: escalate.
    assert proposals == [("stay", 1), ("stay", 1), ("escalate", 2)]
    s = state(world, WINDOW_OVER)
    assert s.accrual is LevelState.AWAITING_DECISION and s.next_level is None

    waiting = world.request("chop", WINDOW_OVER, "waiting for level 2")
    confirm_open(world, WINDOW_OVER + dt.timedelta(hours=1))
    s = state(world, WINDOW_OVER)
    assert s.current_level == 2 and s.slots_open == 6
    assert s.level(1).state is LevelState.COMPLETED
    with world.db.transaction() as session:
        offered = session.scalar(
            select(Notification).where(
                Notification.kind == "slot_offered", Notification.slot_request_id == waiting
            )
        )
        assert offered is not None and "dose level 2" in offered.message
        broadcast = session.scalar(select(Notification).where(Notification.kind == "decision"))
        assert broadcast is not None and broadcast.site_id is None
        assert "escalate from dose level 1 to dose level 2" in broadcast.message
    patient = world.enrol("chop", WINDOW_OVER + DAY)
    assert world.register("chop", patient, waiting, WINDOW_OVER + DAY) == 2


def test_two_dlts_de_escalate_and_the_level_is_too_toxic(world: World) -> None:
    three_without_dlt(world)
    with world.as_user("chair") as scope:
        refresh(scope, world.trial, WINDOW_OVER)
    sign_all(world, WINDOW_OVER)
    confirm_open(world, WINDOW_OVER)
    start = WINDOW_OVER + DAY
    for site in ("chla", "chop"):
        patient_id = world.patient_on(site, start, doses=5)
        with world.as_user(f"coord.{site}") as scope:
            # Grade 3 diarrhea, possibly from lenalidomide: a non-hematologic DLT.
            treat_service.record_adverse_event(
                scope,
                world.trial,
                patient_id=patient_id,
                term="Diarrhea",
                grade=3,
                onset=start.date() + 4 * DAY,
                attribution={"lenalidomide": "possible", "dinutuximab": "unlikely"},
                course=1,
            )
            treat_service.end_treatment(
                scope,
                world.trial,
                patient_id=patient_id,
                ended_on=start.date() + 5 * DAY,
                reason="dlt",
            )
    later = start + 6 * DAY
    with world.as_user("chair") as scope:
        made = refresh(scope, world.trial, later)
        assert [(d.is_dlt, d.rule) for d in made] == [(True, "nonheme-grade3")] * 2
    proposals = sign_all(world, later)
    assert proposals[-1] == ("deescalate", 1)
    confirm_open(world, later)
    s = state(world, later)
    assert s.current_level == 1
    assert s.level(2).state is LevelState.TOO_TOXIC
    # Level 1 has 3 evaluable without DLT: it fills to 6 before an MTD can be declared.
    assert s.accrual is LevelState.OPEN and s.slots_open == 3


def test_six_pending_on_a_level_hold_accrual(world: World) -> None:
    for i, site in enumerate(["chla", "chop", "ucsf", "chla", "chop", "ucsf"]):
        now = T0 + i * dt.timedelta(hours=1)
        patient = world.enrol(site, now)
        world.register(site, patient, world.request(site, now), now)
    s = state(world, T0 + DAY)
    assert s.accrual is LevelState.SUSPENDED and s.slots_open == 0
    seventh = world.request("chla", T0 + DAY, "seventh")
    with world.db.transaction() as session:
        req = session.get(SlotRequest, seventh)
        assert req is not None and req.status == "waitlisted"


def test_a_determination_changed_after_signing_breaks_the_signature(world: World) -> None:
    three_without_dlt(world)
    with world.as_user("chair") as scope:
        refresh(scope, world.trial, WINDOW_OVER)
    sign_all(world, WINDOW_OVER)
    first = determinations(world)[0]
    (escalate,) = [d for d in _decisions(world) if not d.voided]
    assert escalate.decision == "escalate"
    with world.as_user("chair") as scope:
        change_determination(
            scope,
            world.trial,
            first.id,
            {"is_dlt": True},
            "late report: grade 3 rash on day 26 found in the chart",
            WINDOW_OVER,
        )
    with world.as_user("chair") as scope:
        det = records.get(scope, records.SPECS["dlt_determinations"], first.id)
        shown = records.present(
            det, scope.actor, records.signatures_for(scope, "dlt_determinations", [det.id])[det.id]
        )
        assert [s["status"] for s in shown["signatures"]] == ["broken"]
    with world.db.transaction() as session:
        entries = list(session.scalars(select(AuditRecord)))
        changed = [e for e in entries if e.action == "update" and e.field == "is_dlt"]
        assert changed and changed[0].reason.startswith("late report")
        assert any(e.action == "signature_broken" for e in entries)
    # Unsigned again, the patient is pending: the escalation is no longer what the design says.
    assert state(world, WINDOW_OVER).level(1).pending == 1
    with world.as_user("chair") as scope, pytest.raises(ConflictError, match="superseded"):
        confirm_decision(
            scope,
            world.trial,
            escalate.id,
            username="chair",
            password=PASSWORD,
            policy=POLICY,
            now=WINDOW_OVER,
        )


def test_only_the_chair_signs_determinations(world: World) -> None:
    three_without_dlt(world)
    with world.as_user("chair") as scope:
        refresh(scope, world.trial, WINDOW_OVER)
    first = determinations(world)[0]
    with world.as_user("inv.chla") as scope, pytest.raises((PermissionDenied,)):
        sign_determination(
            scope,
            world.trial,
            first.id,
            username="inv.chla",
            password=PASSWORD,
            policy=POLICY,
            now=WINDOW_OVER,
        )


def _decisions(world: World) -> list[EscalationDecision]:
    with world.db.transaction() as session:
        return list(session.scalars(select(EscalationDecision)))
