"""Properties every design and modifier must keep, on trials that follow the design's own
advice with random outcomes (the shared check, like escalation's
check_dose_selector_consistency)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phaseone.designs import (
    BOIN,
    CRM,
    MTPI2,
    TITECRM,
    DemandNAtDose,
    Design,
    DesignState,
    DontSkipDoses,
    FollowPath,
    Keyboard,
    Outcomes,
    RollingSix,
    StopAtN,
    StopWhenNAtDose,
    StopWhenTooToxic,
    ThreePlusThree,
    Titration,
)
from phaseone.designs.interval import IntervalDesign
from phaseone.designs.modifiers import Modified

SKELETON = (0.05, 0.12, 0.25, 0.4, 0.55)
DESIGNS: dict[str, Callable[[], Design]] = {
    "3+3 expand": lambda: ThreePlusThree(doses=5),
    "3+3 previous": lambda: ThreePlusThree(doses=5, mtd_rule="previous"),
    "rolling six frankel": lambda: RollingSix(doses=5),
    "rolling six labja": lambda: RollingSix(doses=5, grid="labja"),
    "boin": lambda: BOIN(target_rate=0.3, doses=5),
    "boin extrasafe earlystop": lambda: BOIN(
        target_rate=0.25, doses=5, extrasafe=True, early_stop_n=9
    ),
    "boin bound": lambda: BOIN(target_rate=0.2, doses=5, bound_mtd=True),
    "mtpi2": lambda: MTPI2(target_rate=0.3, doses=5),
    "keyboard": lambda: Keyboard(target_rate=0.25, doses=5, early_stop_n=12),
    "crm": lambda: CRM(skeleton=SKELETON, target_rate=0.25),
    "crm logistic mle": lambda: CRM(
        skeleton=SKELETON, target_rate=0.25, model="logistic", method="mle"
    ),
    "tite-crm": lambda: TITECRM(skeleton=SKELETON, target_rate=0.25),
    "boin | stop_at_n": lambda: BOIN(target_rate=0.3, doses=5) | StopAtN(12),
    "crm | too toxic | n at dose": lambda: (
        CRM(skeleton=SKELETON, target_rate=0.25)
        | StopWhenTooToxic(0.35, 0.8, "any")
        | StopWhenNAtDose(9)
    ),
    "crm unrestricted | dont_skip": lambda: (
        CRM(skeleton=SKELETON, target_rate=0.25, restrict=False) | DontSkipDoses()
    ),
    "boin | follow_path | demand": lambda: (
        BOIN(target_rate=0.3, doses=5) | FollowPath("1N 2N 3N") | StopAtN(15) | DemandNAtDose(6)
    ),
    "boin | titration": lambda: BOIN(target_rate=0.3, doses=5) | Titration(3) | StopAtN(18),
    "3+3 | too toxic at 1": lambda: ThreePlusThree(doses=5) | StopWhenTooToxic(0.3, 0.9, 1),
}


def check_state(design: Design, state: DesignState) -> None:
    k = state.n_doses
    rec = state.recommended_dose
    assert rec is None or 1 <= rec <= k
    if rec is not None:
        assert state.admissible[rec - 1], "the recommended dose is admissible"
        above_eliminated = any(not a for a in state.admissible[: rec - 1])
        assert not above_eliminated, "no dose above an eliminated one is recommended"
    # Admissible doses form a prefix: eliminating a dose eliminates those above.
    first_out = next((i for i, a in enumerate(state.admissible) if not a), k)
    assert all(not a for a in state.admissible[first_out:])
    # Counts add up.
    assert sum(state.treated) == len(state.outcomes)
    for t, e, p, y in zip(state.treated, state.evaluable, state.pending, state.tox, strict=True):
        assert t == e + p and 0 <= y <= e
    sel = state.mtd()
    if sel.dose is not None:
        assert 1 <= sel.dose <= k and state.admissible[sel.dose - 1]
    if not state.should_continue:
        assert rec == sel.dose, "a stopped trial recommends its final selection"
    assert state.should_continue or not state.accrual_suspended
    assert state.explain()
    # Modifiers keep their promises.
    mods = []
    d: Design = design
    while isinstance(d, Modified):
        mods.append(d.modifier)
        d = d.parent
    for mod in mods:
        if isinstance(mod, DontSkipDoses) and state.should_continue and state.current_dose:
            assert rec is not None and rec <= state.current_dose + 1
    if (
        isinstance(d, CRM)
        and d.restrict
        and state.current_dose
        and state.should_continue
        and not mods
    ):
        assert rec is not None and rec <= state.current_dose + 1
    if design is d and isinstance(d, IntervalDesign) and state.current_dose and state.decision:
        n_cur = state.evaluable[state.current_dose - 1]
        y_cur = state.tox[state.current_dose - 1]
        assert d.decision_table(max(30, n_cur)).decide(n_cur, y_cur) is state.decision


def same(a: DesignState, b: DesignState) -> bool:
    return (a.recommended_dose, a.should_continue, a.admissible, a.reasons, a.selection.dose) == (
        b.recommended_dose,
        b.should_continue,
        b.admissible,
        b.reasons,
        b.selection.dose,
    )


@pytest.mark.parametrize("name", sorted(DESIGNS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_invariants_along_followed_trials(name: str, data: st.DataObject) -> None:
    design = DESIGNS[name]()
    outcomes = Outcomes()
    for _ in range(data.draw(st.integers(0, 12), label="cohorts")):
        state = design.fit(outcomes)
        check_state(design, state)
        assert same(state, design.fit(outcomes)), "fit is deterministic"
        if not state.should_continue or state.accrual_suspended or state.recommended_dose is None:
            break
        size = state.next_cohort_size or data.draw(st.integers(1, 3), label="size")
        letters = "".join(data.draw(st.sampled_from("NNT"), label="outcome") for _ in range(size))
        if isinstance(design, TITECRM) and data.draw(st.booleans(), label="pending"):
            letters = letters[:-1] + "P(14)"
        outcomes = outcomes.then(state.recommended_dose, letters)
    check_state(design, design.fit(outcomes))


@pytest.mark.parametrize("name", ["boin", "mtpi2", "keyboard", "3+3 expand"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_table_parity_on_arbitrary_outcomes(name: str, data: st.DataObject) -> None:
    """fit() makes exactly the decision its (n, y) table holds, whatever came before."""
    design = DESIGNS[name]()
    cohorts = data.draw(
        st.lists(st.tuples(st.integers(1, 5), st.text("NT", min_size=1, max_size=4)), max_size=8)
    )
    text = " ".join(f"{d}{letters}" for d, letters in cohorts)
    state = design.fit(text)
    check_state(design, state)
    if state.decision is not None:
        table = design.decision_table(40)  # type: ignore[attr-defined]
        d = state.current_dose
        assert d is not None
        assert table.decide(state.evaluable[d - 1], state.tox[d - 1]) is state.decision
