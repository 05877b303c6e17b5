"""Rolling six (Skolnik et al., J Clin Oncol 2008;26:190-5).

Two to six patients may be on a level at once. The next patient's dose depends on the
patients enrolled on the current level (n), their DLTs (D) and those still pending (P),
read from a grid shipped as data: `data/rolling_six_<grid>.yaml`. Two published readings
disagree in a few cells; both are available by name. Any level with 2 or more DLTs is
too toxic, with every level above it. The MTD is the highest level with at most 1 DLT in
6 evaluable patients whose next level is too toxic (or which is the top level).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from phaseone.designs.base import (
    NOT_REACHED,
    Assessment,
    Decision,
    DesignState,
    EscalationDesign,
    Reason,
    Selection,
    check_dose,
    check_n_doses,
    empiric_rates,
    first_inadmissible,
)
from phaseone.designs.interval import beta_posterior
from phaseone.designs.outcomes import Counts, Outcomes
from phaseone.errors import InputError, Problem

GridName = Literal["labja", "frankel2020"]
GRIDS: tuple[GridName, ...] = ("labja", "frankel2020")
ACTIONS = {
    "escalate": Decision.ESCALATE,
    "stay": Decision.STAY,
    "deescalate": Decision.DEESCALATE,
    "suspend": Decision.SUSPEND,
}
MAX_PER_LEVEL = 6


@dataclass(frozen=True)
class RollingSixGrid:
    name: str
    title: str
    provenance: dict[str, Any]
    cells: dict[tuple[int, int, int], Decision]

    def decide(self, n: int, dlt: int, pending: int) -> Decision:
        return self.cells[(n, dlt, pending)]


@cache
def load_grid(name: str) -> RollingSixGrid:
    """Load a named grid; the file is checked to cover every (n, D, P) exactly once."""
    if name not in GRIDS:
        raise InputError(
            [
                Problem(
                    "grid", f"unknown rolling-six grid {name!r}; expected one of {', '.join(GRIDS)}"
                )
            ]
        )
    text = resources.files("phaseone.designs").joinpath(f"data/rolling_six_{name}.yaml").read_text()
    data = yaml.safe_load(text)
    cells: dict[tuple[int, int, int], Decision] = {}
    for n, dlt, pending, action in data["grid"]:
        if (n, dlt, pending) in cells:
            raise ValueError(f"rolling_six_{name}.yaml: cell ({n}, {dlt}, {pending}) appears twice")
        cells[(n, dlt, pending)] = ACTIONS[action]
    expected = {
        (n, d, p)
        for n in range(1, MAX_PER_LEVEL + 1)
        for d in range(n + 1)
        for p in range(n - d + 1)
    }
    if set(cells) != expected:
        raise ValueError(f"rolling_six_{name}.yaml does not cover every (n, D, P) cell exactly")
    return RollingSixGrid(data["name"], data["title"], data["provenance"], cells)


@dataclass(frozen=True)
class RollingSix(EscalationDesign):
    doses: int
    grid: GridName = "frankel2020"
    start_dose: int = 1
    name: str = "rolling_six"

    def __post_init__(self) -> None:
        check_n_doses(self.doses)
        check_dose(self.start_dose, self.doses, "start_dose")
        load_grid(self.grid)

    @property
    def n_doses(self) -> int:
        return self.doses

    def describe(self) -> str:
        return f"rolling six(doses={self.doses}, grid={self.grid})"

    def assess(self, outcomes: Outcomes, counts: Counts) -> Assessment:
        c = counts
        for k in range(self.doses):
            if c.treated[k] > MAX_PER_LEVEL:
                raise InputError(
                    [
                        Problem(
                            "outcomes",
                            f"dose {k + 1} has {c.treated[k]} patients; rolling six enrols "
                            "at most 6 per level",
                        )
                    ]
                )
        too_toxic = [k + 1 for k in range(self.doses) if c.tox[k] >= 2]
        first_bad = min(too_toxic) if too_toxic else None
        reasons: tuple[Reason, ...] = ()
        if first_bad is not None:
            reasons = (
                Reason("too_toxic", f"dose {first_bad}: {c.tox[first_bad - 1]} DLTs (>= 2)"),
            )
        return Assessment(
            admissible=tuple(first_bad is None or d < first_bad for d in range(1, self.doses + 1)),
            estimates=empiric_rates(c.tox, c.evaluable),
            selection=NOT_REACHED,
            posterior=beta_posterior(c.evaluable, c.tox),
            reasons=reasons,
            next_cohort_size=1,
        )

    def decide(self, state: DesignState, counts: Counts) -> DesignState:
        c = counts
        grid = load_grid(self.grid)
        first_bad = first_inadmissible(state.admissible)
        d = state.current_dose
        assert d is not None  # `decide` runs only once there are patients
        if first_bad == 1:
            return state.stopped(
                "stop", "dose 1 is too toxic", Selection(None, "no_mtd", "dose 1 is too toxic")
            )
        if first_bad is not None and d >= first_bad:
            below = first_bad - 1
            return self._settle(
                state, below, f"dose {first_bad} is too toxic", decision=Decision.DEESCALATE
            )
        n, dlt, pend = int(c.treated[d - 1]), int(c.tox[d - 1]), int(c.pending[d - 1])
        decision = grid.decide(n, dlt, pend)
        state = state.with_reason(
            "grid",
            f"dose {d}: {n} enrolled, {dlt} DLT, {pend} pending -> {decision.name.lower()} "
            f"({grid.name})",
            decision=decision,
        )
        if decision is Decision.STAY:
            return state.with_reason("next", f"enrol at dose {d}", recommended_dose=d)
        if decision is Decision.SUSPEND:
            return self._suspend(state, d)
        # Escalate (de-escalation always comes with >= 2 DLTs, handled above).
        if d < self.doses and state.admissible[d]:
            return state.with_reason("next", f"escalate to dose {d + 1}", recommended_dose=d + 1)
        why = "top dose" if d == self.doses else f"dose {d + 1} is too toxic"
        return self._settle(state, d, why, decision=decision)

    def _suspend(self, state: DesignState, dose: int) -> DesignState:
        return state.with_reason(
            "suspend",
            f"dose {dose} has 6 enrolled with outcomes pending: hold accrual",
            recommended_dose=dose,
            accrual_suspended=True,
        )

    def _settle(self, state: DesignState, dose: int, why: str, decision: Decision) -> DesignState:
        """`dose` is the MTD candidate: declare it with 6 evaluable, else fill it to 6."""
        k = dose - 1
        evaluable, treated = state.evaluable[k], state.treated[k]
        state = state.with_reason(
            "candidate", f"{why}; dose {dose} is the MTD candidate", decision=decision
        )
        if evaluable >= MAX_PER_LEVEL and state.tox[k] <= 1:
            top = " (the top dose: maximum administered dose)" if dose == self.doses else ""
            sel = Selection(
                dose, "rolling_six", f"{state.tox[k]}/{evaluable} DLTs at dose {dose}; {why}{top}"
            )
            return state.stopped("stop", f"MTD is dose {dose}", sel)
        if treated < MAX_PER_LEVEL:
            return state.with_reason(
                "next",
                f"enrol at dose {dose} until 6 patients are evaluable",
                recommended_dose=dose,
            )
        return self._suspend(state, dose)
