"""`phaseone design ...` end to end, through the console entry point's error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from phaseone.cli import app
from phaseone.cli.output import run_safely


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `phaseone design ...` in-process, with the entry point's error handling."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run_safely(lambda: app(["design", *args], standalone_mode=False))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return invoke


def test_entry_point_has_no_traceback() -> None:
    args = ["next", "-d", "boin", "-t", "0.3", "-n", "5", "-o", "1NNN 2NXN"]
    out = subprocess.run(
        [sys.executable, "-m", "phaseone", "design", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error:") and "position 8" in out.stderr
    assert "Traceback" not in out.stderr


def test_next_json_follows_the_published_boin_step(run: Callable[..., Result]) -> None:
    out = run(
        "next",
        "--design",
        "boin",
        "--target",
        "0.3",
        "--doses",
        "5",
        "--outcomes",
        "1NNN 2NTN",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["recommended_dose"] == 2 and data["should_continue"] is True
    assert data["decision"] == "S"
    assert [d["treated"] for d in data["doses"]] == [3, 3, 0, 0, 0]


def test_next_from_protocol(run: Callable[..., Result]) -> None:
    out = run("next", "--protocol", "nant-2011-04", "--outcomes", "1NNN", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["design"].startswith("rolling six") and data["recommended_dose"] == 2


def test_boundaries_csv(run: Callable[..., Result]) -> None:
    out = run(
        "boundaries", "--design", "boin", "--target", "0.3", "--max-n", "6", "--format", "csv"
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "n,escalate_if_y_le,deescalate_if_y_ge,eliminate_if_y_ge"
    assert lines[3] == "3,0,2,3"  # notes §12.1, target 0.30, n = 3


def test_paths_json_with_probabilities(run: Callable[..., Result]) -> None:
    out = run(
        "paths",
        "--design",
        "boin",
        "--target",
        "0.3",
        "--doses",
        "3",
        "--cohorts",
        "3,3",
        "--true-tox",
        "0.1,0.3,0.5",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    leaves_sum = sum(p["probability"] for p in data["paths"] if p["depth"] == 2)
    assert (
        abs(
            leaves_sum
            + sum(p["probability"] for p in data["paths"] if p["depth"] == 1 and not p["continue"])
            - 1
        )
        < 1e-12
    )
    assert (
        abs(
            sum(data["operating_characteristics"]["p_select"])
            + data["operating_characteristics"]["p_no_mtd"]
            - 1
        )
        < 1e-12
    )


def test_bad_input_is_one_line_without_traceback(run: Callable[..., Result]) -> None:
    cases = [
        (["next", "-d", "boin", "-t", "0.3", "-n", "5", "-o", "1NNN 2NXN"], "position 8"),
        (["next", "-d", "boin", "-t", "0.3", "-n", "5", "-o", "1NNN 9NNN"], "outside 1..5"),
        (["next", "-d", "boin", "-t", "1.5", "-n", "5"], "target"),
        (["next", "-d", "crm", "--skeleton", "0.1,0.3,0.2", "-t", "0.25"], "strictly increasing"),
        (["next", "-d", "nonsense", "-n", "5"], "unknown design"),
    ]
    for args, words in cases:
        out = run(*args)
        assert out.returncode == 2, args
        assert "Traceback" not in out.stderr
        assert out.stderr.startswith("error:") and words in out.stderr, out.stderr
