"""Forms: the groups of a patient's records that a monitor verifies together and that
queries are counted under (a course's doses, the labs of one date, a screening, ...).

A form key is `TYPE:PATIENT:PART`, where PART is what the form type groups its records by
(a course id, a collection date, a record id). A new form type is one `FormType` row in
`FORM_TYPES`; records of a table without one form a form each (`TABLE:PATIENT:ID`), so a
query can be raised on any record. A form's hash covers every record in it, voided ones
and their void flag included, so any change, addition or withdrawal changes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.audit import canonical_json, sha256_hex
from phaseone.store.scope import Scope


@dataclass(frozen=True)
class FormType:
    name: str
    label: str
    entity: str
    # What the form type groups a record by (None: the record is its own form).
    part: Callable[[Any], object] | None = None
    # Whether monitors verify forms of this type against source.
    verified: bool = True

    def part_of(self, obj: Any) -> str:
        value = obj.id if self.part is None else self.part(obj)
        return "none" if value is None else str(value)

    def describe(self, part: str) -> str:
        return f"{self.label} {part}"


FORM_TYPES: dict[str, FormType] = {
    t.name: t
    for t in (
        FormType("screening", "screening", "screening_evaluations"),
        FormType("doses", "doses of course", "dose_administrations", lambda o: o.course_id),
        FormType("labs", "labs of", "lab_results", lambda o: o.collected_on.isoformat()),
        FormType(
            "adverse_events", "adverse events of course", "adverse_events", lambda o: o.course_id
        ),
    )
}
_BY_ENTITY = {t.entity: t for t in FORM_TYPES.values()}


def form_type_of(entity: str) -> FormType:
    """The form type a table's records belong to (its own, one record a form, if none)."""
    found = _BY_ENTITY.get(entity)
    if found is not None:
        return found
    spec = records.spec_for(entity)
    return FormType(entity, spec.label, entity, verified=False)


def form_key(entity: str, obj: Any) -> str:
    kind = form_type_of(entity)
    return f"{kind.name}:{obj.patient_id}:{kind.part_of(obj)}"


@dataclass(frozen=True)
class FormKey:
    kind: FormType
    patient_id: int
    part: str

    @property
    def key(self) -> str:
        return f"{self.kind.name}:{self.patient_id}:{self.part}"


def parse_key(key: str, *, field: str = "form_key") -> FormKey:
    """A form key, or InputError naming `field` and the shape expected."""
    bits = key.split(":", 2)
    kind = FORM_TYPES.get(bits[0]) if len(bits) == 3 else None
    if kind is None or not bits[1].isdigit():
        kinds = ", ".join(FORM_TYPES)
        raise InputError(
            [Problem(field, f"expected TYPE:PATIENT_ID:PART with TYPE one of {kinds}")]
        )
    return FormKey(kind, int(bits[1]), bits[2])


def form_records(scope: Scope, key: FormKey) -> list[Any]:
    """The records of one form the actor may see, voided ones included, by id."""
    spec = records.spec_for(key.kind.entity)
    model: Any = spec.model
    stmt = records.visible(scope, spec).where(model.patient_id == key.patient_id)
    found = scope.session.scalars(stmt.order_by(model.id))
    return [o for o in found if key.kind.part_of(o) == key.part]


def content_hash(entity: str, objs: Iterable[Any]) -> str:
    """One hash over a set of records: each one's content and whether it is voided."""
    body = [
        {"entity": entity, "id": o.id, "voided": o.voided, "content": records.content(o)}
        for o in sorted(objs, key=lambda o: o.id)
    ]
    return sha256_hex(canonical_json(body))


@dataclass(frozen=True)
class Form:
    key: FormKey
    records: list[Any]

    @property
    def live(self) -> bool:
        return any(not o.voided for o in self.records)

    @property
    def hash(self) -> str:
        return content_hash(self.key.kind.entity, self.records)


def patient_forms(scope: Scope, patient_id: int) -> list[Form]:
    """A patient's forms of every verified type that hold at least one record in force."""
    forms: list[Form] = []
    for kind in FORM_TYPES.values():
        if not kind.verified:
            continue
        spec = records.spec_for(kind.entity)
        model: Any = spec.model
        stmt = records.visible(scope, spec).where(model.patient_id == patient_id)
        groups: dict[str, list[Any]] = {}
        for obj in scope.session.scalars(stmt.order_by(model.id)):
            groups.setdefault(kind.part_of(obj), []).append(obj)
        for part, objs in groups.items():
            form = Form(FormKey(kind, patient_id, part), objs)
            if form.live:
                forms.append(form)
    return forms
