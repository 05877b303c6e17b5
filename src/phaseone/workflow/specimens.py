"""Specimens: planned from the protocol's sampled assessments, then collected (or missed),
processed, shipped on a manifest and received by the central laboratory.

Every step is one audited change through phaseone.store.records (site scoping, roles and
the audit trail live there). Flags (missed, overdue, early, late, out of window) are
computed, never stored: they depend on the dose's clock time and on the day asked about.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.protocol.model import Assessment
from phaseone.store import records
from phaseone.store.access import CENTRAL_LAB_WRITERS, CLINICAL_WRITERS
from phaseone.store.errors import ConflictError
from phaseone.store.models import Course, DoseAdministration, Shipment, Specimen
from phaseone.store.scope import Scope
from phaseone.workflow.context import Trial
from phaseone.workflow.registration import started_course

SPECIMENS = records.EntitySpec(
    "specimens",
    "specimen",
    Specimen,
    CLINICAL_WRITERS,
    references={"course_id": Course},
    unique=(("code",),),
    assigned=frozenset({"code", "assessment_id", "course_number", "course_day", "sample_hour"}),
)
# Receipt is recorded by the central laboratory's side; its fields are changed only there.
RECEIPT = records.EntitySpec("specimens", "specimen", Specimen, CENTRAL_LAB_WRITERS)

# Crockford's base-32 (no I, L, O, U): codes read aloud and typed without confusion.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")


def new_code(prefix: str) -> str:
    """A random trial-wide id such as 'S-7KQ2-M9XD' (40 bits: collisions are negligible
    and caught by the unique constraint if they happen)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def parse_clock(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not _CLOCK.match(text):
        expected = "expected a 24-hour clock time HH:MM or HH:MM:SS"
        raise InputError([Problem(field, f"{expected}, got {value!r}")])
    return text


def sampled_assessments(trial: Trial) -> tuple[Assessment, ...]:
    return tuple(a for a in trial.protocol.assessments if a.specimen is not None)


def _assessment(trial: Trial, assessment_id: str) -> Assessment:
    for a in sampled_assessments(trial):
        if a.id == assessment_id:
            return a
    raise InputError([Problem("assessment_id", f"no sampled assessment {assessment_id!r}")])


def _applies(trial: Trial, a: Assessment, course: Course) -> bool:
    if a.courses != "all" and course.number not in a.courses:
        return False
    if a.agent is None:
        return True
    level = next((lv for lv in trial.protocol.dose_levels if lv.id == course.dose_level), None)
    return level is not None and a.agent in level.doses


def schedule_course(scope: Scope, trial: Trial, *, patient_id: int, course: int) -> list[Specimen]:
    """Plan every specimen the protocol samples in a course (idempotent: specimens already
    planned are kept and returned with the new ones)."""
    records.get(scope, records.SPECS["patients"], patient_id)  # scoping first
    scope.require_role(SPECIMENS.writers, "plan specimens")
    row = started_course(scope, patient_id, course)
    existing = {
        (s.assessment_id, s.course_day, s.sample_hour): s
        for s in scope.session.scalars(
            select(Specimen).where(Specimen.course_id == row.id, Specimen.voided.is_(False))
        )
    }
    out: list[Specimen] = []
    for a in sampled_assessments(trial):
        if not _applies(trial, a, row):
            continue
        assert a.specimen is not None
        hours: Sequence[float | None] = a.sample_hours or (None,)
        for day in a.days:
            for hour in hours:
                key = (a.id, day, hour)
                if key in existing:
                    out.append(existing[key])
                    continue
                offset = day - 1 + (int(hour // 24) if hour is not None else 0)
                specimen: Specimen = records.create(
                    scope,
                    SPECIMENS,
                    {
                        "patient_id": patient_id,
                        "course_id": row.id,
                        "code": new_code("S"),
                        "assessment_id": a.id,
                        "specimen_type": a.specimen.type,
                        "lab": a.specimen.lab,
                        "course_number": row.number,
                        "course_day": day,
                        "sample_hour": hour,
                        "planned_on": row.start_date + dt.timedelta(days=offset),
                        "status": "planned",
                    },
                )
                out.append(specimen)
    return out


def by_code(scope: Scope, code: str) -> Specimen:
    """A specimen the actor may see, by its label id (others' are simply not found)."""
    stmt = records.visible(scope, SPECIMENS).where(Specimen.code == code.strip().upper())
    found: Specimen | None = scope.session.scalar(stmt)
    if found is None:
        raise NotFoundError(f"no specimen {code!r}")
    return found


def collect(
    scope: Scope,
    *,
    specimen_id: int,
    collected_on: dt.date,
    collected_time: str | None,
    reason: str | None = None,
) -> Specimen:
    """Record the actual collection date and clock time. A timed (PK) sample needs its
    time. Changing a recorded collection needs a reason."""
    specimen: Specimen = records.get(scope, SPECIMENS, specimen_id)
    clock = parse_clock(collected_time, "collected_time")
    if specimen.sample_hour is not None and clock is None:
        raise InputError([Problem("collected_time", "a timed sample needs its clock time")])
    if specimen.status not in ("planned", "collected"):
        raise ConflictError(f"specimen {specimen.code} is {specimen.status}")
    first = specimen.status == "planned"
    changes = {"collected_on": collected_on, "collected_time": clock, "status": "collected"}
    return records.update(  # type: ignore[no-any-return]
        scope, SPECIMENS, specimen.id, changes, "collected" if first else reason
    )


def miss(scope: Scope, *, specimen_id: int, reason: str) -> Specimen:
    """A planned specimen that was not collected, with why."""
    specimen: Specimen = records.get(scope, SPECIMENS, specimen_id)
    if specimen.status != "planned":
        raise ConflictError(f"specimen {specimen.code} is {specimen.status}, not planned")
    if not reason.strip():
        raise InputError([Problem("reason", "a missed specimen needs the reason")])
    changes = {"status": "missed", "missed_reason": reason.strip()}
    return records.update(scope, SPECIMENS, specimen.id, changes, "missed")  # type: ignore[no-any-return]


def process(scope: Scope, *, specimen_id: int, processed_on: dt.date, note: str | None) -> Specimen:
    """Processing at the site (e.g. centrifuged, plasma aliquoted and frozen at -70 C)."""
    specimen: Specimen = records.get(scope, SPECIMENS, specimen_id)
    if specimen.status != "collected":
        raise ConflictError(f"specimen {specimen.code} is {specimen.status}, not collected")
    if specimen.collected_on is not None and processed_on < specimen.collected_on:
        raise InputError([Problem("processed_on", "cannot be before the collection")])
    changes = {"status": "processed", "processed_on": processed_on, "processing": note}
    return records.update(scope, SPECIMENS, specimen.id, changes, "processed")  # type: ignore[no-any-return]


def ship(
    scope: Scope,
    *,
    codes: Sequence[str],
    shipped_on: dt.date,
    carrier: str | None = None,
    tracking: str | None = None,
) -> Shipment:
    """A manifest: collected or processed specimens of one site going to one laboratory."""
    scope.require_role(CLINICAL_WRITERS, "ship specimens")
    if not codes:
        raise InputError([Problem("codes", "a manifest needs at least one specimen")])
    found = [by_code(scope, code) for code in codes]
    problems = [
        Problem(f"codes[{i}]", f"specimen {s.code} is {s.status}; expected collected or processed")
        for i, s in enumerate(found)
        if s.status not in ("collected", "processed")
    ]
    if len({s.site_id for s in found}) > 1:
        problems.append(Problem("codes", "a manifest holds one site's specimens"))
    if len({s.lab for s in found}) > 1:
        problems.append(Problem("codes", "a manifest goes to one laboratory; split by lab"))
    if len({s.id for s in found}) < len(found):
        problems.append(Problem("codes", "a specimen is listed twice"))
    if problems:
        raise InputError(problems)
    shipment = Shipment(
        code=new_code("M"),
        site_id=found[0].site_id,
        lab=found[0].lab,
        status="shipped",
        shipped_on=shipped_on,
        carrier=carrier,
        tracking=tracking,
        created_by=scope.actor.user_id,
    )
    scope.session.add(shipment)
    scope.session.flush()
    scope.audit(
        "create", "shipments", shipment.id, record_site_id=shipment.site_id,
        new=records.content(shipment),
    )
    for s in found:
        records.update(
            scope, SPECIMENS, s.id, {"status": "shipped", "shipment_id": shipment.id},
            f"shipped on manifest {shipment.code}",
        )
    return shipment


def visible_shipments(scope: Scope) -> list[Shipment]:
    stmt = select(Shipment).where(Shipment.voided.is_(False))
    if scope.actor.site_scoped:
        stmt = stmt.where(Shipment.site_id == scope.actor.site_id)
    return list(scope.session.scalars(stmt.order_by(Shipment.id)))


def shipment(scope: Scope, shipment_id: int) -> Shipment:
    found = [s for s in visible_shipments(scope) if s.id == shipment_id]
    if not found:
        raise NotFoundError(f"no shipment {shipment_id}")
    return found[0]


def manifest(scope: Scope, shipment_id: int) -> list[Specimen]:
    ship_row = shipment(scope, shipment_id)
    stmt = records.visible(scope, SPECIMENS).where(Specimen.shipment_id == ship_row.id)
    return list(scope.session.scalars(stmt.order_by(Specimen.id)))


def receive(
    scope: Scope, *, shipment_id: int, received_on: dt.date, conditions: dict[str, str] | None
) -> Shipment:
    """The central laboratory received a manifest; each specimen's condition on arrival
    (default 'good') is recorded."""
    scope.require_role(CENTRAL_LAB_WRITERS, "record receipt of specimens")
    row = shipment(scope, shipment_id)
    if row.status != "shipped":
        raise ConflictError(f"shipment {row.code} is {row.status}")
    if row.shipped_on is not None and received_on < row.shipped_on:
        raise InputError([Problem("received_on", "cannot be before the shipment")])
    conditions = {k.strip().upper(): v for k, v in (conditions or {}).items()}
    members = manifest(scope, row.id)
    unknown = sorted(set(conditions) - {s.code for s in members})
    if unknown:
        raise InputError(
            [Problem(f"conditions.{c}", "not a specimen of this manifest") for c in unknown]
        )
    old = records.content(row)
    row.status, row.received_on = "received", received_on
    scope.session.flush()
    scope.audit(
        "update", "shipments", row.id, record_site_id=row.site_id, old=old,
        new=records.content(row), reason="received",
    )
    for s in members:
        changes = {
            "status": "received",
            "received_on": received_on,
            "condition": conditions.get(s.code, "good"),
        }
        records.update(scope, RECEIPT, s.id, changes, f"received on manifest {row.code}")
    return row


# --- flags ----------------------------------------------------------------------------------


def dose_clock(scope: Scope, specimen: Specimen, agent: str | None) -> dt.datetime | None:
    """The local date-time of the assessment's agent's dose on the specimen's course day."""
    if agent is None:
        return None
    stmt = select(DoseAdministration).where(
        DoseAdministration.course_id == specimen.course_id,
        DoseAdministration.agent_id == agent,
        DoseAdministration.course_day == specimen.course_day,
        DoseAdministration.voided.is_(False),
        DoseAdministration.given.is_(True),
    )
    doses = [d for d in scope.session.scalars(stmt) if d.administered_time]
    if not doses:
        return None
    first = min(doses, key=lambda d: (d.administered_on, d.administered_time or ""))
    return at_clock(first.administered_on, first.administered_time)


def at_clock(day: dt.date, clock: str | None) -> dt.datetime | None:
    if clock is None:
        return None
    return dt.datetime.combine(day, dt.time.fromisoformat(clock))


@dataclass(frozen=True)
class Timing:
    """How a specimen's collection compares with its plan (pure; flags are not stored)."""

    flags: tuple[str, ...]
    nominal_at: dt.datetime | None
    deviation_minutes: float | None


def timing(
    specimen: Specimen, assessment: Assessment, dose_at: dt.datetime | None, as_of: dt.date
) -> Timing:
    """missed; overdue (still planned after its window); early / late and out_of_window
    (collection date outside planned day +- window_days, or clock time outside nominal +-
    window_minutes, the nominal time being the dose time plus the sample hour)."""
    plan = assessment.specimen
    assert plan is not None
    if specimen.status == "missed":
        return Timing(("missed",), None, None)
    window = dt.timedelta(days=plan.window_days)
    if specimen.collected_on is None:
        late = as_of > specimen.planned_on + window
        return Timing(("overdue",) if late else (), None, None)
    flags: list[str] = []
    days_off = (specimen.collected_on - specimen.planned_on).days
    if abs(days_off) > plan.window_days:
        flags += ["late" if days_off > 0 else "early", "out_of_window"]
    nominal = deviation = None
    actual = at_clock(specimen.collected_on, specimen.collected_time)
    if dose_at is not None and specimen.sample_hour is not None:
        nominal = dose_at + dt.timedelta(hours=specimen.sample_hour)
        if actual is not None:
            deviation = (actual - nominal).total_seconds() / 60
            tolerance = plan.window_minutes if plan.window_minutes is not None else math.inf
            if abs(deviation) > tolerance and "out_of_window" not in flags:
                flags += ["late" if deviation > 0 else "early", "out_of_window"]
    return Timing(tuple(flags), nominal, deviation)


def listing(
    scope: Scope,
    trial: Trial,
    *,
    as_of: dt.date,
    patient_id: int | None = None,
    status: str | None = None,
    flag: str | None = None,
) -> list[dict[str, Any]]:
    """The specimens the actor may see, each with its timing flags as of a date."""
    stmt = records.visible(scope, SPECIMENS).where(Specimen.voided.is_(False))
    if patient_id is not None:
        stmt = stmt.where(Specimen.patient_id == patient_id)
    if status is not None:
        stmt = stmt.where(Specimen.status == status)
    plans = {a.id: a for a in sampled_assessments(trial)}
    out = []
    for s in scope.session.scalars(stmt.order_by(Specimen.id)):
        a = plans.get(s.assessment_id)
        if a is None:
            continue
        t = timing(s, a, dose_clock(scope, s, a.agent), as_of)
        if flag is not None and flag not in t.flags:
            continue
        out.append(present(scope, s, t))
    return out


def present(scope: Scope, specimen: Specimen, t: Timing | None = None) -> dict[str, Any]:
    values = records.view(specimen, scope.actor)
    values["subject_code"] = specimen.patient.subject_code
    if t is not None:
        values["flags"] = list(t.flags)
        values["deviation_minutes"] = (
            None if t.deviation_minutes is None else round(t.deviation_minutes, 1)
        )
    return values


def label_html(specimen: Specimen, trial: Trial) -> str:
    """A printable label (no QR code): specimen id, subject, assessment, planned time."""
    a = _assessment(trial, specimen.assessment_id)
    when = f"C{specimen.course_number} D{specimen.course_day}"
    if specimen.sample_hour is not None:
        when += f" {specimen.sample_hour:g} h"
    parts = [
        f"<strong>{html.escape(specimen.code)}</strong>",
        html.escape(specimen.patient.subject_code),
        html.escape(a.name),
        f"{html.escape(when)} &middot; {html.escape(specimen.specimen_type)}",
        f"to {html.escape(specimen.lab)}",
    ]
    body = "<br>".join(parts)
    return (
        '<div class="specimen-label" style="font:10pt monospace;border:1px solid #000;'
        f'padding:4px;width:2.5in">{body}</div>'
    )


def add_unscheduled(
    scope: Scope, trial: Trial, *, patient_id: int, course: int, assessment_id: str, day: int
) -> Specimen:
    """An extra sample of a sampled assessment (e.g. an additional PK time point); it has
    no nominal hour, so only its date is checked against the window."""
    a = _assessment(trial, assessment_id)
    assert a.specimen is not None
    records.get(scope, records.SPECS["patients"], patient_id)
    row = started_course(scope, patient_id, course)
    last = trial.protocol.course.length_days + 1  # the day after the course: a trough
    if not 1 <= day <= last:
        raise InputError([Problem("day", f"expected a course day 1-{last}")])
    specimen: Specimen = records.create(
        scope,
        SPECIMENS,
        {
            "patient_id": patient_id,
            "course_id": row.id,
            "code": new_code("S"),
            "assessment_id": a.id,
            "specimen_type": a.specimen.type,
            "lab": a.specimen.lab,
            "course_number": row.number,
            "course_day": day,
            "sample_hour": None,
            "planned_on": row.start_date + dt.timedelta(days=day - 1),
            "status": "planned",
        },
    )
    return specimen
