"""Invented screening records for the demo and the tests.

One template record (data/record_template.json, an invented child with relapsed,
MIBG-avid neuroblastoma who meets every NANT 2011-04 criterion when screened on
2024-06-03) is moved in time and given another identity: every date shifts by the same
number of days, so every interval the criteria test stays the same.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from importlib import resources
from typing import Any

TEMPLATE_SCREENED_ON = dt.date(2024, 6, 3)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@cache
def _template_text() -> str:
    return resources.files("phaseone.demo").joinpath("data/record_template.json").read_text()


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, str) and _DATE.match(value):
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    return value


def screening_record(
    code: str,
    site: str,
    screened_on: dt.date,
    *,
    age_years: int = 7,
    sex: str = "male",
    birth_date: dt.date | None = None,
) -> dict[str, Any]:
    """An eligible record for `code`, as it would look when screened on `screened_on`
    (born `birth_date`, or `age_years` old)."""
    record: dict[str, Any] = _shift(
        json.loads(_template_text()), (screened_on - TEMPLATE_SCREENED_ON).days
    )
    record["id"] = code
    record["site"] = site
    record["sex"] = sex
    record["childbearing_potential"] = False
    if sex == "female":
        record["post_menarchal"] = False
        record["breastfeeding"] = False
    birth = birth_date or (
        screened_on.replace(year=screened_on.year - age_years) - dt.timedelta(days=80)
    )
    record["birth_date"] = birth.isoformat()
    return record
