"""Courses 2-12: new BSA and doses, dose modification, delays, the last course, the end of
treatment and dose intensity.

Expected doses are computed here from the protocol's numbers (Mosteller BSA to 2 decimals,
mg/m2/day x BSA), not read back from the dosing engine.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phaseone.errors import InputError, NotFoundError
from phaseone.store import records
from phaseone.store.errors import ConflictError
from phaseone.store.models import AuditRecord
from phaseone.store.testing import sqlite_database
from phaseone.workflow import Trial
from phaseone.workflow import courses as course_service
from phaseone.workflow import treatment as treat_service
from phaseone.workflow.adjudication import patient_window

from .conftest import T0, World, _seed

LENGTH = 28  # the bundled protocol's course length; asserted against the protocol below
START = T0.date()
DUE_2 = START + dt.timedelta(days=LENGTH)


def bsa(height_cm: float, weight_kg: float) -> float:
    """Mosteller (the protocol's formula), rounded to 2 decimals as the protocol says."""
    return round(math.sqrt(height_cm * weight_kg / 3600), 2)


def counts(world: World, patient_id: int, on: dt.date, anc: float = 1200) -> None:
    """The blood counts the protocol's start conditions read (ANC and platelets)."""
    with world.as_user("coord.chla") as scope:
        for analyte, value in (("anc", anc), ("platelets", 150_000)):
            treat_service.record_lab(
                scope,
                world.trial,
                patient_id=patient_id,
                analyte_id=analyte,
                value=value,
                unit="/uL",
                collected_on=on,
            )


def start(world: World, patient_id: int, on: dt.date, **extra: object) -> object:
    with world.as_user(str(extra.pop("user", "coord.chla"))) as scope:
        course, _, _ = course_service.start_course(
            scope,
            world.trial,
            patient_id=patient_id,
            start_date=on,
            height_cm=float(extra.pop("height_cm", 125.0)),  # type: ignore[arg-type]
            weight_kg=float(extra.pop("weight_kg", 25.0)),  # type: ignore[arg-type]
            **extra,  # type: ignore[arg-type]
        )
        return course.id


def course_rows(world: World, patient_id: int) -> list[tuple[int, dt.date, int]]:
    with world.as_user("coord.chla") as scope:
        return [
            (c.number, c.start_date, c.dose_level)
            for c in course_service.course_list(scope, patient_id)
        ]


def test_the_protocol_gives_the_course_rules(world: World) -> None:
    course = world.trial.protocol.course
    assert (course.length_days, course.max_courses) == (LENGTH, 12)


def test_course_2_takes_new_height_and_weight(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    counts(world, patient_id, DUE_2 - dt.timedelta(days=1))
    start(world, patient_id, DUE_2, height_cm=125.0, weight_kg=25.0)
    with world.as_user("coord.chla") as scope:
        view = course_service.course_view(scope, world.trial, patient_id, 2)
        assert view.course.bsa_m2 == bsa(125, 25) == 0.93
        assert view.course.delay_days == 0 and view.course.delay_cause is None
        assert view.calendar.start == DUE_2
        # Dinutuximab 17.5 mg/m2/day on days 8-11: 17.5 x 0.93 in course 2, 17.5 x 0.87 in 1.
        c2 = treat_service.planned_mg(world.trial, view.course, 8, "dinutuximab")
        first = course_service.course_of(scope, patient_id, 1)
        c1 = treat_service.planned_mg(world.trial, first, 8, "dinutuximab")
        assert c2 == pytest.approx(17.5 * 0.93) and c1 == pytest.approx(17.5 * 0.87)
        dose = treat_service.record_dose(
            scope, world.trial, patient_id=patient_id, course=2, day=8, agent_id="dinutuximab"
        )
        assert dose.administered_on == DUE_2 + dt.timedelta(days=7)
        assert dose.planned_dose == pytest.approx(17.5 * 0.93)
        checks = view.course.start_checks
        assert [c["met"] for c in checks] == [True, True]
        assert "not checked" in checks[1]["note"]  # transfusions are not recorded
    with world.db.transaction() as session:
        created = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "courses", AuditRecord.action == "create"
            )
        ).all()
        assert len(created) == 2 and created[-1].username == "coord.chla"


