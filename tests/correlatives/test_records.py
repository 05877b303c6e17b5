"""Reading specimen results: every bad value named by file, line and field; nothing
returned until all rows are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from phaseone.correlatives.records import read_measurements, read_patients, read_rows
from phaseone.errors import InputError

HEADER = "patient,specimen_type,study_day,analyte,value,unit\n"


def problems(text: str, **kw: object) -> list[str]:
    with pytest.raises(InputError) as err:
        read_measurements(text, name="r.csv", **kw)  # type: ignore[arg-type]
    return [str(p) for p in err.value.problems]


def test_good_rows_become_records_with_their_lines() -> None:
    rows = read_measurements(HEADER + "P1,Blood,1,NK,120.5,cells/uL\n\n"
                                      "P1,blood,8,NK,130,cells/uL\n")
    assert [(r.patient, r.specimen_type, r.study_day, r.value, r.line) for r in rows] == [
        ("P1", "blood", 1, 120.5, 2), ("P1", "blood", 8, 130.0, 4)]


def test_every_bad_cell_is_named() -> None:
    got = problems(HEADER + "P1,urine,1,NK,1,cells/uL\n"
                            "P1,blood,day 8,NK,x,cells/uL\n"
                            "P1,blood,15,NK,1,cells/mL\n"
                            "P1,blood,15,NK,2,cells/uL\n"
                            "P1,blood,1,NK,inf,cells/uL\n"
                            "P1,blood,22,NK,,cells/uL\n")
    # Empty cells are reported with the rest, not in a first pass of their own.
    assert got[0] == "r.csv:7: value: empty; a value is required"
    got = got[1:]
    assert got[0].startswith("r.csv:2: specimen_type: unknown specimen type 'urine'")
    assert got[1] == "r.csv:3: study_day: expected a whole number, got 'day 8'"
    assert got[2] == "r.csv:3: value: expected a number, got 'x'"
    assert got[3] == ("r.csv:4: unit: NK is in 'cells/uL' on line 2; expected the same "
                      "unit, got 'cells/mL'")
    assert got[4] == "r.csv:6: value: expected a number, got 'inf'"
    assert got[5] == ("r.csv:5: duplicate patient, specimen type, study day and analyte "
                      "(first on line 4)")


def test_missing_columns_and_unknown_analytes() -> None:
    assert problems("patient,study_day,analyte,value\nP1,1,NK,3\n")[0] == (
        "r.csv:1: specimen_type: missing column; expected columns patient, specimen_type, "
        "study_day, analyte, value, unit")
    got = problems(HEADER + "P1,serum,1,IL-2,3,pg/mL\n", analytes={"HACA"})
    assert got == ["r.csv:2: analyte: unknown analyte 'IL-2'; expected one of HACA"]


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER.encode() + "P1,blood,1,NK,1,cellules/µL\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        read_measurements(path)
    assert "not UTF-8" in str(err.value)


def test_ragged_rows_and_empty_files() -> None:
    with pytest.raises(InputError, match="3 cells but the header has 2"):
        read_rows("a,b\n1,2,3\n", ("a",))
    with pytest.raises(InputError, match="no data rows"):
        read_rows("a,b\n", ("a",))


def test_patients() -> None:
    people = read_patients("patient,dose_level,best_response\nP1,2,pr\nP2,3,\n")
    assert [(p.patient, p.dose_level, p.best_response) for p in people] == [
        ("P1", 2, "PR"), ("P2", 3, None)]
    with pytest.raises(InputError, match="dose_level: expected a whole number"):
        read_patients("patient,dose_level\nP1,two\n")
    with pytest.raises(InputError, match="duplicate patient"):
        read_patients("patient,dose_level\nP1,1\nP1,2\n")
