"""Repositories for patients, everything recorded about them, and escalation decisions.

Site scoping lives here, in every query: a site user asking for another site's record gets
NotFoundError, exactly as if it did not exist. Writes check the actor's role, require a
reason for any change after the first save, audit each changed field (old -> new), never
delete (voiding keeps the row), audit any signature the change breaks, and refuse any write
to a patient whose casebook is signed and locked (store/locks.py).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from phaseone.errors import InputError, NotFoundError, Problem
from phaseone.store import subjects
from phaseone.store.access import CLINICAL_WRITERS, DECISION_WRITERS, Actor, Role
from phaseone.store.audit import canonical_json, sha256_hex
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.locks import refuse_if_locked
from phaseone.store.models import (
    BOOKKEEPING,
    AdverseEvent,
    ClinicalEvent,
    Course,
    DltDetermination,
    DoseAdministration,
    EscalationDecision,
    FollowUp,
    LabResult,
    Patient,
    PatientOwned,
    Registration,
    ScreeningCriterion,
    ScreeningEvaluation,
    Signature,
    Site,
    Stamped,
)
from phaseone.store.scope import Scope

# De-identified dates move by a random, non-zero whole number of days in [-365, 365], drawn
# once per patient from the OS's secure generator (never derived from identifiers).
MAX_SHIFT_DAYS = 365


def _random_shift() -> int:
    magnitude = 1 + secrets.randbelow(MAX_SHIFT_DAYS)
    return magnitude if secrets.randbelow(2) else -magnitude


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class EntitySpec:
    """How one table is exposed: its name, who writes it, what it references, what is unique."""

    name: str
    label: str
    model: type[Stamped]
    writers: frozenset[Role]
    # Columns naming another record of the same patient.
    references: Mapping[str, type[PatientOwned]] = field(default_factory=dict)
    unique: tuple[tuple[str, ...], ...] = ()
    # Columns the server decides (a registration's dose level): never corrected by hand.
    assigned: frozenset[str] = frozenset()

    @property
    def patient_owned(self) -> bool:
        return issubclass(self.model, PatientOwned)

    @property
    def site_bound(self) -> bool:
        return self.model is Patient or self.patient_owned


def _spec(
    name: str,
    label: str,
    model: type[Stamped],
    writers: frozenset[Role] = CLINICAL_WRITERS,
    references: Mapping[str, type[PatientOwned]] | None = None,
    unique: tuple[tuple[str, ...], ...] = (),
    assigned: frozenset[str] = frozenset(),
) -> EntitySpec:
    return EntitySpec(name, label, model, writers, references or {}, unique, assigned)


_COURSE_REF: Mapping[str, type[PatientOwned]] = {"course_id": Course}

SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        _spec("patients", "patient", Patient, unique=(("subject_code",),)),
        _spec("screening_evaluations", "screening evaluation", ScreeningEvaluation),
        _spec(
            "registrations",
            "registration",
            Registration,
            unique=(("patient_id",),),
            assigned=frozenset({"dose_level", "slot_reference", "assignment"}),
        ),
        _spec("courses", "course", Course, unique=(("patient_id", "number"),)),
        _spec(
            "dose_administrations",
            "dose administration",
            DoseAdministration,
            references=_COURSE_REF,
        ),
        _spec("lab_results", "lab result", LabResult, references=_COURSE_REF),
        _spec("adverse_events", "adverse event", AdverseEvent, references=_COURSE_REF),
        _spec(
            "dlt_determinations",
            "DLT determination",
            DltDetermination,
            DECISION_WRITERS,
            {"course_id": Course, "adverse_event_id": AdverseEvent},
        ),
        _spec("clinical_events", "clinical event", ClinicalEvent),
        _spec("follow_ups", "follow-up", FollowUp),
        _spec(
            "escalation_decisions",
            "escalation decision",
            EscalationDecision,
            DECISION_WRITERS,
            # The design's proposal as it was made; only the chair's rationale is edited.
            assigned=frozenset(
                {"decided_on", "from_dose_level", "dose_level", "decision", "design", "state"}
            ),
        ),
    )
}


def spec_for(name: str) -> EntitySpec:
    try:
        return SPECS[name]
    except KeyError:
        raise NotFoundError(f"no record type {name!r}") from None


# --- content, hashing, presentation -------------------------------------------------------


def content_columns(table: Any) -> list[Any]:
    """A table's own data columns: what is audited on creation and what is signed."""
    return [col for col in table.columns if col.key not in BOOKKEEPING]


