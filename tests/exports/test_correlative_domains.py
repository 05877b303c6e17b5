"""SDTM CP (cell phenotypes), LB (cytokines) and GF (genotypes, TLDA cycle thresholds) from a
core-laboratory results file imported through the workflow: each value worked out by hand from
the file the test writes, the transport files read back by two readers, define.xml naming
every variable, and the statistician's copy de-identified."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from phaseone.correlatives.records import core_lab_analytes
from phaseone.exports import package, sdtm, snapshot
from phaseone.protocol import resolve_protocol
from phaseone.workflow import results
from phaseone.workflow import specimens as spec_service
from tests.exports.conftest import cdisc_schema
from tests.exports.test_sdtm import _add_statistician
from tests.workflow.conftest import T0, World
from tests.workflow.conftest import world as world  # the fixture, used by name

DAY1 = T0.date()
CREATED = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)


@pytest.fixture
def typed(world: World) -> World:
    """One patient: the day-1 immune panel (CD4, NK counts, IFN-gamma, three typing calls) and
    the day-1 blood TLDA (CHGA 31.2, DCX not amplified, GUSB 24.5), both collected on day 1."""
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope:
        planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id,
                                               course=1)
        immune = next(s for s in planned if s.assessment_id == "immune" and s.course_day == 1)
        tlda = next(s for s in planned if s.assessment_id == "tlda-blood")
        for s in (immune, tlda):
            spec_service.collect(scope, specimen_id=s.id, collected_on=DAY1,
                                 collected_time="09:15")
    lines = [
        "specimen_id,analyte,value,unit",
        f"{immune.code},cd4,700,cells/uL",
        f"{immune.code},nk,182.5,cells/uL",
        f"{immune.code},ifng,6.5,pg/mL",
        f"{immune.code},FCGR3A,176V/F,",  # precursor numbering: V158F at the mature position
        f"{immune.code},KIR2DL2,absent,",
        f"{immune.code},HLA-C,C*07:01+C*05:01,",
        f"{tlda.code},CHGA,31.2,Ct",
        f"{tlda.code},DCX,undetermined,Ct",
        f"{tlda.code},GUSB,24.5,Ct",
    ]
    with world.as_user("chair") as scope:
        results.commit(scope, ("\n".join(lines) + "\n").encode(), "core-lab.csv")
    world.codes = (immune.code, tlda.code)  # type: ignore[attr-defined]
    return world


def _frames(world: World, user: str = "chair") -> dict[str, pd.DataFrame]:
    with world.as_user(user) as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test")
    return sdtm.build(snap)


def test_cell_counts_go_to_cp_with_their_marker_strings(typed: World) -> None:
    immune_code, _ = typed.codes  # type: ignore[attr-defined]
    cp = _frames(typed)["CP"].set_index("CPTESTCD")
    assert sorted(cp.index) == ["NKCE", "TLYH"]
    cd4 = cp.loc["TLYH"]
    # SDTMIG 3.4 CP Example 1a: helper T lymphocytes, CD45+CD3+CD4+CD8-.
    assert (cd4.CPTEST, cd4.CPMRKSTR) == ("TLym Help", "CD45+CD3+CD4+CD8-")
    # 700 cells/uL = 700 x 10^6 cells/L.
    assert (cd4.CPORRES, cd4.CPORRESU, cd4.CPSTRESN, cd4.CPSTRESU) == (
        "700", "cells/uL", 700.0, "10^6/L")
    assert cp.loc["NKCE"].CPSTRESC == "182.5"
    assert set(cp.CPMETHOD) == {"FLOW CYTOMETRY"} and set(cp.CPSPEC) == {"BLOOD"}
    assert set(cp.CPREFID) == {immune_code} and set(cp.CPDTC) == {"2024-06-03T09:15"}
    assert set(cp.CPDY) == {1.0} and set(cp.VISITNUM) == {1.0}
    assert sorted(cp.CPSEQ) == [1.0, 2.0]


def test_cytokines_go_to_lb_beside_the_clinical_labs(typed: World) -> None:
    immune_code, _ = typed.codes  # type: ignore[attr-defined]
    lb = _frames(typed)["LB"]
    ifng = lb[lb.LBTESTCD == "IFNG"]
    assert len(ifng) == 1
    row = ifng.iloc[0]
    assert (row.LBTEST, row.LBCAT, row.LBORRES, row.LBORRESU, row.LBSTRESN) == (
        "Interferon Gamma", "CYTOKINE", "6.5", "pg/mL", 6.5)
    assert row["LBREFID"] == immune_code
    assert (row.LBSPEC, row.LBTOXGR, row.LBDY) == ("BLOOD", "", 1.0)
    # The clinical labs keep their own rows, without a specimen id.
    assert set(lb[lb.LBTESTCD != "IFNG"].LBREFID) <= {""}


def test_genotypes_and_tlda_wells_go_to_gf(typed: World) -> None:
    immune_code, tlda_code = typed.codes  # type: ignore[attr-defined]
    gf = _frames(typed)["GF"].set_index("GFSYM")
    assert sorted(gf.index) == ["CHGA", "DCX", "FCGR3A", "GUSB", "HLA-C", "KIR2DL2"]
    fcgr = gf.loc["FCGR3A"]
    # Nagelkerke 2019 Table 1: FCGR3A V158F is rs396991, precursor position 176.
    assert (fcgr.GFTESTCD, fcgr.GFTEST, fcgr.GFTSTDTL) == (
        "SNV", "Single Nucleotide Variation", "GENOTYPE")
    assert (fcgr.GFORRES, fcgr.GFSTRESC, fcgr.GFPVRID) == ("176V/F", "158V/F", "rs396991")
    assert (fcgr.GFINHERT, fcgr.GFSPEC, fcgr.GFCHROM) == ("GERMLINE VARIATION", "DNA", "1")
    kir = gf.loc["KIR2DL2"]
    assert (kir.GFTESTCD, kir.GFORRES, kir.GFSTRESC, kir.GFCHROM) == (
        "CPNUMVAR", "absent", "ABSENT", "19")
    assert gf.loc["HLA-C"].GFSTRESC == "C*07:01+C*05:01"
    assert set(gf.loc[["FCGR3A", "KIR2DL2", "HLA-C"]].GFREFID) == {immune_code}
    wells = gf.loc[["CHGA", "DCX", "GUSB"]]
    assert set(wells.GFTESTCD) == {"TRNSCPTN"} and set(wells.GFSPEC) == {"RNA"}
    assert set(wells.GFREFID) == {tlda_code} and set(wells.GFCAT) == {"NB5 TLDA"}
    assert set(wells.GFMETHOD) == {"REAL-TIME POLYMERASE CHAIN REACTION"}
    assert gf.loc["CHGA"].GFSTRESN == 31.2 and gf.loc["GUSB"].GFORRES == "24.5"
    dcx = gf.loc["DCX"]
    assert (dcx.GFORRES, dcx.GFSTRESC) == ("UNDETERMINED", "UNDETERMINED")
    assert pd.isna(dcx.GFSTRESN)
    assert set(gf.GFDY) == {1.0}


def test_the_new_transport_files_read_back_with_two_readers(typed: World, tmp_path: Path) -> None:
    import pyreadstat

    with typed.as_user("chair") as scope:
        snap = snapshot.read(scope, typed.trial.protocol, purpose="test")
    frames = sdtm.build(snap)
    package.write(snap, "sdtm", tmp_path, created=CREATED)
    for name in ("CP", "GF", "LB"):
        written = frames[name]
        path = tmp_path / f"{name.lower()}.xpt"
        data, meta = pyreadstat.read_xport(str(path))
        assert meta.table_name == name
        assert list(data.columns) == list(written.columns)
        labels = [v.label for v in sdtm_definitions(name)]
        assert meta.column_labels == labels
        with pd.read_sas(path, format="xport", iterator=True, encoding=None) as reader:
            fields = reader.fields
            second = reader.read()
        assert [f["name"].decode() for f in fields] == list(written.columns)
        assert [f["label"].decode() for f in fields] == labels
        for column in written.columns:
            expected = written[column]
            if expected.dtype == object:
                expected = expected.fillna("")  # a null character value is written blank
                assert list(data[column]) == list(expected), column
                assert [v.decode().rstrip() for v in second[column]] == list(expected), column
            else:
                assert _same_numbers(data[column], expected), column
                assert _same_numbers(second[column], expected), column
    schema = cdisc_schema("define", "2.1", "define2-1-0.xsd")
    schema.validate(tmp_path / "define.xml")  # type: ignore[attr-defined]
    define = (tmp_path / "define.xml").read_text()
    for name in ("CP", "GF"):
        for var in sdtm_definitions(name):
            assert f'Name="{var.name}"' in define, var.name
    # The terminology choices marked assumed are stated as such.
    for section in ("cell_phenotypes", "immune_lab_tests", "genotyping", "transcription"):
        assert f"{section}: assumed (" in define, section


def sdtm_definitions(name: str) -> Any:
    from phaseone.exports.metadata import sdtm as definitions

    return definitions().domains[name].variables


def _same_numbers(read: pd.Series, written: pd.Series) -> bool:
    a, b = list(read.astype(float)), list(written.astype(float))
    return all((x != x and y != y) or x == y for x, y in zip(a, b, strict=True))


def test_statisticians_copy_shifts_dates_and_keeps_study_days(typed: World) -> None:
    _add_statistician(typed)
    plain, shifted = _frames(typed), _frames(typed, "stats")
    for name, date, day in (("CP", "CPDTC", "CPDY"), ("GF", "GFDTC", "GFDY")):
        assert list(plain[name][day]) == list(shifted[name][day])
        assert all(a != b for a, b in zip(plain[name][date], shifted[name][date], strict=True))
        assert list(plain[name].USUBJID) == list(shifted[name].USUBJID)


def test_every_core_lab_analyte_has_one_domain_matching_its_kind() -> None:
    protocol = resolve_protocol("nant-2011-04")
    expected = {"number": {"PC", "IS", "CP", "LB"}, "ct": {"GF"}, "call": {"GF"}}
    for name, spec in core_lab_analytes().items():
        assert sdtm.core_lab_domain(name, protocol) in expected[spec.kind], name
    with pytest.raises(Exception, match="no SDTM domain"):
        sdtm.core_lab_domain("not-an-analyte", protocol)
