"""The lenalidomide rounding policy as NANT 2011-04 states it, and each of its parts.

The protocol file's rounding note for lenalidomide: "Nearest achievable daily dose from whole
capsules, ties to the lower dose, deviations above the tolerance flagged." Expected values
are worked by hand from the capsule strengths (2.5, 5, 10, 15, 20, 25 mg).
"""

from __future__ import annotations

from typing import Any

import pytest

from phaseone.dosing.capsules import CapsuleBox
from phaseone.dosing.rounding import CapsuleScheduleParams, capsule_schedule
from phaseone.dosing.sheet import dose_sheet
from phaseone.protocol import Protocol

LEN = CapsuleBox((2.5, 5, 10, 15, 20, 25))
DAYS = tuple(range(1, 22))


def schedule(daily: float, **params: Any) -> Any:
    return capsule_schedule(daily, DAYS, LEN, CapsuleScheduleParams(**params), 0.10)


def test_the_policy_is_protocol_data(nant: Protocol) -> None:
    lenalidomide = next(a for a in nant.agents if a.id == "lenalidomide")
    assert lenalidomide.rounding is not None
    assert lenalidomide.rounding.rule == "capsule_schedule"
    params = lenalidomide.rounding.params
    assert params["prefer"] == "nearest"
    assert params["ties"] == "lower"
    assert params["outside_tolerance"] == "flag"


def test_level_5_at_bsa_1_50_gives_the_exact_105_mg(nant: Protocol) -> None:
    # 150 cm, 54 kg: Mosteller sqrt(150 x 54 / 3600) = sqrt(2.25) = 1.50 m2.
    # 70 mg/m2/day x 1.50 = 105 mg/day = 4 x 25 + 1 x 5: exact, five capsules. The fewest
    # capsules (four 25 mg = 100 mg, -4.8%) is not what the protocol asks for.
    line = dose_sheet(nant, 5, 150, 54).agent("lenalidomide")
    assert line.prescribed.daily_mg == pytest.approx(105)
    assert line.status == "ok"
    assert line.rounded.day_mg(1) == 105
    assert line.rounded.per_day[1][0].units == ((25, 4), (5, 1))
    assert line.rounded.deviation == pytest.approx(0)


def test_fewest_capsules_would_have_given_100_mg() -> None:
    # The other preference, for contrast: 4 x 25 = 100 mg is within 10% with one fewer
    # capsule.
    assert schedule(105, prefer="fewest_capsules").day_mg(1) == 100
    assert schedule(105, prefer="nearest").day_mg(1) == 105


def test_an_exact_tie_goes_to_the_lower_dose() -> None:
    # 23.75 mg/day, one amount every day: 22.5 (20 + 2.5, two capsules) is -5.26%, 25 (one
    # capsule) is +5.26%: equally near. "Ties to the lower dose" gives 22.5, although 25
    # needs fewer capsules; without the tie rule the capsule count would pick 25.
    lower = schedule(23.75, prefer="nearest", ties="lower", allow_alternating=False)
    assert lower.day_mg(1) == 22.5
    assert lower.deviation == pytest.approx(22.5 / 23.75 - 1)
    higher = schedule(23.75, prefer="nearest", ties="higher", allow_alternating=False)
    assert higher.day_mg(1) == 25


def test_nearest_before_fewer_capsules() -> None:
    # 22.5 mg/day (BSA 0.75 x 30): 22.5 = 20 + 2.5 every day is exact; 20/25 alternating
    # (one capsule a day) is -0.53%. Nearest takes the exact one.
    r = schedule(22.5, prefer="nearest")
    assert r.pattern == "constant" and r.day_mg(1) == 22.5 and r.achieved_total_mg == 472.5


def test_outside_the_tolerance_the_flag_policy_gives_the_nearest() -> None:
    # 3.3 mg/day (BSA 0.22 x 15), 69.3 mg over 21 days: 2.5 every day 52.5 (-24.2%), 5 every
    # day 105 (+51.5%), 2.5/5 alternating from day 1: 11 x 2.5 + 10 x 5 = 77.5 (+11.8%);
    # 5 first: 11 x 5 + 10 x 2.5 = 80 (+15.4%). None within 10%; the nearest is 77.5 mg.
    flagged = schedule(3.3, prefer="nearest", outside_tolerance="flag")
    assert flagged.status == "flagged"
    assert flagged.achieved_total_mg == 77.5
    assert [flagged.day_mg(d) for d in (1, 2, 3)] == [2.5, 5, 2.5]
    assert "outside the 10% tolerance" in flagged.message
    refused = schedule(3.3, prefer="nearest", outside_tolerance="refuse")
    assert refused.status == "refused" and refused.achieved_total_mg is None


def test_the_nant_sheet_flags_not_refuses_a_dose_outside_the_tolerance(
    nant: Protocol,
) -> None:
    # 55 cm, 3.2 kg: BSA sqrt(55 x 3.2 / 3600) = 0.2211 -> 0.22 m2; level 1: 15 x 0.22 = 3.3.
    line = dose_sheet(nant, 1, 55, 3.2).agent("lenalidomide")
    assert line.prescribed.daily_mg == pytest.approx(3.3)
    assert line.status == "flagged"
    assert line.rounded.achieved_total_mg == 77.5
