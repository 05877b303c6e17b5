"""Rounding to capsules: hand-worked schedules, refusals, and properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phaseone.dosing.capsules import CapsuleBox
from phaseone.dosing.rounding import (
    CapsuleScheduleParams,
    RoundEachDoseParams,
    capsule_schedule,
    round_each_dose,
)
from phaseone.dosing.sheet import dose_sheet
from phaseone.errors import InputError
from phaseone.protocol import Protocol

LEN = CapsuleBox((2.5, 5, 10, 15, 20, 25))
ISO = CapsuleBox((10, 20, 40))
DAYS = tuple(range(1, 22))


def schedule(daily: float, **params: Any) -> Any:
    return capsule_schedule(daily, DAYS, LEN, CapsuleScheduleParams(**params), 0.10)


def test_fewest_capsules_with_units_that_exist() -> None:
    assert LEN.combination(17.5).units == ((15, 1), (2.5, 1))  # type: ignore[union-attr]
    assert LEN.combination(30).units == ((15, 2),)  # type: ignore[union-attr]  # one strength
    assert LEN.combination(3.75) is None  # not a multiple of 2.5 mg
    assert ISO.combination(70).units == ((40, 1), (20, 1), (10, 1))  # type: ignore[union-attr]


def test_alternating_single_capsules_for_22_5_mg_a_day() -> None:
    # BSA 0.75 x 30 mg/m2/day = 22.5 mg/day; 21 days = 472.5 mg. One capsule a day cannot
    # hold it constant (20 is -11.1%, 25 is +11.1%). Alternating 20 and 25 from day 1:
    # 11 x 20 + 10 x 25 = 470 mg (-0.53%); 25 first: 11 x 25 + 10 x 20 = 475 (+0.53%).
    # Equal distance; ties go to the lower total, so 20 mg on odd days.
    r = schedule(22.5)
    assert r.status == "ok" and r.pattern == "alternating"
    assert [r.day_mg(d) for d in (1, 2, 3, 20, 21)] == [20, 25, 20, 25, 20]
    assert r.achieved_total_mg == 470
    assert r.deviation == pytest.approx(470 / 472.5 - 1)
    higher = schedule(22.5, ties="higher")
    assert higher.day_mg(1) == 25 and higher.achieved_total_mg == 475


def test_neighbouring_amounts_not_wild_swings() -> None:
    # BSA 0.75 x 15 = 11.25 mg/day (236.25 mg). One capsule: 10 (-11.1%) or alternating
    # 10/15 = 260 (+10.05%): both out. Two capsules allow 12.5 (10 + 2.5): alternating 10
    # and 12.5 = 11 x 10 + 10 x 12.5 = 235 (-0.53%). 2.5/20 alternation is never offered.
    r = schedule(11.25)
    assert r.status == "ok"
    assert {r.day_mg(d) for d in DAYS} == {10, 12.5}
    assert r.achieved_total_mg == 235


def test_constant_when_alternating_is_not_allowed() -> None:
    # 22.5 mg/day, alternating off: 1 x 20 + 1 x 2.5 every day = 472.5 mg exactly.
    r = schedule(22.5, allow_alternating=False)
    assert r.pattern == "constant" and r.achieved_total_mg == 472.5
    assert r.per_day[1][0].units == ((20, 1), (2.5, 1))


def test_refuses_when_nothing_is_within_tolerance() -> None:
    # BSA 0.22 x 15 = 3.3 mg/day, 69.3 mg. 2.5/day = 52.5 (-24%), 5/day = 105 (+52%),
    # alternating 2.5 first = 11 x 2.5 + 10 x 5 = 77.5 (+11.8%): all beyond 10%.
    r = schedule(3.3)
    assert r.status == "refused"
    assert r.per_day == {} and r.achieved_total_mg is None and r.deviation is None
    assert "within 10%" in r.message and "No dose is given" in r.message
    assert "+11.8%" in r.message


def test_capsule_cap_can_force_a_refusal() -> None:
    # 11.25 mg/day needs two capsules on some days (see above); one is not enough.
    assert schedule(11.25, max_capsules_per_day=1).status == "refused"


def test_isotretinoin_rounds_each_dose_up_to_10_mg() -> None:
    # BSA 0.54 x 160 = 86.4 mg/day = 43.2 mg per dose -> 50 mg (40 + 10), twice a day.
    # 100 / 86.4 = +15.7%: above the 10% tolerance, so flagged (the rule is the protocol's).
    p = RoundEachDoseParams(step_mg=10, direction="up")
    r = round_each_dose(86.4, tuple(range(15, 29)), 2, ISO, p, 0.10)
    assert r.status == "flagged" and "confirm with the pharmacist" in r.message
    assert r.per_day[15][0].mg == 50 and len(r.per_day[15]) == 2
    assert r.per_day[15][0].units == ((40, 1), (10, 1))
    assert r.deviation == pytest.approx(100 / 86.4 - 1)
    strict = RoundEachDoseParams(step_mg=10, direction="up", tolerance=0.1)
    assert round_each_dose(86.4, (15,), 2, ISO, strict, 0.10).status == "refused"


def test_isotretinoin_exact_when_already_a_multiple() -> None:
    # BSA 0.75 x 160 = 120 mg/day = 60 mg per dose = 40 + 20.
    p = RoundEachDoseParams(step_mg=10, direction="up")
    r = round_each_dose(120, (15,), 2, ISO, p, 0.10)
    assert r.status == "ok" and r.deviation == pytest.approx(0)
    assert r.per_day[15][0].units == ((40, 1), (20, 1))


@pytest.mark.parametrize(("direction", "expected"), [("up", 50), ("down", 40), ("nearest", 40)])
def test_round_each_dose_directions(direction: str, expected: float) -> None:
    p = RoundEachDoseParams(step_mg=10, direction=direction)  # type: ignore[arg-type]
    assert round_each_dose(86.4, (1,), 2, ISO, p, 0.5).per_day[1][0].mg == expected


# --- the protocol's rounding params are validated with their field path ------------------


@pytest.mark.parametrize(
    ("params", "path", "words"),
    [
        ({"tolerance": 1.5}, "agents[0].rounding.params.tolerance", "less than 1"),
        ({"ties": "random"}, "agents[0].rounding.params.ties", "'lower' or 'higher'"),
        ({"tolerence": 0.1}, "agents[0].rounding.params.tolerence", "unknown parameter"),
    ],
)
def test_bad_rounding_params_name_the_field(
    variant: Callable[[Callable[[dict[str, Any]], None]], Protocol],
    params: dict[str, Any],
    path: str,
    words: str,
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["agents"][0]["rounding"]["params"] = params

    protocol = variant(edit)
    with pytest.raises(InputError) as info:
        dose_sheet(protocol, 3, 110, 18.5)
    assert [p.path for p in info.value.problems] == [path]
    assert words in info.value.problems[0].message


def test_unknown_rounding_rule(
    variant: Callable[[Callable[[dict[str, Any]], None]], Protocol],
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["agents"][2]["rounding"]["rule"] = "round_to_bsa_band"

    with pytest.raises(InputError) as info:
        dose_sheet(variant(edit), 3, 110, 18.5)
    assert info.value.problems[0].path == "agents[2].rounding.rule"


def test_capsule_schedule_refuses_openable_capsules(
    variant: Callable[[Callable[[dict[str, Any]], None]], Protocol],
) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["agents"][2]["rounding"] = data["agents"][0]["rounding"]

    with pytest.raises(InputError, match="may not be opened"):
        dose_sheet(variant(edit), 3, 110, 18.5)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    daily=st.floats(min_value=0.5, max_value=400, allow_nan=False),
    tolerance=st.floats(min_value=0.01, max_value=0.25),
    alternating=st.booleans(),
    ties=st.sampled_from(["lower", "higher"]),
)
def test_capsule_schedule_is_within_tolerance_or_refuses(
    daily: float, tolerance: float, alternating: bool, ties: str
) -> None:
    r = schedule(daily, tolerance=tolerance, allow_alternating=alternating, ties=ties)
    target = daily * len(DAYS)
    if r.status == "refused":
        assert r.per_day == {} and r.achieved_total_mg is None
        assert "No dose is given" in r.message
        return
    assert r.status == "ok"
    assert set(r.per_day) == set(DAYS)
    total = 0.0
    for day in DAYS:
        (combo,) = r.per_day[day]
        assert all(s in LEN.strengths and n > 0 for s, n in combo.units)
        assert sum(s * n for s, n in combo.units) == pytest.approx(combo.mg)
        total += combo.mg
    assert total == pytest.approx(r.achieved_total_mg)
    assert abs(total / target - 1) <= tolerance + 1e-9
    assert len({r.day_mg(d) for d in DAYS}) <= (2 if alternating else 1)


@settings(max_examples=200, deadline=None)
@given(daily=st.floats(min_value=1, max_value=800, allow_nan=False))
def test_round_up_never_gives_less_and_stays_within_one_step(daily: float) -> None:
    p = RoundEachDoseParams(step_mg=10, direction="up")
    r = round_each_dose(daily, (15, 16), 2, ISO, p, 0.10)
    assert r.status in ("ok", "flagged")
    each = r.per_day[15][0].mg
    assert daily / 2 - 1e-9 <= each < daily / 2 + 10
    assert (r.status == "flagged") == (abs(r.deviation or 0) > 0.10 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(
    height=st.floats(min_value=45, max_value=225),
    weight=st.floats(min_value=3, max_value=120),
    level=st.integers(min_value=1, max_value=5),
)
def test_every_sheet_line_is_ok_flagged_or_refused_never_silent(
    nant: Protocol, height: float, weight: float, level: int
) -> None:
    sheet = dose_sheet(nant, level, height, weight)
    for line in sheet.agents:
        dev = line.rounded.deviation
        if line.status == "refused":
            assert dev is None
        elif line.rounded.rule == "capsule_schedule":
            # NANT 2011-04 gives the nearest schedule beyond the tolerance, flagged.
            assert dev is not None
            outside = abs(dev) > line.rounded.tolerance + 1e-9
            assert line.status == ("flagged" if outside else "ok")
        else:
            assert dev is not None
            assert (
                line.status == ("flagged" if abs(dev) > line.rounded.tolerance + 1e-12 else "ok")
                or line.infusion is not None
            )
