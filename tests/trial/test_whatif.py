"""What-if tables for the meeting pack, worked by hand from the 3+3 rules.

The 3+3 rules (as in Storer 1989 and every phase I textbook): 0/3 DLTs escalate; 1/3 add
three more at the same dose; 1/6 escalate; 2 or more DLTs at a dose make it too toxic: the
dose below is expanded to six, and the MTD is the highest dose with at most 1/6.
"""

from __future__ import annotations

import pytest

from phaseone.designs import Outcomes
from phaseone.designs.three_plus_three import ThreePlusThree
from phaseone.trial.whatif import what_if

LEVELS = (1, 2, 3, 4)


def _table(outcomes: str, current: int) -> tuple[str, list[tuple[str, str]]]:
    design = ThreePlusThree(doses=4)
    w = what_if(design, Outcomes.parse(outcomes, 4), LEVELS, current)
    return w.basis, [(s.describe(), s.proposal.summary()) for s in w.scenarios]


def test_next_cohort_after_a_clean_first_cohort() -> None:
    assert _table("1NNN", 2) == (
        "next cohort",
        [
            ("0 of 3 at level 2", "escalate from dose level 2 to dose level 3"),
            ("1 of 3 at level 2", "continue accrual at dose level 2"),
            ("2 of 3 at level 2", "de-escalate from dose level 2 to dose level 1"),
            ("3 of 3 at level 2", "de-escalate from dose level 2 to dose level 1"),
        ],
    )


def test_expansion_cohort_after_one_dlt() -> None:
    basis, rows = _table("1NNN 2NNT", 2)
    assert basis == "next cohort"
    assert rows[0] == ("0 of 3 at level 2", "escalate from dose level 2 to dose level 3")  # 1/6
    assert rows[1] == ("1 of 3 at level 2", "de-escalate from dose level 2 to dose level 1")


def test_expanding_the_dose_below_ends_with_an_mtd_or_none() -> None:
    # Dose 2 had 2/3: dose 1 (3 patients, no DLT) is expanded to six.
    assert _table("1NNN 2NTT", 1)[1] == [
        ("0 of 3 at level 1", "declare dose level 1 the MTD"),
        ("1 of 3 at level 1", "declare dose level 1 the MTD"),
        ("2 of 3 at level 1", "stop dose finding: no dose level is tolerable"),
        ("3 of 3 at level 1", "stop dose finding: no dose level is tolerable"),
    ]


def test_pending_patients_are_resolved_each_way() -> None:
    assert _table("1NNN 2NNP", 2) == (
        "pending",
        [
            ("0 of 1 at level 2", "escalate from dose level 2 to dose level 3"),
            ("1 of 1 at level 2", "continue accrual at dose level 2"),
        ],
    )


def test_pending_on_two_levels_gives_every_combination() -> None:
    basis, rows = _table("1NNP 2PP", 2)
    assert basis == "pending"
    assert [r[0] for r in rows] == [
        f"{a} of 1 at level 1; {b} of 2 at level 2" for a in range(2) for b in range(3)
    ]


def test_no_cohort_after_the_end() -> None:
    design = ThreePlusThree(doses=2)
    w = what_if(design, Outcomes.parse("1NNN 2NNN 2NNN", 2), (1, 2), 2)
    assert w.scenarios == () and "no further cohort" in w.note


@pytest.mark.parametrize("text", ["1NNN", "1NNN 2NNT", "1NNP"])
def test_scenario_count_is_one_more_than_the_patients_at_stake(text: str) -> None:
    _, rows = _table(text, 1 if text.endswith("P") else 2)
    at_stake = 1 if text.endswith("P") else 3
    assert len(rows) == at_stake + 1
