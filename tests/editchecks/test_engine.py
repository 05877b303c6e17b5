"""The edit-check kinds, one by one, on plain records (expected values worked by hand)."""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.editchecks import Facts, check_problems, run
from phaseone.protocol import resolve_protocol
from phaseone.protocol.model import EditCheck

ASSUMED = {"source": "assumed", "note": "test"}
TODAY = dt.date(2024, 6, 10)


def _check(kind: str, **params: object) -> EditCheck:
    return EditCheck(id=f"c-{kind}", kind=kind, params=params, message="m", provenance=ASSUMED)


def _dose(**values: object) -> dict[str, object]:
    base = {"agent_id": "lenalidomide", "course_day": 3, "given": True}
    return base | values


def test_a_date_after_today_is_refused_and_today_is_not() -> None:
    check = [_check("date_not_future")]
    ahead = Facts("lab_results", {"collected_on": TODAY + dt.timedelta(days=1)}, today=TODAY)
    (found,) = run(check, ahead)
    assert (found.field, found.action) == ("collected_on", "refuse")
    assert not run(check, Facts("lab_results", {"collected_on": TODAY}, today=TODAY))
    # Without a clock (a caller that passes no today) dates are not judged.
    assert not run(check, Facts("lab_results", {"collected_on": dt.date(2999, 1, 1)}))
    resolved = {"onset_date": TODAY, "resolved_date": TODAY + dt.timedelta(days=3)}
    assert [f.field for f in run(check, Facts("adverse_events", resolved, today=TODAY))] == [
        "resolved_date"
    ]


def test_a_dose_above_the_tolerance_needs_a_reason() -> None:
    check = [_check("dose_above_plan")]
    # 10% tolerance on 25 mg: 27.5 mg passes, 27.6 mg and 250 mg do not.
    ok = Facts(
        "dose_administrations", _dose(planned_dose=25.0, given_dose=27.5), dose_tolerance=0.1
    )
    assert not run(check, ok)
    for given in (27.6, 250.0):
        facts = Facts(
            "dose_administrations", _dose(planned_dose=25.0, given_dose=given), dose_tolerance=0.1
        )
        (found,) = run(check, facts)
        assert (found.field, found.action) == ("given_dose", "reason")
    # The check's own tolerance wins over the protocol's.
    wide = [_check("dose_above_plan", tolerance=10)]
    assert not run(wide, Facts("dose_administrations", _dose(planned_dose=25.0, given_dose=250.0)))


def test_a_second_administration_on_a_day_needs_a_reason_or_is_refused() -> None:
    facts = Facts("dose_administrations", _dose(), same_day_doses=1)
    (found,) = run([_check("repeat_administration")], facts)
    assert (found.field, found.action) == ("course_day", "reason")
    (refused,) = run([_check("repeat_administration", action="refuse")], facts)
    assert refused.action == "refuse"
    assert not run([_check("repeat_administration")], Facts("dose_administrations", _dose()))
    not_given = Facts("dose_administrations", _dose(given=False), same_day_doses=1)
    assert not run([_check("repeat_administration")], not_given)


@pytest.mark.parametrize(
    ("value", "bad"), [(0.0, False), (80.0, False), (220.0, False), (221.0, True)]
)
def test_a_lab_value_outside_its_possible_limits_is_refused(value: float, bad: bool) -> None:
    facts = Facts("lab_results", {"value": value, "unit": "mmol/L"}, plausible=(0.0, 220.0))
    assert bool(run([_check("lab_plausible_limits")], facts)) is bad


def test_check_problems_name_the_bad_check() -> None:
    checks = [
        _check("date_not_future"),
        _check("no_such_kind"),
        _check("dose_above_plan", tolerance="ten"),
        _check("repeat_administration", action="warn", colour="red"),
    ]
    found = check_problems(checks)
    assert [(i, field) for i, field, _ in found] == [
        (1, "kind"),
        (2, "params.tolerance"),
        (3, "params"),
        (3, "params.action"),
    ]


def test_the_bundled_protocol_names_the_four_checks() -> None:
    protocol = resolve_protocol("nant-2011-04")
    kinds = {c.kind for c in protocol.edit_checks}
    assert kinds == {
        "date_not_future",
        "dose_above_plan",
        "repeat_administration",
        "lab_plausible_limits",
    }
    assert all(c.provenance.is_assumed for c in protocol.edit_checks)
    assert not check_problems(protocol.edit_checks)
