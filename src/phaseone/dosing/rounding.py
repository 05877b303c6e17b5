"""Rounding a prescribed dose to what can actually be given, as named protocol rules.

Two rules, chosen per agent in the protocol (`agents[i].rounding`):

`capsule_schedule` (capsules that may not be opened, e.g. lenalidomide)
    Find a day-by-day schedule over the agent's course days, built from whole capsules,
    whose cumulative dose is within `tolerance` of the prescribed total. Which one is the
    protocol's choice (`prefer`):
      - `nearest`: the smallest deviation; on equal deviations the lower or higher total
        as `ties` says; then the fewest capsules on the heaviest day, then one daily
        amount before two alternating amounts;
      - `fewest_capsules`: the fewest capsules on the heaviest day, then one daily amount
        before two, then the smallest deviation, then `ties`.
    Alternating schedules use two neighbouring amounts that bracket the daily target
    (nothing in between needs no more capsules), day 1 taking either one. With no
    schedule inside the tolerance, `outside_tolerance` says what the protocol does:
    `refuse` (no dose; refer to the study chair) or `flag` (give the nearest schedule,
    flagged for review).
    Params: prefer (nearest|fewest_capsules), tolerance (fraction; default
    `dosing.dose_tolerance`), ties (lower|higher), outside_tolerance (refuse|flag),
    allow_alternating (bool), max_capsules_per_day (int, optional).

`round_each_dose` (e.g. isotretinoin, capsules may be opened)
    Round every administration to a multiple of `step_mg` (`direction` up, down or
    nearest) and make it from the fewest capsules. The rounding is the protocol's own
    rule, so a deviation above the dose tolerance is flagged, not refused, unless the
    rule sets its own `tolerance`, which is then a hard limit.
    Params: step_mg, direction (up|down|nearest), tolerance (optional).

Agents without a rule (IV drugs measured in mL) are given exactly as prescribed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phaseone.dosing.capsules import CapsuleBox, Combination
from phaseone.errors import InputError, Problem

Status = Literal["ok", "flagged", "refused"]


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CapsuleScheduleParams(_Params):
    prefer: Literal["nearest", "fewest_capsules"] = "fewest_capsules"
    tolerance: float | None = Field(default=None, gt=0, lt=1)
    ties: Literal["lower", "higher"] = "lower"
    outside_tolerance: Literal["refuse", "flag"] = "refuse"
    allow_alternating: bool = True
    max_capsules_per_day: int | None = Field(default=None, ge=1, le=50)


class RoundEachDoseParams(_Params):
    step_mg: float = Field(gt=0)
    direction: Literal["up", "down", "nearest"] = "nearest"
    tolerance: float | None = Field(default=None, gt=0, lt=1)


RULES: dict[str, type[_Params]] = {
    "capsule_schedule": CapsuleScheduleParams,
    "round_each_dose": RoundEachDoseParams,
}


def parse_params(rule: str, params: dict[str, Any], path: str) -> _Params:
    """Validate a rounding rule's params; raise InputError naming `path`.<field>."""
    if rule not in RULES:
        raise InputError(
            [
                Problem(
                    f"{path}.rule",
                    f"unknown rounding rule {rule!r}; expected one of: " + ", ".join(RULES),
                )
            ]
        )
    try:
        return RULES[rule].model_validate(params)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            message = err["msg"]
            if err["type"] == "extra_forbidden":
                message = (
                    f"unknown parameter; expected one of: {', '.join(RULES[rule].model_fields)}"
                )
            problems.append(Problem(f"{path}.params.{loc}", message))
        raise InputError(problems) from None


@dataclass(frozen=True)
class RoundedDose:
    """What will be given on each course day, and how far it is from the prescription."""

    rule: str
    status: Status
    message: str
    target_daily_mg: float
    target_total_mg: float
    achieved_total_mg: float | None
    tolerance: float
    pattern: str = "exact"
    per_day: dict[int, tuple[Combination, ...]] = field(default_factory=dict)

    @property
    def deviation(self) -> float | None:
        """Achieved over prescribed total, minus one (0.05 = 5% above)."""
        if self.achieved_total_mg is None:
            return None
        return self.achieved_total_mg / self.target_total_mg - 1.0

    @property
    def days(self) -> tuple[int, ...]:
        return tuple(sorted(self.per_day))

    @property
    def achieved_daily_mg(self) -> float | None:
        """The mean daily amount actually given over the agent's days."""
        if self.achieved_total_mg is None or not self.per_day:
            return None
        return self.achieved_total_mg / len(self.per_day)

    def day_mg(self, day: int) -> float:
        return sum(c.mg for c in self.per_day.get(day, ()))


