"""The 3+3 design (Storer 1989; rules as in Le Tourneau et al., JNCI 2009).

Cohorts of 3. 0/3 escalates; 1/3 treats 3 more at the same dose; 1/6 or less escalates;
2 or more DLTs stop escalation: that dose and every dose above it are too toxic.

End of trial ("MTD rule"):
- "expand" (default): walk down from the too-toxic dose; a dose with only 3 patients gets
  3 more and is accepted with at most 1/6. The top dose is expanded to 6 too. Every
  declared MTD then has 6 evaluable patients.
- "previous": stop at the first too-toxic dose; the MTD is the dose below it, which may
  have only 3 patients (simFastBOIN `oc_3p3` default, kept for comparison with it).
`allow_deescalation=True` is another name for the walk-down of "expand".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

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
from phaseone.designs.tables import DE, DecisionTable, E, empty_codes

MTD_N = 6


def three_plus_three_table(max_n: int = 12) -> DecisionTable:
    """n = 3: 0 E, 1 S, >=2 DE; n >= 6: <=1 E, >=2 DE; other n (incomplete cohorts): S
    unless 2 DLTs are already seen (DE)."""
    codes = empty_codes(max_n)
    for n in range(1, max_n + 1):
        codes[n, 2 : n + 1] = DE
        if n == 3:
            codes[n, 0] = E
        elif n >= MTD_N:
            codes[n, 0:2] = E
    return DecisionTable("three_plus_three", codes)


@dataclass(frozen=True)
class ThreePlusThree(EscalationDesign):
    doses: int
    start_dose: int = 1
    mtd_rule: Literal["previous", "expand"] = "expand"
    allow_deescalation: bool = False
    name: str = "three_plus_three"

    def __post_init__(self) -> None:
        check_n_doses(self.doses)
        check_dose(self.start_dose, self.doses, "start_dose")

    @property
    def n_doses(self) -> int:
        return self.doses

    @property
    def expands(self) -> bool:
        return self.mtd_rule == "expand" or self.allow_deescalation

    def describe(self) -> str:
        return f"3+3(doses={self.doses}, mtd_rule={self.mtd_rule})"

    def decision_table(self, max_n: int = 12) -> DecisionTable:
        return three_plus_three_table(max_n)

    def assess(self, outcomes: Outcomes, counts: Counts) -> Assessment:
        n, y = counts.evaluable, counts.tox
        table = self.decision_table(max(12, int(n.max(initial=0))))
        too_toxic = [
            k for k in range(self.doses) if table.decide(int(n[k]), int(y[k])) is Decision.ELIMINATE
        ]
        first_bad = min(too_toxic) + 1 if too_toxic else None
        reasons: tuple[Reason, ...] = ()
        if first_bad is not None:
            detail = f"dose {first_bad}: {y[first_bad - 1]}/{n[first_bad - 1]} DLTs (>= 2)"
            reasons = (Reason("too_toxic", detail),)
        return Assessment(
            admissible=tuple(first_bad is None or d < first_bad for d in range(1, self.doses + 1)),
            estimates=empiric_rates(y, n),
            selection=NOT_REACHED,
            posterior=beta_posterior(n, y),
            reasons=reasons,
            next_cohort_size=3,
        )

    def decide(self, state: DesignState, counts: Counts) -> DesignState:
        n, y = counts.evaluable, counts.tox
        table = self.decision_table(max(12, int(n.max(initial=0))))
        first_bad = first_inadmissible(state.admissible)
        d = state.current_dose
        assert d is not None  # `decide` runs only once there are patients
        nd, yd = int(n[d - 1]), int(y[d - 1])
        decision = table.decide(nd, yd)
        state = state.with_reason(
            "rule", f"dose {d}: {yd}/{nd} DLTs -> {decision.name.lower()}", decision=decision
        )
        if counts.pending[d - 1]:
            state = state.with_reason(
                "pending", f"{counts.pending[d - 1]} patient(s) at dose {d} still pending"
            )
        if first_bad == 1:
            return state.stopped(
                "stop", "dose 1 is too toxic", Selection(None, "no_mtd", "dose 1 is too toxic")
            )
        if first_bad is not None and d >= first_bad:
            # Too toxic at or below the current dose: settle on the dose below it.
            return self._settle(state, first_bad - 1, n, f"dose {first_bad} is too toxic")
        if decision is Decision.STAY:
            return state.with_reason("next", f"complete 6 patients at dose {d}", recommended_dose=d)
        # Escalate (a too-toxic current dose is handled above).
        if d < self.doses and state.admissible[d]:
            return state.with_reason("next", f"escalate to dose {d + 1}", recommended_dose=d + 1)
        why = "the next dose is too toxic" if d < self.doses else "top dose"
        return self._settle(state, d, n, why)

    def _settle(
        self, state: DesignState, dose: int, n: np.typing.NDArray[np.int64], why: str
    ) -> DesignState:
        """Dose `dose` is the MTD candidate: expand it to 6 or declare it."""
        have = int(n[dose - 1])
        if have < MTD_N and (self.expands or have < 3):
            return state.with_reason(
                "expand",
                f"{why}; dose {dose} has {have} evaluable, treat more to reach 6",
                recommended_dose=dose,
            )
        top = " (the top dose: maximum administered dose)" if dose == self.doses else ""
        sel = Selection(
            dose, self.mtd_rule, f"{why}; dose {dose} with {have} evaluable patients{top}"
        )
        return state.stopped("stop", f"{why}; MTD is dose {dose}", sel)
