"""The outcome grammar (escalation README, dose-finding notes §9) and its phaseone extensions."""

from __future__ import annotations

import pytest

from phaseone.designs import Outcomes
from phaseone.errors import InputError


def test_parse_cohorts_in_order() -> None:
    o = Outcomes.parse("1NNN 2NTN")
    assert [(p.dose, p.status, p.cohort) for p in o.patients] == [
        (1, "N", 1),
        (1, "N", 1),
        (1, "N", 1),
        (2, "N", 2),
        (2, "T", 2),
        (2, "N", 2),
    ]
    c = o.counts(3)
    assert list(c.treated) == [3, 3, 0]
    assert list(c.tox) == [0, 1, 0]
    assert o.to_string() == "1NNN 2NTN"


def test_empty_string_means_no_patients() -> None:
    assert len(Outcomes.parse("")) == 0
    assert len(Outcomes.parse("   ")) == 0


def test_pending_and_follow_up_days() -> None:
    o = Outcomes.parse("3NP(12)T(5.5)")
    assert [(p.status, p.days) for p in o.patients] == [("N", None), ("P", 12.0), ("T", 5.5)]
    c = o.counts(3)
    assert (c.treated[2], c.evaluable[2], c.pending[2], c.tox[2]) == (3, 2, 1, 1)
    assert o.to_string() == "3NP(12)T(5.5)"


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("1NNN 2NXN", 8, "unexpected 'X'"),
        ("1NNN 2nn", 7, "upper case"),
        ("0NNN", 1, "numbered from 1"),
        ("1NNN 6NNN", 6, "outside 1..5"),
        ("1NNN 2", 6, "no patients"),
        ("1NNN NNN", 6, "expected a dose number"),
        ("1NP(x)", 5, "number of days"),
        ("1NP(12", 4, "not closed"),
    ],
)
def test_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        Outcomes.parse(text, n_doses=5)
    message = str(info.value)
    assert f"position {position}:" in message
    assert words in message


def test_tabular_form() -> None:
    rows = [
        {"patient": "2", "dose": 1, "dlt": "no", "followup_days": ""},
        {"patient": "1", "dose": 1, "dlt": 0},
        {"patient": "3", "dose": 2, "dlt": "", "followup_days": "12"},
        {"patient": "4", "dose": 2, "dlt": "yes", "followup_days": 9},
    ]
    o = Outcomes.from_records(rows, n_doses=3)
    assert [(p.dose, p.status, p.days) for p in o.patients] == [
        (1, "N", None),
        (1, "N", None),
        (2, "P", 12.0),
        (2, "T", 9.0),
    ]


def test_tabular_errors_name_the_row() -> None:
    with pytest.raises(InputError, match=r"outcomes\[2\]\.dlt"):
        Outcomes.from_records([{"dose": 1, "dlt": 0}, {"dose": 1, "dlt": "maybe"}])
    with pytest.raises(InputError, match=r"outside 1\.\.3"):
        Outcomes.from_records([{"dose": 4, "dlt": 0}], n_doses=3)


def test_then_appends_a_cohort() -> None:
    o = Outcomes.parse("1NNN").then(2, "NNT")
    assert o.to_string() == "1NNN 2NNT"
    assert o.last_cohort()[0].cohort == 2
