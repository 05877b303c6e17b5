"""Disease evaluations through the evaluation API (`POST /patients/{id}/evaluations`), as
the sites enter them: a baseline before course 1 and one after each course the protocol
schedules an evaluation for (its imaging assessment's courses and day), for the courses the
patient started; the measurements come from `synth/disease.py`, following the response
model. Evaluations on or after the time to progression are not entered here: the evaluation
that finds progression is entered with the progression event, on its day, by the follow-up
(`record_progression`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from phaseone.synth.disease import baseline_disease, evaluation_body, shown_at
from phaseone.synth.patients import response
from phaseone.synth.virtual_trial import Ack

if TYPE_CHECKING:
    from phaseone.synth.virtual_trial import Enrolled, VirtualTrial

PROTOCOL = "nant-2011-04"  # the service's default protocol, whose schedule the sites follow
BASELINE_DAYS_BEFORE = 2  # the baseline evaluation two days before course 1 (invented)


def evaluation_schedule(protocol_id: str = PROTOCOL) -> dict[int, int]:
    """Course number -> the course day of its disease evaluation (the protocol's imaging
    assessments)."""
    from phaseone.protocol.catalog import resolve_protocol

    protocol = resolve_protocol(protocol_id)
    out: dict[int, int] = {}
    for a in protocol.assessments:
        if a.kind != "imaging":
            continue
        courses: Iterable[int] = (
            range(1, protocol.course.max_courses + 1) if a.courses == "all" else a.courses
        )
        day = min(a.days)  # the first of the assessment's course days
        for n in courses:
            out.setdefault(int(n), day)
    return dict(sorted(out.items()))


def progression_day(vt: VirtualTrial, e: Enrolled) -> int | None:
    """Days after course 1's day 1 on which the response model's progression falls."""
    _, ttp, progressed = response(e.patient, vt.models, e.level)
    return math.ceil(ttp) if progressed else None


def step_evaluations(vt: VirtualTrial) -> None:
    schedule = evaluation_schedule()
    planned: list[tuple[Enrolled, dt.date, str | None, int | None]] = []
    for e in vt.result.enrolled:
        best, _, _ = response(e.patient, vt.models, e.level)
        progression = progression_day(vt, e)
        planned.append((e, e.start - dt.timedelta(days=BASELINE_DAYS_BEFORE), None, None))
        for number, (day1, _level) in sorted(e.courses.items()):
            if number not in schedule:
                continue
            on = day1 + dt.timedelta(days=schedule[number] - 1)
            day = (on - e.start).days
            if progression is not None and day >= progression:
                break  # found with the progression event (follow-up)
            planned.append((e, on, shown_at(day, best, progression), number))
    if not planned:
        return
    ahead = (max(on for _, on, _, _ in planned) - vt.clock.today()).days
    if ahead > 0:
        vt.clock.advance(days=ahead)
    for i, (e, on, wanted, course) in enumerate(planned):
        label = "baseline" if wanted is None else f"after course {course}"
        _record(vt, e, on, wanted, label, course=course)
        vt.tick("evaluations", i + 1, len(planned))
    vt.say(f"evaluations: {vt.result.evaluations} entered")


def record_progression(vt: VirtualTrial, e: Enrolled, day: int) -> None:
    """The evaluation that found progression, on its day (when the patient has a baseline)."""
    if e.patient_id not in vt.disease:
        return
    on = e.start + dt.timedelta(days=day)
    _record(vt, e, on, "PD", "at progression", kind="unscheduled")


def _record(
    vt: VirtualTrial, e: Enrolled, on: dt.date, wanted: str | None, label: str, *,
    course: int | None = None, kind: str = "scheduled",
) -> None:  # fmt: skip
    who = f"coord.{e.patient.site}"
    disease = vt.disease.setdefault(e.patient_id, baseline_disease(e.patient))
    body: dict[str, object] = {"evaluation": evaluation_body(disease, on, wanted, label, kind)}
    if wanted is None:
        body["disease_at_entry"] = disease.disease_at_entry
    elif kind == "scheduled":
        body["course"] = course
    made = vt.users[who].call("POST", f"/patients/{e.patient_id}/evaluations", body, expect=201)
    # read back in the patient's list of evaluations (no evaluation is read on its own)
    vt.ledger.append(
        Ack(who, f"/patients/{e.patient_id}/evaluations", "evaluations.id", int(made["id"]))
    )
    if wanted is not None:
        vt.intended[(e.patient_id, on.isoformat())] = wanted
    vt.result.evaluations += 1
