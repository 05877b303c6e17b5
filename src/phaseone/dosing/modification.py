"""Dose modification: move a patient to a specific lower dose level from a date on.

Modifications are written as dose levels, never as percentages (NCI protocol template
practice). The reason is required. Days before the effective date keep their doses;
from that date the calendar gives the new level's doses, recomputed from the same
height and weight.
"""

from __future__ import annotations

from phaseone.dosing.calendar import Modification, TreatmentPlan, build_plan, check_date
from phaseone.dosing.dose import find_level
from phaseone.dosing.sheet import sheet_for
from phaseone.errors import InputError, Problem
from phaseone.protocol.model import Protocol


def modify_dose_level(
    plan: TreatmentPlan, to_level: object, effective: object, reason: object
) -> TreatmentPlan:
    """A new plan where, from `effective` on, the patient is on the lower `to_level`."""
    protocol = plan.protocol
    when = check_date(effective, "effective")
    days = plan.days()
    if not days[0].date <= when <= days[-1].date:
        raise InputError(
            [
                Problem(
                    "effective", f"{when} is outside the plan ({days[0].date} to {days[-1].date})"
                )
            ]
        )
    if not isinstance(reason, str) or not reason.strip():
        raise InputError([Problem("reason", "a reason for the dose modification is required")])
    target = find_level(protocol, to_level)
    current = plan.sheet_on(when)
    order = [level.id for level in protocol.dose_levels]
    if order.index(target.id) >= order.index(current.level.id):
        lower = order[: order.index(current.level.id)]
        expected = ", ".join(map(str, lower)) if lower else "none (already the lowest)"
        raise InputError(
            [
                Problem(
                    "to_level",
                    f"level {target.id} is not below the current level "
                    f"{current.level.id}; expected one of: {expected}",
                )
            ]
        )
    sheets = tuple((d, s) for d, s in plan.sheets if d < when)
    sheets += ((when, sheet_for(protocol, target, current.bsa)),)
    change = Modification(current.level.id, target.id, when, reason.strip())
    first = plan.courses[0]
    return build_plan(
        protocol,
        sheets,
        first.start,
        first.course,
        plan.courses[-1].course,
        (*plan.modifications, change),
    )


def course_level(
    protocol: Protocol,
    *,
    registered: int,
    previous: int,
    requested: object,
    reason: object,
    course: int,
) -> tuple[int, str | None]:
    """The dose level of a new course, and the reason when it is a new reduction.

    A course is given at the level of the course before it (default) or, as a dose
    modification, at a lower protocol level with a reason. It never goes above the
    registered level (no intra-patient escalation) and, unless the protocol allows
    re-escalation, never back above the previous course's level.
    """
    if requested is None:
        return previous, None
    target = find_level(protocol, requested)
    order = [level.id for level in protocol.dose_levels]
    ceiling = registered if protocol.dosing.reescalate_after_reduction else previous
    if order.index(target.id) > order.index(registered):
        raise InputError(
            [
                Problem(
                    "dose_level",
                    f"dose level {target.id} is above the registered level {registered}; "
                    "a course stays at the registered level or moves to a lower one",
                )
            ]
        )
    if order.index(target.id) > order.index(ceiling):
        raise InputError(
            [
                Problem(
                    "dose_level",
                    f"dose level {target.id} is above course {course - 1}'s level {previous}; "
                    "the protocol does not re-escalate after a dose reduction",
                )
            ]
        )
    if target.id == previous:
        return previous, None
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(
            [
                Problem(
                    "level_reason",
                    f"a move from dose level {previous} to {target.id} needs the reason for "
                    "the dose modification",
                )
            ]
        )
    return target.id, reason.strip()
