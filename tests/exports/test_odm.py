"""The ODM 1.3.2 file: valid against the schema, every value with its item, audit and
signatures carried, de-identified for the statistician."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from phaseone.exports import odm, snapshot
from phaseone.exports.package import write_odm
from phaseone.store import records
from phaseone.store.models import ClinicalEvent
from tests.exports.conftest import cdisc_schema
from tests.exports.test_sdtm import _add_statistician
from tests.workflow.conftest import World

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
CREATED = dt.datetime(2025, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def _export(world: World, out: Path, username: str = "chair") -> ET.Element:
    with world.as_user(username) as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test")
        (written,) = write_odm(scope, snap, out, created=CREATED)
    cdisc_schema("odm", "1.3.2", "ODM1-3-2.xsd").validate(written.path)  # type: ignore[attr-defined]
    return ET.parse(written.path).getroot()


def _correct_lab(world: World) -> int:
    with world.as_user("coord.chla") as scope:
        page = records.list_records(
            scope, records.SPECS["lab_results"], {"analyte": "anc"}, limit=5, offset=0
        )
        lab = page.items[0]
        records.update(
            scope,
            records.SPECS["lab_results"],
            lab.id,
            {"value": 650.0},
            "transcription error: 650 on the source report",
        )
        return int(lab.id)


def test_odm_is_valid_and_carries_values_audit_and_signatures(
    trial_world: World, tmp_path: Path
) -> None:
    lab_id = _correct_lab(trial_world)
    root = _export(trial_world, tmp_path)
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    subjects = {s.get("SubjectKey"): s for s in root.iterfind(".//odm:SubjectData", NS)}
    assert set(subjects) == {"CHLA-001", "CHOP-002"}
    first = subjects["CHLA-001"]
    assert first.find("odm:SiteRef", NS).get("LocationOID") == "LOC.chla"  # type: ignore[union-attr]
    # The corrected lab sits in course 1, with the new value and the reason for the change.
    course = first.find("odm:StudyEventData[@StudyEventOID='SE.COURSE']", NS)
    assert course is not None and course.get("StudyEventRepeatKey") == "1"
    labs = course.find("odm:FormData[@FormOID='F.LAB_RESULTS']", NS)
    assert labs is not None
    group = labs.find(f"odm:ItemGroupData[@ItemGroupRepeatKey='{lab_id}']", NS)
    assert group is not None and group.get("ItemGroupOID") == "IG.LAB_RESULTS"
    value = group.find("odm:ItemData[@ItemOID='IT.LAB_RESULTS.VALUE']", NS)
    assert value is not None and value.get("Value") == "650.0"
    change = value.find("odm:AuditRecord", NS)
    assert change is not None
    assert change.findtext("odm:ReasonForChange", namespaces=NS) == (
        "transcription error: 650 on the source report"
    )
    assert change.find("odm:LocationRef", NS).get("LocationOID") == "LOC.chla"  # type: ignore[union-attr]
    created = group.find("odm:AuditRecord", NS)
    assert created is not None and created.findtext("odm:SourceID", namespaces=NS).startswith(
        "audit:"
    )  # type: ignore[union-attr]
    # Every user an audit record or signature names is defined in AdminData.
    users = {u.get("OID") for u in root.iterfind(".//odm:AdminData/odm:User", NS)}
    refs = {r.get("UserOID") for r in root.iter(f"{{{NS['odm']}}}UserRef")}
    assert refs and refs <= users
    # The investigator's eligibility signature travels with the screening it signs.
    signature = first.find(
        ".//odm:ItemGroupData[@ItemGroupOID='IG.SCREENING_EVALUATIONS']/odm:Signature", NS
    )
    assert signature is not None
    assert signature.find("odm:SignatureRef", NS).get("SignatureOID") == "SD.eligibility-confirmed"  # type: ignore[union-attr]


def test_metadata_names_every_item_written_and_every_choice_of_the_database(
    trial_world: World, tmp_path: Path
) -> None:
    root = _export(trial_world, tmp_path)
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    defined = {i.get("OID") for i in mdv.iterfind("odm:ItemDef", NS)}
    used = {d.get("ItemOID") for d in root.iter(f"{{{NS['odm']}}}ItemData")}
    assert used and used <= defined
    kinds = mdv.find("odm:CodeList[@OID='CL.CLINICAL_EVENTS.KIND']", NS)
    assert kinds is not None
    values = [e.get("CodedValue") for e in kinds.iterfind("odm:EnumeratedItem", NS)]
    constraint = next(
        str(c.sqltext)
        for c in ClinicalEvent.__table__.constraints
        if "kind IN" in str(getattr(c, "sqltext", ""))
    )
    assert values == [
        "progression", "relapse", "second_malignancy", "death", "new_therapy", "off_study"
    ]
    assert all(f"'{v}'" in constraint for v in values)
    # Bookkeeping and placement columns are structure, not items.
    assert "IT.LAB_RESULTS.PATIENT_ID" not in defined and "IT.LAB_RESULTS.VOIDED" not in defined
    assert {i.column for i in odm.items_of("lab_results")} == {
        "analyte",
        "value",
        "unit",
        "collected_on",
        "lower_normal",
        "upper_normal",
    }


def test_statisticians_file_is_deidentified_and_carries_no_audit(
    trial_world: World, tmp_path: Path
) -> None:
    _add_statistician(trial_world)
    plain = _export(trial_world, tmp_path / "plain")
    shifted = _export(trial_world, tmp_path / "stats", "stats")
    assert not list(shifted.iter(f"{{{NS['odm']}}}AuditRecord"))
    assert list(plain.iter(f"{{{NS['odm']}}}AuditRecord"))

    def births(root: ET.Element) -> dict[str, str]:
        return {
            s.get("SubjectKey"): s.find(
                ".//odm:ItemData[@ItemOID='IT.PATIENTS.BIRTH_DATE']", NS
            ).get("Value")  # type: ignore[union-attr]
            for s in root.iterfind(".//odm:SubjectData", NS)
        }

    before, after = births(plain), births(shifted)
    assert before.keys() == after.keys()
    assert all(before[k] != after[k] for k in before)


def test_the_subject_writer_writes_what_elementtree_writes() -> None:
    # ElementTree is the reference: the same subtree, indented and written by it.
    subject = ET.Element("SubjectData", SubjectKey='A&B <"1">\r\n\tx')
    ET.SubElement(subject, "SiteRef", LocationOID="LOC.chla")
    event = ET.SubElement(subject, "StudyEventData", StudyEventOID="SE.COURSE")
    group = ET.SubElement(event, "ItemGroupData", ItemGroupOID="IG.X")
    ET.SubElement(group, "ItemData", ItemOID="IT.A", Value="5 > 3 & 2 < 4")
    audit = ET.SubElement(group, "AuditRecord")
    ET.SubElement(audit, "ReasonForChange").text = 'typo: "6" <not> 5 & more\nline'
    ET.SubElement(audit, "Empty").text = ""
    expected_tree = ET.fromstring(ET.tostring(subject))
    ET.indent(expected_tree, level=2)
    expected = ET.tostring(expected_tree, encoding="unicode")
    assert odm.serialize(subject, level=2) == expected


def test_each_disease_evaluation_is_one_form_with_its_measurements(
    trial_world: World, tmp_path: Path
) -> None:
    from tests.reports.test_outcome_analyses import _evaluate

    _evaluate(trial_world)
    root = _export(trial_world, tmp_path)
    form_def = root.find(".//odm:MetaDataVersion/odm:FormDef[@OID='F.DISEASE_EVALUATIONS']", NS)
    assert form_def is not None
    assert [r.get("ItemGroupOID") for r in form_def.iterfind("odm:ItemGroupRef", NS)] == [
        "IG.DISEASE_EVALUATIONS", "IG.MIBG_SCORES", "IG.LESION_MEASUREMENTS",
        "IG.MARROW_SAMPLES"]
    # The children's groups have no form of their own.
    assert root.find(".//odm:FormDef[@OID='F.LESION_MEASUREMENTS']", NS) is None
    subjects = {s.get("SubjectKey"): s for s in root.iterfind(".//odm:SubjectData", NS)}

    def forms(subject: str) -> list[ET.Element]:
        return list(subjects[subject].iterfind(
            ".//odm:FormData[@FormOID='F.DISEASE_EVALUATIONS']", NS))

    def values(group: ET.Element) -> dict[str, str]:
        return {d.get("ItemOID", "").split(".")[-1]: d.get("Value", "")
                for d in group.iterfind("odm:ItemData", NS)}

    first = forms("CHLA-001")
    # Two evaluations of CHLA-001 (baseline, then day 20), each keyed by its own record.
    assert len(first) == 2 and len({f.get("FormRepeatKey") for f in first}) == 2
    diameters = []
    for form in first:
        groups = [g.get("ItemGroupOID") for g in form.iterfind("odm:ItemGroupData", NS)]
        assert groups == ["IG.DISEASE_EVALUATIONS", "IG.LESION_MEASUREMENTS"]
        lesion = values(form.findall("odm:ItemGroupData", NS)[1])
        assert (lesion["LESION_CODE"], lesion["SITE"]) == ("P1", "primary")
        diameters.append(lesion["DIAMETER_MM"])
    assert diameters == ["50.0", "70.0"]
    (second,) = forms("CHOP-002")
    evaluation = values(second.findall("odm:ItemGroupData", NS)[0])
    assert (evaluation["KIND"], evaluation["DISEASE_AT_ENTRY"], evaluation["MIBG_AVID"]) == (
        "baseline", "complete_response", "1")
    marrow = [values(g) for g in second.iterfind(
        "odm:ItemGroupData[@ItemGroupOID='IG.MARROW_SAMPLES']", NS)]
    assert sorted((m["SIDE"], m["KIND"]) for m in marrow) == [
        ("left", "aspirate"), ("left", "biopsy"), ("right", "aspirate"), ("right", "biopsy")]
    assert {m["TUMOUR_PERCENT"] for m in marrow} == {"0.0"}
    # Evaluations carry no course here, so they sit outside a course.
    assert all(subjects[k].find(
        ".//odm:StudyEventData[@StudyEventOID='SE.OTHER']/"
        "odm:FormData[@FormOID='F.DISEASE_EVALUATIONS']", NS) is not None
        for k in ("CHLA-001", "CHOP-002"))


def test_an_evaluation_made_for_a_course_sits_in_that_course() -> None:
    assert odm._event_of("disease_evaluations", {"course_number": 2}, {}) == ("SE.COURSE", "2")
    assert odm._event_of("disease_evaluations", {"course_number": None}, {}) == ("SE.OTHER", None)
