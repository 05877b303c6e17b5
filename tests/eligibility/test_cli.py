"""`phaseone screen` and `phaseone schema patient` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples" / "patients"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-m", "phaseone", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_table_fits_80_columns_and_says_why() -> None:
    out = run(
        "screen",
        str(EXAMPLES / "14-chemo-too-recent.json"),
        "--as-of",
        "2024-06-03",
        "--dose-level",
        "2",
    )
    assert out.returncode == 0, out.stderr
    assert "INELIGIBLE" in out.stdout
    assert "Failed: inc-washout-myelosuppressive" in out.stdout
    assert "10 days < 14" in " ".join(out.stdout.split())  # the table may wrap it
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_json_output() -> None:
    out = run(
        "screen",
        str(EXAMPLES / "01-recurrent-mibg-bone.json"),
        "--as-of",
        "2024-06-03",
        "--dose-level",
        "2",
        "--format",
        "json",
    )
    data = json.loads(out.stdout)
    assert data["overall"] == "eligible"
    assert data["protocol"]["id"] == "nant-2011-04"
    assert data["dose_level"] == 2


def test_bad_record_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    record = json.loads((EXAMPLES / "01-recurrent-mibg-bone.json").read_text())
    record["labs"][0]["unit"] = "mg/dL"
    bad.write_text(json.dumps(record))
    out = run("screen", str(bad), "--as-of", "2024-06-03")
    assert out.returncode == 2
    assert f"error: {bad}: labs[0].unit: unit 'mg/dL' is not accepted for anc" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_date_option() -> None:
    out = run("screen", str(EXAMPLES / "01-recurrent-mibg-bone.json"), "--as-of", "2024-13-01")
    assert out.returncode == 2
    assert "--as-of: '2024-13-01' is not a date; expected YYYY-MM-DD" in out.stderr


def test_entry_date_outside_the_record_range() -> None:
    out = run("screen", str(EXAMPLES / "all.jsonl"), "--as-of", "9999-12-31")
    assert out.returncode == 2
    assert "--as-of: 9999-12-31 is outside 1900-01-01 to 2199-12-31" in out.stderr


def test_bulk_streams_rows_and_survives_a_bad_line(tmp_path: Path) -> None:
    lines = (EXAMPLES / "all.jsonl").read_text().splitlines()
    broken = json.loads(lines[1])
    broken["disease_history"]["induction_cycles"] = -1
    source = tmp_path / "batch.jsonl"
    source.write_text("\n".join([lines[0], json.dumps(broken), "{oops", lines[2]]) + "\n")
    target = tmp_path / "out.jsonl"
    out = run(
        "screen", str(source), "--as-of", "2024-06-03", "--dose-level", "2", "-o", str(target)
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in target.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert [r["overall"] for r in rows] == ["eligible", "error", "error", "eligible"]
    assert rows[1]["errors"][0]["path"] == "disease_history.induction_cycles"
    assert rows[1]["record_id"] == "NANT-DEMO-02"
    assert "not valid JSON" in rows[2]["errors"][0]["message"]
    assert "Screening summary" in out.stderr


def test_bulk_full_detail(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    run(
        "screen",
        str(EXAMPLES / "all.jsonl"),
        "--as-of",
        "2024-06-03",
        "--dose-level",
        "2",
        "--detail",
        "full",
        "-o",
        str(target),
    )
    rows = [json.loads(x) for x in target.read_text().splitlines()]
    assert len(rows) == 26
    assert rows[0]["format"] == "phaseone.eligibility.result/1"
    assert len(rows[0]["criteria"]) > 60


def test_schema_patient() -> None:
    out = run("schema", "patient")
    schema = json.loads(out.stdout)
    assert schema["title"] == "PatientRecord"
    assert "labs" in schema["properties"]


def test_bulk_in_worker_processes_writes_the_same_rows(tmp_path: Path) -> None:
    source = EXAMPLES / "all.jsonl"
    outputs = []
    for workers in ("1", "2"):
        target = tmp_path / f"out-{workers}.jsonl"
        out = run(
            "screen", str(source), "--as-of", "2024-06-03", "--workers", workers, "-o", str(target)
        )
        assert out.returncode == 0, out.stderr
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 26


def test_unreachable_scheduler_is_a_clean_error() -> None:
    out = run(
        "screen",
        str(EXAMPLES / "all.jsonl"),
        "--as-of",
        "2024-06-03",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert out.returncode == 2
    assert "--scheduler: no Dask scheduler reached at 'tcp://127.0.0.1:9'" in out.stderr
    assert "Traceback" not in out.stderr


def test_workers_and_scheduler_together_are_refused() -> None:
    out = run(
        "screen",
        str(EXAMPLES / "all.jsonl"),
        "--as-of",
        "2024-06-03",
        "--workers",
        "2",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert out.returncode == 2
    assert "--workers: give --workers or --scheduler, not both" in out.stderr
