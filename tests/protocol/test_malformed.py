"""Each malformed protocol file gives a one-line error naming its line and field.

Every file in malformed/ is tests/protocol/minimal.yaml broken in one place; its first
line says what the error must say: `# expect: LINE: FIELD: MESSAGE-PREFIX`. The line
numbers were read off the files, not off the loader's output.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from phaseone.errors import ProtocolError
from phaseone.protocol import load_protocol

HERE = Path(__file__).parent
MALFORMED = sorted((HERE / "malformed").glob("*.yaml"))


def _expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no expectation line"
    return first.removeprefix("# expect: ")


def test_minimal_protocol_is_valid() -> None:
    protocol = load_protocol(HERE / "minimal.yaml")
    assert protocol.id == "minimal"


def test_there_are_at_least_ten_malformed_files() -> None:
    assert len(MALFORMED) >= 10


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_error_names_line_and_field(path: Path) -> None:
    with pytest.raises(ProtocolError) as info:
        load_protocol(path)
    lines = str(info.value).splitlines()
    expected = f"{path}:{_expectation(path)}"
    assert any(line.startswith(expected) for line in lines), (expected, lines)


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.stem)
def test_cli_validate_prints_one_line_and_exits_2(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors, result.stderr
    assert any(f"{path}:{_expectation(path)}" in line for line in errors), result.stderr