def content(obj: Stamped) -> dict[str, Any]:
    """A record's own data (no bookkeeping): what is audited on creation and what is signed."""
    values = {
        col.key: getattr(obj, col.key)
        for col in content_columns(obj.__table__)  # type: ignore[attr-defined]
    }
    if isinstance(obj, ScreeningEvaluation):
        values["criteria"] = [_criterion(c) for c in obj.criteria]
    return values


def _criterion(c: ScreeningCriterion) -> dict[str, Any]:
    return {
        "criterion_id": c.criterion_id,
        "result": c.result,
        "rule_version": c.rule_version,
        "evidence": c.evidence,
    }


def content_hash(entity: str, obj: Stamped) -> str:
    return sha256_hex(canonical_json({"entity": entity, "id": obj.id, "content": content(obj)}))


def record_site(obj: Stamped) -> str | None:
    site = getattr(obj, "site_id", None)
    return None if site is None else str(site)


def _shift_days(obj: Stamped) -> int:
    if isinstance(obj, Patient):
        return obj.date_shift_days
    if isinstance(obj, PatientOwned):
        return obj.patient.date_shift_days
    return 0


def _shift_json(value: Any, days: int) -> Any:
    """Shift every ISO date found in engine output; everything else is kept."""
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return (day + dt.timedelta(days=days)).isoformat()
    if isinstance(value, dict):
        return {k: _shift_json(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_json(v, days) for v in value]
    return value


def _deidentify(obj: Stamped, values: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(obj, (Patient, PatientOwned)):
        return withhold_dates(values)
    return deidentify_values(obj.__table__, values, _shift_days(obj))  # type: ignore[union-attr]


def _withhold_json(value: Any) -> Any:
    if isinstance(value, str) and _ISO_DATE.match(value):
        return None
    if isinstance(value, dict):
        return {k: _withhold_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_withhold_json(v) for v in value]
    return value


def withhold_dates(values: dict[str, Any]) -> dict[str, Any]:
    """A trial-level record (an escalation decision, a slot request) as a de-identified view
    shows it: no patient's shift applies to its dates, and real ones would date the
    patients' events, so every date and time in it is withheld."""
    out = {k: None if isinstance(v, dt.date) else _withhold_json(v) for k, v in values.items()}
    out["void_reason"] = None
    out["deidentified"] = True
    return out


def deidentify_values(table: Any, values: dict[str, Any], days: int) -> dict[str, Any]:
    """A record's values as a de-identified view shows them: identifiers and free text
    withheld, and every date or time in it (clinical dates, the record's own bookkeeping
    times, dates inside engine output) moved by the patient's `days`: none is real."""
    for col in table.columns:
        phi = col.info.get("phi")
        if col.key not in values:
            continue
        if phi in ("identifier", "text"):
            values[col.key] = None
        elif col.type.__class__.__name__ in ("JSON", "Variant") and values[col.key] is not None:
            values[col.key] = _shift_json(values[col.key], days)
    for key, value in values.items():
        if isinstance(value, dt.date):  # datetimes too
            values[key] = value + dt.timedelta(days=days)
    if "criteria" in values:
        values["criteria"] = [
            {**c, "evidence": _shift_json(c["evidence"], days)} for c in values["criteria"]
        ]
    values["void_reason"] = None
    values["deidentified"] = True
    return values


def view(obj: Stamped, actor: Actor, *, deidentify: bool = False) -> dict[str, Any]:
    """A record's content and bookkeeping as the actor may see it (de-identified for the
    statistician, or when asked), without its signatures."""
    values = content(obj)
    values.update(
        id=obj.id,
        created_at=obj.created_at,
        updated_at=obj.updated_at,
        voided=obj.voided,
        void_reason=obj.void_reason,
        deidentified=False,
    )
    if actor.deidentified or deidentify:
        values = _deidentify(obj, values)
    return values


def present(obj: Stamped, actor: Actor, signatures: Sequence[Signature] = ()) -> dict[str, Any]:
    """A record as the actor may see it, with the state of each signature on it."""
    values = view(obj, actor)
    values["signatures"] = []
    if signatures:
        current = content_hash(obj.__tablename__, obj)  # type: ignore[attr-defined]
        values["signatures"] = [signature_view(s, current, obj.voided) for s in signatures]
    if actor.deidentified:
        # A signature's time dates the record like its own times do (see _deidentify).
        patient_record = isinstance(obj, (Patient, PatientOwned))
        days = dt.timedelta(days=_shift_days(obj))
        for sig in values["signatures"]:
            sig["signed_at"] = sig["signed_at"] + days if patient_record else None
    return values


def signature_view(sig: Signature, current_hash: str, voided: bool) -> dict[str, Any]:
    valid = sig.content_hash == current_hash and not voided
    return {
        "id": sig.id,
        "meaning_id": sig.meaning_id,
        "meaning": sig.meaning,
        "printed_name": sig.printed_name,
        "signer_role": sig.signer_role,
        "signed_at": sig.signed_at,
        "content_hash": sig.content_hash,
        "status": "valid" if valid else "broken",
    }


def signatures_for(scope: Scope, entity: str, ids: Sequence[int]) -> dict[int, list[Signature]]:
    found: dict[int, list[Signature]] = {i: [] for i in ids}
    if not ids:
        return found
    stmt = (
        select(Signature)
        .where(Signature.entity == entity, Signature.entity_id.in_(ids))
        .order_by(Signature.id)
    )
    for sig in scope.session.scalars(stmt):
        found[sig.entity_id].append(sig)
    return found


def present_many(scope: Scope, spec: EntitySpec, objs: Sequence[Stamped]) -> list[dict[str, Any]]:
    sigs = signatures_for(scope, spec.name, [o.id for o in objs])
    return [present(o, scope.actor, sigs[o.id]) for o in objs]


# --- reading (scoped) ---------------------------------------------------------------------


def visible(scope: Scope, spec: EntitySpec) -> Select[Any]:
    """The records of a type the actor may see (site staff: their own site's)."""
    model: Any = spec.model
    stmt = select(model)
    if spec.site_bound and scope.actor.site_scoped:
        stmt = stmt.where(model.site_id == scope.actor.site_id)
    return stmt


def get(scope: Scope, spec: EntitySpec, record_id: int) -> Any:
    """One record the actor may see, or NotFoundError (also for other sites' records)."""
    # By primary key: a record this transaction has already read costs no query. The
    # site rule is `visible`'s, applied to the one record.
    obj: Any = scope.session.get(spec.model, record_id)
    if obj is None or (spec.site_bound and not scope.actor.sees_site(obj.site_id)):
        raise NotFoundError(f"no {spec.label} {record_id}")
    return obj


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    offset: int


def list_records(
    scope: Scope,
    spec: EntitySpec,
    filters: Mapping[str, Any],
    *,
    limit: int,
    offset: int,
    include_voided: bool = False,
) -> Page:
    model: Any = spec.model
    stmt = visible(scope, spec)
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(model, name) == value)
    if not include_voided:
        stmt = stmt.where(model.voided.is_(False))
    total = scope.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(scope.session.scalars(stmt.order_by(model.id).limit(limit).offset(offset)))
    return Page(items, int(total), limit, offset)


# --- writing ------------------------------------------------------------------------------


def _require_reason(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise InputError([Problem("reason", "a reason is required for any change after saving")])
    return reason.strip()


def _check_references(
    scope: Scope, spec: EntitySpec, patient_id: int, data: Mapping[str, Any]
) -> None:
    for name, target in spec.references.items():
        ref = data.get(name)
        if ref is None:
            continue
        other: Any = scope.session.get(target, ref)
        if other is None or other.patient_id != patient_id or other.voided:
            label = target.__tablename__.rstrip("s").replace("_", " ")  # type: ignore[attr-defined]
            raise InputError([Problem(name, f"no {label} {ref} for this patient")])


def _check_unique(
    scope: Scope, spec: EntitySpec, values: Mapping[str, Any], own_id: int | None
) -> None:
    model: Any = spec.model
    for key in spec.unique:
        stmt = select(model.id)
        for name in key:
            stmt = stmt.where(getattr(model, name) == values[name])
        if own_id is not None:
            stmt = stmt.where(model.id != own_id)
        if spec.name != "patients":
            stmt = stmt.where(model.voided.is_(False))
        if scope.session.scalar(stmt.limit(1)) is not None:
            shown = ", ".join(f"{n}={values[n]!r}" for n in key)
            raise ConflictError(f"a {spec.label} with {shown} already exists")


def _flush(scope: Scope, spec: EntitySpec) -> None:
    try:
        scope.session.flush()
    except IntegrityError:
        raise ConflictError(f"the {spec.label} conflicts with a stored record") from None


def create(scope: Scope, spec: EntitySpec, data: Mapping[str, Any]) -> Any:
    """Create a record; the whole record is audited as the first save."""
    values = dict(data)
    criteria = values.pop("criteria", None)
    if spec.patient_owned:
        # The patient first, so another site's patient is just not found.
        patient = get(scope, SPECS["patients"], values["patient_id"])
    scope.require_role(spec.writers, f"create {spec.name.replace('_', ' ')}")
    if spec.model is Patient:
        site = scope.session.get(Site, values.get("site_id"))
        if site is None or not site.active:
            raise InputError([Problem("site_id", f"no active site {values.get('site_id')!r}")])
        if not scope.actor.sees_site(site.id):
            raise PermissionDenied("site staff register patients at their own site only")
        if values.get("subject_code"):
            subjects.check_chosen(scope.actor, site.id, values["subject_code"])
        else:
            values["subject_code"] = subjects.next_code(scope.session)
        values["date_shift_days"] = _random_shift()
    elif spec.patient_owned:
        if patient.voided:
            raise ConflictError(f"patient {patient.id} is voided")
        refuse_if_locked(scope.session, patient.id)
        values["site_id"] = patient.site_id
        _check_references(scope, spec, patient.id, values)
        if spec.model is Course:
            _check_course_level(scope, patient.id, values.get("dose_level"))
    _check_unique(scope, spec, values, None)
    model: Any = spec.model
    obj = model(**values, created_by=scope.actor.user_id)
    if criteria is not None:
        obj.criteria = [ScreeningCriterion(**c) for c in criteria]
    scope.session.add(obj)
    _flush(scope, spec)
    scope.audit("create", spec.name, obj.id, record_site_id=record_site(obj), new=content(obj))
    return obj


def _valid_signatures(scope: Scope, spec: EntitySpec, obj: Stamped) -> list[Signature]:
    current = content_hash(spec.name, obj)
    sigs = signatures_for(scope, spec.name, [obj.id])[obj.id]
    return [s for s in sigs if s.content_hash == current]


def _audit_broken(scope: Scope, obj: Stamped, broken: list[Signature], why: str) -> None:
    for sig in broken:
        scope.audit(
            "signature_broken",
            "signatures",
            sig.id,
            record_site_id=record_site(obj),
            old={"content_hash": sig.content_hash, "meaning": sig.meaning},
            reason=why,
        )


def _refuse_locked(scope: Scope, obj: Stamped) -> None:
    """A patient's records (and the patient) are not changed while the casebook is locked."""
    if isinstance(obj, Patient):
        refuse_if_locked(scope.session, obj.id)
    elif isinstance(obj, PatientOwned):
        refuse_if_locked(scope.session, obj.patient_id)


IMMUTABLE = frozenset({"patient_id", "site_id", "criteria", "date_shift_days"})


def _check_course_level(scope: Scope, patient_id: int, level: Any) -> None:
    """A course is given at the registered dose level or, as a dose modification, below it.

    The level a patient gets is assigned by the server at registration; a course can never
    raise it (no intra-patient escalation), so a site cannot change the dose through a course.
    """
    registration = scope.session.scalars(
        select(Registration).where(
            Registration.patient_id == patient_id, Registration.voided.is_(False)
        )
    ).first()
    if registration is None:
        raise InputError(
            [Problem("patient_id", "the patient is not registered; courses follow registration")]
        )
    if level is not None and level > registration.dose_level:
        raise InputError(
            [
                Problem(
                    "dose_level",
                    f"dose level {level} is above the registered level "
                    f"{registration.dose_level}; a course stays at the registered level or "
                    "moves to a lower one",
                )
            ]
        )


def update(
    scope: Scope, spec: EntitySpec, record_id: int, changes: Mapping[str, Any], reason: str | None
) -> Any:
    """Correct fields of a saved record; each changed field is audited with the reason."""
    obj = get(scope, spec, record_id)  # first, so another site's record is just not found
    scope.require_role(spec.writers, f"change {spec.name.replace('_', ' ')}")
    why = _require_reason(reason)
    if obj.voided:
        raise ConflictError(f"{spec.label} {record_id} is voided and cannot be changed")
    _refuse_locked(scope, obj)
    fixed = sorted(IMMUTABLE & set(changes))
    if fixed:
        raise InputError([Problem(name, "cannot be changed after saving") for name in fixed])
    assigned = sorted(spec.assigned & set(changes))
    if assigned:
        raise InputError(
            [
                Problem(name, f"assigned by the server; void the {spec.label} instead")
                for name in assigned
            ]
        )
    patient_id = getattr(obj, "patient_id", None)
    if patient_id is not None:
        _check_references(scope, spec, patient_id, changes)
        if spec.model is Course and "dose_level" in changes:
            _check_course_level(scope, patient_id, changes["dose_level"])
    merged = {**content(obj), **changes}
    if spec.model is Patient and "subject_code" in changes:
        subjects.check_chosen(scope.actor, obj.site_id, changes["subject_code"] or "")
    if any(set(key) & set(changes) for key in spec.unique):
        _check_unique(scope, spec, merged, obj.id)
    signed = _valid_signatures(scope, spec, obj)
    changed: list[str] = []
    for name, new in changes.items():
        old = getattr(obj, name)
        if old == new:
            continue
        setattr(obj, name, new)
        changed.append(name)
        scope.audit(
            "update",
            spec.name,
            obj.id,
            record_site_id=record_site(obj),
            field=name,
            old=old,
            new=new,
            has_old=True,
            has_new=True,
            reason=why,
        )
    if changed:
        _flush(scope, spec)
        _audit_broken(scope, obj, signed, f"signed content changed: {', '.join(changed)}")
    return obj


def void(scope: Scope, spec: EntitySpec, record_id: int, reason: str | None) -> Any:
    """Withdraw a record. The row stays, marked void with its reason, and is audited."""
    obj = get(scope, spec, record_id)  # first, so another site's record is just not found
    scope.require_role(spec.writers, f"void {spec.name.replace('_', ' ')}")
    why = _require_reason(reason)
    if obj.voided:
        raise ConflictError(f"{spec.label} {record_id} is already voided")
    _refuse_locked(scope, obj)
    signed = _valid_signatures(scope, spec, obj)
    obj.voided = True
    obj.void_reason = why
    _flush(scope, spec)
    scope.audit(
        "delete", spec.name, obj.id, record_site_id=record_site(obj), old=content(obj), reason=why
    )
    _audit_broken(scope, obj, signed, "signed record voided")
    return obj
