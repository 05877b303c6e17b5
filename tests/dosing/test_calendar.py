"""Course calendars and dose modification."""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.dosing.calendar import treatment_plan
from phaseone.dosing.modification import modify_dose_level
from phaseone.errors import InputError
from phaseone.protocol import Protocol

START = dt.date(2027, 1, 4)


def test_twelve_courses_of_28_days(nant: Protocol) -> None:
    plan = treatment_plan(nant, 3, 110, 18.5, START)
    assert [c.course for c in plan.courses] == list(range(1, 13))
    # Course 12 starts 11 x 28 = 308 days after 2027-01-04: 2027-11-08; ends 27 days later.
    assert plan.courses[11].start == dt.date(2027, 11, 8)
    assert plan.courses[11].end == dt.date(2027, 12, 5)
    assert not plan.courses[0].provisional and plan.courses[1].provisional


def test_course_1_days(nant: Protocol) -> None:
    plan = treatment_plan(nant, 3, 110, 18.5, START)
    agents = {d.day: [a.agent_id for a in d.administrations] for d in plan.courses[0].days}
    assert agents[1] == ["lenalidomide"]
    assert agents[8] == ["lenalidomide", "dinutuximab"]
    assert agents[15] == ["lenalidomide", "isotretinoin", "isotretinoin"]
    assert agents[22] == ["isotretinoin", "isotretinoin"]
    assert agents[12] == ["lenalidomide"]
    day15 = plan.day(dt.date(2027, 1, 18))
    assert [a.time for a in day15.administrations if a.agent_id == "isotretinoin"] == [
        "morning",
        "evening",
    ]
    day28 = plan.courses[0].days[27]
    ids = {a.id for a in day28.assessments}
    assert {"pk-isotretinoin-ss", "pk-dinutuximab-trough"} <= ids
    assert "pk-dinutuximab-peak" in {a.id for a in plan.courses[0].days[10].assessments}
    # Isotretinoin steady-state PK is course 1 only.
    assert "pk-isotretinoin-ss" not in {a.id for a in plan.courses[1].days[27].assessments}


def test_isotretinoin_pk_only_where_isotretinoin_is_given(nant: Protocol) -> None:
    plan = treatment_plan(nant, 1, 110, 18.5, START)
    assert "pk-isotretinoin-ss" not in {a.id for a in plan.courses[0].days[27].assessments}


def test_next_course_conditions_come_from_the_protocol(nant: Protocol) -> None:
    texts = [c.text for c in treatment_plan(nant, 3, 110, 18.5, START).start_conditions]
    assert texts == [
        "ANC at least 750 /uL",
        "Platelets at least 50,000 /uL, without transfusion for 7 days",
    ]


def test_a_single_course(nant: Protocol) -> None:
    plan = treatment_plan(nant, 3, 110, 18.5, START, first_course=4, last_course=4)
    assert len(plan.courses) == 1 and plan.courses[0].course == 4
    assert plan.courses[0].days[0].date == START


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": "2027-02-30"}, "start"),
        ({"start": "next monday"}, "start"),
        ({"start": 20270104}, "start"),
        ({"first_course": 13}, "course"),
        ({"weight_kg": None}, "weight_kg"),
        ({"height_cm": 1100}, "height_cm"),
        ({"level": 7}, "level"),
    ],
)
def test_bad_input_names_the_field(nant: Protocol, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "level": 3,
        "height_cm": 110,
        "weight_kg": 18.5,
        "start": START,
        **kwargs,
    }
    with pytest.raises(InputError) as info:
        treatment_plan(nant, **args)  # type: ignore[arg-type]
    assert field in [p.path for p in info.value.problems]


def test_modification_applies_from_its_date(nant: Protocol) -> None:
    plan = treatment_plan(nant, 3, 110, 18.5, START)
    when = dt.date(2027, 1, 12)  # course 1 day 9
    new = modify_dose_level(plan, 2, when, "grade 3 neutropenia delaying recovery")
    before = new.day(dt.date(2027, 1, 11))
    after = new.day(when)
    assert before.level_id == 3 and after.level_id == 2
    # DL2 LEN: 15 x 0.75 = 11.25 mg/day -> 10 / 12.5 mg alternating (nearest: -0.5%);
    # DL3 LEN: 22.5 mg/day -> 22.5 mg (20 + 2.5) every day, exact.
    len_before = [a.mg for a in before.administrations if a.agent_id == "lenalidomide"]
    len_after = [a.mg for a in after.administrations if a.agent_id == "lenalidomide"]
    assert len_before[0] == 22.5 and len_after[0] in (10, 12.5)
    assert new.courses[5].days[0].level_id == 2
    assert new.modifications[0].reason.startswith("grade 3")
    # The original plan is untouched.
    assert plan.day(when).level_id == 3


def test_dropping_to_level_1_stops_isotretinoin(nant: Protocol) -> None:
    plan = treatment_plan(nant, 2, 110, 18.5, START)
    new = modify_dose_level(plan, 1, dt.date(2027, 1, 20), "grade 3 hypertriglyceridemia")
    assert "isotretinoin" in [a.agent_id for a in new.day(dt.date(2027, 1, 19)).administrations]
    assert "isotretinoin" not in [a.agent_id for a in new.day(dt.date(2027, 1, 20)).administrations]


@pytest.mark.parametrize(
    ("to_level", "when", "reason", "field"),
    [
        (4, dt.date(2027, 1, 12), "x", "to_level"),
        (3, dt.date(2027, 1, 12), "x", "to_level"),
        (9, dt.date(2027, 1, 12), "x", "level"),
        (2, dt.date(2026, 1, 12), "x", "effective"),
        (2, "soon", "x", "effective"),
        (2, dt.date(2027, 1, 12), "  ", "reason"),
    ],
)
def test_bad_modifications(
    nant: Protocol, to_level: int, when: object, reason: str, field: str
) -> None:
    plan = treatment_plan(nant, 3, 110, 18.5, START)
    with pytest.raises(InputError) as info:
        modify_dose_level(plan, to_level, when, reason)
    assert info.value.problems[0].path == field


def test_cannot_go_below_the_lowest_level(nant: Protocol) -> None:
    plan = treatment_plan(nant, 1, 110, 18.5, START)
    with pytest.raises(InputError, match="already the lowest"):
        modify_dose_level(plan, 1, START, "x")
