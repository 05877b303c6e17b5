"""Transport files: version-5 limits checked before writing; read back by two readers.

The two readers are independent implementations of the format: pyreadstat (ReadStat, C) and
pandas' own XPORT reader (pure Python). The `xport` package cannot serve as a reader here:
its 3.6.1 release builds its columns with a pandas Series argument that pandas 2 removed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from phaseone.errors import InputError
from phaseone.exports import xpt
from phaseone.exports.metadata import Domain, Variable, sdtm


def _domain(name: str = "XX", label: str = "Test data", variables=None) -> Domain:
    variables = variables or (
        Variable("STUDYID", "Study Identifier", "char", "Req", "Assigned"),
        Variable("XXSEQ", "Sequence Number", "num", "Req", "Derived"),
        Variable("XXORRES", "Result", "char", "Exp", "Collected"),
    )
    return Domain(name, label, "FINDINGS", "One record per test", ("STUDYID",), variables)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": ["S-1", "S-1"], "XXSEQ": [1.0, 2.0], "XXORRES": ["12.5", ""]})


def test_written_file_reads_back_the_same_with_pyreadstat_and_xport(tmp_path: Path) -> None:
    import pyreadstat

    domain = _domain()
    path = xpt.write(domain, _frame(), tmp_path)
    assert path.name == "xx.xpt"
    data, meta = pyreadstat.read_xport(str(path))
    assert meta.table_name == "XX" and meta.file_label == "Test data"
    assert list(data.columns) == ["STUDYID", "XXSEQ", "XXORRES"]
    assert meta.column_labels == ["Study Identifier", "Sequence Number", "Result"]
    assert list(data.XXSEQ) == [1.0, 2.0] and list(data.STUDYID) == ["S-1", "S-1"]
    assert list(data.XXORRES) == ["12.5", ""]

    with pd.read_sas(path, format="xport", iterator=True, encoding=None) as reader:
        assert reader.member_info["set_name"] == "XX"
        assert reader.member_info["label"] == "Test data"
        fields = reader.fields
        second = reader.read()
    assert [f["name"].decode() for f in fields] == ["STUDYID", "XXSEQ", "XXORRES"]
    assert [f["label"].decode() for f in fields] == [
        "Study Identifier",
        "Sequence Number",
        "Result",
    ]
    assert [f["ntype"] for f in fields] == ["char", "numeric", "char"]
    assert list(second.XXSEQ) == [1.0, 2.0]
    assert [v.decode().strip() for v in second.XXORRES] == ["12.5", ""]


def test_headers_carry_the_given_creation_time(tmp_path: Path) -> None:
    import datetime as dt

    import pyreadstat

    created = dt.datetime(2025, 3, 9, 14, 5, 6, tzinfo=dt.UTC)
    path = xpt.write(_domain(), _frame(), tmp_path, created)
    assert b"09MAR25:14:05:06" in path.read_bytes()[:1000]
    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    assert meta.creation_time == dt.datetime(2025, 3, 9, 14, 5, 6)
    assert meta.modification_time == dt.datetime(2025, 3, 9, 14, 5, 6)


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (Variable("XXORRES12", "Result", "char", "Exp", "Collected"), "1-8 of A-Z"),
        (Variable("xxorres", "Result", "char", "Exp", "Collected"), "1-8 of A-Z"),
        (Variable("XX_RES", "Result", "char", "Exp", "Collected"), "1-8 of A-Z"),
        (Variable("1XRES", "Result", "char", "Exp", "Collected"), "1-8 of A-Z"),
        (Variable("XXORRES", "R" * 41, "char", "Exp", "Collected"), "at most 40 bytes"),
        (Variable("XXORRES", "Résultat", "char", "Exp", "Collected"), "ASCII"),
    ],
)
def test_a_bad_name_or_label_is_refused_and_nothing_written(
    tmp_path: Path, variable: Variable, message: str
) -> None:
    domain = _domain(variables=(_domain().variables[0], _domain().variables[1], variable))
    frame = _frame().rename(columns={"XXORRES": variable.name})
    with pytest.raises(InputError) as err:
        xpt.write(domain, frame, tmp_path)
    assert any(p.path == f"XX.{variable.name}" and message in p.message for p in err.value.problems)
    assert list(tmp_path.iterdir()) == []


def test_a_nine_character_dataset_name_and_long_label_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        xpt.write(_domain(name="SUPPXXXXX", label="L" * 41), _frame(), tmp_path)
    messages = [p.message for p in err.value.problems]
    assert any("dataset name" in m for m in messages)
    assert any("dataset label" in m for m in messages)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("XXORRES", "x" * 201, "longer than 200"),
        ("XXORRES", "naïve", "outside ASCII"),
        ("XXORRES", 12.5, "expected text"),
        ("XXSEQ", "one", "expected a number"),
        ("XXSEQ", float("inf"), "infinite"),
    ],
)
def test_a_bad_value_names_its_variable_and_row(
    tmp_path: Path, column: str, value: object, message: str
) -> None:
    frame = _frame().astype(object)
    frame.loc[1, column] = value
    with pytest.raises(InputError) as err:
        xpt.write(_domain(), frame, tmp_path)
    assert [p.path for p in err.value.problems] == [f"XX.{column}[2]"]
    assert message in err.value.problems[0].message
    assert list(tmp_path.iterdir()) == []


def test_columns_other_than_the_definition_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="differ from the definition"):
        xpt.write(_domain(), _frame()[["XXSEQ", "STUDYID", "XXORRES"]], tmp_path)


def test_every_defined_dataset_meets_the_version_5_limits() -> None:
    for domain in sdtm().domains.values():
        empty = pd.DataFrame({name: pd.Series(dtype=object) for name in domain.names})
        assert xpt.check(domain, empty) == [], domain.name
