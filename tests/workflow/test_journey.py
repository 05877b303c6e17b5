"""A site coordinator's patient from screening to registration, doses, labs and AEs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from phaseone.errors import InputError, NotFoundError
from phaseone.store import records
from phaseone.store.errors import AuthenticationError, ConflictError, PermissionDenied
from phaseone.store.models import AuditRecord, ScreeningEvaluation
from phaseone.workflow import registration as reg_service
from phaseone.workflow import screening as screen_service
from phaseone.workflow import slots as slot_service
from phaseone.workflow import treatment as treat_service

from .conftest import PASSWORD, POLICY, T0, World


def actions(world: World) -> list[tuple[str, str]]:
    with world.db.transaction() as session:
        return [(r.action, r.entity) for r in session.scalars(select(AuditRecord))]


def test_screen_sign_hold_register_and_treat(world: World) -> None:
    patient_id = world.enrol("chla", T0)
    with world.as_user("coord.chla") as scope:
        evaluation = screen_service.latest_screening(scope, patient_id)
        assert evaluation is not None
        assert evaluation.overall == "eligible"
        assert evaluation.dose_level == 1  # screened for the level open now
        by_id = {c.criterion_id: c for c in evaluation.criteria}
        assert by_id["inc-high-risk"].result == "met"
        assert by_id["inc-high-risk"].evidence["reason"]
        # Isotretinoin-only criteria do not apply on level 1 (no isotretinoin).
        assert "not applicable at dose level 1" in (evaluation.notes or "")
        assert screen_service.is_signed(scope, evaluation)

    slot_id = world.request("chla", T0, "CHLA pre-consent 1")
    level = world.register("chla", patient_id, slot_id, T0)
    assert level == 1
    with world.as_user("coord.chla") as scope:
        (course,) = reg_service.courses_of(scope, patient_id)
        plan = reg_service.course_plan(world.trial, course)
        day1 = plan.courses[0].days[0]
        assert [a.agent_id for a in day1.administrations] == ["lenalidomide"]
        # 15 mg/m2/day x BSA 0.87 m2 (Mosteller, 121.5 cm, 22.4 kg) = 13.05 mg/day, given
        # from whole capsules (2.5-25 mg).
        assert course.bsa_m2 == 0.87

        given = treat_service.record_dose(
            scope, world.trial, patient_id=patient_id, course=1, day=1, agent_id="lenalidomide"
        )
        assert given.given_dose == given.planned_dose
        with pytest.raises(InputError, match="reason"):
            treat_service.record_dose(
                scope,
                world.trial,
                patient_id=patient_id,
                course=1,
                day=2,
                agent_id="lenalidomide",
                given=False,
            )
    with world.as_user("coord.chla") as scope:
        missed = treat_service.record_dose(
            scope,
            world.trial,
            patient_id=patient_id,
            course=1,
            day=2,
            agent_id="lenalidomide",
            given=False,
            reason="vomited before the dose",
        )
        day2 = plan.courses[0].days[1].administrations[0].mg
        assert missed.given_dose == 0 and missed.planned_dose == day2

        # ANC 400/uL: CTCAE v4.03 neutrophil count decreased grade 4 (< 500/mm3).
        lab, graded = treat_service.record_lab(
            scope,
            world.trial,
            patient_id=patient_id,
            analyte_id="anc",
            value=400,
            unit="/uL",
            collected_on=T0.date() + dt.timedelta(days=7),
            course=1,
        )
        assert graded.grade is not None and graded.grade.grade == 4
        assert graded.grade.term == "Neutrophil count decreased"
        assert lab.lower_normal == graded.lln

        event = treat_service.record_adverse_event(
            scope,
            world.trial,
            patient_id=patient_id,
            term="Diarrhea",
            grade=2,
            onset=T0.date() + dt.timedelta(days=5),
            attribution={"lenalidomide": "possible"},
            course=1,
        )
        assert event.meddra_term == "Diarrhea" and event.ctcae_version == "4.03"
        with pytest.raises(InputError) as err:
            treat_service.record_adverse_event(
                scope,
                world.trial,
                patient_id=patient_id,
                term="Diarhea",
                grade=2,
                onset=T0.date(),
                attribution={"aspirin": "possible"},
            )
        assert [p.path for p in err.value.problems] == ["term", "attribution.aspirin"]
        assert "Diarrhea" in err.value.problems[0].message

    done = actions(world)
    for step in [
        ("create", "patients"),
        ("create", "screening_evaluations"),
        ("sign", "screening_evaluations"),
        ("create", "slot_requests"),
        ("slot_change", "slot_requests"),
        ("create", "registrations"),
        ("create", "courses"),
        ("create", "dose_administrations"),
        ("create", "lab_results"),
        ("create", "adverse_events"),
        ("notify", "notifications"),
    ]:
        assert step in done, step


def test_registration_needs_a_signed_eligible_screening(world: World) -> None:
    with world.as_user("coord.chla") as scope:
        patient = screen_service.add_patient(
            scope, site_id="chla", subject_code="CHLA-X", birth_date=dt.date(2017, 1, 1), sex="F"
        )
        screen_service.screen(scope, world.trial, patient.id, _record("CHLA-X"), T0.date())
        patient_id = patient.id
    slot = world.request("chla", T0)
    with pytest.raises(ConflictError, match="no valid site investigator signature"):
        world.register("chla", patient_id, slot, T0)


def test_the_coordinator_cannot_sign_for_the_investigator(world: World) -> None:
    patient_id = world.enrol("chla", T0)
    with world.as_user("coord.chla") as scope:
        evaluation = screen_service.latest_screening(scope, patient_id)
        assert evaluation is not None
        with pytest.raises(PermissionDenied):
            screen_service.sign_eligibility(scope, evaluation.id, "coord.chla", PASSWORD, POLICY)
    with world.as_user("inv.chla") as scope, pytest.raises(AuthenticationError):
        screen_service.sign_eligibility(scope, evaluation.id, "inv.chla", "wrong", POLICY)


def test_a_screening_for_another_level_must_be_repeated(world: World) -> None:
    patient_id = world.enrol("chla", T0, level=2)
    slot = world.request("chla", T0)
    with pytest.raises(ConflictError, match="screen again for dose level 1"):
        world.register("chla", patient_id, slot, T0)


def test_a_site_user_cannot_act_on_another_sites_patient(world: World) -> None:
    patient_id = world.patient_on("chla", T0, doses=1)
    with world.as_user("coord.chop") as scope:
        with pytest.raises(NotFoundError):
            screen_service.screen(scope, world.trial, patient_id, _record("X"), T0.date())
        with pytest.raises(NotFoundError):
            treat_service.record_dose(
                scope, world.trial, patient_id=patient_id, course=1, day=3, agent_id="lenalidomide"
            )
        with pytest.raises(NotFoundError):
            treat_service.record_lab(
                scope,
                world.trial,
                patient_id=patient_id,
                analyte_id="anc",
                value=1000,
                unit="/uL",
                collected_on=T0.date(),
            )
        with pytest.raises(NotFoundError):
            treat_service.end_treatment(
                scope,
                world.trial,
                patient_id=patient_id,
                ended_on=T0.date(),
                reason="physician_decision",
            )
        assert screen_service.latest_screening(scope, patient_id) is None
        with pytest.raises(PermissionDenied):
            slot_service.request_slot(scope, world.trial, "x", T0, site_id="chla")
    chla_slot = world.request("chla", T0)
    other = world.enrol("chop", T0)
    with world.as_user("coord.chop") as scope:
        with pytest.raises(NotFoundError):
            slot_service.release_slot(scope, world.trial, chla_slot, "not mine", T0)
        with pytest.raises(NotFoundError):
            reg_service.register(
                scope,
                world.trial,
                patient_id=other,
                slot_request_id=chla_slot,
                start_date=T0.date(),
                height_cm=120,
                weight_kg=22,
                now=T0,
            )


def test_off_treatment_and_off_study_need_a_reason(world: World) -> None:
    patient_id = world.patient_on("chla", T0, doses=3)
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError, match="expected one of"):
            treat_service.end_treatment(
                scope, world.trial, patient_id=patient_id, ended_on=T0.date(), reason="bored"
            )
        treat_service.end_treatment(
            scope,
            world.trial,
            patient_id=patient_id,
            ended_on=T0.date() + dt.timedelta(days=4),
            reason="patient_or_guardian_withdrawal",
        )
        with pytest.raises(InputError, match="needs a reason"):
            treat_service.clinical_event(
                scope, world.trial, patient_id=patient_id, kind="off_study", on=T0.date()
            )
        treat_service.clinical_event(
            scope,
            world.trial,
            patient_id=patient_id,
            kind="off_study",
            on=T0.date(),
            cause="withdrawal",
        )
        treat_service.follow_up(
            scope, patient_id=patient_id, contact_date=T0.date(), vital_status="alive"
        )
        evaluation = scope.session.scalar(select(ScreeningEvaluation))
        assert records.present(evaluation, scope.actor)["criteria"]


def _record(code: str) -> dict[str, object]:
    from phaseone.demo.records import screening_record

    return screening_record(code, "chla", T0.date(), sex="female", birth_date=dt.date(2017, 1, 1))
