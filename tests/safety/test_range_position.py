"""Where a value lies against its normal range (LBNRIND, FHIR interpretation)."""

from __future__ import annotations

import pytest

from phaseone.safety.ranges import position


@pytest.mark.parametrize(
    ("value", "lln", "uln", "expected"),
    [
        (1.0, 1.5, 8.0, "LOW"),
        (1.5, 1.5, 8.0, "NORMAL"),  # a limit is inside the range
        (8.0, 1.5, 8.0, "NORMAL"),
        (8.01, 1.5, 8.0, "HIGH"),
        (50.0, None, 45.0, "HIGH"),  # only an upper limit (ALT)
        (0.0, None, 45.0, "NORMAL"),
        (3.0, None, None, None),  # no range: nothing to say
    ],
)
def test_position(value: float, lln: float | None, uln: float | None, expected: str | None) -> None:
    assert position(value, lln, uln) == expected
