"""Courses 2 to 12 of a virtual patient: delays, dose modifications, growth, adverse events
and the end of treatment with its reason (invented models, pure and seeded).

The plan is drawn once per patient from its own generators ("treatment" for delays and
withdrawal, "course<k>" for course k's adverse events, "response" for progression), so it
does not depend on the order in which the driver asks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from phaseone.synth.models import AdverseEventDraw
from phaseone.synth.patients import Models, VirtualPatient, response

COURSE_DAYS = 28


@dataclass(frozen=True)
class TreatmentModel:
    """What happens between courses (invented).

    Each later course is late by `delay_days` with probability `delay_probability`
    (myelosuppression: a low ANC on the due day, recovered on the new day 1). A grade-3
    event in a course (the toxicity model's DLT draw for that course and level) lowers the
    next course by one protocol level, or ends treatment for toxicity on the lowest level.
    The family withdraws before a course with probability `withdrawal_probability`. Weight
    changes by exp(N(0, `weight_sd`)) per course; height grows `height_cm_per_course`.
    """

    delay_probability: float = 0.10
    delay_days: int = 7
    withdrawal_probability: float = 0.02
    weight_sd: float = 0.03
    height_cm_per_course: float = 0.4


@dataclass(frozen=True)
class PlannedCourse:
    number: int
    start_day: int  # days after course 1's day 1
    delay_days: int
    level: int
    level_reason: str | None
    height_cm: float
    weight_kg: float
    events: tuple[AdverseEventDraw, ...]
    severe: bool  # a grade-3 event: the next course is modified


@dataclass(frozen=True)
class TreatmentEnd:
    reason: str  # one of the course terms' end reasons
    day: int  # days after course 1's day 1
    detail: str | None = None


@dataclass(frozen=True)
class TreatmentPlan:
    courses: tuple[PlannedCourse, ...]  # courses 2.. in order
    end: TreatmentEnd | None  # None: still on treatment after the last planned course
    best_response: str
    progression_day: float | None


def plan_treatment(
    patient: VirtualPatient,
    models: Models,
    treatment: TreatmentModel,
    *,
    level: int,
    dlt_in_course_one: bool,
    courses: int,
    max_courses: int = 12,
    lowest_level: int = 1,
) -> TreatmentPlan:
    """Courses 2..`courses` after a course 1 at `level` (starting on day 0), and why
    treatment ends. Treatment ends with progression (the response model's time), a
    withdrawal, toxicity on the lowest level, or completed therapy after `max_courses`;
    progression ends treatment on the last day of the course it happens in."""
    rng = patient.rng("treatment")
    best, ttp, progressed = response(patient, models, level)
    progression = ttp if progressed else None
    planned: list[PlannedCourse] = []
    start, current, severe = 0, level, dlt_in_course_one
    height, weight = patient.height_cm, patient.weight_kg
    end: TreatmentEnd | None = None
    for number in range(2, courses + 1):
        due = start + COURSE_DAYS
        delayed = bool(rng.random() < treatment.delay_probability)
        withdrawn = bool(rng.random() < treatment.withdrawal_probability)
        drift = math.exp(float(rng.normal(0.0, treatment.weight_sd)))
        if progression is not None and progression < due:
            end = _progressed(progression, due)
            break
        if withdrawn:
            end = TreatmentEnd("patient_or_guardian_withdrawal", due)
            break
        reason = None
        if severe:
            if current <= lowest_level:
                end = TreatmentEnd(
                    "unacceptable_toxicity", due, "grade 3 toxicity on the lowest dose level"
                )
                break
            current -= 1
            reason = f"grade 3 toxicity in course {number - 1}"
        delay = treatment.delay_days if delayed else 0
        start = due + delay
        height += treatment.height_cm_per_course
        weight *= drift
        severe, events = models.toxicity.draw(patient.rng(f"course{number}"), current)
        planned.append(
            PlannedCourse(
                number, start, delay, current, reason, round(height, 1), round(weight, 1),
                events, severe,
            )
        )  # fmt: skip
    else:
        last = planned[-1].start_day if planned else 0
        if progression is not None and progression < last + COURSE_DAYS:
            end = _progressed(progression, last + COURSE_DAYS)
        elif courses >= max_courses:
            end = TreatmentEnd("completed_therapy", last + COURSE_DAYS - 1)
    return TreatmentPlan(tuple(planned), end, best, progression)


def _progressed(day: float, due: int) -> TreatmentEnd:
    """Progression found at the end of the course it happened in (the course is finished)."""
    return TreatmentEnd("progressive_disease", due - 1, f"progression on day {math.ceil(day)}")
