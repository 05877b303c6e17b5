"""`protocol validate` asks every engine to check the rules a protocol names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phaseone.engine_checks import engine_problems
from phaseone.protocol import bundled_protocols, resolve_protocol

NANT = bundled_protocols()["nant-2011-04"]


def test_bundled_protocol_has_no_rule_problems() -> None:
    assert engine_problems(resolve_protocol("nant-2011-04")) == []


def _line_of(text: str, token: str) -> int:
    """1-based line of the token in the text: read off the file, not off the loader."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if token in line)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        # dosing: a rounding parameter outside its allowed values
        ("ties: lower", "ties: sideways", "agents[0].rounding.params.ties", "'lower' or 'higher'"),
        # safety: a DLT rule name no engine knows
        ("rule: grade_for_days", "rule: grade_for_dayz", "dlt.rules[0].rule", "grade_for_dayz"),
        # dosing: a course start requirement with an unknown rule
        ("rule: lab_min", "rule: lab_minimum", "course.start_requirements[0]", "lab_minimum"),
        # response: an assumed parameter of the rule set set to a value it does not allow
        (
            "params: {}",
            "params: {marrow_new_involvement_pd: '=5'}",
            "response.params.marrow_new_involvement_pd",
            "'>=5', '>5'",
        ),
    ],
)
def test_bad_rule_is_reported_at_its_line(
    tmp_path: Path, old: str, new: str, path: str, message: str
) -> None:
    text = NANT.read_text().replace(old, new, 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    line = _line_of(text, new)
    errors = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert any(
        x.startswith(f"error: {bad}:") and path in x and message in x for x in errors
    ), result.stderr
    assert any(x.startswith(f"error: {bad}:{line}: {path}") for x in errors), (line, errors)
