"""Glucose grading against the NCI rows of CTCAE v4.03 and v5.0.

Expected grades are read from the published grade cells (quoted in each test), not from the
engine: CTCAE v4.03 (NCI, 14 June 2010) and v5.0 (NCI, 27 November 2017), Metabolism and
nutrition disorders, "Hypoglycemia" and "Hyperglycemia", as transcribed in
pharmaverse/admiral data-raw/adlb_grading/ncictcaev{4,5}_uscv.json and
ehrforce/ctcae-extractor-transformer src/CTCAE/ctcae.db.ts.
"""

from __future__ import annotations

import pytest

from phaseone.safety.ctcae import Clinical, grade_value

LLN, ULN = 70.0, 110.0  # a typical pediatric fasting range, mg/dL


def grade(value: float, version: str, fasting: bool | None = None, unit: str = "mg/dL"):  # type: ignore[no-untyped-def]
    return grade_value(
        "glucose", value, unit, version=version, lln=LLN, uln=ULN,
        clinical=Clinical(fasting=fasting),
    )


# Hypoglycemia, identical in both versions:
# G1 "<LLN - 55 mg/dL"; G2 "<55 - 40 mg/dL"; G3 "<40 - 30 mg/dL"; G4 "<30 mg/dL; ... seizures"
HYPO = [(70, 0), (69.9, 1), (55, 1), (54.9, 2), (40, 2), (39.9, 3), (30, 3), (29.9, 4), (10, 4)]


@pytest.mark.parametrize("version", ["4.03", "5.0"])
@pytest.mark.parametrize(("value", "expected"), HYPO)
def test_hypoglycemia_follows_the_nci_row(version: str, value: float, expected: int) -> None:
    result = grade(value, version)
    assert result.grade == expected
    if expected:
        assert result.term == "Hypoglycemia"


@pytest.mark.parametrize("version", ["4.03", "5.0"])
def test_hypoglycemia_in_mmol_per_litre(version: str) -> None:
    # G2 "<3.0 - 2.2 mmol/L": 2.9 mmol/L is grade 2; G3 "<2.2 - 1.7": 2.0 is grade 3.
    assert grade(2.9, version, unit="mmol/L").grade == 2
    assert grade(2.0, version, unit="mmol/L").grade == 3


# v4.03 Hyperglycemia: G1 "Fasting glucose value >ULN - 160 mg/dL"; G2 "Fasting glucose value
# >160 - 250 mg/dL"; G3 ">250 - 500 mg/dL; hospitalization indicated"; G4 ">500 mg/dL".
FASTING = [(110, 0), (110.1, 1), (160, 1), (160.1, 2), (250, 2), (250.1, 3), (500, 3), (500.1, 4)]


@pytest.mark.parametrize(("value", "expected"), FASTING)
def test_v403_hyperglycemia_on_a_fasting_value(value: float, expected: int) -> None:
    assert grade(value, "4.03", fasting=True).grade == expected


@pytest.mark.parametrize("fasting", [None, False])
@pytest.mark.parametrize(("value", "expected"), [(250.1, 3), (500, 3), (500.1, 4)])
def test_v403_hyperglycemia_grades_3_and_4_need_no_fasting_value(
    fasting: bool | None, value: float, expected: int
) -> None:
    result = grade(value, "4.03", fasting=fasting)
    assert (result.grade, result.term) == (expected, "Hyperglycemia")


@pytest.mark.parametrize("fasting", [None, False])
def test_v403_grades_1_and_2_are_not_given_to_a_value_not_known_fasting(
    fasting: bool | None,
) -> None:
    result = grade(200, "4.03", fasting=fasting)
    assert result.grade == 0
    assert result.term == "Hyperglycemia"  # not "within range": it is above the ULN
    assert result.clinical_review
    assert result.note is not None and "G2 needs fasting" in result.note


@pytest.mark.parametrize("value", [110.1, 200, 400, 600])
def test_v50_hyperglycemia_is_graded_clinically_never_from_the_value(value: float) -> None:
    # v5.0 G1 "Abnormal glucose above baseline with no medical intervention" ... G3 "Insulin
    # therapy initiated; hospitalization indicated": no glucose thresholds at all.
    result = grade(value, "5.0", fasting=True)
    assert result.grade == 0
    assert result.term == "Hyperglycemia"
    assert result.clinical_review
    assert result.note is not None and "clinically" in result.note
    assert "adverse event" in result.note


def test_v50_normal_glucose_is_within_range() -> None:
    result = grade(90, "5.0")
    assert (result.grade, result.term, result.clinical_review) == (0, None, False)
