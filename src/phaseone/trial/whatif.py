"""What the design would decide next: for every number of DLTs the patients still pending
could have, or, when none is pending, the next cohort at the recommended dose.

Each scenario is the design's own answer (`fit`, through the exact dose paths for the next
cohort), translated to dose-level ids as the trial aggregate translates it, so the table the
committee reads and the decision the trial will take cannot differ.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from phaseone.designs import Design, Outcomes
from phaseone.designs.outcomes import Patient, Status
from phaseone.designs.paths import dose_paths
from phaseone.trial import Proposal
from phaseone.trial.aggregate import count_slots
from phaseone.trial.proposals import propose

# More combinations than this are not tabulated (pending patients spread over many levels).
MAX_SCENARIOS = 64


@dataclass(frozen=True)
class Scenario:
    """One way the outcomes could turn out, and what the design would then propose."""

    dlts: tuple[tuple[int, int, int], ...]  # (level id, DLTs, patients) per level involved
    proposal: Proposal

    def describe(self) -> str:
        return "; ".join(f"{y} of {n} at level {lv}" for lv, y, n in self.dlts)


@dataclass(frozen=True)
class WhatIf:
    basis: str  # "pending" or "next cohort"
    scenarios: tuple[Scenario, ...]
    note: str = ""


def _resolved(outcomes: Outcomes, dlts_by_dose: dict[int, int]) -> Outcomes:
    """Pending patients resolved: at each dose the first y become DLTs, the rest not.
    Within a dose only the number of DLTs matters to the designs' counts."""
    left = dict(dlts_by_dose)
    patients = []
    for p in outcomes.patients:
        if p.pending:
            status: Status = "T" if left.get(p.dose, 0) > 0 else "N"
            if status == "T":
                left[p.dose] -= 1
            patients.append(Patient(p.dose, status, None, p.cohort))
        else:
            patients.append(p)
    return Outcomes(tuple(patients))


def what_if(
    design: Design, outcomes: Outcomes, level_ids: tuple[int, ...], current_level: int
) -> WhatIf:
    """Scenarios over the pending patients, or else over the next cohort the design takes
    (as many patients as it would enrol at the recommended dose before needing an outcome)."""
    pending: dict[int, int] = {}
    for p in outcomes.patients:
        if p.pending:
            pending[p.dose] = pending.get(p.dose, 0) + 1
    if pending:
        return _pending(design, outcomes, level_ids, current_level, pending)
    return _next(design, outcomes, level_ids)


def _pending(
    design: Design,
    outcomes: Outcomes,
    level_ids: tuple[int, ...],
    current_level: int,
    pending: dict[int, int],
) -> WhatIf:
    doses = sorted(pending)
    combos = list(itertools.product(*(range(pending[d] + 1) for d in doses)))
    if len(combos) > MAX_SCENARIOS:
        return WhatIf("pending", (), f"{len(combos)} combinations: too many to tabulate")
    scenarios = []
    for combo in combos:
        counts = dict(zip(doses, combo, strict=True))
        state = design.fit(_resolved(outcomes, counts))
        scenarios.append(
            Scenario(
                tuple((level_ids[d - 1], counts[d], pending[d]) for d in doses),
                propose(state, current_level, level_ids),
            )
        )
    return WhatIf("pending", tuple(scenarios))


def _next(design: Design, outcomes: Outcomes, level_ids: tuple[int, ...]) -> WhatIf:
    state = design.fit(outcomes)
    dose = state.recommended_dose
    if not state.should_continue or dose is None:
        return WhatIf("next cohort", (), "the design takes no further cohort")
    size = count_slots(design, outcomes, dose)
    if size < 1:
        return WhatIf("next cohort", (), "the design takes no patient before an outcome")
    paths = dose_paths(design, [size], outcomes)
    # The next cohort is enrolled at `dose`: that level is the one open when it is decided.
    scenarios = tuple(
        Scenario(
            ((level_ids[dose - 1], node.dlts, node.size),),
            propose(node.state, level_ids[dose - 1], level_ids),
        )
        for node in paths.nodes[1:]
    )
    return WhatIf("next cohort", scenarios)
