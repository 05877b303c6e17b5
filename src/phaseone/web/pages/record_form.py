"""The screening form, generated from the patient record's JSON Schema and the protocol.

Every field of the record (`phaseone schema patient`) becomes an input: a date, a number,
a choice from the schema's enum, or yes / no / not known for a flag; a nested object a
group; a list of objects a table of repeatable rows. The protocol adds what the schema
cannot know: a lab row for each analyte its criteria read (units from the analyte table)
and a group for each companion study it names. Identity (birth date, sex, site) is the
registered patient's and is not on the form.

Inputs are named by the record's own paths (`prior_therapies[0].start`), the paths its
errors use, so a refused form names the very inputs to correct. A posted form becomes
record data for the one record parser (`eligibility.parse_record`, through the screening
service); this module converts text to numbers and flags and nothing else.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from phaseone.eligibility import record as record_module
from phaseone.eligibility import record_schema
from phaseone.errors import InputError, Problem
from phaseone.labs import analytes
from phaseone.protocol.model import Protocol

# Filled from the registered patient, never typed on the form.
IDENTITY = frozenset({"id", "site", "birth_date", "sex", "schema_version"})
# Where each top-level field of the record goes; a field not named here (a new one in the
# schema) still gets an input, in the last section.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Demographics and measurements", ("post_menarchal", "childbearing_potential", "measurements")),
    (
        "Disease status and sites",
        ("diagnosis", "disease_history", "disease_sites", "biopsies", "cns"),
    ),
    ("Prior therapies", ("prior_therapies",)),
    ("Labs", ("labs", "transfusions")),
)
LAST_SECTION = "Clinical assessments"
# Rows offered beyond those filled in (more with "add a row", or after saving a draft).
SPARE_ROWS = 1
# Units written into a label from the field name's suffix.
UNITS = {
    "_cm": "cm",
    "_kg": "kg",
    "_mm": "mm",
    "_days": "days",
    "_weeks": "weeks",
    "_miu_ml": "mIU/mL",
}
NONE_SUFFIX = ":none"  # the "known: none" box of a list that may be unknown
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Input:
    """One input; `name` is its record path with `[]` where a row number goes."""

    name: str
    label: str
    kind: str  # date | number | integer | text | choice | flag | unit
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def at(self, row: int) -> str:
        return self.name.replace("[]", f"[{row}]", 1)


@dataclass(frozen=True)
class Rows:
    """A list of objects: a table whose rows are numbered from 0."""

    name: str
    label: str
    columns: tuple[Input, ...]
    may_be_unknown: bool  # null (not known) differs from [] (known: none)
    help: str = ""
    # Rows the protocol proposes (e.g. one lab row per analyte its criteria read).
    proposed: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    items: tuple[Input | Rows | Group, ...]
    help: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Input | Rows | Group, ...]


@dataclass(frozen=True)
class FormLayout:
    sections: tuple[Section, ...]
    inputs: Mapping[str, Input] = field(default_factory=dict)  # by name with `[]`
    lists: Mapping[str, Rows] = field(default_factory=dict)
    analyte_units: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _label(name: str) -> str:
    base = name.rsplit(".", 1)[-1].removesuffix("[]")
    for suffix, unit in UNITS.items():
        if base.endswith(suffix):
            return f"{base.removesuffix(suffix).replace('_', ' ')} ({unit})".capitalize()
    return base.replace("_", " ").capitalize()


def _unwrap(node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A schema node without its `| None` and whether it had one."""
    options = node.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            return {**kept[0], **{k: v for k, v in node.items() if k != "anyOf"}}, True
    return node, False


def _def_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _field_order(def_name: str) -> list[str]:
    """The record class's own field order (the JSON Schema does not keep it)."""
    cls = getattr(record_module, def_name)
    return [f.name for f in dataclasses.fields(cls)]


