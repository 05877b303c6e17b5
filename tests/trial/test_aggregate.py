"""The trial aggregate on the bundled NANT 2011-04 protocol (rolling six, Frankel 2020 grid).

Expected states are read by hand from the rolling-six grid of Frankel et al., JAMA Netw
Open 2020;3(5):e204787, Table 2 (domain notes dose-finding.md §3.3) and from the
protocol's 28-day course-1 DLT window; none is copied from the code's output.
"""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.designs import RollingSix, ThreePlusThree
from phaseone.errors import InputError
from phaseone.trial import ConfirmedDecision, Enrolment, LevelState, TrialHistory, evaluate
from phaseone.trial.aggregate import NoSlotOpen

from .conftest import DAY0, cohort

AS_OF = dt.date(2024, 6, 1)


def state_of(nant, enrolments, decisions=(), as_of=AS_OF, design=None):
    return evaluate(nant, TrialHistory.of(enrolments, decisions), as_of, design)


def escalated(to: int, on: dt.date = dt.date(2024, 5, 1), seq: int = 1) -> ConfirmedDecision:
    return ConfirmedDecision(on, "escalate", to, to - 1, seq)


def test_a_new_trial_opens_the_starting_level_with_six_slots(nant):
    # Rolling six puts up to 6 patients on a level at once (Skolnik 2008).
    s = state_of(nant, [])
    assert s.current_level == 1
    assert s.accrual is LevelState.OPEN
    assert s.slots_open == 6
    assert s.next_level == 1
    assert s.assign().id == 1
    assert [lv.state for lv in s.levels] == [LevelState.OPEN] + [LevelState.NOT_OPEN] * 4
    assert s.proposal.kind == "stay"


def test_slots_count_down_as_patients_register(nant):
    for n in range(6):
        s = state_of(nant, cohort(1, "P" * n))
        assert s.slots_open == 6 - n, n


def test_six_pending_suspends_accrual_until_a_window_closes(nant):
    # n = 6 with outcomes pending: hold accrual (Frankel 2020, "6 total, 0 DLT, 0-4 evaluable").
    s = state_of(nant, cohort(1, "PPPPPP"), as_of=DAY0 + dt.timedelta(days=10))
    assert s.accrual is LevelState.SUSPENDED
    assert s.slots_open == 0
    assert s.next_level is None
    with pytest.raises(NoSlotOpen, match="on hold at dose level 1: 6 DLT windows pending"):
        s.assign()
    # The first patient started 2024-03-01: day 28 of course 1 is 2024-03-28.
    assert s.next_window_close == dt.date(2024, 3, 28)
    assert "the first ends 2024-03-28" in s.level(1).note


def test_one_dlt_among_six_with_outcomes_pending_suspends(nant):
    # Frankel 2020: 6 total, 1 DLT, 1-5 evaluable -> hold accrual.
    s = state_of(nant, cohort(1, "TNPPPP"))
    assert s.accrual is LevelState.SUSPENDED
    assert s.level(1).dlt == 1 and s.level(1).pending == 4


def test_four_enrolled_three_evaluable_stays_and_fills_to_six(nant):
    # Frankel 2020: 4-5 total, 3 evaluable, 0 DLT -> same level; then 6 on the level -> hold.
    s = state_of(nant, cohort(1, "NNNP"))
    assert s.proposal.kind == "stay"
    assert s.accrual is LevelState.OPEN
    assert s.slots_open == 2


def test_the_labja_grid_escalates_where_frankel_waits(nant):
    # labja/RollingSix: n = 4, D = 0, P <= 1 -> escalate (dose-finding.md §3.2).
    s = state_of(nant, cohort(1, "NNNP"), design=RollingSix(doses=5, grid="labja"))
    assert s.proposal.kind == "escalate"
    assert s.accrual is LevelState.AWAITING_DECISION
    assert s.slots_open == 0


def test_three_without_dlt_proposes_escalation_which_waits_for_the_chair(nant):
    s = state_of(nant, cohort(1, "NNN"))
    assert s.proposal.kind == "escalate"
    assert (s.proposal.from_level, s.proposal.level) == (1, 2)
    assert s.proposal.summary() == "escalate from dose level 1 to dose level 2"
    assert s.accrual is LevelState.AWAITING_DECISION
    assert s.next_level is None
    assert "grid" in s.proposal.rationale

    confirmed = state_of(nant, cohort(1, "NNN"), [escalated(2)])
    assert confirmed.current_level == 2
    assert confirmed.accrual is LevelState.OPEN
    assert confirmed.slots_open == 6
    assert confirmed.level(1).state is LevelState.COMPLETED
    assert confirmed.level(2).state is LevelState.OPEN
    assert confirmed.proposal.kind == "stay"


def test_a_second_dlt_proposes_de_escalation_and_the_level_is_too_toxic(nant):
    history = cohort(1, "NNN") + cohort(2, "TT", first=4, start=dt.date(2024, 5, 2))
    s = state_of(nant, history, [escalated(2)])
    # Any level with >= 2 DLTs de-escalates (Skolnik 2008; Frankel 2020).
    assert s.proposal.kind == "deescalate"
    assert (s.proposal.from_level, s.proposal.level) == (2, 1)
    assert s.accrual is LevelState.AWAITING_DECISION
    assert s.slots_open == 0

    down = ConfirmedDecision(dt.date(2024, 6, 1), "deescalate", 1, 2, 2)
    s = state_of(nant, history, [escalated(2), down])
    assert s.current_level == 1
    assert s.level(2).state is LevelState.TOO_TOXIC
    assert s.level(3).state is LevelState.CLOSED
    assert s.level(3).note == "above a level that is too toxic"
    # Level 1 has 3 evaluable; it is filled to 6 before an MTD can be declared.
    assert s.accrual is LevelState.OPEN
    assert s.slots_open == 3


