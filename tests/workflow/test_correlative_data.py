"""Correlatives from the trial database give the same answers as the CSV path on the same
numbers: results entered through specimens and a core-lab file, then `phaseone
correlatives ... --database-url` beside the same command over CSV files written by hand
from the values the test imported (study day 1 = the first dose, day 8 a week later)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.store import accounts
from phaseone.store.access import Role, system_actor
from phaseone.store.errors import PermissionDenied
from phaseone.store.scope import Scope
from phaseone.workflow import correlative_data, results
from phaseone.workflow import specimens as spec_service
from tests.workflow.conftest import PASSWORD, T0, World

# Per patient: (cd3 day 1, cd3 day 8, nk day 1, nk day 8, haca day 1, panel Ct, GUSB Ct).
GENES = ("CHGA", "DCX", "DDC", "PHOX2B", "TH")
VALUES = ((1000.0, 1400.0, 200.0, 260.0, 0.0, (31.5, 35.0, 36.0, 33.0, 34.5), 24.0),
          (800.0, 900.0, 150.0, 120.0, 0.0, None, 23.5))  # None: no panel well amplified


TYPING = (("FCGR2A", "H/R"), ("FCGR3A", "V/V"), ("HLA-A", "A*02:01+A*24:02"),
          ("HLA-B", "B*07:02+B*44:02"), ("HLA-C", "C*07:01+C*05:01"), ("KIR2DL1", "present"),
          ("KIR2DL2", "absent"), ("KIR2DL3", "present"), ("KIR3DL1", "present"))


def _wells(panel: tuple[float, ...] | None) -> list[tuple[str, str]]:
    return [(g, "undetermined" if panel is None else str(ct))
            for g, ct in zip(GENES, panel or (0.0,) * 5, strict=True)]


def _enter(world: World) -> list[str]:
    """Two level-1 patients with immune panels on days 1 and 8, HACA and TLDA on day 1,
    FcγR typing; returns their subject codes."""
    codes, lines = [], ["specimen_id,analyte,value,unit"]
    for values in VALUES:
        patient_id = world.patient_on("chla", T0)
        with world.as_user("coord.chla") as scope:
            planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id,
                                                   course=1)
            by = {(s.assessment_id, s.course_day): s for s in planned}
            codes.append(planned[0].patient.subject_code)
            taken = {}
            for key in (("immune", 1), ("immune", 8), ("haca", 1), ("tlda-blood", 1)):
                s = by[key]
                done = spec_service.collect(scope, specimen_id=s.id,
                                            collected_on=s.planned_on, collected_time=None)
                taken[key] = done.code
        cd3_1, cd3_8, nk_1, nk_8, haca, chga, gusb = values
        lines += [f"{taken['immune', 1]},cd3,{cd3_1},cells/uL",
                  f"{taken['immune', 8]},cd3,{cd3_8},cells/uL",
                  f"{taken['immune', 1]},nk,{nk_1},cells/uL",
                  f"{taken['immune', 8]},nk,{nk_8},cells/uL",
                  f"{taken['haca', 1]},haca,{haca},titre",
                  *(f"{taken['tlda-blood', 1]},{g},{ct},Ct" for g, ct in _wells(chga)),
                  f"{taken['tlda-blood', 1]},GUSB,{gusb},Ct",
                  *(f"{taken['immune', 1]},{gene},{call}," for gene, call in TYPING)]
    with world.as_user("chair") as scope:
        results.commit(scope, ("\n".join(lines) + "\n").encode(), "core-lab.csv")
    return codes


def _hand_written(codes: list[str], directory: Path) -> dict[str, Path]:
    header = "patient,specimen_type,study_day,analyte,value,unit"
    rows, haca_rows, tlda_rows = [header], [header], [header]
    typing = ["patient,gene,call"]
    for code, (cd3_1, cd3_8, nk_1, nk_8, haca, chga, gusb) in zip(codes, VALUES, strict=True):
        rows += [f"{code},blood,1,cd3,{cd3_1},cells/uL", f"{code},blood,8,cd3,{cd3_8},cells/uL",
                 f"{code},blood,1,nk,{nk_1},cells/uL", f"{code},blood,8,nk,{nk_8},cells/uL"]
        haca_rows.append(f"{code},serum,1,HACA,{haca},titre")
        tlda_rows += [*(f"{code},blood,1,{g},{ct},Ct" for g, ct in _wells(chga)),
                      f"{code},blood,1,GUSB,{gusb},Ct"]
        typing += [f"{code},{gene},{call}" for gene, call in TYPING]
    directory.mkdir()
    out = {name: directory / f"{name}.csv" for name in ("immune", "haca", "tlda", "typing",
                                                         "patients")}
    out["immune"].write_text("\n".join(rows) + "\n")
    out["haca"].write_text("\n".join(haca_rows) + "\n")
    out["tlda"].write_text("\n".join(tlda_rows) + "\n")
    out["typing"].write_text("\n".join(typing) + "\n")
    out["patients"].write_text("patient,dose_level\n" + "".join(f"{c},1\n" for c in codes))
    return out


def _json(args: list[str]) -> dict[str, Any]:
    got = CliRunner().invoke(app, ["correlatives", *args, "--format", "json"])
    assert got.exit_code == 0, got.output
    payload: dict[str, Any] = json.loads(got.output)
    return payload


def _without_specimen_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "specimen_id"} for r in rows]


def test_database_path_equals_the_csv_path(world: World, tmp_path: Path) -> None:
    codes = _enter(world)
    url = world.db.url
    csv = _hand_written(codes, tmp_path / "by-hand")
    db = ["--database-url", url]

    immune_db = _json(["immune", *db, "--changes"])
    immune_csv = _json(["immune", "--results", str(csv["immune"]), "--patients",
                        str(csv["patients"]), "--changes"])
    assert immune_db["rows"] == immune_csv["rows"]
    # By hand: patient 1's cd3 rose by 400 from day 1 to day 8, patient 2's nk fell by 30.
    change = {(r["patient"], r["analyte"]): r["change"] for r in immune_db["rows"]}
    assert change[codes[0], "cd3"] == 400.0 and change[codes[1], "nk"] == -30.0
    assert _json(["immune", *db])["rows"] == _json(
        ["immune", "--results", str(csv["immune"]), "--patients", str(csv["patients"])])["rows"]

    haca_db = _json(["haca", *db])
    haca_csv = _json(["haca", "--results", str(csv["haca"])])
    assert haca_db["rows"] == haca_csv["rows"]
    assert haca_db["incidence"] == haca_csv["incidence"]

    tlda_db = _json(["tlda", *db])
    tlda_csv = _json(["tlda", "--results", str(csv["tlda"])])
    assert _without_specimen_ids(tlda_db["rows"]) == _without_specimen_ids(tlda_csv["rows"])
    # By hand: ΔCt = mean panel Ct - GUSB = 170 / 5 - 24 = 10.0; undetected wells count as
    # Ct 40 (the protocol's), so 40 - 23.5 = 16.5.
    assert [r["delta_ct"] for r in tlda_db["rows"]] == [10.0, 16.5]

    fcgr_csv = csv["typing"].with_name("fcgr.csv")
    kir_csv = csv["typing"].with_name("kir.csv")
    lines = csv["typing"].read_text().splitlines()
    fcgr_csv.write_text("\n".join(x for x in lines if ",FCGR" in x or x.startswith("patient")))
    kir_csv.write_text("\n".join(x for x in lines if ",FCGR" not in x))
    fcgr_db = _json(["fcgr", *db])
    assert _without_specimen_ids(fcgr_db["rows"]) == _without_specimen_ids(
        _json(["fcgr", "--typing", str(fcgr_csv)])["rows"])
    kir_db = _json(["kir", *db])
    assert kir_db["rows"] == _json(["kir", "--typing", str(kir_csv)])["rows"]
    # By hand: C*07:01 is C1 and C*05:01 C2; KIR2DL1 (C2), KIR2DL3 (C1) have their ligand.
    assert {r["KIR2DL1"] for r in kir_db["rows"]} == {"ligand present"}

    # The export writes the form the CSV path reads, and reads back to the same answer.
    exported = tmp_path / "exported"
    got = CliRunner().invoke(app, ["correlatives", "export", str(exported), *db])
    assert got.exit_code == 0, got.output
    again = _json(["immune", "--results", str(exported / "immune.csv"), "--patients",
                   str(exported / "patients.csv"), "--changes"])
    assert _without_specimen_ids(again["rows"]) == _without_specimen_ids(immune_csv["rows"])


def test_scoped_deidentified_and_cut_off(world: World) -> None:
    codes = _enter(world)
    with world.db.transaction() as session:
        scope = Scope(session, system_actor("test"))
        accounts.add_user(scope, username="stat", full_name="Stat", role=Role.statistician,
                          password=PASSWORD)
    with world.as_user("stat") as scope:
        seen = correlative_data.read(scope, world.trial)
    assert seen.deidentified
    assert {m.patient for m in seen.measurements()} == set(codes)
    # Study days do not move with the per-patient date shift.
    assert sorted({m.study_day for m in seen.measurements()}) == [1, 8]
    with world.as_user("chair") as scope:
        before_day_8 = correlative_data.read(scope, world.trial,
                                             as_of=T0.date() + dt.timedelta(days=6))
    assert {m.study_day for m in before_day_8.measurements()} == {1}
    with world.as_user("coord.chop") as scope, pytest.raises(PermissionDenied):
        correlative_data.read(scope, world.trial)  # site staff do not export the trial
