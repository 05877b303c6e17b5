"""Bad input is an error naming the field and what was expected; nothing is guessed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from phaseone.eligibility import Screener, parse_record, record_schema
from phaseone.errors import InputError

from .conftest import AS_OF, base


def _error(change: Any) -> InputError:
    record = base()
    change(record)
    with pytest.raises(InputError) as info:
        parse_record(record)
    return info.value


def _paths(err: InputError) -> list[str]:
    return [p.path for p in err.problems]


def test_unknown_analyte() -> None:
    err = _error(lambda r: r["labs"][0].update(analyte="neutrophils"))
    assert _paths(err) == ["labs[0].analyte"]
    assert "unknown analyte 'neutrophils'; expected one of:" in str(err)
    assert "anc" in str(err)


def test_unit_not_accepted_for_the_analyte() -> None:
    err = _error(lambda r: r["labs"][4].update(unit="g/dL"))  # creatinine
    assert _paths(err) == ["labs[4].unit"]
    assert "unit 'g/dL' is not accepted for creatinine" in str(err)
    assert "umol/L" in str(err)


def test_impossible_calendar_date() -> None:
    err = _error(lambda r: r["labs"][2].update(date="2024-02-30"))
    assert _paths(err) == ["labs[2].date"]


def test_date_before_birth() -> None:
    err = _error(lambda r: r["prior_therapies"][0].update(start="2016-01-01"))
    assert _paths(err) == ["prior_therapies[0].start"]
    assert "before birth_date 2017-03-14" in str(err)


def test_end_before_start() -> None:
    err = _error(lambda r: r["prior_therapies"][6].update(end="2024-04-01"))
    assert _paths(err) == ["prior_therapies[6].end"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda r: r["labs"][0].update(value=-5), "labs[0].value"),
        (
            lambda r: r["disease_sites"]["mibg_scans"][0].update(avid_bone_sites=-1),
            "disease_sites.mibg_scans[0].avid_bone_sites",
        ),
        (
            lambda r: r["disease_history"].update(induction_cycles=-2),
            "disease_history.induction_cycles",
        ),
    ],
)
def test_negative_counts(change: Any, path: str) -> None:
    err = _error(change)
    assert _paths(err) == [path]
    assert "greater than or equal to 0" in str(err)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda r: r.update(active_infection="no"), "active_infection"),  # no guessing "no"
        (lambda r: r.update(birth_date=20170314), "birth_date"),  # no numbers as dates
        (lambda r: r["performance"][0].update(value=85), "performance[0].value"),  # steps of 10
        (lambda r: r.update(sex="M"), "sex"),
        (lambda r: r.update(allergies=[]), "allergies"),  # unknown field
        (
            lambda r: r["prior_therapies"][6].update(half_life_days=3),
            "prior_therapies[6].half_life_days",
        ),
        (lambda r: r.pop("birth_date"), "birth_date"),
    ],
)
def test_strict_fields(change: Any, path: str) -> None:
    assert _paths(_error(change)) == [path]


def test_unknown_field_is_named_so() -> None:
    err = _error(lambda r: r["labs"][1].update(flag="H"))
    assert [(p.path, p.message) for p in err.problems] == [("labs[1].flag", "unknown field")]


def test_every_problem_is_reported() -> None:
    def change(r: dict[str, Any]) -> None:
        r["labs"][0]["unit"] = "mg"
        r["sex"] = "x"

    assert sorted(_paths(_error(change))) == ["labs[0].unit", "sex"]


def test_not_json_names_the_line() -> None:
    with pytest.raises(InputError) as info:
        parse_record(b'{"id": "x", ', line=7)
    assert info.value.problems[0].line == 7
    assert "not valid JSON" in str(info.value)


def test_as_of_before_birth(screener: Screener) -> None:
    with pytest.raises(InputError, match="as_of: 2010-01-01 is before birth_date"):
        screener.evaluate(parse_record(base()), dt.date(2010, 1, 1), 2)


def test_schema_describes_the_record() -> None:
    schema = record_schema()
    assert schema["additionalProperties"] is False
    assert {"birth_date", "sex", "labs", "prior_therapies"} <= set(schema["properties"])
    assert set(schema["required"]) == {"id", "birth_date", "sex"}


def test_data_after_as_of_is_ignored(screener: Screener) -> None:
    # A chemotherapy course dated after the entry date is not "prior" therapy.
    record = base()
    record["prior_therapies"].append(
        {"category": "myelosuppressive_chemotherapy", "start": "2024-06-10", "end": "2024-06-12"}
    )
    result = screener.evaluate(parse_record(record), AS_OF, 2)
    assert result.criterion("inc-washout-myelosuppressive").status == "met"
