"""The virtual-trial command and the simulation clock: what each door refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.cli.virtual import FileServiceClock
from phaseone.errors import InputError
from phaseone.synth.virtual_trial import VirtualTrial
from phaseone.web.clock import FileClock, write_clock_file


def test_the_clock_file_is_read_by_the_service_and_moved_by_the_driver(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    write_clock_file(path, dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC))
    service_clock, driver_clock = FileClock(path), FileServiceClock(path)
    assert driver_clock.today() == dt.date(2024, 6, 3)
    driver_clock.advance(29)
    assert service_clock() == dt.datetime(2024, 7, 2, 9, 0, tzinfo=dt.UTC)
    assert driver_clock.today() == dt.date(2024, 7, 2)


def test_a_bad_clock_file_fails_when_the_service_starts(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    path.write_text("tomorrow\n")
    with pytest.raises(ValueError):
        FileClock(path)


def test_the_driver_refuses_any_host_but_loopback(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        VirtualTrial("http://example.org", FileServiceClock(tmp_path / "c"), admin=("a", "b"))
    assert caught.value.problems[0].path == "url"


def test_serve_refuses_a_clock_file_off_loopback(tmp_path: Path) -> None:
    path = tmp_path / "clock.txt"
    write_clock_file(path, dt.datetime(2024, 6, 3, tzinfo=dt.UTC))
    out = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--clock-file", str(path)])
    assert out.exit_code == 2
    assert "loopback" in out.output


def test_url_mode_needs_the_clock_file_and_the_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHASEONE_ADMIN_USERNAME", raising=False)
    out = CliRunner().invoke(app, ["virtual-trial", "--url", "http://127.0.0.1:9"])
    assert out.exit_code == 2
    assert "--clock-file" in out.output


def test_help_reads_well() -> None:
    out = CliRunner().invoke(app, ["virtual-trial", "--help"])
    assert out.exit_code == 0
    assert "--patients" in out.output and "--seed" in out.output


@pytest.mark.slow
def test_the_command_starts_its_own_service_and_the_checks_pass() -> None:
    """Over real HTTP: `phaseone serve` in a child process on 127.0.0.1, SQLite, a clock file."""
    out = CliRunner().invoke(
        app, ["virtual-trial", "--patients", "4", "--courses", "2", "--seed", "5"]
    )
    assert out.exit_code == 0, out.output
    assert "audit chain verifies: True" in out.output
    read_back = out.output.split("acknowledged writes read back: ")[1].split()[0]
    done, total = read_back.split("/")
    assert done == total and int(total) > 50
