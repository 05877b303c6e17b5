"""BSA formulas pinned to reference implementations and hand arithmetic."""

from __future__ import annotations

import math

import pytest

from phaseone.dosing.bsa import body_surface_area, round_half_up
from phaseone.errors import InputError

# pharmaverse/admiral (R), tests/testthat/test-derive_advs_params.R, compute_bsa "Test 5"
# to "Test 14": height 170/185 cm, weight 75/90 kg, results rounded to 3 decimals.
ADMIRAL = [
    ("mosteller", 170, 75, 1.882),
    ("mosteller", 185, 90, 2.151),
    ("dubois", 170, 75, 1.864),
    ("dubois", 185, 90, 2.141),
    ("haycock", 170, 75, 1.895),
    ("haycock", 185, 90, 2.161),
    ("gehan_george", 170, 75, 1.897),
    ("gehan_george", 185, 90, 2.160),
]

# InsightRX/clinPK, tests/testthat/test_calc_bsa.R: calc_bsa(weight 80, height 180),
# rounded to 3 decimals.
CLINPK = [
    ("dubois", 180, 80, 1.996),
    ("mosteller", 180, 80, 2.000),
    ("haycock", 180, 80, 2.007),
    ("gehan_george", 180, 80, 2.009),
]


@pytest.mark.parametrize(("formula", "height", "weight", "expected"), ADMIRAL + CLINPK)
def test_formulas_match_reference_implementations(
    formula: str, height: float, weight: float, expected: float
) -> None:
    bsa = body_surface_area(height, weight, formula, decimals=2)
    assert round(bsa.exact_m2, 3) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("height", "weight", "exact", "rounded"),
    [
        # 50 x 4.5 = 225; 225 / 3600 = 0.0625; sqrt = 0.25 (the smallest child we dose)
        (50, 4.5, 0.25, 0.25),
        # 100 x 16 = 1600; / 3600 = 0.4444; sqrt = 0.6667 -> 0.67
        (100, 16, 2 / 3, 0.67),
        # 110 x 18.5 = 2035; / 3600 = 0.565278; sqrt = 0.751849 -> 0.75
        (110, 18.5, math.sqrt(2035 / 3600), 0.75),
        # 144 x 36 = 5184; / 3600 = 1.44; sqrt = 1.2 -> 1.20
        (144, 36, 1.2, 1.20),
        # 225 x 100 = 22500; / 3600 = 6.25; sqrt = 2.5 (the largest)
        (225, 100, 2.5, 2.5),
    ],
)
def test_mosteller_by_hand_across_pediatric_range(
    height: float, weight: float, exact: float, rounded: float
) -> None:
    bsa = body_surface_area(height, weight)
    assert bsa.formula == "mosteller"
    assert bsa.exact_m2 == pytest.approx(exact, rel=1e-12)
    assert bsa.m2 == rounded


def test_dubois_by_hand_for_a_child() -> None:
    # 0.007184 x 110^0.725 x 18.5^0.425: ln 110 = 4.700480, x 0.725 = 3.407848 -> 30.2002;
    # ln 18.5 = 2.917771, x 0.425 = 1.240053 -> 3.45580; 0.007184 x 30.2002 x 3.45580 = 0.74976
    bsa = body_surface_area(110, 18.5, "dubois")
    assert bsa.exact_m2 == pytest.approx(0.74976, abs=5e-5)
    assert bsa.m2 == 0.75


def test_rounding_is_half_up_not_to_even() -> None:
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(0.745, 2) == 0.75
    assert round_half_up(1.2349, 2) == 1.23


def test_explain_names_formula_and_inputs() -> None:
    text = body_surface_area(110, 18.5).explain()
    assert "0.75 m2" in text and "Mosteller" in text and "110 cm" in text and "18.5 kg" in text


@pytest.mark.parametrize(
    ("height", "weight", "field", "words"),
    [
        (43, None, "weight_kg", "is required"),
        (None, 18.5, "height_cm", "is required"),
        (43.3, 18.5, "height_cm", None),  # short but plausible: accepted
        (11, 18.5, "height_cm", "outside the plausible range"),
        (110, 0.0, "weight_kg", "outside the plausible range"),
        (110, 400, "weight_kg", "outside the plausible range"),
        (110, float("nan"), "weight_kg", "expected a number"),
        (110, "18.5", "weight_kg", "expected a number"),
        (110, True, "weight_kg", "expected a number"),
    ],
)
def test_bad_measurements_name_the_field(
    height: object, weight: object, field: str, words: str | None
) -> None:
    if words is None:
        body_surface_area(height, weight)  # plausible, so accepted
        return
    with pytest.raises(InputError) as info:
        body_surface_area(height, weight)
    assert any(p.path == field and words in p.message for p in info.value.problems)


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InputError) as info:
        body_surface_area(5, None)
    assert {p.path for p in info.value.problems} == {"height_cm", "weight_kg"}


def test_unknown_formula() -> None:
    with pytest.raises(InputError, match="unknown BSA formula 'boyd'"):
        body_surface_area(110, 18.5, "boyd")