def test_a_course_needs_the_start_conditions_met(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    with pytest.raises(InputError) as missing:
        start(world, patient_id, DUE_2)
    assert {p.path for p in missing.value.problems} == {"start_date"}
    assert "ANC at least 750" in str(missing.value.problems)
    counts(world, patient_id, DUE_2 - dt.timedelta(days=2), anc=500)
    with pytest.raises(InputError, match="found 500 /uL"):
        start(world, patient_id, DUE_2)
    assert len(course_rows(world, patient_id)) == 1  # nothing half-written
    counts(world, patient_id, DUE_2, anc=800)  # the newest value counts
    start(world, patient_id, DUE_2)
    assert [n for n, _, _ in course_rows(world, patient_id)] == [1, 2]


def test_a_late_day_1_is_a_delay_with_its_cause(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    counts(world, patient_id, DUE_2 + dt.timedelta(days=15))
    with pytest.raises(InputError) as early:
        start(world, patient_id, DUE_2 - dt.timedelta(days=1))
    assert early.value.problems[0].path == "start_date"
    assert f"can start on {DUE_2} or later" in early.value.problems[0].message
    late = DUE_2 + dt.timedelta(days=16)
    with pytest.raises(InputError) as no_cause:
        start(world, patient_id, late)
    assert [p.path for p in no_cause.value.problems] == ["delay_cause"]
    with pytest.raises(InputError, match="expected one of"):
        start(world, patient_id, late, delay_cause_id="bored")
    start(world, patient_id, late, delay_cause_id="myelosuppression", delay_reason="ANC 600")
    with world.as_user("coord.chla") as scope:
        view = course_service.course_view(scope, world.trial, patient_id, 2)
        assert (view.course.delay_days, view.course.delay_cause) == (16, "myelosuppression")
        assert view.calendar.start == late
        assert view.calendar.days[-1].date == late + dt.timedelta(days=LENGTH - 1)
        # The protocol's course_delay DLT rule reads the delay of course 2.
        window = patient_window(scope, world.trial, patient_id)
        assert (window.next_course_delay_days, window.delay_cause) == (16, "myelosuppression")


def test_delaying_a_started_course_re_dates_its_calendar(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    counts(world, patient_id, DUE_2)
    start(world, patient_id, DUE_2)
    later = DUE_2 + dt.timedelta(days=7)
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError, match="later than"):
            course_service.delay_course(
                scope,
                world.trial,
                patient_id=patient_id,
                course=2,
                start_date=DUE_2,
                delay_cause_id="scheduling",
            )
        with pytest.raises(InputError) as other:
            course_service.delay_course(
                scope,
                world.trial,
                patient_id=patient_id,
                course=2,
                start_date=later,
                delay_cause_id="other",
            )
        assert other.value.problems[0].path == "delay_reason"
        course_service.delay_course(
            scope,
            world.trial,
            patient_id=patient_id,
            course=2,
            start_date=later,
            delay_cause_id="scheduling",
            delay_reason="infusion chair unavailable",
        )
    with world.as_user("coord.chla") as scope:
        view = course_service.course_view(scope, world.trial, patient_id, 2)
        assert view.course.delay_days == 7
        day8 = next(d for d in view.calendar.days if d.day == 8)
        assert day8.date == later + dt.timedelta(days=7)
        dose = treat_service.record_dose(
            scope, world.trial, patient_id=patient_id, course=2, day=1, agent_id="lenalidomide"
        )
        assert dose.administered_on == later
        with pytest.raises(ConflictError, match="doses are recorded"):
            course_service.delay_course(
                scope,
                world.trial,
                patient_id=patient_id,
                course=2,
                start_date=later + dt.timedelta(days=1),
                delay_cause_id="scheduling",
            )
    with world.db.transaction() as session:
        moved = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "courses", AuditRecord.field == "start_date"
            )
        ).one()
        assert moved.action == "update" and "delayed 7 days" in (moved.reason or "")
        assert DUE_2.isoformat() in (moved.old_value or "")


