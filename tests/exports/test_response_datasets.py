"""SDTM RS, TU, TR and ADaM ADRS, ADTTE from stored evaluations and follow-up, on the
two-patient trial: values worked by hand, written as version-5 transport files that the
writer's checks pass, with define.xml naming them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyreadstat

from phaseone.exports import snapshot
from phaseone.exports.package import write
from tests.exports.conftest import cdisc_schema
from tests.reports.test_outcome_analyses import START, _evaluate
from tests.workflow.conftest import World

CHLA = "NANT-2011-04-CHLA-001"


def _package(world: World, kind: str, tmp_path: Path) -> list[str]:
    with world.as_user("chair") as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test")
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return [w.path.name for w in write(snap, kind, tmp_path, created=created)]


def test_rs_tu_tr_worked_by_hand(trial_world: World, tmp_path: Path) -> None:
    _evaluate(trial_world)
    names = _package(trial_world, "sdtm", tmp_path)
    assert {"rs.xpt", "tu.xpt", "tr.xpt"} <= set(names)
    rs, _ = pyreadstat.read_xport(str(tmp_path / "rs.xpt"))
    mine = rs[rs.USUBJID == CHLA].set_index("RSTESTCD")
    # 50 -> 70 mm on day 20: primary PD, hence overall PD (any component PD is PD).
    assert mine.loc["PRIMRESP", "RSORRES"] == "PD"
    assert mine.loc["OVRLRESP", "RSORRES"] == "PD"
    # First dose on START is study day 1, so START + 20 days is day 21.
    assert set(mine.RSDY) == {21.0}
    assert set(rs.RSEVAL) == {"COMPUTED"}
    tu, _ = pyreadstat.read_xport(str(tmp_path / "tu.xpt"))
    assert list(zip(tu.USUBJID, tu.TULNKID, tu.TUORRES, tu.TULOC, strict=True)) == [
        (CHLA, "P1", "TARGET", "PRIMARY TUMOR")
    ]
    tr, _ = pyreadstat.read_xport(str(tmp_path / "tr.xpt"))
    assert list(zip(tr.TRTESTCD, tr.TRSTRESN, tr.TRDY, strict=True)) == [
        ("LDIAM", 50.0, -3.0),  # three days before the first dose: day -3 (no day 0)
        ("LDIAM", 70.0, 21.0),
    ]
    schema = cdisc_schema("define", "2.1", "define2-1-0.xsd")
    schema.validate(tmp_path / "define.xml")  # type: ignore[attr-defined]
    define = (tmp_path / "define.xml").read_text()
    assert 'Name="RS"' in define and 'Name="TR"' in define


def test_adrs_and_adtte_worked_by_hand(trial_world: World, tmp_path: Path) -> None:
    _evaluate(trial_world)
    _package(trial_world, "adam", tmp_path)
    adrs, _ = pyreadstat.read_xport(str(tmp_path / "adrs.xpt"))
    bor = adrs[(adrs.PARAMCD == "BOR") & (adrs.USUBJID == CHLA)]
    assert list(bor.AVALC) == ["PD"]
    overall = adrs[(adrs.PARAMCD == "OVRLRESP") & (adrs.USUBJID == CHLA)]
    assert list(overall.ANL01FL) == ["Y"] and list(overall.SRCDOM) == ["RS"]
    adtte, _ = pyreadstat.read_xport(str(tmp_path / "adtte.xpt"))
    rows = {(r.USUBJID, r.PARAMCD): r for r in adtte.itertuples()}
    efs = rows[(CHLA, "EFS")]
    # Progression at the day-20 evaluation, 20 days after registration (the origin): event.
    assert (efs.AVAL, efs.CNSR) == (20.0, 0.0)
    assert START + dt.timedelta(days=20) == efs.ADT
    assert rows[(CHLA, "OS")].CNSR == 1.0  # alive: censored at last contact
    assert {r.STRAT1 for r in adtte.itertuples()} == {"DISEASE AT ENTRY", "CR AT ENTRY"}
