"""Follow-up after treatment: contacts every three months and progression events, through
the record API (`POST /follow-ups`, `POST /clinical-events`), as the sites would.

A patient whose treatment has ended is followed to the response model's follow-up horizon
(730 days from course 1's day 1, invented); one still on treatment after the planned
courses only to the end of its last course. Progression (the response model's time) is
recorded as an event when it falls inside that horizon, with the disease evaluation that found
it (PD, the same day), and the contacts after it say so.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from phaseone.synth.drive_evaluations import record_progression
from phaseone.synth.patients import response
from phaseone.synth.treatment import COURSE_DAYS

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import Enrolled, VirtualTrial

CONTACT_DAYS = 91  # a follow-up contact every three months after treatment (invented)


def step_follow_up(vt: VirtualTrial) -> None:
    horizons = {e.patient_id: _horizon(vt, e) for e in vt.result.enrolled}
    if not horizons:
        return
    last = max(e.start + dt.timedelta(days=horizons[e.patient_id]) for e in vt.result.enrolled)
    ahead = (last - vt.clock.today()).days + 1
    if ahead > 0:
        vt.clock.advance(days=ahead)
    for i, e in enumerate(vt.result.enrolled):
        _follow(vt, e, horizons[e.patient_id])
        vt.tick("follow-up", i + 1, len(vt.result.enrolled))
    vt.say(
        f"follow-up: {vt.result.follow_ups} contacts, {vt.result.progressions} progressions "
        "recorded"
    )


def _horizon(vt: VirtualTrial, e: Enrolled) -> int:
    """Days after course 1's day 1 up to which the patient is followed."""
    last_course = max(e.courses.items(), key=lambda kv: kv[0])[1][0] if e.courses else e.start
    end_of_courses = (last_course - e.start).days + COURSE_DAYS - 1
    if e.ended is None:
        return end_of_courses
    return max(end_of_courses, int(vt.models.response.follow_up_days))


def _follow(vt: VirtualTrial, e: Enrolled, horizon: int) -> None:
    who = f"coord.{e.patient.site}"
    coord = vt.users[who]
    _, ttp, progressed = response(e.patient, vt.models, e.level)
    progression = math.ceil(ttp) if progressed and math.ceil(ttp) <= horizon else None
    if progression is not None:
        event = {
            "patient_id": e.patient_id,
            "kind": "progression",
            "event_date": (e.start + dt.timedelta(days=progression)).isoformat(),
            "detail": "new MIBG-avid lesions",
        }
        vt.ack(who, "clinical-events", coord.call("POST", "/clinical-events", event, expect=201))
        vt.result.progressions += 1
        record_progression(vt, e, progression)  # the evaluation that found it, that day
    if e.ended is None:
        return  # still on treatment: no follow-up contacts yet
    ended = max(COURSE_DAYS, _treatment_end_day(e))
    day = ended + CONTACT_DAYS
    while day <= horizon:
        status = "progressed" if progression is not None and progression <= day else (
            "no progression")  # fmt: skip
        contact = {
            "patient_id": e.patient_id,
            "contact_date": (e.start + dt.timedelta(days=day)).isoformat(),
            "vital_status": "alive",
            "disease_status": status,
        }
        vt.ack(who, "follow-ups", coord.call("POST", "/follow-ups", contact, expect=201))
        vt.result.follow_ups += 1
        day += CONTACT_DAYS


def _treatment_end_day(e: Enrolled) -> int:
    last = max(e.courses.items(), key=lambda kv: kv[0])[1][0] if e.courses else e.start
    return (last - e.start).days + COURSE_DAYS - 1