class _Builder:
    def __init__(self, schema: dict[str, Any], protocol: Protocol) -> None:
        self.defs: dict[str, Any] = schema["$defs"]
        self.inputs: dict[str, Input] = {}
        self.lists: dict[str, Rows] = {}
        self.lab_analytes = _protocol_analytes(protocol)
        self.studies = _companion_studies(protocol)

    def item(self, path: str, node: dict[str, Any], required: bool) -> Input | Rows | Group:
        node, nullable = _unwrap(node)
        help_text = str(node.get("description", ""))
        ref = _def_name(node)
        if ref is not None:
            return self.group(path, ref, help_text)
        if node.get("type") == "array":
            return self.rows(path, node, nullable, help_text)
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            return self.keyed(path, node, help_text)
        return self.input(path, node, required, help_text)

    def group(self, path: str, ref: str, help_text: str) -> Group:
        spec = self.defs[ref]
        props: dict[str, Any] = spec["properties"]
        needed = set(spec.get("required", ()))
        items = tuple(
            self.item(f"{path}.{name}", props[name], name in needed)
            for name in _field_order(ref)
            if name in props
        )
        return Group(path, _label(path), items, help_text or str(spec.get("description", "")))

    def rows(self, path: str, node: dict[str, Any], nullable: bool, help_text: str) -> Rows:
        ref = _def_name(node["items"])
        if ref is None:
            raise ValueError(f"{path}: a list of plain values has no form rows")
        inner = self.group(f"{path}[]", ref, "")
        columns = tuple(i for i in inner.items if isinstance(i, Input))
        if path == "labs":
            columns = tuple(self.lab_column(c) for c in columns)
            self.inputs.update({c.name: c for c in columns})
            known = analytes()
            proposed: tuple[Mapping[str, str], ...] = tuple(
                {"labs[].analyte": a, "labs[].unit": known[a].unit} for a in self.lab_analytes
            )
        else:
            proposed = ()
        rows = Rows(path, _label(path), columns, nullable, help_text, proposed)
        self.lists[path] = rows
        return rows

    def lab_column(self, column: Input) -> Input:
        if column.name == "labs[].analyte":
            return dataclasses.replace(column, kind="choice", options=tuple(sorted(analytes())))
        if column.name == "labs[].unit":
            return dataclasses.replace(column, kind="unit")
        return column

    def keyed(self, path: str, node: dict[str, Any], help_text: str) -> Group:
        ref = _def_name(node["additionalProperties"])
        if ref is None:
            raise ValueError(f"{path}: a mapping of plain values has no form")
        groups = tuple(
            dataclasses.replace(self.group(f"{path}.{key}", ref, ""), label=title)
            for key, title in self.studies
        )
        return Group(path, _label(path), groups, help_text)

    def input(self, path: str, node: dict[str, Any], required: bool, help_text: str) -> Input:
        kind = node.get("type")
        options: tuple[str, ...] = ()
        if "enum" in node:
            shape, options = "choice", tuple(str(v) for v in node["enum"])
        elif kind == "boolean":
            shape = "flag"
        elif kind == "number":
            shape = "number"
        elif kind == "integer":
            shape = "integer"
        elif node.get("format") == "date":
            shape = "date"
        else:
            shape = "text"
        low = node.get("minimum", node.get("exclusiveMinimum"))
        high = node.get("maximum", node.get("exclusiveMaximum"))
        made = Input(path, _label(path), shape, required, options, help_text, low, high)
        self.inputs[path] = made
        return made


def _param_dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _param_dicts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _param_dicts(inner)


def _criteria(protocol: Protocol) -> Iterator[Any]:
    for top in protocol.eligibility:
        yield from top.walk()


def _protocol_analytes(protocol: Protocol) -> tuple[str, ...]:
    """The analytes the protocol's criteria read, in the order they first appear."""
    known = analytes()
    seen: dict[str, None] = {}
    for criterion in _criteria(protocol):
        if criterion.rule == "creatinine_for_age":
            seen.setdefault("creatinine")
        for params in _param_dicts(criterion.params):
            # A value summed from others (APC = ANC + monocytes) is typed as its parts.
            names = params.get("sum_of") or [params.get("analyte")]
            for name in names if isinstance(names, list) else []:
                if isinstance(name, str) and name in known:
                    seen.setdefault(name)
    return tuple(seen)


def _companion_studies(protocol: Protocol) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for criterion in _criteria(protocol):
        study = criterion.params.get("study")
        if criterion.rule and "companion" in criterion.rule and isinstance(study, str):
            out.setdefault(study, str(criterion.params.get("title", study)))
    return tuple(out.items())


def _build(protocol: Protocol) -> FormLayout:
    schema = record_schema()
    builder = _Builder(schema, protocol)
    props: dict[str, Any] = schema["properties"]
    needed = set(schema.get("required", ()))
    order = [n for n in _field_order("PatientRecord") if n in props and n not in IDENTITY]
    placed = {name for _, names in SECTIONS for name in names}
    sections = []
    for title, names in (*SECTIONS, (LAST_SECTION, tuple(n for n in order if n not in placed))):
        items = tuple(builder.item(n, props[n], n in needed) for n in names if n in props)
        sections.append(Section(title, items))
    units = {a.id: a.spellings for a in analytes().values()}
    return FormLayout(tuple(sections), builder.inputs, builder.lists, units)


_BUILT: dict[int, tuple[Protocol, FormLayout]] = {}


def layout(protocol: Protocol) -> FormLayout:
    """The screening form of a protocol (built once per protocol object)."""
    found = _BUILT.get(id(protocol))
    if found is None or found[0] is not protocol:
        found = _BUILT[id(protocol)] = (protocol, _build(protocol))
    return found[1]


# --- a posted form into record data ------------------------------------------------------

_INDEX = re.compile(r"\[(\d{1,4})\]")


def _number(text: str, integer: bool) -> Any:
    """A number from the form, or the text itself (the record parser then names the field
    and what it expected)."""
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    if integer:
        return int(value) if value.is_integer() else text
    return value


def _typed(spec: Input, text: str) -> Any:
    if spec.kind == "flag":
        return {YES: True, NO: False}.get(text, text)
    if spec.kind in ("number", "integer"):
        return _number(text, spec.kind == "integer")
    return text


