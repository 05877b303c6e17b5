from __future__ import annotations

import datetime as dt

import pytest

from phaseone.protocol import resolve_protocol
from phaseone.protocol.model import Protocol
from phaseone.trial import Enrolment


@pytest.fixture(scope="session")
def nant() -> Protocol:
    return resolve_protocol("nant-2011-04")


DAY0 = dt.date(2024, 3, 1)


def cohort(level: int, letters: str, first: int = 1, start: dt.date = DAY0) -> list[Enrolment]:
    """Enrolments from outcome letters: N no DLT, T DLT, P pending, X inevaluable."""
    outcome = {"N": "no_dlt", "T": "dlt", "P": "pending", "X": "inevaluable"}
    out = []
    for i, letter in enumerate(letters):
        day = start + dt.timedelta(days=i)
        out.append(
            Enrolment(
                patient=f"P{first + i:02d}",
                site="chla" if i % 2 == 0 else "chop",
                level=level,
                registered_on=day,
                therapy_start=day,
                outcome=outcome[letter],  # type: ignore[arg-type]
                determined_on=None if letter == "P" else day + dt.timedelta(days=28),
            )
        )
    return out
