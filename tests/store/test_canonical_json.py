"""The one JSON text every audit entry and signed record is hashed over: its form is
pinned here, written out by hand, because a change to it would break every stored chain
and signature (`audit verify` recomputes the hashes with today's code)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum

from phaseone.store.audit import canonical_json


class Colour(enum.StrEnum):
    RED = "red"


class Grade(enum.IntEnum):
    THREE = 3


def test_the_canonical_text_is_pinned() -> None:
    value = {
        "b": [1, 2.5, True, None, "é"],
        "a": {"z": (dt.date(2024, 2, 29), Colour.RED), 7: Grade.THREE},
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "dose": decimal.Decimal("12.50"),
        "flag": False,
    }
    assert canonical_json(value) == (
        '{"a":{"7":3,"z":["2024-02-29","red"]},"b":[1,2.5,true,null,"é"],'
        '"dose":"12.50","flag":false,"when":"2024-01-02T01:04:05.000006Z"}'
    )


def test_an_enum_is_written_by_its_value_wherever_it_is() -> None:
    # A StrEnum is a str and an IntEnum an int, but neither is written as the member.
    assert canonical_json([Colour.RED, Grade.THREE, {"k": Colour.RED}]) == '["red",3,{"k":"red"}]'
