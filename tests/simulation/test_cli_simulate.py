"""`phaseone simulate` end to end, through the console entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

CMD = [sys.executable, "-m", "phaseone", "simulate"]
BASE = ["--design", "boin", "--target", "0.3", "--truth", "0.05,0.15,0.3,0.45,0.6",
        "--cohort-size", "3", "--cohorts", "10", "--early-stop", "18"]  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=300)


def test_json_with_r_stream_reproduces_config_a() -> None:
    # Config A, dose-finding oracle: simFastBOIN vignette (see published.py).
    out = run(*BASE, "--trials", "1000", "--seed", "123", "--rng", "r", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert [round(d["patients"]["value"], 2) for d in data["doses"]] == [
        4.17, 8.90, 10.78, 4.49, 0.77
    ]  # fmt: skip
    assert [round(1000 * d["selected"]["value"]) for d in data["doses"]] == [12, 246, 541, 185, 15]
    assert data["no_mtd"]["value"] == pytest.approx(0.001)
    assert data["method"] == "simulation" and data["details"]["rng"] == "r"
    assert all("se" in d["selected"] for d in data["doses"])


def test_table_and_csv() -> None:
    table = run(*BASE, "--trials", "2000")
    assert table.returncode == 0, table.stderr
    assert "selected %" in table.stdout and "±" in table.stdout
    out = run(*BASE, "--trials", "2000", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {"design", "measure", "dose", "value", "se"} <= set(rows[0])
    sel = [float(r["value"]) for r in rows if r["measure"] == "selected"]
    assert sum(sel) == pytest.approx(1.0)


def test_protocol_design_runs_in_calendar_time() -> None:
    out = run("--protocol", "nant-2011-04", "--truth", "0.05,0.1,0.2,0.35,0.5",
              "--trials", "100", "--format", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "rolling six" in data["design"]
    assert data["duration_days"]["value"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "0.3", "--truth", "0.1,1.2,0.3"], "[0, 1]"),
        (["--target", "0.3", "--truth", "0.1,0.2,0.3", "--cohorts", "0"], "--cohorts"),
        (["--target", "0.3", "--truth", "0.1,0.2,0.3", "--param", "colour=blue"], "unknown"),
        (["--truth", "0.1,0.2,0.3"], "target"),
    ],
)
def test_bad_input_is_one_line_error(args: list[str], message: str) -> None:
    out = run("--design", "boin", *args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert message in out.stderr


def test_scenario_grid_tidy_csv_and_plot(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "trials: 500\nseed: 3\n"
        "designs:\n"
        "  - {label: BOIN, name: boin, params: {target: 0.3, cohort_size: 3, max_cohorts: 8}}\n"
        "  - {label: 3+3, name: three_plus_three}\n"
        "scenarios:\n"
        "  - {name: low, truth: [0.05, 0.1, 0.2, 0.3]}\n"
        "  - {name: high, truth: [0.3, 0.45, 0.6, 0.7]}\n"
    )
    png = tmp_path / "grid.png"
    out = run("--scenarios", str(grid), "--format", "csv", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert {r["scenario"] for r in rows} == {"low", "high"}
    assert {r["label"] for r in rows} == {"BOIN", "3+3"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
