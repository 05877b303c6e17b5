"""Criteria that apply only on dose levels with isotretinoin (registry: hematuria,
triglycerides, hypercalcemia, paraben allergy). Level 1 of the bundled protocol has no
isotretinoin; levels 2-5 do (an assumption of the bundled protocol)."""

from __future__ import annotations

import pytest

from phaseone.eligibility import Screener
from phaseone.errors import InputError

from .conftest import Change, screen

ISO_ONLY = ["inc-hematuria", "inc-triglycerides", "inc-hypercalcemia", "exc-paraben"]


def _failing(r: dict) -> None:
    """Fails every isotretinoin-only criterion, and nothing else."""
    for f in r["findings"]:
        if f["term"] in ("hematuria", "hypercalcemia"):
            f["grade"] = 3
    for lab in r["labs"]:
        if lab["analyte"] == "triglycerides":
            lab.update(value=450, fasting=True)
    r.update(paraben_allergy=True, paraben_free_isotretinoin_available=False)


def test_without_isotretinoin_they_do_not_apply(screener: Screener) -> None:
    result = screen(screener, _failing, dose_level=1)
    for cid in ISO_ONLY:
        c = result.criterion(cid)
        assert c.status == "not_applicable", cid
        assert c.applies_when == "dose level includes isotretinoin"
    assert result.overall == "eligible"


def test_with_isotretinoin_they_decide(screener: Screener) -> None:
    result = screen(screener, _failing, dose_level=2)
    assert result.overall == "ineligible"
    assert set(result.failed) == set(ISO_ONLY)


@pytest.mark.parametrize("level", [2, 3, 4, 5])
def test_every_isotretinoin_level(screener: Screener, level: int) -> None:
    assert screen(screener, _failing, dose_level=level).criterion("exc-paraben").status == "met"


def test_no_dose_level_given_keeps_them_open(screener: Screener) -> None:
    result = screen(screener, _failing, dose_level=None)
    assert result.overall == "incomplete"
    for cid in ISO_ONLY:
        c = result.criterion(cid)
        assert c.status == "unknown", cid
        assert "dose_level" in c.missing
        assert "2, 3, 4, 5" in c.reason
    assert "dose_level" in result.missing


def test_no_dose_level_given_but_passing_everywhere(screener: Screener) -> None:
    result = screen(screener, None, dose_level=None)
    assert result.overall == "eligible"
    assert result.criterion("inc-hematuria").evidence["applies_on_levels"] == "2, 3, 4, 5"


def test_unknown_dose_level_is_an_input_error(screener: Screener) -> None:
    with pytest.raises(
        InputError, match="dose_level: unknown dose level 9; expected one of: 1, 2, 3, 4, 5"
    ):
        screen(screener, None, dose_level=9)


def test_group_with_one_iso_child(screener: Screener) -> None:
    change: Change = lambda r: r["findings"][0].update(grade=4)  # noqa: E731 - hematuria grade 4
    assert screen(screener, change, dose_level=1).criterion("inc-urine").status == "met"
    assert screen(screener, change, dose_level=2).criterion("inc-urine").status == "not_met"
