"""Unit conversions, checked against values computed by hand from molar masses."""

from __future__ import annotations

import pytest

from phaseone.errors import InputError
from phaseone.labs import analyte, analytes, to_canonical


@pytest.mark.parametrize(
    ("analyte_id", "value", "unit", "expected"),
    [
        # 1.0 mg/dL creatinine = 10 mg/L / 113.12 g/mol = 88.40 umol/L
        ("creatinine", 88.4, "µmol/L", 1.0),
        ("creatinine", 88.4, "umol/l", 1.0),
        # bilirubin 584.66 g/mol: 17.1 umol/L = 17.1 * 0.58466 mg/L = 0.99977 mg/dL
        ("bilirubin", 17.1, "umol/L", 0.99977),
        # triglycerides as triolein 885.7 g/mol: 3.387 mmol/L = 300.0 mg/dL
        ("triglycerides", 3.387, "mmol/L", 299.99),
        # calcium 40.08 g/mol: 2.5 mmol/L = 100.2 mg/L = 10.02 mg/dL
        ("calcium", 2.5, "mmol/L", 10.02),
        # counts: 1.5 x 10^9/L = 1500 per uL; 0.75 K/uL = 750 per uL; per mm3 = per uL
        ("anc", 1.5, "10^9/L", 1500.0),
        ("anc", 0.75, "K/uL", 750.0),
        ("platelets", 50000, "/mm^3", 50000.0),
        ("hemoglobin", 80, "g/L", 8.0),
        ("alt", 2.25, "ukat/L", 135.0),
        ("gfr", 60, "cc/min/1.73 m^2", 60.0),
    ],
)
def test_conversion(analyte_id: str, value: float, unit: str, expected: float) -> None:
    assert to_canonical(analyte_id, value, unit) == pytest.approx(expected, rel=2e-4)


def test_unknown_unit_names_analyte_and_accepted_units() -> None:
    with pytest.raises(InputError) as info:
        to_canonical("creatinine", 1.0, "mmol/dL")
    message = str(info.value)
    assert "'mmol/dL' is not accepted for creatinine" in message
    assert "mg/dL" in message and "umol/L" in message


def test_unknown_analyte_is_an_error() -> None:
    with pytest.raises(InputError, match="unknown analyte 'creatinin'"):
        analyte("creatinin")


def test_every_analyte_accepts_its_canonical_unit() -> None:
    for item in analytes().values():
        assert item.to_canonical(3.0, item.unit) == 3.0