def test_six_evaluable_with_one_dlt_below_a_toxic_level_is_declared_the_mtd(nant):
    history = cohort(1, "NNNNNT") + cohort(2, "TT", first=7, start=dt.date(2024, 5, 2))
    decisions = [escalated(2), ConfirmedDecision(dt.date(2024, 6, 1), "deescalate", 1, 2, 2)]
    s = state_of(nant, history, decisions)
    assert s.proposal.kind == "declare_mtd"
    assert s.proposal.level == 1
    assert s.accrual is LevelState.AWAITING_DECISION
    closed = [*decisions, ConfirmedDecision(dt.date(2024, 6, 2), "declare_mtd", 1, 1, 3)]
    s = state_of(nant, history, closed)
    assert s.mtd == 1
    assert s.current_level is None
    assert s.accrual is LevelState.CLOSED
    assert s.level(1).state is LevelState.MTD
    assert s.level(2).state is LevelState.TOO_TOXIC
    assert s.level(5).state is LevelState.CLOSED
    with pytest.raises(NoSlotOpen, match="dose level 1 declared the MTD"):
        s.assign()


def test_an_inevaluable_patient_is_replaced(nant):
    s = state_of(nant, cohort(1, "XPPPPP"))
    assert s.level(1).enrolled == 5
    assert s.level(1).inevaluable == 1
    assert s.slots_open == 1


def test_pending_windows_count_from_the_first_dose(nant):
    e = Enrolment("P01", "chla", 1, dt.date(2024, 3, 1), therapy_start=dt.date(2024, 3, 4))
    s = state_of(nant, [e], as_of=dt.date(2024, 3, 20))
    (w,) = s.pending
    # Day 1 = 2024-03-04; day 28 = 2024-03-31; 11 days after 2024-03-20.
    assert w.window_end == dt.date(2024, 3, 31)
    assert w.days_left == 11
    assert not w.estimated and not w.due
    assert state_of(nant, [e], as_of=dt.date(2024, 4, 1)).due[0].patient == "P01"


def test_a_window_without_a_first_dose_is_estimated_from_registration(nant):
    e = Enrolment("P01", "chla", 1, dt.date(2024, 3, 1))
    (w,) = state_of(nant, [e], as_of=dt.date(2024, 3, 2)).pending
    assert w.window_end == dt.date(2024, 3, 28)
    assert w.estimated
    assert "counted from registration" in w.reason


def test_going_off_treatment_inside_the_window_makes_the_determination_due(nant):
    e = Enrolment("P01", "chla", 1, DAY0, therapy_start=DAY0, off_treatment_on=dt.date(2024, 3, 10))
    (w,) = state_of(nant, [e], as_of=dt.date(2024, 3, 11)).pending
    assert w.due and "off treatment on 2024-03-10" in w.reason


def test_three_plus_three_keeps_one_cohort_in_flight(nant):
    design = ThreePlusThree(doses=5)
    assert state_of(nant, [], design=design).slots_open == 3
    assert state_of(nant, cohort(1, "NP"), design=design).slots_open == 1
    full = state_of(nant, cohort(1, "NNP"), design=design)
    assert full.slots_open == 0 and full.accrual is LevelState.SUSPENDED
    # 1 DLT in 3: three more at the same dose.
    assert state_of(nant, cohort(1, "NTN"), design=design).slots_open == 3


def test_the_same_history_gives_the_same_answer(nant):
    history = cohort(1, "NNNNNT") + cohort(2, "PP", first=7, start=dt.date(2024, 5, 2))
    a = state_of(nant, history, [escalated(2)])
    b = state_of(nant, history, [escalated(2)])
    assert a.as_dict() == b.as_dict()
    assert a.to_frame()["enrolled"].tolist() == [6, 2, 0, 0, 0]


def test_dose_level_ids_need_not_be_one_to_n(nant):
    levels = tuple(lv.model_copy(update={"id": lv.id * 10}) for lv in nant.dose_levels)
    design = nant.design.model_copy(update={"starting_dose_level": 10})
    protocol = nant.model_copy(update={"dose_levels": levels, "design": design})
    s = state_of(protocol, cohort(10, "NNN"))
    assert (s.proposal.from_level, s.proposal.level) == (10, 20)
    s = state_of(protocol, cohort(10, "NNN"), [ConfirmedDecision(AS_OF, "escalate", 20, 10)])
    assert s.next_level == 20


def test_bad_history_names_every_problem(nant):
    bad = [
        Enrolment("P01", "chla", 9, dt.date(2024, 3, 2)),
        Enrolment("P01", "chla", 1, dt.date(2024, 3, 1), outcome="dlt"),
    ]
    with pytest.raises(InputError) as err:
        state_of(nant, bad)
    paths = [p.path for p in err.value.problems]
    assert paths == [
        "enrolments[0].level",
        "enrolments[1].patient",
        "enrolments[1].determined_on",
        "enrolments[1].registered_on",
    ]


def test_no_decision_after_the_trial_closed(nant):
    decisions = [
        ConfirmedDecision(AS_OF, "stop_no_mtd", None, 1),
        ConfirmedDecision(AS_OF, "escalate", 2, 1),
    ]
    with pytest.raises(InputError, match="closed the trial"):
        state_of(nant, [], decisions)


def test_explain_names_the_state_and_the_rule(nant):
    text = state_of(nant, cohort(1, "NNN")).explain()
    assert "awaiting the chair's decision" in text
    assert "design proposes: escalate from dose level 1 to dose level 2" in text
    assert "3 enrolled, 0 DLT, 0 pending -> escalate" in text