def _put(target: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


@dataclass(frozen=True)
class Posted:
    """A form as record data, and how its row numbers map to the record's list positions
    (blank rows are left out, so row 3 of a form may be item 1 of the record)."""

    record: dict[str, Any]
    rows: Mapping[str, tuple[int, ...]]

    def form_path(self, path: str) -> str:
        """An error's record path as the form names it."""
        for name, kept in self.rows.items():
            prefix = f"{name}["
            if path.startswith(prefix):
                index_text, _, rest = path[len(prefix) :].partition("]")
                if index_text.isdigit() and int(index_text) < len(kept):
                    return f"{name}[{kept[int(index_text)]}]{rest}"
        return path


def _beyond_proposal(rows: Rows, index: int, filled: Mapping[str, str]) -> bool:
    """Whether a row holds anything the form did not propose (else it is left blank)."""
    proposal = rows.proposed[index] if index < len(rows.proposed) else {}
    return any(proposal.get(k) != v for k, v in filled.items())


def record_from_form(form: FormLayout, fields: Mapping[str, Any]) -> Posted:
    """The record data a posted screening form gives. Blank inputs are left out (not
    known); a row is kept when anything beyond what the form proposed is filled in; a list
    with no row whose "none" box is ticked is known to be empty."""
    record: dict[str, Any] = {}
    rows: dict[str, dict[int, dict[str, str]]] = {}
    unknown: list[Problem] = []
    none_ticked: set[str] = set()
    for name, value in fields.items():
        if not isinstance(value, str):
            unknown.append(Problem(name, "expected text"))
            continue
        text = value.strip()
        if name.endswith(NONE_SUFFIX) and name.removesuffix(NONE_SUFFIX) in form.lists:
            if text == YES:
                none_ticked.add(name.removesuffix(NONE_SUFFIX))
            continue
        indexes = _INDEX.findall(name)
        pattern = _INDEX.sub("[]", name, count=1)
        spec = form.inputs.get(pattern)
        if spec is None or len(indexes) > 1:
            unknown.append(Problem(name, "not a field of the screening form"))
            continue
        if not text:
            continue
        if indexes:
            list_name = pattern.split("[]", 1)[0]
            rows.setdefault(list_name, {}).setdefault(int(indexes[0]), {})[pattern] = text
        else:
            _put(record, name.split("."), _typed(spec, text))
    if unknown:
        raise InputError(unknown)
    kept_rows: dict[str, tuple[int, ...]] = {}
    for list_name, spec_rows in form.lists.items():
        filled = rows.get(list_name, {})
        kept = [i for i in sorted(filled) if _beyond_proposal(spec_rows, i, filled[i])]
        items = []
        for i in kept:
            item: dict[str, Any] = {}
            for pattern, text in filled[i].items():
                column = pattern.split("[].", 1)[1]
                _put(item, column.split("."), _typed(form.inputs[pattern], text))
            items.append(item)
        if items:
            if list_name in none_ticked:
                raise InputError(
                    [Problem(f"{list_name}{NONE_SUFFIX}", "ticked 'none', but rows are filled in")]
                )
            _put(record, list_name.split("."), items)
        elif list_name in none_ticked:
            _put(record, list_name.split("."), [])
        kept_rows[list_name] = tuple(kept)
    return Posted(record, kept_rows)


# --- record data onto the form (a draft reopened, the last screening's record) ----------


def _text(value: Any) -> str:
    if value is True:
        return YES
    if value is False:
        return NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_from_record(form: FormLayout, data: Mapping[str, Any]) -> dict[str, str]:
    """The inputs' values for record data (the inverse of `record_from_form`)."""
    out: dict[str, str] = {}

    def fill(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                fill(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, list):
            if not value and prefix in form.lists and form.lists[prefix].may_be_unknown:
                out[f"{prefix}{NONE_SUFFIX}"] = YES
            for i, inner in enumerate(value):
                fill(f"{prefix}[{i}]", inner)
        elif value is not None:
            out[prefix] = _text(value)

    for key, value in data.items():
        if key not in IDENTITY:
            fill(key, value)
    return out


def row_count(rows: Rows, values: Mapping[str, str]) -> int:
    """How many rows to show: the highest row with a value, or the proposed rows, plus a
    spare one."""
    used = -1
    prefix = f"{rows.name}["
    for name in values:
        if name.startswith(prefix):
            index_text = name[len(prefix) :].split("]", 1)[0]
            if index_text.isdigit():
                used = max(used, int(index_text))
    return max(used + 1, len(rows.proposed)) + SPARE_ROWS


def proposed_values(form: FormLayout) -> dict[str, str]:
    """The values the protocol proposes on an empty form (a lab row per analyte it reads)."""
    out: dict[str, str] = {}
    for rows in form.lists.values():
        for i, proposal in enumerate(rows.proposed):
            for pattern, value in proposal.items():
                out[pattern.replace("[]", f"[{i}]", 1)] = value
    return out
