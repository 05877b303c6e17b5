"""The per-record helpers rules read through the Context agree with their plain definitions."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from phaseone.eligibility import parse_record
from phaseone.eligibility.context import Context, days_in_month

from .conftest import AS_OF, base


def _context(record: dict[str, Any], as_of: dt.date = AS_OF) -> Context:
    return Context(parse_record(record), as_of, lambda cid: "met")


def test_days_in_month_is_the_calendars() -> None:
    for year in (*range(1, 2401), 9999):
        for month in range(1, 13):
            assert days_in_month(year, month) == calendar.monthrange(year, month)[1]


def test_window_start_agrees_with_in_window() -> None:
    for as_of in (AS_OF, dt.date(1, 1, 10), dt.date(2024, 3, 1)):
        ctx = _context(base(), as_of)
        for lookback in (0, 1, 7, 28, 3650):
            since = ctx.window_start(lookback)
            for back in range(-3, lookback + 5):
                if as_of.toordinal() - back < 1:
                    continue  # before the first representable day
                day = as_of - dt.timedelta(days=back)
                assert (since <= day <= as_of) == ctx.in_window(day, lookback), (as_of, back)


def test_therapies_by_category_then_record_order_with_days_off() -> None:
    record = base()
    record["prior_therapies"] = [
        {"category": "radiation", "start": "2024-01-02", "end": "2024-01-20"},
        {"category": "biologic", "start": "2024-02-01", "end": None},
        {"category": "radiation", "start": "2024-03-01", "end": "2024-06-03"},
        {"category": "biologic", "start": "2024-06-04", "end": None},  # begins after entry
        {"category": "retinoid", "start": None, "end": "2024-05-31"},
    ]
    ctx = _context(record)
    found = ctx.therapies(("biologic", "radiation", "retinoid"))
    assert [(i, off) for i, _, off in found] == [(1, None), (0, 135), (2, None), (4, 3)]
    assert [i for i, _, _ in ctx.therapies(("radiation",))] == [0, 2]
    assert ctx.therapies(("cytokine",)) == ()
    for i, t, off in found:
        last = ctx.last_dose(t)
        assert off == (None if last is None else ctx.days_before(last)), i


def test_relapses_by_entry() -> None:
    record = base()
    record["disease_history"]["relapses"] = [
        {"date": "2024-04-10", "kind": "relapse"},
        {"date": "2024-06-10", "kind": "progression"},
    ]
    assert [e.date for e in _context(record).relapses() or ()] == [dt.date(2024, 4, 10)]
    record["disease_history"]["relapses"] = None
    assert _context(record).relapses() is None
