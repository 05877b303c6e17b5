"""Endpoints from follow-up records by the protocol's rules; bad records refused by field."""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.errors import InputError
from phaseone.outcomes import analyse, parse_follow_up, schedule, time_to_event
from phaseone.protocol import resolve_protocol

NANT = resolve_protocol("nant-2011-04")
EFS, OS = NANT.endpoint("efs"), NANT.endpoint("os")
REG = dt.date(2014, 1, 6)


def record(**kw):
    base = {
        "patient_id": "P1",
        "registration_date": REG.isoformat(),
        "first_dose_date": "2014-01-08",
        "dose_level": 1,
        "disease_at_entry": "measurable",
        "last_known_alive": "2015-01-06",
    }
    return parse_follow_up({**base, **kw})[0]


def test_efs_ends_at_the_first_event_of_its_set() -> None:
    r = record(
        events=[
            {"kind": "death", "date": "2014-09-01", "cause": "disease"},
            {"kind": "progression", "date": "2014-06-02", "source": "clinical"},
        ],
        last_known_alive="2014-08-30",
    )
    efs = time_to_event(r, EFS)
    assert (efs.event, efs.cnsr, efs.days) == (True, 0, (dt.date(2014, 6, 2) - REG).days)
    assert efs.description == "progression (clinical)"
    os_ = time_to_event(r, OS)
    assert (os_.event, os_.days) == (True, (dt.date(2014, 9, 1) - REG).days)


def test_censored_at_last_contact_or_new_therapy() -> None:
    r = record(new_therapy_date="2014-07-01", events=[{"kind": "relapse", "date": "2014-10-01"}])
    assert time_to_event(r, EFS).event  # the protocol does not censor at new therapy
    censoring = EFS.model_copy(update={"censor_at_new_therapy": True})
    t = time_to_event(r, censoring)
    assert (t.event, t.cnsr, t.end) == (False, 2, dt.date(2014, 7, 1))
    t = time_to_event(record(), EFS)
    assert (t.event, t.cnsr, t.days) == (False, 1, 365.0)


def test_first_dose_origin_and_never_dosed() -> None:
    by_dose = EFS.model_copy(update={"origin": "first_dose"})
    assert time_to_event(record(), by_dose).days == 363.0
    t = time_to_event(record(first_dose_date=None), by_dose)
    assert t.days is None and t.description == "no origin: never dosed"


def test_strata_of_objective_vii_and_dose_level() -> None:
    records = [
        record(patient_id="A", last_known_alive="2015-01-06"),
        record(patient_id="B", disease_at_entry="complete_response", dose_level=2,
               events=[{"kind": "relapse", "date": "2014-04-06"}]),
        record(patient_id="C", dose_level=2, events=[{"kind": "death", "date": "2014-03-07"}],
               last_known_alive="2014-03-01"),
    ]  # fmt: skip
    result = analyse(records, EFS, NANT.survival)
    labels = [c.stratum for c in result.curves]
    assert labels == [
        "all",
        "CR at entry",
        "disease at entry",
        "dose level 1",
        "dose level 2",
    ]
    all_ = result.curves[0].km
    # Events at 60 (C) and 90 (B) days, A censored at 365: S = 2/3 then 1/3.
    assert list(all_.survival) == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    rows = result.summary_rows()
    assert rows[0]["median_days"] == 90.0 and rows[0]["at_risk_365d"] == 1
    assert "log(-log)" in result.method and "Greenwood" in result.method


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"last_known_alive": "2013-12-01"}, "last_known_alive", "before the registration"),
        (
            {"events": [{"kind": "death", "date": "2014-02-01"}]},
            "last_known_alive",
            "after the death",
        ),
        ({"events": [{"kind": "relapse", "date": "2013-02-01"}]}, "events[0].date", "before the"),
        ({"disease_at_entry": "partial"}, "disease_at_entry", "Input should be"),
    ],
)
def test_bad_records_name_the_field(change, path, words) -> None:
    with pytest.raises(InputError) as caught:
        record(**change)
    assert any(p.path == path and words in p.message for p in caught.value.problems), (
        caught.value.problems
    )


def test_follow_up_schedule_and_overdue_flags() -> None:
    assert NANT.follow_up is not None
    off = dt.date(2014, 1, 31)
    visits = schedule(NANT.follow_up, off, [dt.date(2014, 5, 2)], as_of=dt.date(2014, 9, 1))
    # Every 3 months to 12, every 6 to 36, every 12 to 60: 4 + 4 + 2 visits.
    assert [v.month for v in visits] == [3, 6, 9, 12, 18, 24, 30, 36, 48, 60]
    assert visits[0].due == dt.date(2014, 4, 30)  # 31 January + 3 months: 30 April
    assert visits[0].done == dt.date(2014, 5, 2) and not visits[0].overdue
    assert visits[1].due == dt.date(2014, 7, 31) and visits[1].overdue  # window ended 30 Aug
    assert not visits[2].overdue  # due 31 October: not yet


def test_censored_at_last_assessment_when_the_endpoint_says_so() -> None:
    by_assessment = EFS.model_copy(update={"censor_at": "last_assessment"})
    t = time_to_event(record(last_assessment_date="2014-11-03"), by_assessment)
    assert (t.event, t.cnsr, t.end) == (False, 1, dt.date(2014, 11, 3))
    assert t.description == "censored at last disease assessment"
    # Without an assessment date: last contact.
    assert time_to_event(record(), by_assessment).end == dt.date(2015, 1, 6)


def test_adtte_frame_one_row_per_patient() -> None:
    from phaseone.outcomes import adtte_frame, curves_frame, summary_frame

    records = [
        record(patient_id="A"),
        record(patient_id="B", events=[{"kind": "progression", "date": "2014-04-06"}]),
    ]
    result = analyse(records, EFS, NANT.survival, strata=())
    frame = adtte_frame(result)
    assert list(frame["USUBJID"]) == ["A", "B"]
    assert list(frame["CNSR"]) == [1, 0] and list(frame["AVAL"]) == [365.0, 90.0]
    assert list(frame["PARAMCD"]) == ["EFS", "EFS"]
    assert list(summary_frame(result)["stratum"]) == ["all"]
    assert list(curves_frame(result)["surv"]) == pytest.approx([0.5, 0.5])
