"""`exact_oc`: exact operating characteristics of a design, where they are tractable."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from phaseone.designs.base import Design
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.errors import InputError, Problem
from phaseone.simulation.compile import interval_plan, unwrap
from phaseone.simulation.engine import check_truth
from phaseone.simulation.exact import exact_result, three_plus_three_exact
from phaseone.simulation.exact_dp import DEFAULT_MAX_STATES, interval_exact
from phaseone.simulation.results import OperatingCharacteristics, Thresholds


def exact_oc(
    design: Design,
    truth: Sequence[float] | NDArray[np.float64],
    *,
    cohort_size: int | None = None,
    cohorts: int | None = None,
    overdose_cutoff: float | None = None,
    margin: float = 0.1,
    max_states: int = DEFAULT_MAX_STATES,
) -> OperatingCharacteristics:
    """Exact OCs: 3+3 in closed form; interval designs by dynamic programming over trial
    states (refused with a message when the states would exceed `max_states`)."""
    p = np.asarray(truth, dtype=np.float64)
    base = unwrap(design).base
    if isinstance(base, ThreePlusThree):
        if base.start_dose != 1:
            raise InputError([Problem("start_dose", "exact 3+3 starts at dose 1")])
        check_truth(p, base.n_doses)
        cutoff = 1 / 3 if overdose_cutoff is None else overdose_cutoff
        return three_plus_three_exact(p, base.mtd_rule, cutoff, cutoff + margin)
    plan = interval_plan(design, cohort_size, cohorts)
    check_truth(p, plan.n_doses)
    cutoff = plan.target if overdose_cutoff is None else overdose_cutoff
    thresholds = Thresholds(cutoff, plan.target + margin)
    moments, _, counts = interval_exact(plan, p, cutoff, max_states)
    details: dict[str, object] = {"states": counts.to_dict(), "design": plan.name}
    return exact_result(plan.name, p, moments, thresholds, details)
