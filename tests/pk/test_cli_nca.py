"""`phaseone nca` end to end on Theoph (values checked against the WinNonlin reference)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from phaseone.cli import app

DATA = Path(__file__).parent / "data"


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    theoph = pd.read_csv(DATA / "theoph.csv")
    conc = tmp_path / "conc.csv"
    theoph.rename(columns={"time_h": "time", "conc_mg_per_L": "conc"})[
        ["subject", "time", "conc"]].to_csv(conc, index=False)
    dose = tmp_path / "dose.csv"
    pd.DataFrame({"subject": range(1, 13), "time": 0, "dose": 320}).to_csv(dose, index=False)
    return conc, dose


def test_csv_output_matches_winnonlin_linear(files: tuple[Path, Path]) -> None:
    conc, dose = files
    out = CliRunner().invoke(app, ["nca", "--conc", str(conc), "--dose", str(dose),
                                   "--method", "linear", "--format", "csv"])
    assert out.exit_code == 0, out.output
    from io import StringIO

    frame = pd.read_csv(StringIO(out.stdout))
    ref = pd.read_csv(DATA / "winnonlin-Final_Parameters_Pivoted_Theoph_Linear.csv")
    ours = frame[frame["PPTESTCD"] == "AUCIFO"].set_index("subject")["value"]
    for _, row in ref.iterrows():
        assert ours[int(row["Subject"])] == pytest.approx(row["AUCINF_obs"], rel=1e-4)


def test_json_table_and_plots(files: tuple[Path, Path], tmp_path: Path) -> None:
    conc, dose = files
    runner = CliRunner()
    out = runner.invoke(app, ["nca", "--conc", str(conc), "--dose", str(dose),
                              "--parameters", "cmax,lamzhl", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {p["PPTESTCD"] for p in data["parameters"]} == {"CMAX", "LAMZHL"}
    assert data["options"]["auc_method"] == "linup-logdown"
    png, svg = tmp_path / "p.png", tmp_path / "p-log.svg"
    out = runner.invoke(app, ["nca", "--conc", str(conc), "--dose", str(dose), "--summary",
                              "--plot", str(png), "--plot", str(svg)])
    assert out.exit_code == 0, out.output
    assert "geometric mean" in out.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in svg.read_bytes()


def test_bad_input_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "conc.csv"
    bad.write_text("subject,time,conc\n1,0,0\n1,1,5\n1,1,4\n")
    from phaseone.cli.output import run_safely

    code = run_safely(lambda: app(["nca", "--conc", str(bad)], standalone_mode=False))
    assert code == 2
