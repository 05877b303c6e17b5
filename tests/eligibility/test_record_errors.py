"""Bad input is an error naming the field and what was expected; nothing is guessed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, get_args, get_type_hints

import pytest

from phaseone.eligibility import Screener, parse_record, record_schema
from phaseone.eligibility.record import PatientRecord
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


def _dated() -> dict[str, Any]:
    """The base record with at least one item in every dated list, and a therapy with only
    an end date."""
    r = base()
    r["prior_therapies"].append({"category": "other_anticancer", "end": "2022-01-01"})
    r["transfusions"] = [{"date": "2024-05-01", "product": "platelets"}]
    r["pregnancy_tests"] = [{"date": "2024-05-30", "specimen": "serum", "result": "negative"}]
    r["thromboses"] = [{"date": "2023-01-05", "kind": "venous"}]
    r["disease_sites"]["fdg_pet_scans"] = [{"date": "2024-05-20", "avid_bone_sites": 1}]
    r["disease_sites"]["soft_tissue_lesions"] = [{"id": "L1", "date": "2024-05-20"}]
    r["cns"]["head_imaging"] = [
        {"date": "2024-05-19", "modality": "MRI", "active_cns_metastases": False}
    ]
    r["contraception"] = {"methods": [{"kind": "additional", "start": "2024-01-01"}]}
    return r


# One place of each kind a record keeps a clinical date.
DATE_PATHS = [
    "measurements[0].date",
    "biopsies[0].date",
    "labs[3].date",
    "transfusions[0].date",
    "findings[1].date",
    "performance[0].date",
    "cardiac[0].date",
    "pregnancy_tests[0].date",
    "thromboses[0].date",
    "prior_therapies[2].start",
    "prior_therapies[8].end",
    "diagnosis.date",
    "disease_history.relapses[0].date",
    "disease_sites.mibg_scans[0].date",
    "disease_sites.fdg_pet_scans[0].date",
    "disease_sites.soft_tissue_lesions[0].date",
    "disease_sites.marrow_samples[1].date",
    "cns.head_imaging[0].date",
    "contraception.methods[0].start",
]


def _set(record: dict[str, Any], path: str, value: str) -> None:
    *parents, last = re.findall(r"\w+", path)
    target: Any = record
    for key in parents:
        target = target[int(key) if key.isdigit() else key]
    target[last] = value


def _date_fields(model: type, prefix: str = "") -> set[str]:
    """The path (without indexes) of every date field in a record class and the record
    classes it holds."""
    found: set[str] = set()
    for name, annotation in get_type_hints(model).items():
        types, pending = [], [annotation]
        while pending:
            t = pending.pop()
            pending.extend(get_args(t))
            types.append(t)
        found |= {prefix + name} if dt.date in types else set()
        for t in types:
            if isinstance(t, type) and dataclasses.is_dataclass(t):
                found |= _date_fields(t, f"{prefix}{name}.")
    return found


def test_date_paths_cover_every_date_field() -> None:
    parse_record(_dated())
    assert {re.sub(r"\[\d+\]", "", p) for p in DATE_PATHS} == _date_fields(PatientRecord) - {
        "birth_date"
    }


@pytest.mark.parametrize("path", DATE_PATHS)
def test_date_before_birth_anywhere(path: str) -> None:
    record = _dated()
    _set(record, path, "2017-03-13")
    with pytest.raises(InputError) as info:
        parse_record(record)
    assert [(p.path, p.message) for p in info.value.problems] == [
        (path, "2017-03-13 is before birth_date 2017-03-14")
    ]


def test_first_date_before_birth_is_the_one_reported() -> None:
    # Dates are checked list by list in a fixed order: labs before prior therapies,
    # and within a therapy its start before its end.
    def change(r: dict[str, Any]) -> None:
        r["prior_therapies"][0].update(start="2016-01-01", end="2016-02-01")
        r["labs"][5]["date"] = "2016-03-01"
        r["labs"][7]["date"] = "2016-01-01"

    err = _error(change)
    assert _paths(err) == ["labs[5].date"]
    err = _error(lambda r: r["prior_therapies"][1].update(start="2016-01-01", end="2016-02-01"))
    assert _paths(err) == ["prior_therapies[1].start"]


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


def test_bad_units_in_two_labs_and_a_bad_sex_are_all_reported() -> None:
    def change(r: dict[str, Any]) -> None:
        r["labs"][1]["unit"] = "mg"
        r["labs"][4]["unit"] = "g/dL"
        r["sex"] = "x"

    assert sorted(_paths(_error(change))) == ["labs[1].unit", "labs[4].unit", "sex"]


def test_bad_unit_in_one_lab_and_bad_date_in_another_are_both_reported() -> None:
    def change(r: dict[str, Any]) -> None:
        r["labs"][0]["unit"] = "mg"
        r["labs"][2]["date"] = "2024-02-30"

    assert sorted(_paths(_error(change))) == ["labs[0].unit", "labs[2].date"]


def test_therapy_and_lab_problems_are_all_reported() -> None:
    def change(r: dict[str, Any]) -> None:
        r["prior_therapies"][0]["radiation_field"] = "other"
        r["prior_therapies"][2]["half_life_days"] = 3
        r["prior_therapies"][6]["end"] = "2024-04-01"
        r["labs"][3]["unit"] = "mg"

    err = _error(change)
    assert sorted((p.path, p.message) for p in err.problems) == [
        (
            "labs[3].unit",
            "unit 'mg' is not accepted for hemoglobin (Hemoglobin); expected one of: "
            "g/dL, g/L, mmol/L",
        ),
        (
            "prior_therapies[0].radiation_field",
            "does not apply to category 'myelosuppressive_chemotherapy'",
        ),
        ("prior_therapies[2].half_life_days", "does not apply to category 'radiation'"),
        ("prior_therapies[6].end", "end 2024-04-01 is before start 2024-04-22"),
    ]


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


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda r: r["labs"][0].update(date="9999-12-31"),
            "labs[0].date",
            "less than or equal to 2199-12-31",
        ),
        (
            lambda r: r["prior_therapies"][0].update(end="9999-06-30"),
            "prior_therapies[0].end",
            "less than or equal to 2199-12-31",
        ),
        (
            lambda r: r.update(birth_date="0001-01-01"),
            "birth_date",
            "greater than or equal to 1900-01-01",
        ),
    ],
)
def test_dates_outside_the_calendar_range_are_errors(change: Any, path: str, message: str) -> None:
    """A year-1 or year-9999 date is a typing error, not something to compute windows on
    (date arithmetic there would overflow)."""
    err = _error(change)
    assert _paths(err) == [path]
    assert message in str(err)


@pytest.mark.parametrize("as_of", [dt.date(1, 1, 10), dt.date(9999, 12, 31)])
def test_entry_date_outside_the_range_is_an_error(screener: Screener, as_of: dt.date) -> None:
    with pytest.raises(InputError, match=r"as_of: .* is outside 1900-01-01 to 2199-12-31"):
        screener.evaluate(parse_record(base()), as_of, 2)
