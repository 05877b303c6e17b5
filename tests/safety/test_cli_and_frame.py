"""The lab-table grader and the safety commands, end to end."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from phaseone.errors import InputError
from phaseone.safety.labgrades import grade_labs
from phaseone.safety.ranges import default_ranges, load_ranges

DATA = Path(__file__).parent / "data"


def run(*args: str):
    """In-process, for speed; the error paths below use a real process."""
    from typer.testing import CliRunner

    from phaseone.cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "80", "NO_COLOR": "1"})


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phaseone", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "80", "PATH": "", "NO_COLOR": "1"},
    )


def test_grade_frame_uses_baseline_row_albumin_and_ae_flags() -> None:
    frame = pd.read_csv(DATA / "labs.csv")
    out = grade_labs(frame, version="5.0").set_index("analyte", append=True)
    rows = out.reset_index(level=0, drop=True)
    # ALT baseline 60 U/L > ULN 45 (abnormal): the baseline row itself is grade 0, and
    # 95 U/L is >= 1.5 x 60 = 90 -> G1 (CTCAE v5.0 ALT increased, abnormal-baseline clause).
    assert rows.loc["alt", "grade"].tolist() == [0, 1]
    # Sodium 128 with symptomatic = no: v5.0 Hyponatremia "125-129 and asymptomatic" -> G2.
    assert rows.loc["sodium", "grade"] == 2
    # Calcium 7.2 mg/dL with albumin 2.5 g/dL: 7.2 + 0.8 x (4.0 - 2.5) = 8.4 < LLN 8.8 -> G1
    # (uncorrected 7.2 would be G2: <8.0 - 7.0).
    assert rows.loc["calcium", "grade"] == 1
    assert "albumin-corrected" in rows.loc["calcium", "note"]
    # ANC without its own range: the assumed default pediatric table supplies the LLN.
    assert rows.loc["anc", "range_source"] == "default pediatric ranges (assumed)"


def test_site_range_table_overrides_default(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(
        "provenance: {source: literature, url: https://example.org/lab}\n"
        "ranges:\n  anc:\n    unit: 10^9/L\n    bands:\n"
        "      - {age: [0, null], lln: 2.0, uln: 7.5}\n"
    )
    frame = pd.DataFrame([{"analyte": "anc", "value": 1800, "unit": "/uL", "age_years": 5}])
    with_site = grade_labs(frame, version="5.0", ranges=[load_ranges(site)])
    assert with_site.loc[0, "grade"] == 1 and with_site.loc[0, "range_source"] == str(site)
    assert grade_labs(frame, version="5.0").loc[0, "grade"] == 0  # default LLN 1500
    assert default_ranges().assumed


def test_bad_rows_are_all_reported() -> None:
    frame = pd.DataFrame(
        [
            {"analyte": "anc", "value": -5, "unit": "/uL", "lln": 1500},
            {"analyte": "platelets", "value": 100, "unit": "furlongs", "lln": 150000},
            {"analyte": "unobtainium", "value": 1, "unit": "mg/dL"},
            {"analyte": "anc", "value": 2000, "unit": "/uL"},  # no range, no age
        ]
    )
    with pytest.raises(InputError) as info:
        grade_labs(frame, version="5.0")
    paths = {p.path: p.message for p in info.value.problems}
    assert "non-negative" in paths["row 1.value"]
    assert "'furlongs' is not accepted for platelets" in paths["row 2.unit"]
    assert "unknown analyte 'unobtainium'" in paths["row 3.analyte"]
    assert "LLN is needed" in paths["row 4.lln"]


def test_cli_grade_adds_columns() -> None:
    result = run("grade", str(DATA / "labs.csv"), "--ctcae", "4.03")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert {"grade", "term", "rule", "ctcae_version"} <= set(out.columns)
    # v4.03 has no hyponatremia grade 2: 128 mmol/L is G3 (<130 - 120).
    assert out[out.analyte == "sodium"].grade.tolist() == [3]


def test_cli_grade_bad_version_is_one_line_error() -> None:
    result = cli("grade", str(DATA / "labs.csv"), "--ctcae", "6.0")
    assert result.returncode == 2
    assert "unknown CTCAE version '6.0'" in result.stderr and "Traceback" not in result.stderr


def test_cli_dlt_json() -> None:
    result = run("dlt", "--protocol", "nant-2011-04", str(DATA / "events.json"), "--format", "json")
    assert result.exit_code == 0, result.output
    by_id = {d["patient_id"]: d for d in json.loads(result.stdout)}
    assert by_id["p2"]["status"] == "dlt"
    assert by_id["p2"]["hits"][0]["rule_id"] == "nonheme-grade3"
    assert by_id["p1"]["status"] == "no_dlt" and by_id["p1"]["rules_assumed"]
    assert by_id["p3"]["evaluable"] is False


def test_cli_dlt_table_fits_80_columns_and_says_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    from phaseone.cli.output import console

    monkeypatch.setattr(console, "width", 80)  # as on an 80-column terminal (piped: unwrapped)
    result = run("dlt", "--protocol", "nant-2011-04", str(DATA / "events.json"))
    assert result.exit_code == 0, result.output
    assert "DLT rules are assumed" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_cli_dlt_bad_events(tmp_path: Path) -> None:
    data = json.loads((DATA / "events.json").read_text())
    data["patients"][0]["events"][0]["grade"] = 6
    data["patients"][0]["doses_given"] = -1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = cli("dlt", "--protocol", "nant-2011-04", str(bad))
    assert result.returncode == 2
    assert "patients[0].events[0].grade: grade 6 is not a CTCAE grade" in result.stderr
    assert "patients[0].doses_given" in result.stderr


@pytest.mark.parametrize(
    "kind", ["grades", "grade3", "dlt", "tolerability", "anbl0032", "anbl0931"]
)
def test_cli_toxicity_tables(kind: str) -> None:
    result = run(
        "toxicity-table",
        "--protocol",
        "nant-2011-04",
        str(DATA / "events.json"),
        "--kind",
        kind,
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert len(out) > 0
    if kind == "dlt":
        assert out.set_index("dose_level").loc[1, "n_dlt"] == 1
