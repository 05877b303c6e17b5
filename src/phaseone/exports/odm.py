"""CDISC ODM 1.3.2: the trial's clinical data with its metadata, users, sites, signatures and
audit records, as one XML file.

Metadata comes from the store's own table definitions (columns, types, lengths and the value
lists of their check constraints), so the export cannot describe an item the database does not
hold. A patient's records are grouped in study events: enrolment (demographics, screening,
registration), one repeating event per course (the course and everything recorded against it,
and the disease evaluations made for it), and the rest (records without a course, the baseline
evaluation, follow-up, clinical events, the end of treatment). A disease evaluation is one form
holding its own item group and those of its MIBG segment scores, lesion measurements and
marrow samples, as it is entered.

Each ItemGroupData carries the audit record of its creation and each ItemData the audit record
of its last change (who, when, where, and the reason), when the exporting role may read the
audit trail and the export is not de-identified; the full trail is `phaseone audit export`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, Float, Integer, String, Text

from phaseone.exports.snapshot import ENTITIES, Row, Snapshot
from phaseone.store import records, trail
from phaseone.store.access import AUDIT_READERS
from phaseone.store.models import BOOKKEEPING, Signature
from phaseone.store.scope import Scope
from phaseone.store.signatures import meanings
from phaseone.workflow import evaluations
from phaseone.workflow.treatment import TREATMENT_END

ODM = "http://www.cdisc.org/ns/odm/v1.3"
ET.register_namespace("", ODM)
# Columns that place a record rather than describe it: they become the ODM structure.
STRUCTURAL = frozenset({"patient_id", "site_id", "course_id", "evaluation_id"})
# Forms that hold the item groups of their child records beside their own (one form each).
FORM_CHILDREN = {evaluations.EVALUATIONS.name: tuple(c.name for c in evaluations.CHILDREN)}
CHILD_OF = {child: parent for parent, kids in FORM_CHILDREN.items() for child in kids}
IN_LIST = re.compile(r"^\s*(\w+)\s+IN\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)
EVENTS = (
    ("SE.ENROLMENT", "Enrolment", "No"),
    ("SE.COURSE", "Course", "Yes"),
    ("SE.OTHER", "Outside a course", "No"),
)
ENROLMENT = ("patients", "screening_evaluations", "registrations")
CENTRAL = "LOC.CENTRAL"
# What an AuditRecord element needs of the trail (its old and new values are not carried).
AUDIT_COLUMNS = (
    "seq",
    "at",
    "user_id",
    "username",
    "user_site_id",
    "action",
    "entity",
    "entity_id",
    "field",
    "reason",
)


def _q(tag: str) -> str:
    return f"{{{ODM}}}{tag}"


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    """A child in its parent's namespace: qualified in the document's frame, unqualified in
    a subject's subtree (written inside the root that declares the default namespace)."""
    return ET.SubElement(parent, _q(tag) if parent.tag[0] == "{" else tag, attrs)


def _text(parent: ET.Element, tag: str, text: str) -> None:
    holder = _el(parent, tag)
    translated = _el(holder, "TranslatedText")
    translated.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    translated.text = text


@dataclass(frozen=True)
class Item:
    entity: str
    column: str
    data_type: str
    length: int | None
    codelist: tuple[str, ...] = ()

    @property
    def oid(self) -> str:
        return f"IT.{self.entity.upper()}.{self.column.upper()}"


@cache
def _specs() -> dict[str, records.EntitySpec]:
    specs = {name: records.spec_for(name) for name in ENTITIES}
    specs["treatment_ends"] = TREATMENT_END
    for spec in (evaluations.EVALUATIONS, *evaluations.CHILDREN):
        specs[spec.name] = spec
    return specs


def _choices(table: Any) -> dict[str, tuple[str, ...]]:
    """The value lists of a table's `column IN (...)` check constraints."""
    found: dict[str, tuple[str, ...]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, CheckConstraint):
            match = IN_LIST.match(str(constraint.sqltext))
            if match:
                values = tuple(v.strip().strip("'") for v in match.group(2).split(","))
                found[match.group(1)] = values
    return found


