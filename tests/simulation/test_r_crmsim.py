"""CRM operating characteristics against dfcrm::crmsim (dfcrm 0.2-2.1), recorded as test data.

Source: tests/simulation/data/r_crmsim.json, produced by dfcrm::crmsim in R 4.2.2 with the
calls and seeds listed in tests/simulation/data/README.md (2,000 or 10,000 trials). crmsim
draws DLTs with rbinom and integrates the posterior adaptively, so the comparison is
statistical: with 20,000 trials of our own, the selection proportion, mean patients and
mean DLTs per dose must agree within 3 standard errors of the difference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from phaseone.designs import CRM
from phaseone.simulation.api import simulate
from phaseone.simulation.results import Figure

DATA = json.loads((Path(__file__).parent / "data" / "r_crmsim.json").read_text())
CONFIGS: dict[str, dict[str, Any]] = DATA["configs"]
OUR_TRIALS = 20_000


def scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def crm_of(a: dict[str, Any]) -> CRM:
    """crmsim's arguments as a phaseone CRM (crmsim defaults: Bayes, empiric, scale
    sqrt(1.34), intcpt 3, restrict = TRUE; phaseone's defaults are the same)."""
    model = a.get("model", "empiric")
    return CRM(
        skeleton=tuple(float(s) for s in a["prior"]),
        target_rate=float(a["target"]),
        model=model,
        intercept=float(a.get("intcpt", 3.0)),
        start_dose=int(a["x0"]),
    )


def within_3se(ours: Sequence[Figure], theirs: list[float], r_trials: int) -> None:
    """Means from independent runs: se of the difference from our per-trial spread,
    scaled for the other run's number of trials."""
    value = np.array([f.value for f in ours])
    se = np.array([f.se for f in ours]) * np.sqrt(1 + OUR_TRIALS / r_trials)
    assert (np.abs(value - np.array(theirs)) <= 3 * se + 1e-12).all(), (value, theirs, se)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_crm_agrees_with_crmsim(name: str) -> None:
    rec = CONFIGS[name]
    a = {k: scalar(v) for k, v in rec["args"].items()}
    r_trials, cohort = int(a["nsim"]), int(a["mcohort"])
    oc = simulate(
        crm_of(a), a["PI"], OUR_TRIALS, 1, cohort_size=cohort, cohorts=int(a["n"]) // cohort
    )
    # crmsim always recommends a dose.
    assert oc.no_mtd.value == 0
    sel = np.array([f.value for f in oc.selection])
    theirs = np.array(rec["MTD"])
    pooled = (sel * OUR_TRIALS + theirs * r_trials) / (OUR_TRIALS + r_trials)
    se = np.sqrt(pooled * (1 - pooled) * (1 / OUR_TRIALS + 1 / r_trials))
    assert (np.abs(sel - theirs) <= 3 * se + 1e-12).all(), (sel, theirs, se)
    within_3se(oc.patients, rec["level"], r_trials)
    within_3se(oc.dlts, rec["tox"], r_trials)
