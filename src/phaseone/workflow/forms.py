"""Forms: the groups of a patient's records that a monitor verifies together and that
queries are counted under (a course's doses, the labs of one date, a screening, a disease
evaluation with its measurements, ...).

A form key is `TYPE:PATIENT:PART`, where PART is what the form type groups its records by
(a course id, a collection date, a record id). A new form type is one `FormType` row in
`FORM_TYPES`; records of a table without one form a form each (`TABLE:PATIENT:ID`), so a
query can be raised on any record. A form's hash covers every record in it, voided ones
and their void flag included, so any change, addition or withdrawal changes it. A form type
with child tables (a disease evaluation's MIBG scores, lesions and marrow samples) counts
their records in its form and in its hash, and a query on a child record is counted under
its parent's form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from phaseone.errors import InputError, Problem
from phaseone.store import records
from phaseone.store.audit import canonical_json, sha256_hex
from phaseone.store.scope import Scope
from phaseone.workflow import evaluations


@dataclass(frozen=True)
class FormType:
    name: str
    label: str
    entity: str
    # What the form type groups a record by (None: the record is its own form).
    part: Callable[[Any], object] | None = None
    # Whether monitors verify forms of this type against source.
    verified: bool = True
    # Child tables whose records belong to the form of the record they reference:
    # (table, column holding the parent record's id); the form's part is the parent's id.
    children: tuple[tuple[str, str], ...] = ()

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
        FormType(
            "evaluation",
            "disease evaluation",
            evaluations.EVALUATIONS.name,
            children=tuple((spec.name, "evaluation_id") for spec in evaluations.CHILDREN),
        ),
    )
}
_BY_ENTITY = {t.entity: t for t in FORM_TYPES.values()}
# A child table -> its form type and the column naming the parent record.
_BY_CHILD = {child: (t, column) for t in FORM_TYPES.values() for child, column in t.children}
# The record types outside the store's common table (the evaluations own theirs).
_SPECS = {s.name: s for s in (evaluations.EVALUATIONS, *evaluations.CHILDREN)}


def spec_of(entity: str) -> records.EntitySpec:
    found = _SPECS.get(entity)
    return found if found is not None else records.spec_for(entity)


def form_type_of(entity: str) -> FormType:
    """The form type a table's records belong to (its own, one record a form, if none)."""
    found = _BY_ENTITY.get(entity)
    if found is not None:
        return found
    if entity in _BY_CHILD:
        return _BY_CHILD[entity][0]
    spec = spec_of(entity)
    return FormType(entity, spec.label, entity, verified=False)


def form_key(entity: str, obj: Any) -> str:
    if entity in _BY_CHILD:
        kind, column = _BY_CHILD[entity]
        return f"{kind.name}:{obj.patient_id}:{getattr(obj, column)}"
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


def _patient_records(scope: Scope, entity: str, patient_id: int) -> list[Any]:
    spec = spec_of(entity)
    model: Any = spec.model
    stmt = records.visible(scope, spec).where(model.patient_id == patient_id)
    return list(scope.session.scalars(stmt.order_by(model.id)))


def _children_by_part(
    scope: Scope, kind: FormType, patient_id: int
) -> dict[str, dict[str, list[Any]]]:
    """Each part's child records, by child table (voided ones included)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for entity, column in kind.children:
        for obj in _patient_records(scope, entity, patient_id):
            out.setdefault(str(getattr(obj, column)), {}).setdefault(entity, []).append(obj)
    return out


def form_records(scope: Scope, key: FormKey) -> list[Any]:
    """The records of one form the actor may see, voided ones included, by id."""
    found = _patient_records(scope, key.kind.entity, key.patient_id)
    return [o for o in found if key.kind.part_of(o) == key.part]


def load_form(scope: Scope, key: FormKey) -> Form:
    """One form with its records and its child tables' records."""
    children = _children_by_part(scope, key.kind, key.patient_id).get(key.part, {})
    return Form(key, form_records(scope, key), children)


def _body(entity: str, objs: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {"entity": entity, "id": o.id, "voided": o.voided, "content": records.content(o)}
        for o in sorted(objs, key=lambda o: o.id)
    ]


def content_hash(entity: str, objs: Iterable[Any]) -> str:
    """One hash over a set of records: each one's content and whether it is voided."""
    return sha256_hex(canonical_json(_body(entity, objs)))


@dataclass(frozen=True)
class Form:
    key: FormKey
    records: list[Any]
    # Child table -> its records in this form (voided ones included).
    children: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return any(not o.voided for o in self.records)

    @property
    def hash(self) -> str:
        body = _body(self.key.kind.entity, self.records)
        for entity, _ in self.key.kind.children:
            body += _body(entity, self.children.get(entity, ()))
        return sha256_hex(canonical_json(body))


def patient_forms(scope: Scope, patient_id: int) -> list[Form]:
    """A patient's forms of every verified type that hold at least one record in force."""
    forms: list[Form] = []
    for kind in FORM_TYPES.values():
        if not kind.verified:
            continue
        groups: dict[str, list[Any]] = {}
        for obj in _patient_records(scope, kind.entity, patient_id):
            groups.setdefault(kind.part_of(obj), []).append(obj)
        children = _children_by_part(scope, kind, patient_id) if kind.children else {}
        for part, objs in groups.items():
            form = Form(FormKey(kind, patient_id, part), objs, children.get(part, {}))
            if form.live:
                forms.append(form)
    return forms
