"""What a rule sees: the record, the entry date, and facts derived once per record."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from phaseone.eligibility.record import DiseaseEvent, Lab, PatientRecord, Therapy
from phaseone.eligibility.verdict import Status

# A prior therapy as rules read it: (index in the record, therapy, days off it). Days off
# = days from the last dose to entry; None while it is still being given on entry.
Given = tuple[int, Therapy, int | None]


def _lab_date(pair: tuple[int, Lab]) -> dt.date:
    return pair[1].date


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """calendar.monthrange(year, month)[1], without working out the weekday as well."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


def completed_months(birth: dt.date, on: dt.date) -> int:
    """Whole months of age on a date. A birthday on a day the month lacks (e.g. the 31st)
    falls on that month's last day."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day and on.day < days_in_month(on.year, on.month):
        months -= 1
    return months


def completed_years(birth: dt.date, on: dt.date) -> int:
    return completed_months(birth, on) // 12


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, days_in_month(year, month)))


@lru_cache(maxsize=64)
def window_start(as_of: dt.date, lookback_days: int) -> dt.date:
    """The first day of a window of `lookback_days` before `as_of` (the same few for
    every record of a run: worked out once). Clamped at the first representable day,
    which every date is on or after."""
    return dt.date.fromordinal(max(1, as_of.toordinal() - lookback_days))


class Context:
    """One record on one entry date. `as_of` is the first day of protocol therapy.

    The per-record indexes (labs by analyte, therapies by category) are built
    on first use and kept for every rule that reads them."""

    __slots__ = (
        "_labs",
        "_relapses",
        "_relapses_read",
        "_therapies",
        "_therapies_of",
        "_verdict_of",
        "as_of",
        "cache",
        "item",
        "record",
    )

    def __init__(
        self,
        record: PatientRecord,
        as_of: dt.date,
        verdict_of: Callable[[str], Status],
    ) -> None:
        self.record = record
        self.as_of = as_of
        self.item: tuple[int, Any] | None = None  # (index, element) inside a for_each group
        self._verdict_of = verdict_of
        self._labs: dict[str, list[tuple[int, Lab]]] | None = None
        self._therapies: dict[str, list[Given]] | None = None
        self._therapies_of: dict[tuple[str, ...], tuple[Given, ...]] = {}
        self._relapses: list[DiseaseEvent] | None = None
        self._relapses_read = False
        # Facts derived once per record and shared by rules (keyed by the rule's choice).
        self.cache: dict[Any, Any] = {}

    def verdict_of(self, criterion_id: str) -> Status:
        """The status of another criterion of the protocol (evaluated on demand)."""
        return self._verdict_of(criterion_id)

    def days_before(self, day: dt.date) -> int:
        """Days from `day` to the entry date (0 = on the entry date)."""
        return (self.as_of - day).days

    def in_window(self, day: dt.date, lookback_days: int) -> bool:
        return 0 <= (self.as_of - day).days <= lookback_days

    def window_start(self, lookback_days: int) -> dt.date:
        """The first day of the window: `since <= day <= as_of` is in_window(day, lookback)
        with two date comparisons (loops over dated items use it)."""
        return window_start(self.as_of, lookback_days)

    # --- labs ----------------------------------------------------------------------------

    def labs(self, analyte: str) -> list[tuple[int, Lab]]:
        """(index, lab) of one analyte dated on or before as_of, oldest first."""
        index = self._labs
        if index is None:
            index = self._labs = self._index_labs()
        return index.get(analyte, [])

    def _index_labs(self) -> dict[str, list[tuple[int, Lab]]]:
        index: dict[str, list[tuple[int, Lab]]] = {}
        as_of = self.as_of
        for i, lab in enumerate(self.record.labs):
            if lab.date <= as_of:
                index.setdefault(lab.analyte, []).append((i, lab))
        for items in index.values():
            if len(items) > 1:
                items.sort(key=_lab_date)
        return index

    def latest_lab(self, analyte: str, lookback_days: int) -> tuple[int, Lab] | None:
        index = self._labs
        if index is None:
            index = self._labs = self._index_labs()
        items = index.get(analyte)
        if items and (self.as_of - items[-1][1].date).days <= lookback_days:
            return items[-1]  # (dated on or before as_of: the index holds no later ones)
        return None

    # --- prior therapy -------------------------------------------------------------------

    def therapies(self, categories: tuple[str, ...]) -> Sequence[Given]:
        """(index, therapy, days off) of these categories begun on or before as_of, by
        category in the order given, then in record order."""
        index = self._therapies
        if index is None:
            index = self._therapies = self._index_therapies()
        if len(categories) == 1:
            return index.get(categories[0], ())
        found = self._therapies_of.get(categories)
        if found is None:
            parts = [index[c] for c in categories if c in index]
            found = self._therapies_of[categories] = tuple(chain.from_iterable(parts))
        return found

    def _index_therapies(self) -> dict[str, list[Given]]:
        index: dict[str, list[Given]] = {}
        as_of = self.as_of
        entry = as_of.toordinal()
        for i, t in enumerate(self.record.prior_therapies or ()):
            start, end = t.start, t.end
            if start is not None and start > as_of:
                continue
            off = None if end is None or end >= as_of else entry - end.toordinal()
            index.setdefault(t.category, []).append((i, t, off))
        return index

    def last_dose(self, therapy: Therapy) -> dt.date | None:
        """The last dose as of entry; None while the therapy is still being given."""
        if therapy.end is None or therapy.end >= self.as_of:
            return None
        return therapy.end

    # --- disease history -----------------------------------------------------------------

    def relapses(self) -> list[DiseaseEvent] | None:
        """Relapses/progressions dated on or before as_of; None when not recorded."""
        if not self._relapses_read:
            history = self.record.disease_history
            if history is not None and history.relapses is not None:
                as_of = self.as_of
                self._relapses = [e for e in history.relapses if e.date <= as_of]
            self._relapses_read = True
        return self._relapses