def exact(
    daily_mg: float, days: tuple[int, ...], times_per_day: int, tolerance: float
) -> RoundedDose:
    """No rounding rule: each administration is the prescribed amount (e.g. IV, in mL)."""
    each = daily_mg / times_per_day
    per_day = {d: tuple(Combination(each, ()) for _ in range(times_per_day)) for d in days}
    total = daily_mg * len(days)
    return RoundedDose(
        "exact",
        "ok",
        "given as prescribed (no rounding rule)",
        daily_mg,
        total,
        total,
        tolerance,
        "exact",
        per_day,
    )


# --- capsule_schedule --------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    first: Combination
    second: Combination | None  # None: the same amount every day
    total_mg: float
    deviation: float

    @property
    def max_units(self) -> int:
        return max(self.first.count, self.second.count if self.second else 0)


def capsule_schedule(
    daily_mg: float,
    days: tuple[int, ...],
    box: CapsuleBox,
    params: CapsuleScheduleParams,
    default_tolerance: float,
) -> RoundedDose:
    """A day-by-day schedule of whole capsules within tolerance of the total, or a refusal."""
    tolerance = params.tolerance if params.tolerance is not None else default_tolerance
    n = len(days)
    target_total = daily_mg * n
    n_first, n_second = (n + 1) // 2, n // 2  # alternating: day 1 gets the first amount
    ceiling = 2 * daily_mg * (1 + tolerance) + max(box.strengths)
    amounts = box.achievable(ceiling, params.max_capsules_per_day)

    candidates: list[_Candidate] = []
    for a in amounts:
        total = a.mg * n
        candidates.append(_Candidate(a, None, total, total / target_total - 1))
    if params.allow_alternating and n >= 2:
        for low, high in _neighbours(amounts, daily_mg):
            for a, b in ((low, high), (high, low)):
                total = a.mg * n_first + b.mg * n_second
                candidates.append(_Candidate(a, b, total, total / target_total - 1))

    inside = [c for c in candidates if abs(c.deviation) <= tolerance + 1e-12]
    strengths = "/".join(f"{s:g}" for s in sorted(box.strengths))
    order = _preference(params)
    if not inside and params.outside_tolerance == "flag" and candidates:
        best = min(candidates, key=order)
        return RoundedDose(
            "capsule_schedule",
            "flagged",
            f"{_pattern_text(best)}: {best.total_mg:g} mg over {n} days vs {target_total:g} mg "
            f"prescribed ({best.deviation:+.1%}): outside the {tolerance:.0%} tolerance, the "
            "nearest schedule of whole capsules; the protocol gives it flagged: confirm with "
            "the study chair and the pharmacist",
            daily_mg,
            target_total,
            best.total_mg,
            tolerance,
            "constant" if best.second is None else "alternating",
            _per_day(best, days),
        )
    if not inside:
        nearest = min(candidates, key=lambda c: abs(c.deviation), default=None)
        hint = ""
        if nearest is not None:
            hint = f"; the nearest, {_pattern_text(nearest)}, is {nearest.deviation:+.1%}"
        return RoundedDose(
            "capsule_schedule",
            "refused",
            f"no schedule of whole {strengths} mg capsules over {n} days comes within "
            f"{tolerance:.0%} of the prescribed {target_total:g} mg "
            f"({daily_mg:.3g} mg/day){hint}. No dose is given: refer to the study chair.",
            daily_mg,
            target_total,
            None,
            tolerance,
            "none",
        )

    best = min(inside, key=order)
    per_day = _per_day(best, days)
    return RoundedDose(
        "capsule_schedule",
        "ok",
        f"{_pattern_text(best)}: {best.total_mg:g} mg over {n} days vs {target_total:g} mg "
        f"prescribed ({best.deviation:+.1%}, tolerance {tolerance:.0%})",
        daily_mg,
        target_total,
        best.total_mg,
        tolerance,
        "constant" if best.second is None else "alternating",
        per_day,
    )


