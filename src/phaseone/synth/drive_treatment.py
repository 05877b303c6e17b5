"""Courses 2 to 12 through the course API, as the sites enter them after the fact.

The service's clock is moved past the last planned day first, then each site's coordinator
starts each course (`POST /patients/{id}/courses` with the new height and weight, a lower
level with its reason, a late day 1 with its cause), records its doses (a few lenalidomide
doses missed, with the reason), blood counts and adverse events, and finally takes the
patient off treatment with the reason (`POST /patients/{id}/off-treatment`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from phaseone.synth.treatment import COURSE_DAYS, PlannedCourse, TreatmentPlan, plan_treatment
from phaseone.synth.virtual_trial import Ack

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import Enrolled, VirtualTrial

MISSED_LENALIDOMIDE = 0.03  # invented: a dose vomited or forgotten


def schedule(label: str) -> list[tuple[str, int]]:
    """(agent, course day) of every dose: lenalidomide 1-21, dinutuximab 8-11, isotretinoin
    15-28 on the levels that include it (the protocol's course schedule)."""
    days = [("lenalidomide", d) for d in range(1, 22)]
    days += [("dinutuximab", d) for d in range(8, 12)]
    if "ISO" in label:
        days += [("isotretinoin", d) for d in range(15, 29)]
    return days


def step_courses(vt: VirtualTrial) -> None:
    if vt.courses <= 1:
        return
    labels = vt.level_labels()
    lowest = min(labels)
    plans = {
        e.patient_id: plan_treatment(
            e.patient, vt.models, vt.treatment, level=e.level,
            dlt_in_course_one=bool(e.dlt_signed), courses=vt.courses, lowest_level=lowest,
        )
        for e in vt.result.enrolled
    }  # fmt: skip
    if not plans:
        return
    last = max(
        e.start + dt.timedelta(days=_last_day(plans[e.patient_id])) for e in vt.result.enrolled
    )
    ahead = (last - vt.clock.today()).days + 1
    if ahead > 0:
        vt.clock.advance(days=ahead)
    total = sum(len(p.courses) for p in plans.values())
    done = 0
    for e in vt.result.enrolled:
        plan = plans[e.patient_id]
        for course in plan.courses:
            _course(vt, e, course, labels)
            done += 1
            vt.tick("courses", done, total)
        if plan.end is not None:
            _end(vt, e, plan)
    vt.tick("courses", total, total)
    vt.say(
        f"courses: {vt.result.courses} started ({vt.result.delays} delayed, "
        f"{vt.result.modifications} at a lower level); off treatment: "
        + ", ".join(f"{k} {n}" for k, n in sorted(vt.result.ended.items()))
    )


def _last_day(plan: TreatmentPlan) -> int:
    days = [c.start_day + COURSE_DAYS for c in plan.courses] + [COURSE_DAYS]
    if plan.end is not None:
        days.append(plan.end.day)
    return max(days)


def _course(vt: VirtualTrial, e: Enrolled, course: PlannedCourse, labels: dict[int, str]) -> None:
    who = f"coord.{e.patient.site}"
    coord = vt.users[who]
    day1 = e.start + dt.timedelta(days=course.start_day)
    rng = e.patient.rng(f"labs{course.number}")
    if course.delay_days:
        # the counts are low on the day the course was due and recovered by its new day 1
        due = day1 - dt.timedelta(days=course.delay_days)
        _lab(vt, e, course.number - 1, due, "anc", 0.5)
        # the recovery counts are drawn before the course starts (course k - 1's record)
        _lab(vt, e, course.number - 1, day1, "anc", round(float(rng.uniform(1.0, 2.5)), 2))
        _lab(vt, e, course.number - 1, day1, "platelets", round(float(rng.uniform(90, 300))))
    body: dict[str, Any] = {
        "number": course.number,
        "start_date": day1.isoformat(),
        "height_cm": course.height_cm,
        "weight_kg": course.weight_kg,
    }
    if course.level_reason:
        body |= {"dose_level": course.level, "level_reason": course.level_reason}
    if course.delay_days:
        body |= {"delay_cause": "myelosuppression",
                 "delay_reason": "ANC below 750/uL on the day the course was due"}  # fmt: skip
    started = coord.call("POST", f"/patients/{e.patient_id}/courses", body, expect=201)
    vt.ack(who, "courses", started["course"])
    e.courses[course.number] = (day1, course.level)
    vt.result.courses += 1
    vt.result.delays += bool(course.delay_days)
    vt.result.modifications += course.level_reason is not None
    doses = e.patient.rng(f"doses{course.number}")
    for agent, day in schedule(labels.get(course.level, "")):
        dose: dict[str, Any] = {"course": course.number, "day": day, "agent_id": agent}
        if agent == "lenalidomide" and doses.random() < MISSED_LENALIDOMIDE:
            dose |= {"given": False, "reason": "vomited the capsule; not repeated"}
        made = vt.ack(
            who,
            "dose-administrations",
            coord.call("POST", f"/patients/{e.patient_id}/doses", dose, expect=201),
        )
        vt.dose_ids[(e.patient_id, course.number, agent, day)] = int(made["id"])
    for day in (8, 15, 22):
        on = day1 + dt.timedelta(days=day - 1)
        _lab(vt, e, course.number, on, "anc", round(float(rng.uniform(1.0, 3.0)), 2))
        _lab(vt, e, course.number, on, "platelets", round(float(rng.uniform(90, 300))))
    for ae in course.events:
        report = {
            "term": ae.term,
            "grade": ae.grade,
            "course": course.number,
            "onset": (day1 + dt.timedelta(days=ae.onset_day - 1)).isoformat(),
            "resolved": (day1 + dt.timedelta(days=ae.resolved_day - 1)).isoformat(),
            "attribution": ae.attribution,
        }
        vt.ack(
            who,
            "adverse-events",
            coord.call("POST", f"/patients/{e.patient_id}/adverse-events", report, expect=201),
        )


def _lab(
    vt: VirtualTrial, e: Enrolled, course: int, on: dt.date, analyte: str, value: float
) -> None:
    who = f"coord.{e.patient.site}"
    body = {
        "analyte": analyte,
        "value": value,
        "unit": "10^9/L",
        "collected_on": on.isoformat(),
        "course": course,
    }
    made = vt.users[who].call("POST", f"/patients/{e.patient_id}/labs", body, expect=201)
    vt.ack(who, "lab-results", made["lab"])


def _end(vt: VirtualTrial, e: Enrolled, plan: TreatmentPlan) -> None:
    assert plan.end is not None
    who = f"coord.{e.patient.site}"
    body: dict[str, Any] = {
        "ended_on": (e.start + dt.timedelta(days=plan.end.day)).isoformat(),
        "reason": plan.end.reason,
    }
    if plan.end.detail:
        body["detail"] = plan.end.detail
    vt.users[who].call("POST", f"/patients/{e.patient_id}/off-treatment", body, expect=201)
    # read back through the course list: no next course, and why
    vt.ledger.append(Ack(who, f"/patients/{e.patient_id}/courses", "next.blocked", "off treatment"))
    e.ended = plan.end.reason
    vt.result.ended[plan.end.reason] += 1
