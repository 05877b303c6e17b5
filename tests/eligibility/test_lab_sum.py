"""APC = ANC + monocytes: which values are added when several were measured.

The record's wording: "absolute phagocyte count (APC = ANC + monocytes) >= 1000/uL". Our
reading (docs/eligibility.md): the latest day within the 7-day look-back on which both
parts were measured; a reported APC measured later wins; a part measured twice on that
day counts with its last value. The expected sums below are worked out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from phaseone.eligibility import Screener, parse_record

from .conftest import AS_OF, ago, base


def _counts(*labs: tuple[str, float, int]) -> Any:
    """Replace the base record's ANC and monocytes with (analyte, cells/uL, days ago)."""

    def change(r: dict[str, Any]) -> None:
        r["labs"] = [x for x in r["labs"] if x["analyte"] not in ("anc", "monocytes", "apc")]
        r["labs"] += [{"analyte": a, "value": v, "unit": "/uL", "date": ago(d)} for a, v, d in labs]

    return change


@pytest.mark.parametrize(
    ("labs", "status", "value", "day"),
    [
        # Both parts on one day: 700 + 350.
        ([("anc", 700, 2), ("monocytes", 350, 2)], "met", 1050, 2),
        # Parts on different days only: no APC for any day.
        ([("anc", 900, 2), ("monocytes", 300, 3)], "unknown", None, None),
        # Two complete days: the later one (day 1: 600 + 300 = 900) decides.
        (
            [("anc", 900, 4), ("monocytes", 300, 4), ("anc", 600, 1), ("monocytes", 300, 1)],
            "not_met",
            900,
            1,
        ),
        # ANC twice on the same day: the last listed counts (500 + 400).
        ([("anc", 800, 2), ("anc", 500, 2), ("monocytes", 400, 2)], "not_met", 900, 2),
        # A complete day outside the 7-day look-back does not count.
        ([("anc", 900, 8), ("monocytes", 300, 8)], "unknown", None, None),
        # A reported APC measured later than the parts wins: 950 < 1000.
        ([("anc", 900, 3), ("monocytes", 300, 3), ("apc", 950, 1)], "not_met", 950, 1),
        # Parts measured later than a reported APC win: 900 + 300.
        ([("anc", 900, 1), ("monocytes", 300, 1), ("apc", 950, 3)], "met", 1200, 1),
    ],
)
def test_apc_from_its_parts(
    screener: Screener,
    labs: list[tuple[str, float, int]],
    status: str,
    value: float | None,
    day: int | None,
) -> None:
    record = base()
    _counts(*labs)(record)
    full = screener.evaluate(parse_record(record), AS_OF, 2)
    c = full.criterion("inc-apc")
    assert c.status == status
    if value is not None:
        assert c.evidence["value"] == pytest.approx(value)  # canonical unit: /uL
        assert c.evidence["date"].isoformat() == ago(day or 0)