@pytest.fixture
def world3(tmp_path: Path) -> Iterator[World]:
    """A trial whose escalation starts at dose level 3 (so lower levels exist)."""
    with sqlite_database(tmp_path, migrated=False) as db:
        world = _seed(db)
        protocol = world.trial.protocol
        design = protocol.design.model_copy(update={"starting_dose_level": 3})
        world.trial = Trial.from_protocol(protocol.model_copy(update={"design": design}))
        yield world


def test_a_dose_modification_moves_down_with_a_reason_and_never_back_up(world3: World) -> None:
    world = world3
    patient_id = world.patient_on("chla", T0)
    assert course_rows(world, patient_id)[0][2] == 3
    counts(world, patient_id, DUE_2)
    with pytest.raises(InputError) as no_reason:
        start(world, patient_id, DUE_2, dose_level=2)
    assert [p.path for p in no_reason.value.problems] == ["level_reason"]
    with pytest.raises(InputError) as above:
        start(world, patient_id, DUE_2, dose_level=4, level_reason="x")
    assert above.value.problems[0].path == "dose_level"
    assert "above the registered level 3" in above.value.problems[0].message
    start(world, patient_id, DUE_2, dose_level=2, level_reason="grade 3 rash in course 1")
    with world.as_user("coord.chla") as scope:
        view = course_service.course_view(scope, world.trial, patient_id, 2)
        assert view.course.level_reason == "grade 3 rash in course 1"
        # Lenalidomide at level 2 is 15 mg/m2/day (level 3: 30), over BSA 0.93.
        line = view.plan.sheet.agent("lenalidomide")
        assert line.prescribed.daily_mg == pytest.approx(15 * 0.93)
    due_3 = DUE_2 + dt.timedelta(days=LENGTH)
    counts(world, patient_id, due_3)
    with pytest.raises(InputError, match="does not re-escalate"):
        start(world, patient_id, due_3, dose_level=3, level_reason="rash resolved")
    start(world, patient_id, due_3)  # default: the previous course's level
    assert [level for _, _, level in course_rows(world, patient_id)] == [3, 2, 2]


