"""define.xml 2.1 for the SDTM datasets written: datasets, variables, codelists, the files.

Written from the same dataset definitions the transport files were checked against, so the
two cannot disagree. The controlled-terminology release is stated, with a comment when it
is an assumption.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from phaseone.exports.metadata import Domain, Standard, codelists, terminology

if TYPE_CHECKING:
    import pandas as pd

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", ODM)
ET.register_namespace("def", DEF)
ET.register_namespace("xlink", XLINK)

DATA_TYPES = {"char": "text", "num": "float"}


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _el(parent: ET.Element, tag: str, ns: str = ODM, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(ns, tag), {k: v for k, v in attrs.items()})


def _text(parent: ET.Element, tag: str, text: str) -> None:
    holder = _el(parent, tag)
    translated = _el(holder, "TranslatedText")
    translated.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    translated.text = text


def _length(frame: pd.DataFrame, name: str) -> int:
    values = frame[name].fillna("").astype(str)
    return max(1, int(values.str.len().max()) if len(values) else 1)


def build(
    standard: Standard,
    study_oid: str,
    study_name: str,
    frames: dict[str, pd.DataFrame],
    created: dt.datetime,
    assumptions: tuple[str, ...] = (),
) -> ET.ElementTree:
    """The define.xml tree for `frames` (dataset name -> the data written).

    Each of `assumptions` is stated in a comment on the metadata, beside the terminology's.
    """
    ct = terminology()["release"]
    tabulation = standard.name == "SDTMIG"
    root = ET.Element(
        _q(ODM, "ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": f"DEFINE.{study_oid}",
            "ODMVersion": "1.3.2",
            "CreationDateTime": created.replace(microsecond=0).isoformat(),
            "Originator": "phaseone",
            _q(DEF, "Context"): "Submission",
        },
    )
    study = _el(root, "Study", OID=f"STUDY.{study_oid}")
    glob = _el(study, "GlobalVariables")
    for tag, text in (
        ("StudyName", study_name),
        ("StudyDescription", study_name),
        ("ProtocolName", study_oid),
    ):
        _el(glob, tag).text = text
    mdv = _el(
        study,
        "MetaDataVersion",
        OID=f"MDV.{study_oid}",
        Name=f"{standard.name} {standard.version} metadata",
        **{_q(DEF, "DefineVersion"): "2.1.0"},
    )
    standards = _el(mdv, "Standards", DEF)
    _el(
        standards,
        "Standard",
        DEF,
        OID="STD.IG",
        Name=standard.name,
        Type="IG",
        Version=standard.version,
        Status="Final",
    )
    _el(
        standards,
        "Standard",
        DEF,
        OID="STD.CT",
        Name="CDISC/NCI",
        Type="CT",
        PublishingSet="SDTM",
        Version=str(ct["value"]),
        Status="Final",
        **{_q(DEF, "CommentOID"): "COM.CT"},
    )
    used_codelists: set[str] = set()
    for name in frames:
        domain = standard.domains[name]
        group = _el(
            mdv,
            "ItemGroupDef",
            OID=f"IG.{name}",
            Name=name,
            # One record per subject (DM) or per parameter (TS): not repeating per subject.
            Repeating="No" if name in ("DM", "TS", "ADSL") else "Yes",
            Domain=name if not name.startswith("SUPP") else name[4:],
            SASDatasetName=name,
            IsReferenceData="Yes" if name == "TS" else "No",
            Purpose="Tabulation" if tabulation else "Analysis",
            **{
                _q(DEF, "Structure"): domain.structure,
                _q(DEF, "StandardOID"): "STD.IG",
                _q(DEF, "ArchiveLocationID"): f"LF.{name}",
            },
        )
        _text(group, "Description", domain.label)
        for order, var in enumerate(domain.variables, start=1):
            attrs = {
                "ItemOID": f"IT.{name}.{var.name}",
                "OrderNumber": str(order),
                "Mandatory": "Yes" if var.core == "Req" else "No",
            }
            if var.name in domain.keys:
                attrs["KeySequence"] = str(domain.keys.index(var.name) + 1)
            _el(group, "ItemRef", **attrs)
        _el(group, "Class", DEF, Name=domain.cls)
        leaf = _el(
            group, "leaf", DEF, ID=f"LF.{name}", **{_q(XLINK, "href"): f"{name.lower()}.xpt"}
        )
        _el(leaf, "title", DEF).text = f"{name.lower()}.xpt"
    for name, frame in frames.items():
        for var in standard.domains[name].variables:
            _item(mdv, standard.domains[name], var.name, frame)
            if var.codelist:
                used_codelists.add(var.codelist)
    for cid in sorted(used_codelists):
        cl = codelists()[cid]
        code = _el(mdv, "CodeList", OID=f"CL.{cid}", Name=cl.name, DataType="text")
        for value in cl.values:
            _el(code, "EnumeratedItem", CodedValue=value)
        _el(code, "Alias", Context="nci:ExtCodeID", Name=cl.code)
    comment = _el(mdv, "CommentDef", DEF, OID="COM.CT")
    note = f"Controlled terminology release {ct['value']}"
    if ct.get("provenance") == "assumed":
        note += f" (assumed: {ct['note']})"
    _text(comment, "Description", note)
    for number, text in enumerate(assumptions, start=1):
        _text(_el(mdv, "CommentDef", DEF, OID=f"COM.ASSUMED.{number}"), "Description", text)
    ET.indent(root)
    return ET.ElementTree(root)


def _item(mdv: ET.Element, domain: Domain, name: str, frame: pd.DataFrame) -> None:
    var = next(v for v in domain.variables if v.name == name)
    attrs = {
        "OID": f"IT.{domain.name}.{name}",
        "Name": name,
        "DataType": DATA_TYPES[var.type],
        "SASFieldName": name,
    }
    if var.type == "char":
        attrs["Length"] = str(_length(frame, name))
    item = _el(mdv, "ItemDef", **attrs)
    _text(item, "Description", var.label)
    if var.codelist:
        _el(item, "CodeListRef", CodeListOID=f"CL.{var.codelist}")
    _el(item, "Origin", DEF, Type=var.origin)


def write(path: Path, tree: ET.ElementTree) -> Path:
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path
