"""What a rule sees: the record, the entry date, and facts derived once per record."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Any

from phaseone.eligibility.record import Lab, PatientRecord, Therapy
from phaseone.eligibility.verdict import Status


def _lab_date(pair: tuple[int, Lab]) -> dt.date:
    return pair[1].date


def completed_months(birth: dt.date, on: dt.date) -> int:
    """Whole months of age on a date. A birthday on a day the month lacks (e.g. the 31st)
    falls on that month's last day."""
    months = (on.year - birth.year) * 12 + (on.month - birth.month)
    if on.day < birth.day and on.day < calendar.monthrange(on.year, on.month)[1]:
        months -= 1
    return months


def completed_years(birth: dt.date, on: dt.date) -> int:
    return completed_months(birth, on) // 12


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Context:
    """One record on one entry date. `as_of` is the first day of protocol therapy."""

    __slots__ = (
        "_cache",
        "_labs",
        "_therapies",
        "_therapies_of",
        "_verdict_of",
        "as_of",
        "brief",
        "item",
        "record",
    )

    def __init__(
        self,
        record: PatientRecord,
        as_of: dt.date,
        verdict_of: Callable[[str], Status],
        *,
        brief: bool = False,
    ) -> None:
        self.record = record
        self.as_of = as_of
        # Status only: a rule may return a bare outcome (verdict.decided) once its status is
        # known, skipping its reason and evidence; the engine asks again where they are shown.
        self.brief = brief
        self.item: tuple[int, Any] | None = None  # (index, element) inside a for_each group
        self._verdict_of = verdict_of
        self._labs: dict[str, list[tuple[int, Lab]]] | None = None
        self._therapies: dict[str, list[tuple[int, Therapy]]] | None = None
        self._therapies_of: dict[tuple[str, ...], tuple[tuple[int, Therapy], ...]] = {}
        self._cache: dict[Any, Any] = {}

    def verdict_of(self, criterion_id: str) -> Status:
        """The status of another criterion of the protocol (evaluated on demand)."""
        return self._verdict_of(criterion_id)

    def days_before(self, day: dt.date) -> int:
        """Days from `day` to the entry date (0 = on the entry date)."""
        return (self.as_of - day).days

    def in_window(self, day: dt.date, lookback_days: int) -> bool:
        return 0 <= (self.as_of - day).days <= lookback_days

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

    def therapies(self, categories: tuple[str, ...]) -> tuple[tuple[int, Therapy], ...]:
        """(index, therapy) of these categories begun on or before as_of."""
        found = self._therapies_of.get(categories)
        if found is None:
            index = self._therapies
            if index is None:
                index = {}
                for i, t in enumerate(self.record.prior_therapies or ()):
                    if t.start is None or t.start <= self.as_of:
                        index.setdefault(t.category, []).append((i, t))
                self._therapies = index
            found = tuple(pair for c in categories for pair in index.get(c, ()))
            self._therapies_of[categories] = found
        return found

    def last_dose(self, therapy: Therapy) -> dt.date | None:
        """The last dose as of entry; None while the therapy is still being given."""
        if therapy.end is None or therapy.end >= self.as_of:
            return None
        return therapy.end

    @property
    def cache(self) -> dict[Any, Any]:
        """Facts derived once per record and shared by rules (keyed by the rule's choice)."""
        return self._cache
