"""Boundary values: the creatinine table at each age and sex, and age-band edges.

Source of the limits: the registry record of NCT01711554, inclusion criteria,
"Age-adjusted serum creatinine" table:
1 mo-<6 mo 0.4/0.4; 6 mo-<1 y 0.5/0.5; 1-<2 y 0.6/0.6; 2-<6 y 0.8/0.8; 6-<10 y 1.0/1.0;
10-<13 y 1.2/1.2; 13-<16 y 1.5/1.4; >=16 y 1.7/1.4 mg/dL (male/female). Read as limits
(values_are_limits: true, an assumption of the bundled protocol).
"""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.eligibility import Screener, parse_record

from .conftest import AS_OF, base

SAMPLE = AS_OF - dt.timedelta(days=3)

# (birth date giving the age on the sample date, sex, limit in mg/dL)
TABLE = [
    ("2024-04-01", "male", 0.4),  # 1 month 30 days
    ("2023-12-01", "female", 0.4),  # 5 months
    ("2023-11-30", "female", 0.5),  # 6 months
    ("2023-05-31", "male", 0.6),  # 1 year
    ("2022-05-31", "female", 0.8),  # 2 years
    ("2018-05-31", "male", 1.0),  # 6 years exactly
    ("2014-05-31", "female", 1.2),  # 10 years exactly
    ("2011-05-31", "male", 1.5),  # 13 years exactly
    ("2011-05-31", "female", 1.4),
    ("2008-05-31", "male", 1.7),  # 16 years exactly
    ("2008-05-31", "female", 1.4),
]


def _creatinine(screener: Screener, birth: str, sex: str, value: float, unit: str = "mg/dL") -> str:
    # Only what the creatinine rule reads (an infant has no treatment history before birth).
    record = {
        "id": "C",
        "birth_date": birth,
        "sex": sex,
        "labs": [
            {"analyte": "creatinine", "value": value, "unit": unit, "date": SAMPLE.isoformat()}
        ],
    }
    result = screener.evaluate(parse_record(record), AS_OF, 2)
    return result.criterion("inc-creatinine").status


@pytest.mark.parametrize(("birth", "sex", "limit"), TABLE)
def test_creatinine_exactly_at_the_limit_passes(
    screener: Screener, birth: str, sex: str, limit: float
) -> None:
    assert _creatinine(screener, birth, sex, limit) == "met"


@pytest.mark.parametrize(("birth", "sex", "limit"), TABLE)
def test_creatinine_just_above_the_limit_fails(
    screener: Screener, birth: str, sex: str, limit: float
) -> None:
    assert _creatinine(screener, birth, sex, round(limit + 0.01, 2)) == "not_met"


def test_creatinine_limit_in_umol_per_litre(screener: Screener) -> None:
    # 0.8 mg/dL = 0.8 * 88.4 = 70.72 umol/L (creatinine 113.12 g/mol); a 3-year-old.
    assert _creatinine(screener, "2021-01-01", "male", 70.72, "umol/L") == "met"
    assert _creatinine(screener, "2021-01-01", "male", 71.0, "umol/L") == "not_met"


def test_band_changes_on_the_birthday(screener: Screener) -> None:
    # 0.9 mg/dL: above the 2-<6 y limit (0.8), within the 6-<10 y limit (1.0).
    day_before_6th = "2018-06-01"  # 5 years 11 months 30 days on 2024-05-31
    on_6th = "2018-05-31"
    assert _creatinine(screener, day_before_6th, "female", 0.9) == "not_met"
    assert _creatinine(screener, on_6th, "female", 0.9) == "met"


def test_no_limit_under_one_month_is_unknown(screener: Screener) -> None:
    record = {
        "id": "C",
        "birth_date": "2024-05-10",
        "sex": "male",
        "labs": [{"analyte": "creatinine", "value": 0.3, "unit": "mg/dL", "date": "2024-05-31"}],
    }
    result = screener.evaluate(parse_record(record), AS_OF, 2).criterion("inc-creatinine")
    assert result.status == "unknown"
    assert "labs.gfr" in result.missing


def test_creatinine_evidence_names_band_and_limit(screener: Screener) -> None:
    result = screener.evaluate(parse_record(base()), AS_OF, 2).criterion("inc-creatinine")
    assert result.evidence["limit"] == pytest.approx(1.0)
    assert result.evidence["band_months"] == [72, 120]
    assert result.evidence["age_months"] == 86  # 2017-03-14 -> 2024-05-30


@pytest.mark.parametrize(
    ("birth", "lansky_score", "expected"),
    [
        ("2007-06-01", "met", "met"),  # 16 y 11 m on the score date: Lansky
        ("2007-05-31", "unknown", "met"),  # 17th birthday before the score: Karnofsky
    ],
)
def test_performance_scale_switches_after_16(
    screener: Screener, birth: str, lansky_score: str, expected: str
) -> None:
    # Scores dated 2024-05-31. Lansky (=< 16 years) or Karnofsky (> 16 years), registry.
    record = base()
    record.update(
        birth_date=birth, performance=[{"date": "2024-05-31", "scale": "lansky", "value": 70}]
    )
    result = screener.evaluate(parse_record(record), AS_OF, 2)
    assert result.criterion("inc-performance").status == lansky_score
    record["performance"] = [
        {"date": "2024-05-31", "scale": "lansky", "value": 70},
        {"date": "2024-05-31", "scale": "karnofsky", "value": 70},
    ]
    result = screener.evaluate(parse_record(record), AS_OF, 2)
    assert result.criterion("inc-performance").status == expected


def test_washout_evidence_shows_the_window(screener: Screener) -> None:
    result = screener.evaluate(parse_record(base()), AS_OF, 2)
    ev = result.criterion("inc-washout-myelosuppressive").evidence
    assert ev["last_dose"] == dt.date(2024, 5, 10)
    assert ev["days_since"] == 24
    assert ev["earliest_entry"] == dt.date(2024, 5, 24)