def test_courses_run_to_the_protocols_last_and_then_treatment_ends(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    with (
        world.as_user("coord.chla") as scope,
        pytest.raises(InputError, match="needs all 12 courses; 1 started"),
    ):
        treat_service.end_treatment(
            scope,
            world.trial,
            patient_id=patient_id,
            ended_on=DUE_2,
            reason="completed_therapy",
        )
    day1 = START
    for number in range(2, 13):
        day1 += dt.timedelta(days=LENGTH)
        counts(world, patient_id, day1)
        start(world, patient_id, day1, number=number)
    assert [n for n, _, _ in course_rows(world, patient_id)] == list(range(1, 13))
    after = day1 + dt.timedelta(days=LENGTH)
    counts(world, patient_id, after)
    with pytest.raises(InputError) as thirteen:
        start(world, patient_id, after)
    assert thirteen.value.problems[0].path == "number"
    assert "beyond the protocol's 12 courses" in thirteen.value.problems[0].message
    with world.as_user("coord.chla") as scope:
        assert course_service.next_course(scope, world.trial, patient_id).blocked
        treat_service.end_treatment(
            scope,
            world.trial,
            patient_id=patient_id,
            ended_on=after - dt.timedelta(days=1),
            reason="completed_therapy",
        )


def test_treatment_ends_early_for_a_reason_and_no_course_follows(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    counts(world, patient_id, DUE_2)
    start(world, patient_id, DUE_2)
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError) as bad:
            treat_service.end_treatment(
                scope,
                world.trial,
                patient_id=patient_id,
                ended_on=DUE_2 - dt.timedelta(days=1),
                reason="other",
            )
        assert {p.path for p in bad.value.problems} == {"ended_on", "detail"}
        treat_service.end_treatment(
            scope,
            world.trial,
            patient_id=patient_id,
            ended_on=DUE_2 + dt.timedelta(days=20),
            reason="progressive_disease",
        )
    due_3 = DUE_2 + dt.timedelta(days=LENGTH)
    counts(world, patient_id, due_3)
    with pytest.raises(ConflictError, match="off treatment"):
        start(world, patient_id, due_3)


def test_another_sites_patient_is_not_found(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    counts(world, patient_id, DUE_2)
    with pytest.raises(NotFoundError):
        start(world, patient_id, DUE_2, user="coord.chop")
    with world.as_user("coord.chop") as scope:
        assert course_service.dose_intensity(scope, world.trial) == []
        with pytest.raises(NotFoundError):
            course_service.course_view(scope, world.trial, patient_id, 1)


def test_dose_intensity_per_course_and_agent(world: World) -> None:
    # patient_on records lenalidomide days 1-2 as planned; day 3 is given at half the plan.
    patient_id = world.patient_on("chla", T0, doses=2)
    with world.as_user("coord.chla") as scope:
        course = course_service.course_of(scope, patient_id, 1)
        planned = {
            day: treat_service.planned_mg(world.trial, course, day, "lenalidomide")
            for day in range(1, 22)
        }
        treat_service.record_dose(
            scope,
            world.trial,
            patient_id=patient_id,
            course=1,
            day=3,
            agent_id="lenalidomide",
            given_mg=planned[3] / 2,
            reason="vomited",
        )
        rows = course_service.dose_intensity(scope, world.trial)
        frame = course_service.dose_intensity_frame(scope, world.trial, patient_id)
    by_agent = {r["agent_id"]: r for r in rows}
    assert set(by_agent) == {"lenalidomide", "dinutuximab"}  # level 1 has no isotretinoin
    len_row = by_agent["lenalidomide"]
    given = planned[1] + planned[2] + planned[3] / 2
    assert len_row["given_mg"] == pytest.approx(given)
    assert len_row["planned_mg"] == pytest.approx(sum(planned.values()))
    assert len_row["intensity"] == pytest.approx(given / sum(planned.values()))
    # The protocol dose: 15 mg/m2/day x 0.87 m2 x 21 days, before rounding to capsules.
    assert len_row["protocol_mg"] == pytest.approx(15 * 0.87 * 21)
    assert len_row["relative"] == pytest.approx(given / (15 * 0.87 * 21))
    assert (len_row["recorded_days"], len_row["given_days"]) == (3, 3)
    assert len_row["full_dose"] is False
    din = by_agent["dinutuximab"]
    assert (din["given_mg"], din["intensity"], din["planned_days"]) == (0, 0, 4)
    assert list(frame["agent_id"]) == ["lenalidomide", "dinutuximab"]
    assert list(frame["subject_code"].unique()) == [len_row["subject_code"]]
    assert {"course", "intensity", "relative", "full_dose"} <= set(frame.columns)


def test_a_full_course_at_the_registered_level_is_a_full_dose(world: World) -> None:
    patient_id = world.patient_on("chla", T0, doses=21)
    with world.as_user("coord.chla") as scope:
        for day in range(8, 12):
            treat_service.record_dose(
                scope, world.trial, patient_id=patient_id, course=1, day=day, agent_id="dinutuximab"
            )
        rows = course_service.dose_intensity(scope, world.trial, patient_id)
    assert all(r["full_dose"] for r in rows)
    assert all(r["intensity"] == pytest.approx(1.0) for r in rows)
    din = next(r for r in rows if r["agent_id"] == "dinutuximab")
    assert din["relative"] == pytest.approx(1.0)  # infused exactly: no rounding


def test_no_course_follows_a_voided_course_1(world: World) -> None:
    patient_id = world.patient_on("chla", T0, doses=0)
    counts(world, patient_id, DUE_2)
    with world.as_user("coord.chla") as scope:
        first = course_service.course_of(scope, patient_id, 1)
        records.void(scope, records.SPECS["courses"], first.id, "entered for the wrong patient")
    with world.as_user("coord.chla") as scope:
        assert "voided" in (
            course_service.next_course(scope, world.trial, patient_id).blocked or ""
        )
    with pytest.raises(ConflictError, match="course 1 is voided"):
        start(world, patient_id, DUE_2)
