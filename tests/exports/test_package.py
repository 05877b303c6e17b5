"""The SDTM package on disk: every file, define.xml listing every variable, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyreadstat
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.errors import InputError
from phaseone.exports import snapshot
from phaseone.exports.metadata import sdtm
from phaseone.exports.package import write_sdtm
from phaseone.store.models import AuditRecord
from tests.exports.conftest import cdisc_schema
from tests.workflow.conftest import World

NS = {
    "odm": "http://www.cdisc.org/ns/odm/v1.3",
    "def": "http://www.cdisc.org/ns/def/v2.1",
    "xlink": "http://www.w3.org/1999/xlink",
}
CREATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _write(world: World, out: Path) -> list:
    with world.as_user("chair") as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test")
    return write_sdtm(snap, out, created=CREATED)


def test_define_xml_lists_every_dataset_and_variable_written(
    trial_world: World, tmp_path: Path
) -> None:
    written = _write(trial_world, tmp_path)
    cdisc_schema("define", "2.1", "define2-1-0.xsd").validate(tmp_path / "define.xml")  # type: ignore[attr-defined]
    names = sorted(p.path.name for p in written)
    assert names == sorted([f"{d.lower()}.xpt" for d in sdtm().domains] + ["define.xml"])
    root = ET.parse(tmp_path / "define.xml").getroot()
    assert root.get("ODMVersion") == "1.3.2" and root.get(f"{{{NS['def']}}}Context") == "Submission"
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None and mdv.get(f"{{{NS['def']}}}DefineVersion") == "2.1.0"
    items = {i.get("OID"): i for i in mdv.findall("odm:ItemDef", NS)}
    for xpt in tmp_path.glob("*.xpt"):
        _, meta = pyreadstat.read_xport(str(xpt), metadataonly=True)
        group = mdv.find(f"odm:ItemGroupDef[@Name='{meta.table_name}']", NS)
        assert group is not None, meta.table_name
        refs = [r.get("ItemOID") for r in group.findall("odm:ItemRef", NS)]
        assert refs == [f"IT.{meta.table_name}.{c}" for c in meta.column_names]
        for column, label in zip(meta.column_names, meta.column_labels, strict=True):
            item = items[f"IT.{meta.table_name}.{column}"]
            assert item.findtext("odm:Description/odm:TranslatedText", namespaces=NS) == label
        leaf = group.find("def:leaf", NS)
        assert leaf is not None and leaf.get(f"{{{NS['xlink']}}}href") == xpt.name
    # Every codelist an item refers to is defined, with its NCI code.
    defined = {c.get("OID") for c in mdv.findall("odm:CodeList", NS)}
    referred = {r.get("CodeListOID") for r in mdv.iter(f"{{{NS['odm']}}}CodeListRef")}
    assert referred and referred <= defined
    # The terminology release is stated as an assumption.
    comment = mdv.find("def:CommentDef[@OID='COM.CT']", NS)
    assert comment is not None and "assumed" in "".join(comment.itertext())


def test_the_manifest_names_each_file_with_its_hash_and_the_same_input_gives_same_files(
    trial_world: World, tmp_path: Path
) -> None:
    first = _write(trial_world, tmp_path / "a")
    second = _write(trial_world, tmp_path / "b")
    assert [(w.path.name, w.sha256) for w in first] == [(w.path.name, w.sha256) for w in second]
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["deidentified"] is False
    assert {f["file"]: f["records"] for f in manifest["files"]}["ae.xpt"] == 1


def test_a_value_the_format_cannot_hold_writes_nothing(trial_world: World, tmp_path: Path) -> None:
    from phaseone.workflow import treatment

    with trial_world.as_user("coord.chla") as scope:
        treatment.record_adverse_event(
            scope,
            trial_world.trial,
            patient_id=trial_world.first,  # type: ignore[attr-defined]
            term="Nausea",
            grade=1,
            onset=dt.date(2024, 6, 5),
            attribution={},
            verbatim="nausée",
        )
    with pytest.raises(InputError) as err:
        _write(trial_world, tmp_path / "out")
    assert [p.path for p in err.value.problems] == ["AE.AETERM[2]"]
    assert not (tmp_path / "out").exists()


def test_cli_writes_the_package(trial_world: World, tmp_path: Path) -> None:
    url = str(trial_world.db.url)
    result = CliRunner().invoke(
        app, ["export", "-o", str(tmp_path / "sdtm"), "--database-url", url, "--report", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {Path(r["file"]).name for r in rows} >= {"dm.xpt", "define.xml"}
    dm, _ = pyreadstat.read_xport(str(tmp_path / "sdtm" / "dm.xpt"))
    assert sorted(dm.SUBJID) == ["CHLA-001", "CHOP-002"]


def test_cli_writes_every_format_from_one_read(trial_world: World, tmp_path: Path) -> None:
    url = str(trial_world.db.url)
    with trial_world.db.transaction() as session:
        before = session.scalar(select(func.max(AuditRecord.seq)))
    out = tmp_path / "all"
    result = CliRunner().invoke(
        app, ["export", "--format", "all", "-o", str(out), "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert (out / "sdtm" / "dm.xpt").exists() and (out / "adam" / "adsl.xpt").exists()
    assert (out / "odm" / "nant-2011-04.odm.xml").exists()
    assert (out / "fhir" / "nant-2011-04.fhir.json").exists()
    # One read of the trial, audited once; the ODM file's read of the audit trail is audited
    # as an audit export (its own record).
    with trial_world.db.transaction() as session:
        actions = list(
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.seq > before).order_by(AuditRecord.seq)
            )
        )
    assert actions == ["export", "audit_export"]
    # The same bytes as the SDTM export alone.
    single = tmp_path / "sdtm"
    CliRunner().invoke(app, ["export", "-o", str(single), "--database-url", url])
    first, _ = pyreadstat.read_xport(str(out / "sdtm" / "ae.xpt"))
    second, _ = pyreadstat.read_xport(str(single / "ae.xpt"))
    assert first.equals(second)
