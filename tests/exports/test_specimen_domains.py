"""SDTM PC (drug concentrations), PP (NCA parameters) and IS (HACA) from specimens entered
through the workflow: each value worked out by hand from what the test entered, and the
transport files read back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from phaseone.exports import package, sdtm, snapshot
from phaseone.store.models import DoseAdministration
from phaseone.workflow import corrections, results
from phaseone.workflow import specimens as spec_service
from tests.workflow.conftest import T0, World
from tests.workflow.conftest import world as world  # the fixture, used by name

DAY1 = T0.date()


@pytest.fixture
def sampled(world: World) -> World:
    """One patient: lenalidomide at 08:00 on day 1; PK at 0, 0.5 and 24 h, the 1-h sample
    missed; HACA on day 1 (titre 0)."""
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope:
        planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id,
                                               course=1)
        pk = {s.sample_hour: s for s in planned if s.assessment_id == "pk-lenalidomide"}
        haca = next(s for s in planned if s.assessment_id == "haca")
        dose = scope.session.scalar(select(DoseAdministration).where(
            DoseAdministration.patient_id == patient_id, DoseAdministration.course_day == 1))
        assert dose is not None
        corrections.correct(scope, world.trial, "dose_administrations", dose.id,
                            {"administered_time": "08:00"}, "clock time", today=DAY1)
        taken = {0.0: (DAY1, "07:55"), 0.5: (DAY1, "08:31"),
                 24.0: (DAY1 + dt.timedelta(days=1), "08:02")}
        for hour, (on, clock) in taken.items():
            spec_service.collect(scope, specimen_id=pk[hour].id, collected_on=on,
                                 collected_time=clock)
        spec_service.miss(scope, specimen_id=pk[1.0].id, reason="line blocked")
        spec_service.collect(scope, specimen_id=haca.id, collected_on=DAY1, collected_time=None)
        lines = ["specimen_id,analyte,value,unit", f"{pk[0.0].code},lenalidomide,0,ng/mL",
                 f"{pk[0.5].code},lenalidomide,512.5,ng/mL",
                 f"{pk[24.0].code},lenalidomide,3.2,ng/mL", f"{haca.code},haca,0,titre"]
    with world.as_user("chair") as scope:
        results.commit(scope, ("\n".join(lines) + "\n").encode(), "lab.csv")
    return world


def _frames(trial: World) -> dict:
    with trial.as_user("chair") as scope:
        snap = snapshot.read(scope, trial.trial.protocol, purpose="test")
    return sdtm.build(snap)


def test_pc_rows_worked_by_hand(sampled: World) -> None:
    pc = _frames(sampled)["PC"].set_index("PCTPTNUM")
    assert list(pc.index) == [0.0, 0.5, 1.0, 24.0]  # by keys: the time point's number
    assert set(pc.PCTESTCD) == {"LENALID"} and set(pc.PCSPEC) == {"PLASMA"}
    half = pc.loc[0.5]
    assert half.PCTPT == "0.5 H POST-DOSE" and half.PCELTM == "PT30M"
    assert half.PCORRES == "512.5" and half.PCSTRESN == 512.5 and half.PCORRESU == "ng/mL"
    assert half.PCDTC == "2024-06-03T08:31" and half.PCRFTDTC == "2024-06-03T08:00"
    assert half.PCDY == 1 and half.VISITNUM == 1
    assert pc.loc[0.0].PCTPT == "PRE-DOSE" and pc.loc[0.0].PCELTM == "PT0H"
    assert pc.loc[24.0].PCDY == 2 and pc.loc[24.0].PCELTM == "PT24H"
    missed = pc.loc[1.0]
    assert missed.PCSTAT == "NOT DONE" and missed.PCREASND == "line blocked"
    assert missed.PCORRES == "" and missed.PCDTC == ""
    assert list(pc.PCSEQ) == [1, 2, 3, 4]


def test_is_holds_the_haca_titre(sampled: World) -> None:
    is_ = _frames(sampled)["IS"]
    assert len(is_) == 1
    row = is_.iloc[0]
    assert (row.ISTESTCD, row.ISBDAGNT, row.ISORRES, row.ISORRESU) == (
        "HACATITR", "DINUTUXIMAB", "0", "titre")
    assert row.ISDTC == "2024-06-03" and row.ISDY == 1 and row.ISSPEC == "SERUM"


def test_the_transport_files_read_back(sampled: World, tmp_path: Path) -> None:
    import pyreadstat

    with sampled.as_user("chair") as scope:
        snap = snapshot.read(scope, sampled.trial.protocol, purpose="test")
    written = package.write(snap, "sdtm", tmp_path, created=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
    names = {w.path.name for w in written}
    assert {"pc.xpt", "is.xpt"} <= names
    frame, meta = pyreadstat.read_xport(tmp_path / "pc.xpt")
    assert list(frame.columns)[:6] == ["STUDYID", "DOMAIN", "USUBJID", "PCSEQ", "PCREFID",
                                       "PCTESTCD"]
    assert sorted(frame.PCSTRESN.dropna()) == [0.0, 3.2, 512.5]
    assert meta.column_names_to_labels["PCELTM"] == "Planned Elapsed Time from Time Point Ref"
    define = (tmp_path / "define.xml").read_text()
    assert 'Name="PCELTM"' in define and 'Name="ISBDAGNT"' in define


def test_pp_holds_the_nca_parameters_of_the_profile(sampled: World) -> None:
    pp = _frames(sampled)["PP"]
    lenalidomide = pp[pp.PPCAT == "LENALIDOMIDE"].set_index("PPTESTCD")
    # By hand: the highest concentration, 512.5 ng/mL, drawn at 08:31 after the 08:00 dose.
    assert lenalidomide.loc["CMAX"].PPSTRESN == 512.5
    assert lenalidomide.loc["CMAX"].PPORRESU == "ng/mL"
    assert abs(lenalidomide.loc["TMAX"].PPSTRESN - 31 / 60) < 1e-9
    assert set(lenalidomide.PPRFTDTC) == {"2024-06-03T08:00"}
    assert set(lenalidomide.PPSPEC) == {"PLASMA"} and set(lenalidomide.VISITNUM) == {1}
    # Three points cannot give a terminal slope: those parameters are not calculated.
    not_done = lenalidomide[lenalidomide.PPSTAT == "NOT DONE"]
    assert (not_done.PPSTRESN.isna()).all() and (not_done.PPREASND != "").all()


def test_adpp_carries_each_parameter_with_the_treatment(sampled: World) -> None:
    from phaseone.exports import adam

    with sampled.as_user("chair") as scope:
        snap = snapshot.read(scope, sampled.trial.protocol, purpose="test")
    tabulation = sdtm.build(snap)
    analysis = adam.build(tabulation, snap)
    adpp = analysis["ADPP"].set_index("PARAMCD")
    assert len(adpp) == len(tabulation["PP"])
    cmax = adpp.loc["CMAX"]
    assert cmax.AVAL == 512.5 and cmax.PARAM == "Maximum concentration (ng/mL)"
    assert cmax.ANL01FL == "Y" and analysis["ADSL"].TRT01AN.iloc[0] == cmax.TRTAN
    assert set(adpp[adpp.AVAL.isna()].ANL01FL) <= {""}
