"""The invented example records in examples/patients screen as their manifest says.

The expected verdicts were designed with each record (one route or one failing fact per
record; see examples/patients/README.md), not taken from the engine's output.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from phaseone.eligibility import Screener, parse_record

from .conftest import AS_OF

EXAMPLES = Path(__file__).parents[2] / "examples" / "patients"
ROWS = list(csv.DictReader((EXAMPLES / "expected.csv").open(encoding="utf-8")))


def test_at_least_twenty_examples() -> None:
    assert len(ROWS) >= 20
    assert {r["file"] for r in ROWS} == {p.name for p in EXAMPLES.glob("*.json")}


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_example(screener: Screener, row: dict[str, str]) -> None:
    record = parse_record((EXAMPLES / row["file"]).read_bytes())
    result = screener.evaluate(record, AS_OF, int(row["dose_level"]))
    assert result.overall == row["expected"]
    named = row["criteria"].split()
    if row["expected"] == "eligible":
        for cid in named:
            assert result.criterion(cid).outcome == "pass", cid
    elif row["expected"] == "ineligible":
        assert list(result.failed) == named
    else:
        assert list(result.unknown) == named


def test_failing_examples_each_fail_a_different_criterion() -> None:
    failed = [r["criteria"] for r in ROWS if r["expected"] == "ineligible"]
    assert len(failed) == len(set(failed)) >= 10


def test_jsonl_holds_every_example() -> None:
    lines = (EXAMPLES / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(ROWS)
