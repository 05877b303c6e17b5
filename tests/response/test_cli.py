"""`phaseone response` and `phaseone survival` from files: formats, plots, and bad input
refused with one line per problem and exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.errors import InputError

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[2] / "examples"


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "NO_COLOR": "1"})


def refused(result) -> str:
    """In-process runs raise the InputError that `phaseone` turns into exit status 2."""
    assert isinstance(result.exception, InputError), result.output
    return str(result.exception)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": "80", "PATH": "", "NO_COLOR": "1"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "phaseone", *args],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip


def test_bad_evaluations_one_line_per_problem_exit_2() -> None:
    result = cli("response", str(DATA / "bad-evaluations.json"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert all(x.startswith(f"error: {DATA / 'bad-evaluations.json'}: ") for x in lines), lines
    joined = "\n".join(lines)
    assert "evaluations.0.mibg.curie.pelvis: Input should be less than or equal to 3" in joined
    assert (
        "evaluations.0.lesions.0.diameter_mm: Input should be greater than or equal to 0" in joined
    )
    assert (
        "evaluations.0.marrow.0.tumour_percent: Input should be less than or equal to 100" in joined
    )
    assert "Traceback" not in result.stderr
    assert len(lines) == 3


def test_evaluation_before_baseline_refused_by_the_cli() -> None:
    result = run("response", str(DATA / "early-evaluation.json"))
    assert "evaluations[1].date: 2014-02-01 is before the baseline evaluation" in refused(result)


def test_bad_param_and_plot_suffix_refused() -> None:
    result = run(
        "response", str(EXAMPLES / "evaluations.json"), "--param", "lymph_node_cr_max_mm=12"
    )
    assert "--param.lymph_node_cr_max_mm" in refused(result)
    result = run("response", str(EXAMPLES / "evaluations.json"), "--waterfall", "w.pdf")
    assert "--waterfall" in refused(result)


def test_response_table_json_csv_and_plots(tmp_path: Path) -> None:
    file = str(EXAMPLES / "evaluations.json")
    table = run("response", file)
    assert table.exit_code == 0, table.output
    assert "Best overall response" in table.output and "Response rate" in table.output
    data = json.loads(run("response", file, "--format", "json").output)
    first = data["evaluations"][0]["evaluations"][1]
    assert first["rule"] == "overall.PR"
    assert {c["component"] for c in first["components"]} == {"primary", "metastatic", "marrow"}
    rates = run("response", file, "--format", "csv", "--show", "rates").output.splitlines()
    assert rates[0].startswith("dose_level,responders,evaluable,rate,ci_lower,ci_upper")
    assert rates[-1].startswith("all,3,5,0.6,")
    png, svg = tmp_path / "w.png", tmp_path / "s.svg"
    assert run("response", file, "--waterfall", str(png), "--spider", str(svg)).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]


def test_nantrc_and_a_parameter_from_the_command_line() -> None:
    file = str(EXAMPLES / "evaluations.json")
    out = json.loads(run("response", file, "--criteria", "NANTRC-1.0", "--format", "json").output)
    assert out["criteria"] == "NANTRC-1.0"
    out = json.loads(
        run("response", file, "--param", "marrow_new_involvement_pd=>5", "--format", "json").output
    )
    assert out["assumed"]["marrow_new_involvement_pd"] == ">5"


def test_survival_tables_and_plots(tmp_path: Path) -> None:
    file = str(EXAMPLES / "follow-up.json")
    out = run("survival", file, "--endpoint", "efs")
    assert out.exit_code == 0, out.output
    assert "Event-free survival" in out.output and "CR at entry" in out.output
    rows = json.loads(run("survival", file, "--format", "json", "--se", "peto").output)
    assert "Peto" in rows["method"]
    km, swim = tmp_path / "km.svg", tmp_path / "swim.png"
    result = run(
        "survival", file, "--plot", str(km), "--swimmer", str(swim),
        "--evaluations", str(EXAMPLES / "evaluations.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert km.stat().st_size > 1000 and swim.stat().st_size > 1000


def test_survival_bad_input_refused(tmp_path: Path) -> None:
    bad = tmp_path / "fu.json"
    bad.write_text(
        json.dumps(
            [{"patient_id": "X", "registration_date": "2014-03-03", "disease_at_entry": "some",
              "last_known_alive": "2014-01-01"}]
        )
    )  # fmt: skip
    assert "[0].disease_at_entry" in refused(run("survival", str(bad)))
    result = run("survival", str(EXAMPLES / "follow-up.json"), "--endpoint", "pfs")
    assert "unknown endpoint 'pfs'" in refused(result)


def test_schemas() -> None:
    schema = json.loads(run("schema", "evaluation").output)
    assert "evaluations" in schema["properties"]
    schema = json.loads(run("schema", "follow-up").output)
    assert "disease_at_entry" in schema["properties"]
