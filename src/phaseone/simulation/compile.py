"""Turning a design from `phaseone.designs` into what a vectorised engine runs.

Interval designs (BOIN, mTPI-2, Keyboard) become an `IntervalPlan`: their own (n, y)
decision table, extra-safe row, early-stop rule and selection bound, plus the cohort
size and number of cohorts. The modifiers the engine understands are unwrapped:
`StopAtN(n)` sets the maximum sample size and `Titration(c)` turns on BOIN's accelerated
start. Any other modifier is refused with a message rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from phaseone.designs.base import Design
from phaseone.designs.interval import IntervalDesign
from phaseone.designs.modifiers import Modified, Modifier, StopAtN, Titration
from phaseone.errors import InputError, Problem
from phaseone.simulation.engine import IntervalPlan


@dataclass(frozen=True)
class Unwrapped:
    base: Design
    stop_at_n: int | None
    titration: bool


def unwrap(design: Design) -> Unwrapped:
    mods: list[Modifier] = []
    node = design
    while isinstance(node, Modified):
        mods.append(node.modifier)
        node = node.parent
    stop_at: int | None = None
    titration = False
    for mod in mods:
        if isinstance(mod, StopAtN):
            stop_at = mod.n if stop_at is None else min(stop_at, mod.n)
        elif isinstance(mod, Titration):
            titration = True
        else:
            raise InputError(
                [
                    Problem(
                        "design",
                        f"the simulation engine does not support the modifier "
                        f"{type(mod).__name__}; supported: StopAtN, Titration",
                    )
                ]
            )
    return Unwrapped(node, stop_at, titration)


def interval_plan(
    design: Design, cohort_size: int | None = None, cohorts: int | None = None
) -> IntervalPlan:
    """The engine plan of an interval design. Without `cohorts`, the design's StopAtN
    (maximum sample size) divided by the cohort size is used."""
    parts = unwrap(design)
    base = parts.base
    if not isinstance(base, IntervalDesign):
        raise InputError(
            [Problem("design", f"{base.describe()} is not an interval (table-driven) design")]
        )
    cs = 3 if cohort_size is None else cohort_size
    if cs < 1:
        raise InputError([Problem("cohort_size", f"expected 1 or more, got {cs}")])
    if cohorts is None:
        if parts.stop_at_n is None:
            raise InputError(
                [Problem("cohorts", "give the number of cohorts (or a StopAtN maximum)")]
            )
        if parts.stop_at_n % cs:
            raise InputError(
                [
                    Problem(
                        "cohorts",
                        f"the maximum sample size {parts.stop_at_n} is not a whole number of "
                        f"cohorts of {cs}",
                    )
                ]
            )
        cohorts = parts.stop_at_n // cs
    if cohorts < 1:
        raise InputError([Problem("cohorts", f"expected 1 or more, got {cohorts}")])
    max_n = cs * cohorts
    table = base.decision_table(max(max_n, 1))
    return IntervalPlan(
        name=base.describe(),
        n_doses=base.n_doses,
        target=base.target_rate,
        codes=table.codes,
        cohort_size=cs,
        n_cohorts=cohorts,
        start_dose=base.start_dose - 1,
        early_stop_n=base.early_stop_n,
        early_stop_rule=base.early_stop_rule,
        stop_lowest_min=table.stop_lowest_min,
        titration=parts.titration and cs > 1,
        bound_mtd=base.bound_mtd_limit(),
    )