def items_of(entity: str) -> list[Item]:
    """The items of one record type: its columns less bookkeeping and structure."""
    return list(_items(entity))


@cache
def _items(entity: str) -> tuple[Item, ...]:
    table = _specs()[entity].model.__table__  # type: ignore[attr-defined]
    choices = _choices(table)
    out = []
    for col in table.columns:
        if col.key in BOOKKEEPING or col.key in STRUCTURAL:
            continue
        kind, length = _data_type(col.type)
        out.append(Item(entity, col.key, kind, length, choices.get(col.key, ())))
    return tuple(out)


def _data_type(sql_type: Any) -> tuple[str, int | None]:
    if isinstance(sql_type, Boolean):
        return "boolean", None
    if isinstance(sql_type, Integer):
        return "integer", None
    if isinstance(sql_type, Float):
        return "float", None
    if isinstance(sql_type, Date):
        return "date", None
    if isinstance(sql_type, String) and not isinstance(sql_type, Text) and sql_type.length:
        return "text", int(sql_type.length)
    return "text", None  # free text and engine detail (JSON) as text


def _value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return str(value)


@dataclass(frozen=True)
class Extras:
    """What the ODM file adds to the snapshot: signatures, and the audit trail if readable."""

    signatures: dict[tuple[str, int], Signature]  # the latest signature of each record
    audit: dict[tuple[str, str], list[dict[str, Any]]]
    users: dict[str, tuple[str | None, str | None]]  # user OID -> (login, printed name)


def user_oid(user_id: int | None, username: str) -> str:
    return f"USR.{user_id}" if user_id is not None else f"USR.{_oid(username)}"


def read_extras(scope: Scope, snapshot: Snapshot) -> Extras:
    sigs: dict[tuple[str, int], Signature] = {}
    for entity in _specs():
        ids = [r["id"] for r in snapshot.rows(entity)]
        for record_id, found in records.signatures_for(scope, entity, ids).items():
            if found:
                # ODM allows one Signature per record: the latest, which is the one in force.
                sigs[(entity, record_id)] = max(found, key=lambda s: s.signed_at)
    audit: dict[tuple[str, str], list[dict[str, Any]]] = {}
    readable = scope.actor.role is None or scope.actor.role in AUDIT_READERS
    if readable and not snapshot.deidentified:
        wanted = set(_specs())
        for rec in trail.export(scope, trail.AuditFilter(), AUDIT_COLUMNS):
            if rec["entity"] in wanted and rec["entity_id"] is not None:
                audit.setdefault((rec["entity"], str(rec["entity_id"])), []).append(rec)
    users: dict[str, tuple[str | None, str | None]] = {}
    for recs in audit.values():
        for rec in recs:
            users[user_oid(rec["user_id"], rec["username"])] = (rec["username"], None)
    for sig in sigs.values():
        oid = user_oid(sig.signer_user_id, "")
        users[oid] = (users.get(oid, (None, None))[0], sig.printed_name)
    return Extras(sigs, audit, users)


def _oid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


# Stands where the subjects go while the rest of the document is serialised.
SUBJECTS_HERE = "phaseone:subjects"


