"""The dosing engine's course rules: a new course's level, start conditions against labs,
dose intensity, and the controlled terms.

Expected amounts are written from the protocol's numbers (mg/m2/day x BSA x days), not
read back from the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from phaseone.dosing.calendar import treatment_plan
from phaseone.dosing.intensity import Given, course_intensity, day_doses
from phaseone.dosing.modification import course_level
from phaseone.dosing.rules import start_conditions
from phaseone.dosing.sheet import dose_sheet
from phaseone.dosing.start import LabValue, check_start
from phaseone.dosing.terms import course_terms, delay_cause, end_reason
from phaseone.errors import InputError
from phaseone.exports.metadata import terminology
from phaseone.protocol import Protocol

DAY1 = dt.date(2027, 3, 1)


def level(protocol: Protocol, **kw: Any) -> tuple[int, str | None]:
    args: dict[str, Any] = {"registered": 3, "previous": 3, "requested": None, "reason": None}
    args.update(kw)
    return course_level(protocol, course=2, **args)


def test_a_course_keeps_the_previous_level_or_moves_lower_with_a_reason(nant: Protocol) -> None:
    assert level(nant) == (3, None)
    assert level(nant, requested=3) == (3, None)
    assert level(nant, requested=1, reason=" grade 3 rash ") == (1, "grade 3 rash")
    with pytest.raises(InputError) as missing:
        level(nant, requested=2)
    assert missing.value.problems[0].path == "level_reason"
    with pytest.raises(InputError) as above:
        level(nant, requested=4, reason="x")
    assert "above the registered level 3" in above.value.problems[0].message
    with pytest.raises(InputError, match="does not re-escalate"):
        level(nant, previous=2, requested=3, reason="recovered")
    with pytest.raises(InputError) as unknown:
        level(nant, requested=9, reason="x")
    assert unknown.value.problems[0].path == "level"


def test_re_escalation_is_the_protocols_choice(
    variant: Callable[[Callable[[dict[str, Any]], None]], Protocol],
) -> None:
    def allow(data: dict[str, Any]) -> None:
        data["dosing"]["reescalate_after_reduction"] = True

    protocol = variant(allow)
    assert level(protocol, previous=2, requested=3, reason="recovered") == (3, "recovered")
    with pytest.raises(InputError, match="above the registered level"):
        level(protocol, previous=2, requested=4, reason="x")


def test_start_conditions_read_the_newest_value_in_the_window(nant: Protocol) -> None:
    conditions = start_conditions(nant)
    since, on = DAY1, DAY1 + dt.timedelta(days=28)
    labs = [
        LabValue("anc", 2.0, "10^9/L", since - dt.timedelta(days=1)),  # before the window
        LabValue("anc", 600, "/uL", on - dt.timedelta(days=3)),
        LabValue("anc", 0.8, "10^9/L", on - dt.timedelta(days=1)),  # newest: 800 /uL
        LabValue("platelets", 40, "10^9/L", on),  # 40,000 /uL, below 50,000
    ]
    anc, platelets = check_start(conditions, labs, since, on)
    assert (anc.met, anc.value, anc.unit) == (True, 0.8, "10^9/L")
    assert (platelets.met, platelets.value) == (False, 40)
    assert "not checked" in (platelets.note or "")  # transfusions are not recorded
    (missing_anc, _) = check_start(conditions, labs[:1], since, on)
    assert missing_anc.met is False and missing_anc.value is None


def test_dose_intensity_given_over_planned_and_over_the_protocol_dose(nant: Protocol) -> None:
    # Level 2 from level 3: lenalidomide 15 mg/m2/day instead of 30, BSA 1.00 (100 cm, 36 kg).
    plan = treatment_plan(nant, 2, 100, 36, DAY1, 2, 2)
    reference = dose_sheet(nant, 3, 100, 36)
    assert plan.sheet.bsa.m2 == 1.0
    course = plan.courses[0]
    planned = {d.day: d.planned_mg for d in day_doses(course, []) if d.agent_id == "dinutuximab"}
    assert planned == {8: 17.5, 9: 17.5, 10: 17.5, 11: 17.5}
    given = [Given(8, "dinutuximab", 17.5), Given(9, "dinutuximab", 8.75)]
    rows = {r.agent_id: r for r in course_intensity(course, 2, reference, given)}
    din = rows["dinutuximab"]
    assert (din.planned_mg, din.given_mg, din.protocol_mg) == (70.0, 26.25, 70.0)
    assert din.intensity == pytest.approx(26.25 / 70) and din.relative == pytest.approx(26.25 / 70)
    assert (din.planned_days, din.recorded_days, din.given_days) == (4, 2, 2)
    assert din.full_dose is False  # below the registered level, and days missing
    lena = rows["lenalidomide"]
    assert lena.protocol_mg == pytest.approx(30 * 1.0 * 21)  # the registered level's dose
    assert (lena.given_mg, lena.relative) == (0, 0)
    statuses = [d.status for d in day_doses(course, given) if d.agent_id == "dinutuximab"]
    assert statuses == ["as planned", "reduced", "not recorded", "not recorded"]


def test_a_full_course_at_the_registered_level(nant: Protocol) -> None:
    plan = treatment_plan(nant, 3, 100, 36, DAY1, 2, 2)
    course = plan.courses[0]
    given = [Given(d.day, d.agent_id, d.planned_mg) for d in day_doses(course, [])]
    rows = course_intensity(course, 3, dose_sheet(nant, 3, 100, 36), given)
    assert {r.agent_id for r in rows} == {"lenalidomide", "dinutuximab", "isotretinoin"}
    assert all(r.full_dose and r.intensity == pytest.approx(1.0) for r in rows)


def test_the_controlled_terms(nant: Protocol) -> None:
    terms = course_terms()
    assert end_reason("completed_therapy").all_courses
    # Every end reason has its CDISC disposition term (DSDECOD) in the export's terminology.
    decode = terminology()["off_treatment"]
    assert {t.id for t in terms.end_reasons} <= set(decode)
    assert decode["progressive_disease"] == "PROGRESSIVE DISEASE"
    # The delay cause the protocol's course_delay DLT rule names is a term sites can pick.
    causes = [r.params["cause"] for r in nant.dlt.rules if r.rule == "course_delay"]
    assert causes and all(delay_cause(c).id == c for c in causes)
    with pytest.raises(InputError) as bad:
        delay_cause("weather", "body.delay_cause")
    assert bad.value.problems[0].path == "body.delay_cause"
