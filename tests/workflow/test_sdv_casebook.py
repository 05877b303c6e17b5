"""Source-data verification marks and the casebook's signature and lock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from phaseone.errors import InputError, NotFoundError
from phaseone.store import records
from phaseone.store.errors import AuthenticationError, ConflictError, PermissionDenied
from phaseone.store.models import AuditRecord
from phaseone.store.scope import Scope
from phaseone.workflow import casebook, corrections, sdv
from phaseone.workflow import treatment as treat_service
from tests.workflow.conftest import PASSWORD, POLICY, T0, World, lab

LATER = T0 + dt.timedelta(days=1)


def labs_key(patient_id: int) -> str:
    return f"labs:{patient_id}:{T0.date().isoformat()}"


def states(world: World, patient_id: int, who: str = "monitor") -> dict[str, str]:
    with world.as_user(who) as scope:
        return {f.key: f.state for f in sdv.patient_forms(scope, patient_id)}


def test_a_verified_form_shows_changed_after_a_correction_and_counts_in_progress(
    two_sites,
) -> None:
    world, chla, _, lab_id = two_sites
    key = labs_key(chla)
    assert states(world, chla)[key] == "not_verified"
    with world.as_user("monitor") as scope:
        sdv.verify(scope, key, now=T0)
    assert states(world, chla)[key] == "verified"
    # The site sees its own form's state; another site does not see the patient at all.
    assert states(world, chla, "coord.chla")[key] == "verified"
    with world.as_user("coord.chop") as scope, pytest.raises(NotFoundError):
        sdv.patient_forms(scope, chla)
    with world.as_user("coord.chla") as scope:
        corrections.correct(
            scope,
            world.trial,
            "lab_results",
            lab_id,
            {"value": 1.1},
            "transcription",
            today=LATER.date(),
        )
    assert states(world, chla)[key] == "changed"
    # A new record on the same date joins the form: verifying again, then adding, changes it.
    with world.as_user("monitor") as scope:
        sdv.verify(scope, key, now=LATER)
    assert states(world, chla)[key] == "verified"
    lab(world, "chla", chla, value=1.0)
    assert states(world, chla)[key] == "changed"
    with world.as_user("monitor") as scope:
        by_site = {p.key: (p.forms, p.verified, p.changed) for p in sdv.progress(scope)}
        by_patient = {p.key: p.forms for p in sdv.progress(scope, by="patient")}
    # Forms: each patient's screening and the doses of course 1; CHLA also the labs of T0.
    assert by_site == {"chla": (3, 0, 1), "chop": (2, 0, 0)}
    assert by_patient == {"CHLA-001": 3, "CHOP-002": 2}
    with world.as_user("inv.chop") as scope:
        assert [p.key for p in sdv.progress(scope)] == ["chop"]


def test_only_the_monitor_verifies_and_the_statistician_sees_no_sdv(two_sites) -> None:
    world, chla, _, _ = two_sites
    for who in ("chair", "coord.chla", "inv.chla", "stat", "admin"):
        with world.as_user(who) as scope, pytest.raises(PermissionDenied):
            sdv.verify(scope, labs_key(chla), now=T0)
    with world.as_user("stat") as scope, pytest.raises(PermissionDenied):
        sdv.progress(scope)
    with world.as_user("monitor") as scope, pytest.raises(InputError) as bad:
        sdv.verify(scope, "vitals:1:x", now=T0)
    assert bad.value.problems[0].path == "form_key"


def test_a_signed_casebook_refuses_every_write_until_unlocked_then_shows_broken(
    two_sites,
) -> None:
    world, chla, chop, lab_id = two_sites
    with world.as_user("coord.chla") as scope, pytest.raises(PermissionDenied):
        casebook.sign(scope, chla, username="coord.chla", password=PASSWORD, policy=POLICY, now=T0)
    with world.as_user("inv.chla") as scope, pytest.raises(AuthenticationError):
        casebook.sign(scope, chla, username="inv.chla", password="wrong", policy=POLICY, now=T0)
    with world.as_user("inv.chla") as scope:
        sig = casebook.sign(
            scope, chla, username="inv.chla", password=PASSWORD, policy=POLICY, now=T0
        )
        assert sig.printed_name == "Inv Chla"
    # Every door to the patient's data is shut: a correction, a new lab, a dose, a void.
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError):
        corrections.correct(
            scope,
            world.trial,
            "lab_results",
            lab_id,
            {"value": 1.1},
            "late fix",
            today=LATER.date(),
        )
    with pytest.raises(ConflictError):
        lab(world, "chla", chla, value=1.0)
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError):
        treat_service.record_dose(
            scope, world.trial, patient_id=chla, course=1, day=3, agent_id="lenalidomide"
        )
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError):
        corrections.void(scope, "lab_results", lab_id, "entered twice")
    # The other site's patient is not locked.
    lab(world, "chop", chop, value=0.9)
    for who in ("coord.chla", "inv.chla", "monitor", "stat"):
        with world.as_user(who) as scope, pytest.raises(PermissionDenied):
            casebook.unlock(scope, chla, reason="query", now=LATER)
    with world.as_user("chair") as scope, pytest.raises(InputError):
        casebook.unlock(scope, chla, reason=" ", now=LATER)
    with world.as_user("chair") as scope:
        casebook.unlock(scope, chla, reason="monitor query 4 needs a correction", now=LATER)
        assert casebook.state(scope, chla).signatures[0].status == "valid"
    with world.as_user("coord.chla") as scope:
        corrections.correct(
            scope,
            world.trial,
            "lab_results",
            lab_id,
            {"value": 1.1},
            "late fix",
            today=LATER.date(),
        )
    with world.as_user("monitor") as scope:
        found = casebook.state(scope, chla)
    assert (found.locked, [s.status for s in found.signatures]) == (False, ["broken"])
    with world.db.transaction() as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.entity == "casebooks")
        ).all()
        assert actions == ["sign", "casebook_unlock"]
        assert (
            records.content(session.get(records.SPECS["lab_results"].model, lab_id))["value"] == 1.1
        )


def _creatinine(scope: Scope, world: World, patient_id: int) -> None:
    treat_service.record_lab(
        scope,
        world.trial,
        patient_id=patient_id,
        analyte_id="creatinine",
        value=1.0,
        unit="mg/dL",
        collected_on=T0.date(),
        course=1,
    )


def test_a_lab_write_sees_a_lock_taken_after_its_session_last_read_the_casebook(
    two_sites,
) -> None:
    # A lab write reads the lock with the patient and the course; what it read holds for
    # its own transaction only, and a lock taken within that transaction is seen at once.
    world, chla, chop, _ = two_sites
    with world.as_user("coord.chla") as scope:
        _creatinine(scope, world, chla)  # read as unlocked
        scope.session.commit()
        with world.as_user("inv.chla") as other:
            casebook.sign(
                other, chla, username="inv.chla", password=PASSWORD, policy=POLICY, now=T0
            )
        with pytest.raises(ConflictError):
            _creatinine(scope, world, chla)
    with world.as_user("inv.chop") as scope:
        _creatinine(scope, world, chop)  # read as unlocked
        casebook.sign(scope, chop, username="inv.chop", password=PASSWORD, policy=POLICY, now=T0)
        with pytest.raises(ConflictError):
            _creatinine(scope, world, chop)
