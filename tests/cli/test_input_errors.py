"""Bad input files through the command line: one line per problem, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PROFILE = "subject,time,conc\n1,0,0\n1,1,2.0\n1,2,1.0\n1,4,0.5\n1,8,0.125\n"


def phaseone(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phaseone", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=False,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["grade"], ["nca", "--conc"]])
def test_a_file_that_is_not_utf8(tmp_path: Path, command: list[str]) -> None:
    # "128 mmol/L" written in Latin-1 with a stray 0xB5 (µ) byte.
    (tmp_path / "latin1.csv").write_bytes(
        b"subject,time,conc,analyte,value,unit\n1,0,1,sodium,128,\xb5mol/L\n"
    )
    line = one_line_error(phaseone(*command, "latin1.csv", cwd=tmp_path))
    assert "latin1.csv" in line and "not UTF-8" in line and "0xb5" in line


def test_nca_on_a_header_only_file(tmp_path: Path) -> None:
    (tmp_path / "conc.csv").write_text("subject,time,conc\n")
    line = one_line_error(phaseone("nca", "--conc", "conc.csv", cwd=tmp_path))
    assert "conc.csv" in line and "no samples" in line


def test_nca_refuses_an_infinite_concentration(tmp_path: Path) -> None:
    (tmp_path / "conc.csv").write_text(PROFILE.replace("1,2,1.0", "1,2,inf"))
    line = one_line_error(phaseone("nca", "--conc", "conc.csv", cwd=tmp_path))
    assert line == "error: conc.csv:4: conc: expected a finite number, got 'inf'"


def test_nca_refuses_a_nan_dose(tmp_path: Path) -> None:
    (tmp_path / "conc.csv").write_text(PROFILE)
    (tmp_path / "dose.csv").write_text("subject,time,dose\n1,0,nan\n")
    line = one_line_error(
        phaseone("nca", "--conc", "conc.csv", "--dose", "dose.csv", cwd=tmp_path)
    )
    assert line == "error: dose.csv:2: dose: expected a finite number, got 'nan'"


def test_nca_json_never_holds_nan_or_infinity(tmp_path: Path) -> None:
    (tmp_path / "conc.csv").write_text(PROFILE)
    (tmp_path / "dose.csv").write_text("subject,time,dose\n1,0,100\n")
    done = phaseone(
        "nca", "--conc", "conc.csv", "--dose", "dose.csv", "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "NaN" not in done.stdout and "Infinity" not in done.stdout
    json.loads(done.stdout)


def test_grade_refuses_a_date_that_is_not_a_date(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text(
        "patient_id,date,analyte,value,unit,lln,uln\np1,notadate,sodium,128,mmol/L,135,145\n"
    )
    line = one_line_error(phaseone("grade", "labs.csv", cwd=tmp_path))
    assert line == "error: row 1.date: expected a date YYYY-MM-DD, got 'notadate'"
