"""The command table: light at the door, every row loads, help texts read well."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phaseone.cli import COMMANDS, app
from phaseone.cli.lazy import unwrap

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = ("scipy", "matplotlib", "sqlalchemy", "alembic", "fastapi", "pandas")


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running `code` in a fresh interpreter."""
    probe = (
        "import sys, json\n"
        f"{code}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded_after("import phaseone.cli").isdisjoint(HEAVY)


def test_root_help_loads_no_heavy_library() -> None:
    code = (
        "import contextlib, io\n"
        "from phaseone.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        app(['--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    )
    loaded = _loaded_after(code)
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
    # ...and none of the command modules either: only the table was read.
    assert not any(m.startswith("phaseone.cli.") for m in loaded if m != "phaseone.cli")


def test_design_next_loads_neither_pandas_nor_scipy_stats() -> None:
    code = (
        "import contextlib, io\n"
        "from phaseone.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        app(['design', 'next', '--design', 'boin', '--param', 'target=0.3',\n"
        "             '--doses', '5', '--outcomes', '1NNN 2NTN'])\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), e.code\n"
        "print('scipy.stats' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    probe = "import sys\n" + code + "\nprint('pandas' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("entry", COMMANDS, ids=[e.name for e in COMMANDS])
def test_every_row_of_the_table_loads_and_shows_its_help(entry) -> None:  # type: ignore[no-untyped-def]
    command = entry.load()
    assert command.name == entry.name
    result = CliRunner().invoke(app, [entry.name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_root_help_lists_every_command_from_the_table() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    words = " ".join(result.output.replace("│", " ").split())
    for entry in COMMANDS:
        assert f"{entry.name} {entry.help}" in words


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["desing"])
    assert result.exit_code == 2
    assert "design" in result.output


def test_unwrap_joins_hard_wrapped_lines_and_keeps_paragraphs_and_lists() -> None:
    text = "First line\ncontinues here.\n\nSecond\n  paragraph.\n- one\n- two\n\n\b\nkept\nas is"
    assert unwrap(text) == (
        "First line continues here.\n\nSecond paragraph.\n- one\n- two\n\n\b\nkept\nas is"
    )


def test_help_shows_no_bool_type_and_no_choice_split_inside_a_word() -> None:
    result = CliRunner().invoke(app, ["toxicity-table", "--help"], terminal_width=80)
    assert "<bool>" not in result.output
    assert "tolerab" not in result.output.replace("tolerability", "")


def _all_commands() -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []

    def walk(name: str, command: object) -> None:
        found.append((name, command))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(f"{name} {sub_name}", sub)

    for entry in COMMANDS:
        walk(entry.name, entry.load())
    return found


def test_no_help_text_is_hard_wrapped_or_uses_code_letters() -> None:
    for name, command in _all_commands():
        text = getattr(command, "help", None) or ""
        for paragraph in text.split("\n\n"):
            if paragraph.startswith("\b"):
                continue
            lines = paragraph.split("\n")
            # A line break inside a paragraph only before a list item.
            assert all(line.lstrip().startswith(("- ", "* ")) for line in lines[1:]), name
        assert "E/S/D" not in text and " DP" not in text, name
        for param in getattr(command, "params", []):
            helptext = getattr(param, "help", None) or ""
            assert "E/S/D" not in helptext and "by DP" not in helptext, (name, param.name)


def test_grade_loads_no_scipy(tmp_path: Path) -> None:
    labs = tmp_path / "labs.csv"
    labs.write_text("analyte,value,unit,lln,uln\nsodium,128,mmol/L,135,145\n")
    code = (
        "import contextlib, io\n"
        "from phaseone.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        app(['grade', {str(labs)!r}])\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), e.code"
    )
    assert "scipy" not in _loaded_after(code)
