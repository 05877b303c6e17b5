"""Prescribed doses per level, the 12 kg isotretinoin threshold, infusion rates."""

from __future__ import annotations

import pytest

from phaseone.dosing.sheet import dose_sheet
from phaseone.errors import InputError
from phaseone.protocol import Protocol


def test_level_3_for_the_reference_child(nant: Protocol) -> None:
    # 110 cm, 18.5 kg -> BSA 0.75 m2 (see test_bsa).
    # LEN 30 x 0.75 = 22.5 mg/day; DIN 17.5 x 0.75 = 13.125 mg/day;
    # ISO 160 x 0.75 = 120 mg/day = 60 mg twice daily.
    sheet = dose_sheet(nant, 3, 110, 18.5)
    assert sheet.bsa.m2 == 0.75
    assert [a.agent_id for a in sheet.agents] == ["lenalidomide", "dinutuximab", "isotretinoin"]
    assert sheet.agent("lenalidomide").prescribed.daily_mg == pytest.approx(22.5)
    assert sheet.agent("dinutuximab").prescribed.daily_mg == pytest.approx(13.125)
    iso = sheet.agent("isotretinoin")
    assert iso.prescribed.per_administration_mg == pytest.approx(60)
    assert iso.achieved_mg_m2_day == pytest.approx(160)
    # LEN: the protocol asks for the nearest achievable daily dose; 22.5 mg = 20 + 2.5 mg
    # capsules is exact, so 30 mg/m2/day is achieved.
    assert sheet.agent("lenalidomide").rounded.day_mg(1) == pytest.approx(22.5)
    assert sheet.agent("lenalidomide").achieved_mg_m2_day == pytest.approx(30)


def test_level_1_has_no_isotretinoin(nant: Protocol) -> None:
    assert "isotretinoin" not in [a.agent_id for a in dose_sheet(nant, 1, 110, 18.5).agents]


def test_at_12_kg_isotretinoin_is_per_kg(nant: Protocol) -> None:
    # 85 cm, 12 kg: exactly 12 kg goes to mg/kg. 5.33 x 12 = 63.96 mg/day = 31.98 per dose,
    # rounded up to 40 mg; 80 / 63.96 = +25.1%, flagged. Achieved 80 / 12 = 6.667 mg/kg/day.
    iso = dose_sheet(nant, 3, 85, 12).agent("isotretinoin")
    assert iso.prescribed.dose.unit == "mg/kg/day" and "at or below 12 kg" in iso.prescribed.rule
    assert iso.prescribed.daily_mg == pytest.approx(63.96)
    assert iso.rounded.per_day[15][0].mg == 40
    assert iso.status == "flagged"
    assert iso.achieved_in_prescribed_unit == pytest.approx(80 / 12)


def test_just_above_12_kg_isotretinoin_is_per_m2(nant: Protocol) -> None:
    # 86 cm, 12.1 kg: sqrt(86 x 12.1 / 3600) = sqrt(0.289056) = 0.5376 -> 0.54 m2.
    # 160 x 0.54 = 86.4 mg/day = 43.2 per dose -> 50 mg.
    iso = dose_sheet(nant, 3, 86, 12.1).agent("isotretinoin")
    assert iso.prescribed.dose.unit == "mg/m2/day"
    assert iso.prescribed.daily_mg == pytest.approx(86.4)
    assert iso.rounded.per_day[15][0].mg == 50


def test_lenalidomide_ignores_the_isotretinoin_weight_rule(nant: Protocol) -> None:
    # 75 cm, 9 kg: sqrt(675 / 3600) = 0.4330 -> 0.43 m2; LEN 15 x 0.43 = 6.45 mg/day.
    sheet = dose_sheet(nant, 2, 75, 9)
    assert sheet.agent("lenalidomide").prescribed.daily_mg == pytest.approx(6.45)
    assert sheet.agent("isotretinoin").prescribed.daily_mg == pytest.approx(5.33 * 9)


def test_dinutuximab_infusion_rates(nant: Protocol) -> None:
    # BSA 0.75: 13.125 mg over 10 h = 1.3125 mg/h = 1.75 mg/m2/h (the label maximum).
    # Bag 0.5 mg/mL: 26.25 mL, 2.625 mL/h. One 17.5 mg vial; 13.125 / 3.5 = 3.75 mL drawn.
    # First 30 min at 0.875 x 0.75 = 0.65625 mg/h (1.3125 mL/h) gives 0.328125 mg; the rest,
    # 12.796875 mg at 1.3125 mg/h, takes 9.75 h: 10.25 h in all.
    inf = dose_sheet(nant, 3, 110, 18.5).agent("dinutuximab").infusion
    assert inf is not None
    assert inf.rate_mg_h == pytest.approx(1.3125)
    assert inf.rate_mg_m2_h == pytest.approx(1.75) and inf.within_max_rate
    assert inf.vials == 1 and inf.concentrate_ml == pytest.approx(3.75)
    assert inf.bag_ml == pytest.approx(26.25) and inf.rate_ml_h == pytest.approx(2.625)
    assert inf.initial_rate_ml_h == pytest.approx(1.3125)
    assert inf.total_hours == pytest.approx(10.25)


def test_large_adolescent_needs_two_vials(nant: Protocol) -> None:
    # 180 cm, 80 kg: BSA 2.00; 35 mg = exactly 2 vials of 17.5 mg; LEN DL5 70 x 2 = 140 mg.
    sheet = dose_sheet(nant, 5, 180, 80)
    assert sheet.agent("dinutuximab").infusion.vials == 2  # type: ignore[union-attr]
    assert sheet.agent("lenalidomide").rounded.day_mg(1) == 140


@pytest.mark.parametrize("level", [0, 6, "3", None, True])
def test_unknown_level_is_named(nant: Protocol, level: object) -> None:
    with pytest.raises(InputError) as info:
        dose_sheet(nant, level, 110, 18.5)
    assert info.value.problems[0].path == "level"
    assert "expected one of: 1, 2, 3, 4, 5" in info.value.problems[0].message
