"""Turning a design from `phaseone.designs` into what a vectorised engine runs.

Interval designs (BOIN, mTPI-2, Keyboard) become an `IntervalPlan`: their own (n, y)
decision table, extra-safe row, early-stop rule and selection bound, plus the cohort
size and number of cohorts; the CRM becomes a `CRMPlan`. The modifiers the engines
understand are unwrapped: `StopAtN(n)` sets the maximum sample size and `Titration(c)`
turns on BOIN's accelerated start. `api.compile_plan` uses an engine only where it plays
the very trials `fit()` plays; any other design or modifier simulates through `fit()`
(`fitpath.py`). Called directly, `interval_plan` refuses other modifiers with a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from phaseone.designs.base import Design, Modified, Modifier
from phaseone.designs.interval import IntervalDesign
from phaseone.designs.modifiers import StopAtN, Titration
from phaseone.errors import InputError, Problem
from phaseone.simulation.engine import IntervalPlan


@dataclass(frozen=True)
class Unwrapped:
    base: Design
    stop_at_n: int | None
    titration: Titration | None
    others: tuple[Modifier, ...]  # modifiers no compiled engine understands
    stop_at_n_before_titration: int | None = None  # smallest StopAtN applied inside it


def unwrap(design: Design) -> Unwrapped:
    mods = design.modifiers if isinstance(design, Modified) else ()
    base = design.base if isinstance(design, Modified) else design
    stop_at: int | None = None
    inner_stop: int | None = None
    titration: Titration | None = None
    others: list[Modifier] = []
    for mod in mods:  # innermost first
        if isinstance(mod, StopAtN):
            stop_at = mod.n if stop_at is None else min(stop_at, mod.n)
            if titration is None:
                inner_stop = stop_at
        elif isinstance(mod, Titration) and titration is None:
            titration = mod
        else:
            others.append(mod)
    return Unwrapped(base, stop_at, titration, tuple(others), inner_stop)


def refuse_others(parts: Unwrapped) -> None:
    if parts.others:
        names = ", ".join(type(m).__name__ for m in parts.others)
        raise InputError(
            [
                Problem(
                    "design",
                    f"the compiled engine does not run the modifier {names}; supported: "
                    "StopAtN, Titration (simulate() runs other designs through fit())",
                )
            ]
        )


def interval_plan(
    design: Design, cohort_size: int | None = None, cohorts: int | None = None
) -> IntervalPlan:
    """The engine plan of an interval design. Without `cohorts`, the design's StopAtN
    (maximum sample size) divided by the cohort size is used."""
    parts = unwrap(design)
    refuse_others(parts)
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
        titration=parts.titration is not None and cs > 1,
        bound_mtd=base.bound_mtd_limit(),
    )
