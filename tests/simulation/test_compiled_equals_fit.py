"""The compiled engines are an optimisation of `fit()`: wherever `compile_plan` accepts a
design, its engine plays exactly the trials the fit path plays.

Designs are composed from a pool of modifiers (none, one or two, in both orders). For
every composition the compiler accepts, both paths run the same simulated patients and
must agree trial by trial on patients and DLTs per dose, the selected dose and the stop
reason. Compositions it does not accept must simulate through `fit()`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from phaseone.designs import (
    BOIN,
    CRM,
    DemandNAtDose,
    Design,
    DesignState,
    DontSkipDoses,
    Keyboard,
    Modifier,
    StopAtN,
    StopWhenNAtDose,
    StopWhenTooToxic,
    Titration,
)
from phaseone.simulation.api import as_plan, compile_plan, simulate
from phaseone.simulation.batch import StopReason
from phaseone.simulation.crm_engine import CRMPlan
from phaseone.simulation.engine import IntervalPlan
from phaseone.simulation.fitpath import FitPlan, fit_plan

POOL: list[Modifier] = [
    StopAtN(24),
    StopAtN(30),
    Titration(3),
    DontSkipDoses(),
    StopWhenTooToxic(0.35, 0.9),
    DemandNAtDose(6),
]
BASES: list[tuple[Design, tuple[float, ...]]] = [
    (BOIN(target_rate=0.30, doses=5, early_stop_n=18), (0.05, 0.15, 0.30, 0.45, 0.60)),
    (
        BOIN(target_rate=0.25, doses=5, early_stop_n=12, extrasafe=True, bound_mtd=True),
        (0.30, 0.45, 0.55, 0.65, 0.75),
    ),
    (Keyboard(target_rate=0.30, doses=5, early_stop_n=12), (0.02, 0.05, 0.10, 0.25, 0.40)),
]
TRIALS = 120


def compose(base: Design, mods: tuple[Modifier, ...]) -> Design:
    design = base
    for mod in mods:
        design = design | mod
    return design


def compositions() -> list[tuple[Modifier, ...]]:
    out: list[tuple[Modifier, ...]] = [()]
    out += [(m,) for m in POOL]
    out += list(itertools.permutations(POOL, 2))
    return out


def fit_rows(u: np.ndarray, truth: np.ndarray, k: int, titration: bool) -> np.ndarray:
    """The rows the fit path needs to meet the engine's patients. The engine draws BOIN's
    titration as R does: one uniform per dose level up front (patient at dose d uses
    u[d]), then the rest in order from u[k]; the fit path uses uniforms in enrolment
    order. Without titration the rows are the same."""
    if not titration:
        return u
    out = np.empty_like(u)
    for t in range(u.shape[0]):
        tox = u[t, :k] < truth
        first = int(np.argmax(tox)) if tox.any() else k - 1
        singles = u[t, : first + 1]
        rest = u[t, k:]
        row = np.concatenate([singles, rest])
        out[t, : row.size] = row
        out[t, row.size :] = 0.5
    return out


def check_equal(design: Design, truth: tuple[float, ...], cs: int, cohorts: int | None) -> bool:
    """False when the compiler does not accept the design; else assert equality."""
    plan = compile_plan(design, cs, cohorts)
    if plan is None:
        assert isinstance(as_plan(design, cs, cohorts), FitPlan)
        return False
    assert isinstance(plan, IntervalPlan | CRMPlan)
    fast = plan
    slow = fit_plan(design, cs, cohorts if cohorts is not None else None)
    p = np.array(truth)
    seed = abs(hash((design.describe(), cs, cohorts))) % 2**32
    u = np.random.default_rng(seed).random((TRIALS, max(fast.uniforms_per_trial, 64)))
    titration = isinstance(fast, IntervalPlan) and fast.titration
    ref, _ = fast.run(p, u[:, : fast.uniforms_per_trial])
    ours, _ = slow.run(p, fit_rows(u, p, len(truth), titration))
    np.testing.assert_array_equal(ours.n, ref.n)
    np.testing.assert_array_equal(ours.y, ref.y)
    np.testing.assert_array_equal(ours.selected, ref.selected)
    np.testing.assert_array_equal(ours.stop_reason, ref.stop_reason)
    return True


@pytest.mark.parametrize(("base", "truth"), BASES, ids=lambda b: getattr(b, "name", ""))
def test_every_accepted_interval_composition_equals_fit(
    base: Design, truth: tuple[float, ...]
) -> None:
    accepted = []
    for mods in compositions():
        design = compose(base, mods)
        # With StopAtN the maximum comes from the design; without, from the cohorts.
        cohorts = None if any(isinstance(m, StopAtN) for m in mods) else 10
        if check_equal(design, truth, 3, cohorts):
            accepted.append(design.describe())
    # The compiler takes StopAtN and Titration in any order, and nothing else.
    assert len(accepted) == 1 + 3 + 6, accepted


@pytest.mark.parametrize("mods", [(), (StopAtN(12),), (StopAtN(12), StopAtN(9))])
def test_crm_compositions_equal_fit(mods: tuple[Modifier, ...]) -> None:
    base = CRM(skeleton=(0.05, 0.12, 0.25, 0.40, 0.55), target_rate=0.25)
    cohorts = None if mods else 4
    assert check_equal(compose(base, mods), (0.10, 0.20, 0.35, 0.50, 0.65), 3, cohorts)


def test_cohorts_cut_by_stop_at_n_simulate_through_fit() -> None:
    # StopAtN(25) with cohorts of 3 would cut the ninth cohort: only fit() follows that.
    design = BOIN(target_rate=0.3, doses=5) | StopAtN(25)
    assert compile_plan(design, 3, None) is None
    plan = as_plan(design, 3, None)
    assert isinstance(plan, FitPlan) and plan.max_sample_size == 25
    oc = simulate(design, [0.05, 0.1, 0.2, 0.3, 0.5], 50, 1, cohort_size=3, keep_trials=True)
    assert oc.trials is not None
    assert int(oc.trials.n.sum(axis=1).max()) <= 25


def test_any_modifier_simulates_and_follows_its_rule() -> None:
    # StopWhenNAtDose(6, "any") stops a trial once any dose has 6 patients: in cohorts of 3
    # no dose ever holds more than 6, where the plain design puts up to 18 on one dose.
    truth = [0.01, 0.02, 0.03, 0.04, 0.05]
    plain = BOIN(target_rate=0.3, doses=5, early_stop_n=18) | StopAtN(30)
    capped = plain | StopWhenNAtDose(6, "any")
    assert isinstance(as_plan(capped, 3, None), FitPlan)
    runs = [simulate(d, truth, 60, 3, cohort_size=3, keep_trials=True) for d in (plain, capped)]
    assert runs[0].trials is not None and runs[1].trials is not None
    assert int(runs[0].trials.n.max()) > 6
    assert int(runs[1].trials.n.max()) == 6
    assert (runs[1].trials.stop_reason == StopReason.MTD_DECLARED).all()


def test_r_stream_is_refused_on_the_fit_path() -> None:
    design = BOIN(target_rate=0.3, doses=5) | DontSkipDoses() | StopAtN(30)
    with pytest.raises(Exception, match="rng"):
        simulate(design, [0.05, 0.1, 0.2, 0.3, 0.5], 10, 1, cohort_size=3, rng="r")


@dataclass(frozen=True)
class CapDose(Modifier):
    """A modifier written only here: never recommend a dose above `top`."""

    top: int

    def apply(self, state: DesignState, parent: Design) -> DesignState:
        rec = state.recommended_dose
        if rec is None or rec <= self.top:
            return state
        return state.with_reason(
            "cap_dose", f"dose {rec} capped at {self.top}", recommended_dose=self.top
        )


def test_a_modifier_written_anywhere_simulates_without_simulation_code() -> None:
    design = BOIN(target_rate=0.3, doses=5, early_stop_n=12) | CapDose(2) | StopAtN(24)
    oc = simulate(design, [0.01, 0.02, 0.05, 0.1, 0.2], 50, 5, cohort_size=3, keep_trials=True)
    assert oc.trials is not None
    assert int(oc.trials.n[:, 2:].sum()) == 0  # nobody above dose 2
    assert int(oc.trials.n[:, 1].sum()) > 0
