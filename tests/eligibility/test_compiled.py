"""The compiled status pass: groups as bit-table lookups, and refusal of a bad plan."""

from __future__ import annotations

from itertools import combinations

import pytest

from phaseone.eligibility import Screener
from phaseone.eligibility.compiled import BIT, TABLES, StatusPass, Step
from phaseone.eligibility.verdict import MET, NOT_APPLICABLE, NOT_MET, UNKNOWN, combine

ALL = (MET, NOT_MET, UNKNOWN, NOT_APPLICABLE)


@pytest.mark.parametrize("mode", ["all_of", "any_of"])
def test_group_tables_are_combine(mode: str) -> None:
    for size in range(1, 5):
        for statuses in combinations(ALL, size):
            mask = 0
            for s in statuses:
                mask |= BIT[s]
            assert TABLES[mode][mask] == combine(mode, statuses), statuses


def test_source_names_every_criterion(screener: Screener) -> None:
    source = screener.status_passes[2].source
    for cid in screener.ids:
        if cid not in screener.skipped[2]:
            assert repr(cid) in source, cid


def _rule(cid: str) -> Step:
    return Step(cid, "inclusion", lambda ctx, p: (MET, ""), None, None, (), "all_of", ())


def test_a_group_before_its_children_is_refused() -> None:
    group = Step("g", "inclusion", None, None, None, ("a",), "all_of", ())
    with pytest.raises(ValueError, match="'a' is needed before it is evaluated"):
        StatusPass([group, _rule("a")], ["g", "a"], (), (), (), _no, _no)


def test_a_criterion_neither_evaluated_nor_skipped_is_refused() -> None:
    with pytest.raises(ValueError, match="neither evaluated nor skipped"):
        StatusPass([_rule("a")], ["a", "b"], (), (), (), _no, _no)


def _no(*args: object) -> object:
    raise AssertionError("not called")
