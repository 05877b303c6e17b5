"""`phaseone correlatives` end to end on the shipped example files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.cli.output import run_safely

EXAMPLES = Path(__file__).parents[2] / "examples" / "correlatives"


def run(*args: str) -> dict[str, object]:
    out = CliRunner().invoke(app, ["correlatives", *args, "--format", "json"])
    assert out.exit_code == 0, out.output
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_immune_compares_the_protocol_groups(tmp_path: Path) -> None:
    box, spaghetti = tmp_path / "box.png", tmp_path / "spaghetti.svg"
    data = run("immune", "--results", str(EXAMPLES / "immune.csv"), "--patients",
               str(EXAMPLES / "patients.csv"), "--plot", str(box), "--plot", str(spaghetti))
    rows = data["rows"]
    assert isinstance(rows, list) and rows
    assert {r["analyte"] for r in rows} == {"NK cells", "IL-6"}
    # patients.csv: levels 1-3 are 8 patients, levels 4-5 are 4 (the protocol's groups).
    assert all((r["n_low"], r["n_high"]) == (8, 4) for r in rows)
    assert any("Assumed (dose groups)" in n for n in data["notes"])  # type: ignore[union-attr]
    assert box.read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in spaghetti.read_bytes()


def test_immune_mixed_model_option() -> None:
    data = run("immune", "--results", str(EXAMPLES / "immune.csv"), "--patients",
               str(EXAMPLES / "patients.csv"), "--mixed", "NK cells")
    terms = [r["term"] for r in data["mixed_model"]]  # type: ignore[union-attr]
    assert "Intercept" in terms and any("group" in t for t in terms)


def test_haca_counts_and_trough_effect() -> None:
    data = run("haca", "--results", str(EXAMPLES / "haca.csv"), "--trough",
               "dinutuximab trough")
    statuses = {r["patient"]: r["status"] for r in data["rows"]}  # type: ignore[union-attr]
    assert statuses["NANT-005"] == "treatment-induced"
    assert statuses["NANT-009"] == "treatment-boosted"  # titre 2 -> 16 (8-fold)
    incidence = data["incidence"]
    assert isinstance(incidence, dict) and (incidence["k"], incidence["n"]) == (4, 12)


def test_kir_and_fcgr_with_and_without_response(tmp_path: Path) -> None:
    data = run("kir", "--typing", str(EXAMPLES / "typing.csv"))
    assert len(data["rows"]) == 12  # type: ignore[arg-type]
    data = run("kir", "--typing", str(EXAMPLES / "typing.csv"), "--patients",
               str(EXAMPLES / "patients.csv"))
    names = [r["characteristic"] for r in data["rows"]]  # type: ignore[union-attr]
    assert names[:2] == ["any ligand missing", "all ligands present"]
    data = run("fcgr", "--typing", str(EXAMPLES / "fcgr.csv"))
    rows = {(r["patient"], r["gene"]): r for r in data["rows"]}  # type: ignore[union-attr]
    # fcgr.csv writes NANT-008 in precursor numbering (166H/R) and NANT-004's FCGR3A as
    # rs396991 T/T: both stored at the mature position.
    assert rows[("NANT-008", "FCGR2A")]["genotype"] == "131H/R"
    assert rows[("NANT-004", "FCGR3A")]["genotype"] == "158F/F"
    out = CliRunner().invoke(app, ["correlatives", "fcgr", "--typing",
                                   str(EXAMPLES / "fcgr.csv"), "--patients",
                                   str(EXAMPLES / "patients.csv"), "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[0].startswith("characteristic,responders_with,n_with")


def test_tlda_by_specimen_and_trajectory(tmp_path: Path) -> None:
    plot = tmp_path / "tlda.png"
    data = run("tlda", "--results", str(EXAMPLES / "tlda.csv"), "--plot", str(plot))
    rows = data["rows"]
    assert isinstance(rows, list) and len(rows) == 36  # 6 patients x 3 days x 2 types
    assert plot.exists()
    data = run("tlda", "--results", str(EXAMPLES / "tlda.csv"), "--evaluations",
               str(EXAMPLES / "evaluations.csv"))
    assert any(r["kind"] == "response" for r in data["rows"])  # type: ignore[union-attr]


@pytest.mark.parametrize(("args", "content", "message"), [
    (["immune", "--patients", str(EXAMPLES / "patients.csv")],
     "patient,specimen_type,study_day,analyte,value,unit\nNANT-001,blood,one,NK,1,x\n",
     "error: {f}:2: study_day: expected a whole number, got 'one'"),
    (["kir"], "patient,gene,call\nP1,HLA-C,C*99:01:xx+C*01:02\n",
     "error: {f}:2: call: expected an HLA-A, -B or -C allele"),
    (["fcgr"], "patient,gene,call\nP1,FCGR3A,131V/F\n",
     "error: {f}:2: call: FCGR3A position must be 158 or 176"),
    (["tlda"], "patient,specimen_type,study_day,analyte,value,unit\nP1,blood,1,TH,-3,Ct\n",
     "error: {f}:2: value: a Ct must be positive, got -3"),
    (["haca"], "patient,specimen_type,study_day,analyte,value,unit\nP1,serum,1,HACA,1,x\n"
               "P1,serum,1,HACA,2,x\n",
     "error: {f}:3: duplicate patient"),
])
def test_bad_input_exits_2_naming_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 args: list[str], content: str,
                                                 message: str) -> None:
    path = tmp_path / "in.csv"
    path.write_text(content)
    option = "--typing" if args[0] in ("kir", "fcgr") else "--results"
    code = run_safely(lambda: app(["correlatives", *args, option, str(path)],
                                  standalone_mode=False))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(message.format(f=path)), err
    assert "Traceback" not in err


def test_help_lists_the_five_analyses() -> None:
    out = CliRunner().invoke(app, ["correlatives", "--help"])
    assert out.exit_code == 0
    for name in ("immune", "haca", "kir", "fcgr", "tlda"):
        assert name in out.stdout
