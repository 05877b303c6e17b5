"""`phaseone dose` end to end, through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from icalendar import Calendar

BASE = [
    "--protocol",
    "nant-2011-04",
    "--level",
    "3",
    "--height-cm",
    "110",
    "--weight-kg",
    "18.5",
    "--start",
    "2027-01-04",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phaseone", "dose", *args],
        capture_output=True,
        text=True,
        check=False,
        # PYTHONPATH kept so that the code under test runs, not another installed copy.
        env={"COLUMNS": "80", "PATH": "", "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
    )


def test_table_fits_80_columns() -> None:
    out = run(*BASE)
    assert out.returncode == 0, out.stderr
    assert "BSA 0.75 m2" in out.stdout and "22.5 mg" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_json_is_complete() -> None:
    data = json.loads(run(*BASE, "--format", "json").stdout)
    assert data["dose_sheets"][0]["bsa"]["m2"] == 0.75
    assert len(data["courses"]) == 12
    day15 = next(d for d in data["courses"][0]["days"] if d["day"] == 15)
    assert [a["agent"] for a in day15["administrations"]] == [
        "lenalidomide",
        "isotretinoin",
        "isotretinoin",
    ]


def test_ics_imports() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "phaseone", "dose", *BASE, "--course", "1", "--format", "ics"],
        capture_output=True,
        check=False,
    )
    assert out.returncode == 0
    cal = Calendar.from_ical(out.stdout)
    events = cal.walk("VEVENT")
    assert len(events) == 28  # every day of course 1 has a dose or a test
    first = events[0]
    assert str(first["SUMMARY"]).startswith("Course 1 day 1: Lenalidomide")
    assert first.decoded("DTSTART").isoformat() == "2027-01-04"
    assert "20 mg" in str(first["DESCRIPTION"])


def test_html_has_a_page_per_course() -> None:
    html = run(*BASE, "--format", "html").stdout
    assert html.count('<section class="page">') == 13  # summary + 12 courses
    assert "Course 12 of 12" in html and "ASSUMED" in html


def test_modification_from_the_command_line() -> None:
    data = json.loads(
        run(
            *BASE,
            "--modify-to",
            "2",
            "--modify-from",
            "2027-01-12",
            "--reason",
            "grade 3 neutropenia",
            "--format",
            "json",
        ).stdout
    )
    assert data["modifications"][0]["to_level"] == 2
    assert [s["level"] for s in data["dose_sheets"]] == [3, 2]


def test_errors_name_the_field_without_traceback() -> None:
    cases = [
        (["--start", "2027-02-30"], "start: expected a date"),
        (["--weight-kg", "-4"], "weight_kg:"),
        (["--height-cm", "1100"], "height_cm: 1100 cm is outside"),
        (["--level", "9"], "level: unknown dose level 9"),
        (["--course", "13"], "course: expected a course number 1-12"),
    ]
    for override, message in cases:
        args = list(BASE)
        flag, value = override
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += override
        out = run(*args)
        assert out.returncode == 2, (override, out.stderr)
        assert message in out.stderr, (override, out.stderr)
        assert "Traceback" not in out.stderr


def test_missing_weight() -> None:
    args = [a for a in BASE if a not in ("--weight-kg", "18.5")]
    out = run(*args)
    assert out.returncode == 2 and "weight_kg: is required" in out.stderr