def write(path: Path, snapshot: Snapshot, extras: Extras, created: dt.datetime) -> Path:
    """Write the ODM file one subject at a time: the study's metadata and administrative data
    are one small tree; each subject's clinical data is built, written and dropped in turn, so
    memory stays flat however many patients the trial has. The bytes are those of one
    ElementTree of the whole document, indented and written with its XML declaration."""
    protocol = snapshot.protocol
    study_oid = f"ST.{protocol.id.upper()}"
    mdv_oid = f"MDV.{protocol.id.upper()}.{_oid(protocol.version)}"
    root = ET.Element(
        _q("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": f"ODM.{protocol.id.upper()}.{created:%Y%m%dT%H%M%S}",
            "CreationDateTime": created.replace(microsecond=0).isoformat(),
            "ODMVersion": "1.3.2",
            "Originator": "phaseone",
            "Granularity": "All",
        },
    )
    _study(root, snapshot, study_oid, mdv_oid)
    _admin(root, snapshot, extras, study_oid, mdv_oid)
    clinical = _el(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    subjects = _subjects(snapshot, extras)
    first = next(subjects, None)
    if first is not None:
        clinical.append(ET.Comment(SUBJECTS_HERE))
    ET.indent(root)
    frame = ET.tostring(root, encoding="unicode")
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        if first is None:
            out.write(frame)
            return path
        head, tail = frame.split(f"<!--{SUBJECTS_HERE}-->")
        out.write(head)
        between = "\n" + "  " * 2  # a subject's tail: ClinicalData's children sit at level 2
        for i, subject in enumerate(itertools.chain((first,), subjects)):
            if i:
                out.write(between)
            out.write(serialize(subject, level=2))
        out.write(tail)
    return path


def _attr(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    # Line ends and tabs inside an attribute are kept as character references.
    return text.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _cdata(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def serialize(element: ET.Element, level: int = 0) -> str:
    """An element of unqualified tags as ElementTree writes it once indented (two spaces a
    level, `<Empty />` for an empty element), in a fraction of the time. A subject's subtree
    has no mixed content: an element has either children or text."""
    out: list[str] = []

    def emit(elem: ET.Element, depth: int) -> None:
        tag = elem.tag
        out.append("<" + tag)
        for key, value in elem.attrib.items():
            out.append(f' {key}="{_attr(value)}"')
        if len(elem):
            out.append(">")
            pad = "\n" + "  " * (depth + 1)
            for child in elem:
                out.append(pad)
                emit(child, depth + 1)
            out.append("\n" + "  " * depth + "</" + tag + ">")
        elif elem.text:
            out.append(">" + _cdata(elem.text) + "</" + tag + ">")
        else:
            out.append(" />")

    emit(element, level)
    return "".join(out)


def _study(root: ET.Element, snapshot: Snapshot, study_oid: str, mdv_oid: str) -> None:
    protocol = snapshot.protocol
    study = _el(root, "Study", OID=study_oid)
    glob = _el(study, "GlobalVariables")
    _el(glob, "StudyName").text = protocol.identity.brief_title
    _el(glob, "StudyDescription").text = protocol.identity.official_title or protocol.id
    _el(glob, "ProtocolName").text = protocol.id
    mdv = _el(study, "MetaDataVersion", OID=mdv_oid, Name=f"{protocol.id} {protocol.version}")
    proto = _el(mdv, "Protocol")
    for order, (oid, _, _) in enumerate(EVENTS, start=1):
        _el(proto, "StudyEventRef", StudyEventOID=oid, OrderNumber=str(order), Mandatory="No")
    forms = _forms_by_event()
    for oid, name, repeating in EVENTS:
        event = _el(
            mdv,
            "StudyEventDef",
            OID=oid,
            Name=name,
            Repeating=repeating,
            Type="Scheduled" if oid != "SE.OTHER" else "Unscheduled",
        )
        for order, entity in enumerate(forms[oid], start=1):
            _el(
                event,
                "FormRef",
                FormOID=f"F.{entity.upper()}",
                OrderNumber=str(order),
                Mandatory="No",
            )
    for entity, spec in _specs().items():
        if entity in CHILD_OF:
            continue
        form = _el(mdv, "FormDef", OID=f"F.{entity.upper()}", Name=spec.label, Repeating="Yes")
        _el(form, "ItemGroupRef", ItemGroupOID=f"IG.{entity.upper()}", Mandatory="Yes")
        for child in FORM_CHILDREN.get(entity, ()):
            _el(form, "ItemGroupRef", ItemGroupOID=f"IG.{child.upper()}", Mandatory="No")
    all_items: list[Item] = []
    for entity, spec in _specs().items():
        group = _el(
            mdv, "ItemGroupDef", OID=f"IG.{entity.upper()}", Name=spec.label, Repeating="Yes"
        )
        for item in items_of(entity):
            _el(group, "ItemRef", ItemOID=item.oid, Mandatory="No")
            all_items.append(item)
    for item in all_items:
        attrs = {"OID": item.oid, "Name": item.column, "DataType": item.data_type}
        if item.length is not None:
            attrs["Length"] = str(item.length)
        node = _el(mdv, "ItemDef", **attrs)
        if item.codelist:
            _el(node, "CodeListRef", CodeListOID=f"CL.{item.entity.upper()}.{item.column.upper()}")
    for item in all_items:
        if item.codelist:
            cl = _el(
                mdv,
                "CodeList",
                OID=f"CL.{item.entity.upper()}.{item.column.upper()}",
                Name=f"{item.entity}.{item.column}",
                DataType="text",
            )
            for value in item.codelist:
                _el(cl, "EnumeratedItem", CodedValue=value)


def _forms_by_event() -> dict[str, list[str]]:
    forms = [e for e in _specs() if e not in ENROLMENT and e not in CHILD_OF]
    course_bound = [e for e in forms if {"course_id", "course_number"} & _columns(e)]
    other = forms
    return {
        "SE.ENROLMENT": list(ENROLMENT),
        "SE.COURSE": ["courses", *course_bound],
        "SE.OTHER": other,
    }


def _columns(entity: str) -> set[str]:
    return {c.key for c in _specs()[entity].model.__table__.columns}  # type: ignore[attr-defined]


def _admin(
    root: ET.Element, snapshot: Snapshot, extras: Extras, study_oid: str, mdv_oid: str
) -> None:
    admin = _el(root, "AdminData", StudyOID=study_oid)
    for oid, (login, full_name) in sorted(extras.users.items()):
        user = _el(admin, "User", OID=oid)
        if login:
            _el(user, "LoginName").text = login
        if full_name:
            _el(user, "FullName").text = full_name
    # The metadata in force at every location since the trial opened.
    effective = snapshot.protocol.identity.start_date or dt.date(2000, 1, 1)
    sites = sorted(snapshot.site_countries)
    named = [(f"LOC.{s}", snapshot.site_names.get(s, s)) for s in sites]
    for site, name in [(CENTRAL, "Operations centre"), *named]:
        loc = _el(
            admin,
            "Location",
            OID=site,
            Name=name,
            LocationType="Sponsor" if site == CENTRAL else "Site",
        )
        _el(
            loc,
            "MetaDataVersionRef",
            StudyOID=study_oid,
            MetaDataVersionOID=mdv_oid,
            EffectiveDate=effective.isoformat(),
        )
    for meaning in meanings().values():
        sd = _el(admin, "SignatureDef", OID=f"SD.{meaning.id}", Methodology="Electronic")
        _el(sd, "Meaning").text = meaning.text
        _el(sd, "LegalReason").text = "21 CFR 11.50"


def _subjects(snapshot: Snapshot, extras: Extras) -> Iterator[ET.Element]:
    """Each patient's SubjectData, in subject-code order. Its tags are left unqualified: the
    document's default namespace (declared on the root) is theirs."""
    courses = {c["id"]: c["number"] for c in snapshot.rows("courses")}
    by_patient = {
        e: snapshot.by_patient(e) for e in _specs() if e != "patients" and e not in CHILD_OF
    }
    children: dict[tuple[str, int], list[Row]] = {}
    for child in CHILD_OF:
        for row in snapshot.rows(child):
            children.setdefault((child, row["evaluation_id"]), []).append(row)
    for patient in sorted(snapshot.rows("patients"), key=lambda p: p["subject_code"]):
        pid = patient["id"]
        subject = ET.Element("SubjectData", SubjectKey=patient["subject_code"])
        _el(subject, "SiteRef", LocationOID=f"LOC.{patient['site_id']}")
        events: dict[tuple[str, str | None], list[tuple[str, Row]]] = {}
        events.setdefault(("SE.ENROLMENT", None), []).append(("patients", patient))
        for entity, grouped in by_patient.items():
            for row in grouped.get(pid, []):
                events.setdefault(_event_of(entity, row, courses), []).append((entity, row))
        for (event_oid, repeat), rows in sorted(events.items(), key=_event_order):
            attrs = {"StudyEventOID": event_oid}
            if repeat is not None:
                attrs["StudyEventRepeatKey"] = repeat
            event = _el(subject, "StudyEventData", **attrs)
            _forms(event, rows, extras, patient["site_id"], children)
        yield subject


def _event_order(entry: tuple[tuple[str, str | None], Any]) -> tuple[int, int]:
    (oid, repeat), _ = entry
    return [e[0] for e in EVENTS].index(oid), int(repeat or 0)


def _event_of(entity: str, row: Row, courses: dict[int, int]) -> tuple[str, str | None]:
    if entity in ENROLMENT:
        return "SE.ENROLMENT", None
    if entity == "courses":
        return "SE.COURSE", str(row["number"])
    if row.get("course_number") is not None:  # an evaluation made for a course
        return "SE.COURSE", str(row["course_number"])
    course = row.get("course_id")
    if course is not None and course in courses:
        return "SE.COURSE", str(courses[course])
    return "SE.OTHER", None


def _forms(
    event: ET.Element,
    rows: Iterable[tuple[str, Row]],
    extras: Extras,
    site: str,
    children: dict[tuple[str, int], list[Row]],
) -> None:
    by_entity: dict[str, list[Row]] = {}
    for entity, row in rows:
        by_entity.setdefault(entity, []).append(row)
    for entity in _specs():
        if entity not in by_entity:
            continue
        ordered = sorted(by_entity[entity], key=lambda r: r["id"])
        if entity in FORM_CHILDREN:
            # One form per record, keyed by it, with its children's item groups inside.
            for row in ordered:
                form = _el(event, "FormData", FormOID=f"F.{entity.upper()}",
                           FormRepeatKey=str(row["id"]))
                _group(form, entity, row, extras, site)
                for child in FORM_CHILDREN[entity]:
                    for kid in sorted(children.get((child, row["id"]), []),
                                      key=lambda r: r["id"]):
                        _group(form, child, kid, extras, site)
            continue
        form = _el(event, "FormData", FormOID=f"F.{entity.upper()}", FormRepeatKey="1")
        for row in ordered:
            _group(form, entity, row, extras, site)


def _group(form: ET.Element, entity: str, row: Row, extras: Extras, site: str) -> None:
    group = _el(
        form,
        "ItemGroupData",
        ItemGroupOID=f"IG.{entity.upper()}",
        ItemGroupRepeatKey=str(row["id"]),
    )
    trail_rows = extras.audit.get((entity, str(row["id"])), [])
    created = next((a for a in trail_rows if a["action"] == "create"), None)
    if created is not None:
        _audit(group, created)
    sig = extras.signatures.get((entity, row["id"]))
    if sig is not None:
        _signature(group, sig, site)
    # The last change of each field (the trail is in order).
    changed = {a["field"]: a for a in trail_rows if a["action"] == "update"}
    for item in _items(entity):
        value = _value(row.get(item.column))
        if value is None:
            continue
        data = _el(group, "ItemData", ItemOID=item.oid, Value=value)
        change = changed.get(item.column)
        if change is not None:
            _audit(data, change)


def _audit(parent: ET.Element, rec: dict[str, Any]) -> None:
    audit = _el(parent, "AuditRecord", EditPoint="DataManagement", UsedImputationMethod="No")
    _el(audit, "UserRef", UserOID=user_oid(rec["user_id"], rec["username"]))
    site = rec.get("user_site_id")
    _el(audit, "LocationRef", LocationOID=f"LOC.{site}" if site else CENTRAL)
    _el(audit, "DateTimeStamp").text = rec["at"]
    if rec.get("reason"):
        _el(audit, "ReasonForChange").text = rec["reason"]
    _el(audit, "SourceID").text = f"audit:{rec['seq']}"


def _signature(parent: ET.Element, sig: Signature, site: str) -> None:
    node = _el(parent, "Signature")
    _el(node, "UserRef", UserOID=user_oid(sig.signer_user_id, ""))
    _el(node, "LocationRef", LocationOID=f"LOC.{site}" if sig.site_id else CENTRAL)
    _el(node, "SignatureRef", SignatureOID=f"SD.{sig.meaning_id}")
    _el(node, "DateTimeStamp").text = sig.signed_at.isoformat()
