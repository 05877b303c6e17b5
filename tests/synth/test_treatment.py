"""The later-course plan of a virtual patient: hand-checkable cases."""

from __future__ import annotations

import numpy as np

from phaseone.synth.models import ResponseModel, ToxicityModel
from phaseone.synth.patients import Models, make_patients
from phaseone.synth.treatment import TreatmentModel, plan_treatment

STEADY = TreatmentModel(delay_probability=0.0, withdrawal_probability=0.0, weight_sd=0.0)
# progression so slow that every time is censored at the follow-up
NO_PROGRESSION = ResponseModel(median_ttp_days=1e9, follow_up_days=1e6)


def _patient():  # type: ignore[no-untyped-def]
    return make_patients(np.random.default_rng(5), 1, ("chla",))[0]


def _models(dlt: dict[int, float]) -> Models:
    return Models(toxicity=ToxicityModel(dlt_probability=dlt), response=NO_PROGRESSION)


def test_twelve_courses_on_time_then_completed_therapy() -> None:
    plan = plan_treatment(
        _patient(), _models({3: 0.0}), STEADY, level=3, dlt_in_course_one=False, courses=12
    )
    assert [c.number for c in plan.courses] == list(range(2, 13))
    assert [c.start_day for c in plan.courses] == [28 * k for k in range(1, 12)]
    assert {c.level for c in plan.courses} == {3}
    assert all(c.level_reason is None and c.delay_days == 0 for c in plan.courses)
    # height grows 0.4 cm a course: course 12 is 11 courses after course 1
    assert plan.courses[-1].height_cm == round(_patient().height_cm + 11 * 0.4, 1)
    assert plan.end is not None
    assert (plan.end.reason, plan.end.day) == ("completed_therapy", 12 * 28 - 1)


def test_every_course_late_by_a_week() -> None:
    late = TreatmentModel(delay_probability=1.0, withdrawal_probability=0.0)
    plan = plan_treatment(
        _patient(), _models({3: 0.0}), late, level=3, dlt_in_course_one=False, courses=4
    )
    assert [c.start_day for c in plan.courses] == [35, 70, 105]
    assert all(c.delay_days == 7 for c in plan.courses)
    assert plan.end is None  # fewer courses than the protocol's twelve: still on treatment


def test_a_dlt_lowers_the_next_course_and_ends_treatment_on_the_lowest_level() -> None:
    # level 2 always toxic, level 1 never: course 2 at level 1 with the reason, then stays
    plan = plan_treatment(
        _patient(), _models({1: 0.0, 2: 1.0}), STEADY, level=2, dlt_in_course_one=True,
        courses=4,
    )  # fmt: skip
    assert [c.level for c in plan.courses] == [1, 1, 1]
    assert plan.courses[0].level_reason == "grade 3 toxicity in course 1"
    assert [c.level_reason for c in plan.courses[1:]] == [None, None]
    # on the lowest level a DLT ends treatment when course 2 was due
    ended = plan_treatment(
        _patient(), _models({1: 1.0}), STEADY, level=1, dlt_in_course_one=True, courses=4
    )
    assert ended.courses == ()
    assert ended.end is not None and (ended.end.reason, ended.end.day) == (
        "unacceptable_toxicity", 28)  # fmt: skip


def test_progression_ends_treatment_at_the_end_of_its_course() -> None:
    soon = Models(response=ResponseModel(response_probability={3: 0.0}, pd_share=1.0))
    plan = plan_treatment(_patient(), soon, STEADY, level=3, dlt_in_course_one=False, courses=12)
    assert plan.progression_day is not None and plan.end is not None
    assert plan.end.reason == "progressive_disease"
    # the course in which progression happens is the last; treatment ends on its last day
    last_start = plan.courses[-1].start_day if plan.courses else 0
    assert last_start <= plan.progression_day < last_start + 28
    assert plan.end.day == last_start + 27


def test_the_same_patient_gives_the_same_plan() -> None:
    a = plan_treatment(_patient(), Models(), TreatmentModel(), level=2,
                       dlt_in_course_one=False, courses=12)  # fmt: skip
    b = plan_treatment(_patient(), Models(), TreatmentModel(), level=2,
                       dlt_in_course_one=False, courses=12)  # fmt: skip
    assert a == b