def _preference(params: CapsuleScheduleParams) -> Callable[[_Candidate], tuple[float, ...]]:
    """The sort key that puts the protocol's preferred schedule first."""
    sign = 1 if params.ties == "lower" else -1

    def nearest(c: _Candidate) -> tuple[float, ...]:
        # Deviations rounded so that two totals equally far from the target tie exactly.
        return (
            round(abs(c.deviation), 9),
            sign * c.total_mg,
            c.max_units,
            0 if c.second is None else 1,
            c.first.mg,
        )

    def fewest_capsules(c: _Candidate) -> tuple[float, ...]:
        return (
            c.max_units,
            0 if c.second is None else 1,
            round(abs(c.deviation), 9),
            sign * c.total_mg,
            c.first.mg,
        )

    return nearest if params.prefer == "nearest" else fewest_capsules


def _per_day(best: _Candidate, days: tuple[int, ...]) -> dict[int, tuple[Combination, ...]]:
    per_day: dict[int, tuple[Combination, ...]] = {}
    for i, day in enumerate(days):
        use = best.first if best.second is None or i % 2 == 0 else best.second
        per_day[day] = (use,)
    return per_day


def _neighbours(
    amounts: list[Combination], daily_mg: float
) -> list[tuple[Combination, Combination]]:
    """Pairs that bracket the daily target with nothing in between that needs no more
    capsules: alternate 10 and 12.5 mg for 11.25 mg/day, never 2.5 and 20 mg."""
    pairs = []
    for low in amounts:
        if low.mg > daily_mg:
            continue
        for high in amounts:
            if high.mg < daily_mg or high.mg <= low.mg:
                continue
            most = max(low.count, high.count)
            if not any(low.mg < c.mg < high.mg and c.count <= most for c in amounts):
                pairs.append((low, high))
    return pairs


def _pattern_text(c: _Candidate) -> str:
    if c.second is None:
        return f"{c.first.mg:g} mg every day"
    return f"{c.first.mg:g} mg and {c.second.mg:g} mg on alternate days"


# --- round_each_dose ---------------------------------------------------------------------


def round_each_dose(
    daily_mg: float,
    days: tuple[int, ...],
    times_per_day: int,
    box: CapsuleBox,
    params: RoundEachDoseParams,
    default_tolerance: float,
) -> RoundedDose:
    """Round each administration to the protocol's step and make it from capsules."""
    each = daily_mg / times_per_day
    steps = each / params.step_mg
    if params.direction == "up":
        n_steps = math.ceil(steps - 1e-9)
    elif params.direction == "down":
        n_steps = math.floor(steps + 1e-9)
    else:
        n_steps = math.floor(steps + 0.5 + 1e-9)
    rounded = n_steps * params.step_mg
    target_total = daily_mg * len(days)
    tolerance = params.tolerance if params.tolerance is not None else default_tolerance
    how = (
        f"{each:.4g} mg per dose rounded {params.direction} to a multiple of {params.step_mg:g} mg"
    )
    combo = box.combination(rounded) if rounded > 0 else None
    if combo is None:
        strengths = "/".join(f"{s:g}" for s in sorted(box.strengths))
        return RoundedDose(
            "round_each_dose",
            "refused",
            f"{how} gives {rounded:g} mg, which whole {strengths} mg capsules cannot make. "
            "No dose is given: refer to the study chair.",
            daily_mg,
            target_total,
            None,
            tolerance,
            "none",
        )
    achieved_total = rounded * times_per_day * len(days)
    deviation = achieved_total / target_total - 1
    status: Status = "ok"
    text = f"{how}: {rounded:g} mg x {times_per_day} a day ({deviation:+.1%})"
    if abs(deviation) > tolerance + 1e-12:
        if params.tolerance is not None:
            return RoundedDose(
                "round_each_dose",
                "refused",
                f"{text} is outside the rule's {tolerance:.0%} tolerance. "
                "No dose is given: refer to the study chair.",
                daily_mg,
                target_total,
                None,
                tolerance,
                "none",
            )
        status = "flagged"
        text += (
            f"; above the {tolerance:.0%} dose tolerance because of the protocol's rounding "
            "rule: confirm with the pharmacist"
        )
    per_day = {d: tuple(combo for _ in range(times_per_day)) for d in days}
    return RoundedDose(
        "round_each_dose",
        status,
        text,
        daily_mg,
        target_total,
        achieved_total,
        tolerance,
        "constant",
        per_day,
    )
