"""Registration: the dose level is assigned here, on the server, from the trial aggregate."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import bindparam, select

from phaseone.dosing.calendar import TreatmentPlan, treatment_plan
from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import Course, Registration
from phaseone.store.models import SlotRequest as SlotRow
from phaseone.store.scope import Scope
from phaseone.trial.aggregate import NoSlotOpen
from phaseone.workflow.context import Trial
from phaseone.workflow.history import trial_state
from phaseone.workflow.notify import notify
from phaseone.workflow.screening import is_signed, latest_screening
from phaseone.workflow.slots import get_request, lock_slots, reconcile


def register(
    scope: Scope,
    trial: Trial,
    *,
    patient_id: int,
    slot_request_id: int,
    start_date: dt.date,
    height_cm: float,
    weight_kg: float,
    now: dt.datetime,
) -> tuple[Registration, Course, TreatmentPlan]:
    """Register a screened patient on the slot their site holds.

    Needs: a live hold of the patient's site, the newest screening eligible, signed by the
    site investigator and evaluated for the level now open. The level is assigned from the
    trial's history (the same history always gives the same level) and fixed; course 1 and
    its calendar follow from the height and weight.
    """
    scope.require_role(CLINICAL_WRITERS, "register patients")
    patient = records.get(scope, records.SPECS["patients"], patient_id)
    lock_slots(scope)
    reconcile(scope, trial, now)  # lapsed holds expire before they are used
    slot = get_request(scope, slot_request_id)
    if slot.site_id != patient.site_id:
        raise PermissionDenied("the slot is held for another site")
    if slot.status != "held":
        raise ConflictError(f"slot request {slot.id} is {slot.status}, not held")
    if start_date < now.date():
        raise ConflictError("protocol therapy cannot start before the registration date")
    screening = latest_screening(scope, patient.id)
    if screening is None or screening.overall != "eligible":
        found = "no screening" if screening is None else f"screening is {screening.overall}"
        raise ConflictError(f"registration needs an eligible screening ({found})")
    if not is_signed(scope, screening):
        raise ConflictError("the screening has no valid site investigator signature")
    state = trial_state(scope.session, trial, now.date())
    if state.current_level is None or state.accrual.value not in ("open", "suspended"):
        raise ConflictError(f"no slot is open: {state.accrual_reason()}")
    level = state.current_level
    if screening.dose_level != level:
        raise ConflictError(
            f"the screening was for dose level {screening.dose_level}; screen again for "
            f"dose level {level}, the level open now"
        )
    if state.slots_open < 1:
        # The hold is counted in slots_open, so this means accrual closed under it.
        raise ConflictError(str(NoSlotOpen(state.accrual_reason())))
    plan = treatment_plan(trial.protocol, level, height_cm, weight_kg, start_date, 1, 1)
    assignment: dict[str, Any] = {
        "level": level,
        "slots_open_before": state.slots_open,
        "design": trial.design.describe(),
        "reason": state.accrual_reason(),
        "as_of": now.date().isoformat(),
    }
    reg: Registration = records.create(
        scope,
        records.SPECS["registrations"],
        {
            "patient_id": patient.id,
            "registered_on": now.date(),
            "dose_level": level,
            "slot_reference": str(slot.id),
            "assignment": assignment,
        },
    )
    course: Course = records.create(
        scope,
        records.SPECS["courses"],
        {
            "patient_id": patient.id,
            "number": 1,
            "start_date": start_date,
            "dose_level": level,
            "height_cm": height_cm,
            "weight_kg": weight_kg,
            "bsa_m2": plan.sheet.bsa.m2,
        },
    )
    old = slot.status
    slot.status = "registered"
    slot.patient_id = patient.id
    slot.hold_expires_at = None
    slot.closed_reason = f"registered patient {patient.subject_code}"
    scope.audit(
        "slot_change",
        "slot_requests",
        slot.id,
        record_site_id=slot.site_id,
        old={"status": old},
        new={"status": "registered", "patient_id": patient.id},
        reason=slot.closed_reason,
    )
    notify(
        scope,
        "registered",
        f"Patient {patient.subject_code} registered at dose level {level}.",
        site_id=patient.site_id,
    )
    # Every site learns that a slot was filled, but not whose.
    notify(scope, "slot_filled", f"A patient was registered at dose level {level}.")
    reconcile(scope, trial, now)
    return reg, course, plan


def registration_of(scope: Scope, patient_id: int) -> Registration | None:
    stmt = select(Registration).where(
        Registration.patient_id == patient_id, Registration.voided.is_(False)
    )
    if scope.actor.site_scoped:
        stmt = stmt.where(Registration.site_id == scope.actor.site_id)
    return scope.session.scalar(stmt)


# A course a record is entered against: stored and not voided, by its number. Built once:
# every dose, lab, adverse event and specimen entered against a course reads it.
STARTED_COURSE = (Course.number == bindparam("number"), Course.voided.is_(False))
_STARTED = select(Course).where(Course.patient_id == bindparam("patient_id"), *STARTED_COURSE)


def not_started(number: int) -> InputError:
    """The refusal of a record entered against a course the patient has not started."""
    return InputError([Problem("course", f"course {number} is not started for this patient")])


def started_course(scope: Scope, patient_id: int, number: int) -> Course:
    """The patient's course `number` (the caller has already read the patient through its
    site rule), or `not_started`."""
    course: Course | None = scope.session.scalar(
        _STARTED, {"patient_id": patient_id, "number": number}
    )
    if course is None:
        raise not_started(number)
    return course


def courses_of(scope: Scope, patient_id: int) -> list[Course]:
    stmt = select(Course).where(Course.patient_id == patient_id, Course.voided.is_(False))
    if scope.actor.site_scoped:
        stmt = stmt.where(Course.site_id == scope.actor.site_id)
    return list(scope.session.scalars(stmt.order_by(Course.number)))


def course_plan(trial: Trial, course: Course) -> TreatmentPlan:
    """The calendar of one stored course (from its own height, weight and level). A plan
    is a function of those values and the protocol, and immutable: the pages reading the
    same course share one, as long as the values that made it are unchanged."""
    key = (
        id(trial),
        course.dose_level,
        course.height_cm,
        course.weight_kg,
        course.start_date,
        course.number,
    )
    kept = _PLANS.get(key)
    if kept is not None and kept[0] is trial:
        return kept[1]
    plan = treatment_plan(
        trial.protocol,
        course.dose_level,
        course.height_cm,
        course.weight_kg,
        course.start_date,
        course.number,
        course.number,
    )
    with _PLANS_LOCK:  # request threads share the cache
        if len(_PLANS) >= _PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = (trial, plan)
    return plan


_PLANS: dict[tuple[Any, ...], tuple[Trial, TreatmentPlan]] = {}
_PLANS_LOCK = threading.Lock()
_PLANS_KEPT = 512


def held_requests(scope: Scope) -> list[SlotRow]:
    stmt = select(SlotRow).where(SlotRow.status == "held", SlotRow.voided.is_(False))
    if scope.actor.site_scoped:
        stmt = stmt.where(SlotRow.site_id == scope.actor.site_id)
    return list(scope.session.scalars(stmt.order_by(SlotRow.requested_at)))
