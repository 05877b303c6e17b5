"""BOIN operating characteristics against BOIN::get.oc (BOIN 2.7.2), recorded as test data.

Source: tests/simulation/data/r_get_oc.json, produced by running BOIN::get.oc in R 4.2.2
with the calls and seeds listed in tests/simulation/data/README.md. Nothing in it was
produced by phaseone.

With R's random stream (`rng="r"`) the engine runs the very trials get.oc ran, so the
totals behind every printed figure (selection counts, patients and DLTs summed over
trials, trials stopped, overdosing counts) must be equal. With the NumPy stream the
selection percentages must agree within Monte Carlo error (3 standard errors).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from phaseone.designs import BOIN
from phaseone.designs.base import Design
from phaseone.designs.modifiers import Titration
from phaseone.simulation.api import RngKind, simulate
from phaseone.simulation.batch import NO_DOSE, TrialBatch
from phaseone.simulation.compile import interval_plan
from phaseone.simulation.engine import DE_CODE, IntervalPlan

DATA = json.loads((Path(__file__).parent / "data" / "r_get_oc.json").read_text())
CONFIGS: dict[str, dict[str, Any]] = DATA["configs"]
# get.oc applies the extra-safe stop during a trial only where the elimination boundary
# b.elim[n] is defined; phaseone applies it wherever the extra-safe boundary is defined
# (docs/simulation.md, "Known differences"). This configuration shows the difference.
EXTRASAFE_QUIRK = "target050_extrasafe"
REPRODUCED = [name for name in CONFIGS if name != EXTRASAFE_QUIRK]


def scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def args_of(name: str) -> dict[str, Any]:
    return {k: scalar(v) for k, v in CONFIGS[name]["args"].items()}


def truth_of(a: dict[str, Any]) -> list[float]:
    return [float(p) for p in a["p.true"]]


def design_of(a: dict[str, Any]) -> Design:
    """The get.oc arguments as a phaseone design (get.oc defaults where not given)."""
    design: Design = BOIN(
        target_rate=a["target"],
        doses=len(truth_of(a)),
        start_dose=int(a.get("startdose", 1)),
        early_stop_n=int(a.get("n.earlystop", 100)),
        extrasafe=bool(a.get("extrasafe", False)),
        bound_mtd=bool(a.get("boundMTD", False)),
    )
    if a.get("titration", False):
        design = design | Titration()
    return design


def plan_of(a: dict[str, Any]) -> IntervalPlan:
    return interval_plan(design_of(a), int(a["cohortsize"]), int(a["ncohort"]))


def run(
    plan: IntervalPlan, a: dict[str, Any], rng: RngKind, trials: int | None = None
) -> TrialBatch:
    n_trials = int(a["ntrial"]) if trials is None else trials
    oc = simulate(plan, truth_of(a), n_trials, int(a["seed"]), rng=rng, keep_trials=True)
    assert oc.trials is not None
    return oc.trials


def r_totals(rec: dict[str, Any], trials: int) -> dict[str, list[int]]:
    """get.oc prints means over trials; times the number of trials they are whole numbers."""

    def whole(values: list[float], scale: float) -> list[int]:
        out = [v * scale for v in values]
        assert all(abs(v - round(v)) < 1e-6 for v in out)
        return [round(v) for v in out]

    totals = {
        "selected": whole(rec["selpercent"], trials / 100),
        "patients": whole(rec["npatients"], trials),
        "dlts": whole(rec["ntox"], trials),
        "stopped": whole(rec["percentstop"], trials / 100),
        "total_patients": whole(rec["totaln"], trials),
        "total_dlts": whole(rec["totaltox"], trials),
    }
    if "overdose60" in rec:
        totals["overdose60"] = whole(rec["overdose60"], trials / 100)
        totals["overdose80"] = whole(rec["overdose80"], trials / 100)
    return totals


def our_totals(batch: TrialBatch, a: dict[str, Any]) -> dict[str, list[int]]:
    k = batch.n_doses
    picked = batch.selected[batch.selected != NO_DOSE]
    totals = {
        "selected": [int(c) for c in np.bincount(picked, minlength=k)],
        "patients": [int(v) for v in batch.n.sum(axis=0)],
        "dlts": [int(v) for v in batch.y.sum(axis=0)],
        "stopped": [int((batch.selected == NO_DOSE).sum())],
        "total_patients": [int(batch.n.sum())],
        "total_dlts": [int(batch.y.sum())],
    }
    truth = np.asarray(truth_of(a))
    if (truth == a["target"]).any():
        # get.oc: trials with more than 60% (80%) of the maximum sample size treated at
        # doses whose true rate exceeds the target.
        above = batch.n[:, truth > a["target"]].sum(axis=1)
        npts = int(a["ncohort"]) * int(a["cohortsize"])
        totals["overdose60"] = [int((above > 0.6 * npts).sum())]
        totals["overdose80"] = [int((above > 0.8 * npts).sum())]
    return totals


@pytest.mark.parametrize("name", REPRODUCED)
def test_r_stream_reproduces_get_oc(name: str) -> None:
    a = args_of(name)
    batch = run(plan_of(a), a, "r")
    assert our_totals(batch, a) == r_totals(CONFIGS[name], int(a["ntrial"]))


def get_oc_extrasafe_check(plan: IntervalPlan) -> IntervalPlan:
    """The plan with get.oc's in-trial extra-safe check: only at n where an elimination
    boundary exists (the check sits inside get.oc's `!is.na(b.elim[n[d]])` block)."""
    assert plan.stop_lowest_min is not None
    has_elimination = (plan.codes == DE_CODE).any(axis=1)
    return replace(plan, stop_lowest_min=np.where(has_elimination, plan.stop_lowest_min, -1))


def test_extrasafe_difference_is_exactly_the_elimination_boundary_gate() -> None:
    a = args_of(EXTRASAFE_QUIRK)
    trials = int(a["ntrial"])
    expected = r_totals(CONFIGS[EXTRASAFE_QUIRK], trials)
    plan = plan_of(a)
    # At target 0.5 there is no elimination boundary at n = 3, but 3/3 DLTs at the lowest
    # dose meet the extra-safe boundary: phaseone stops there, get.oc carries on.
    assert plan.stop_lowest_min is not None and plan.stop_lowest_min[3] == 3
    assert not (plan.codes[3] == DE_CODE).any()
    assert our_totals(run(plan, a, "r"), a)["stopped"] != expected["stopped"]
    assert our_totals(run(get_oc_extrasafe_check(plan), a, "r"), a) == expected


@pytest.mark.parametrize("name", REPRODUCED)
def test_numpy_stream_selection_within_monte_carlo_error(name: str) -> None:
    a = args_of(name)
    r_trials, ours_trials = int(a["ntrial"]), 20_000
    batch = run(plan_of(a), a, "numpy", ours_trials)
    k = batch.n_doses
    ours = np.bincount(batch.selected[batch.selected != NO_DOSE], minlength=k) / ours_trials
    ours = np.append(ours, (batch.selected == NO_DOSE).mean())
    rec = CONFIGS[name]
    theirs = np.append(rec["selpercent"], rec["percentstop"]) / 100
    pooled = (ours * ours_trials + theirs * r_trials) / (ours_trials + r_trials)
    se = np.sqrt(pooled * (1 - pooled) * (1 / ours_trials + 1 / r_trials))
    assert (np.abs(ours - theirs) <= 3 * se + 1e-12).all(), (ours, theirs, se)
