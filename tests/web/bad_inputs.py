"""A shared corpus of bad inputs for every write form: non-finite and huge numbers,
negative amounts, dates outside the stores' range, NUL and control characters, wrong
types and a 20 MB value. test_one_path.py sends each through the page and the API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phaseone.demo.records import screening_record
from tests.web.service_fixtures import PATIENT_BORN

NAN, INF = float("nan"), float("inf")
TWENTY_MB = "x" * (20 * 1024 * 1024)
BAD_NUMBERS: tuple[Any, ...] = (NAN, INF, -INF, 1e308, -5.0, "twelve")
BAD_DATES = ("0001-01-01", "9999-12-31", "2024-02-30", "yesterday")
BAD_TEXT = ("bad\x00value", "bell\x07", "\x1b[31m")

Ids = dict[str, dict[str, int]]


@dataclass(frozen=True)
class WriteForm:
    """One write: its page form and its API endpoint, a valid body, and bad values."""

    name: str
    page_path: Callable[[Ids], str]
    api_path: Callable[[Ids], str]
    valid: Callable[[Ids], dict[str, Any]]
    bad: tuple[tuple[str, Any], ...]
    api_method: str = "post"
    site_fixed: bool = False  # site staff's pages take the site from the account

    def page_fields(self, body: dict[str, Any]) -> dict[str, str]:
        """The body as a form would post it: text fields, 'a.b' for nested values and
        'a.0.b' for a form's numbered rows."""
        fields: dict[str, str] = {}
        for name, value in body.items():
            if name == "site_id" and self.site_fixed:
                continue
            if name == "record":
                fields[name] = json.dumps(value)
            else:
                _flatten(name, value, fields)
        return fields


def _flatten(name: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{name}.{k}", v, into)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(f"{name}.{i}", v, into)
    elif value is not None:
        into[name] = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with `path` ('a', 'a.b' or 'a.0.b' into a list) set to `value`."""
    out = json.loads(json.dumps(body))
    *heads, last = path.split(".")
    level: Any = out
    for head in heads:
        level = level[int(head)] if isinstance(level, list) else level.setdefault(head, {})
    if isinstance(level, list):
        level[int(last)] = value
    else:
        level[last] = value
    return out


def _numbers(field: str) -> tuple[tuple[str, Any], ...]:
    return tuple((field, v) for v in BAD_NUMBERS)


def _dates(field: str) -> tuple[tuple[str, Any], ...]:
    return tuple((field, v) for v in BAD_DATES)


def _texts(field: str) -> tuple[tuple[str, Any], ...]:
    return tuple((field, v) for v in BAD_TEXT)


TODAY = dt.date(2024, 6, 3)


def _screening(ids: Ids) -> dict[str, Any]:
    record = screening_record("CHLA-001", "chla", TODAY, sex="female", birth_date=PATIENT_BORN)
    return {"record": record, "as_of": TODAY.isoformat()}


FORMS: tuple[WriteForm, ...] = (
    WriteForm(
        "patient",
        page_path=lambda ids: "/patients",
        api_path=lambda ids: "/patients",
        valid=lambda ids: {
            "site_id": "chla",
            "subject_code": "CHLA-050",
            "birth_date": "2015-01-01",
            "sex": "F",
            "consent_date": "2024-06-01",
        },
        bad=(
            *_texts("subject_code"),
            *_dates("birth_date"),
            *_dates("consent_date"),
            ("sex", "X"),
            ("subject_code", TWENTY_MB),
        ),
        site_fixed=True,
    ),
    WriteForm(
        "screening",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/screen",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/screenings",
        valid=_screening,
        bad=(*_dates("as_of"), ("record.id", "N\x00UL"), ("dose_level", "three")),
    ),
    WriteForm(
        "lab",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/labs",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/labs",
        valid=lambda ids: {
            "analyte": "anc",
            "value": 900.0,
            "unit": "/uL",
            "collected_on": "2024-06-05",
        },
        bad=(
            *_numbers("value"),
            *_dates("collected_on"),
            *_texts("unit"),
            *_texts("analyte"),
            ("course", "first"),
            ("value", TWENTY_MB),
        ),
    ),
    WriteForm(
        "dose",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/doses",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/doses",
        valid=lambda ids: {"day": 2, "agent_id": "lenalidomide", "given": True},
        bad=(
            *_numbers("given_mg"),
            ("day", "two"),
            ("day", 0),
            ("day", 10**12),
            ("given", "maybe"),
            *_texts("agent_id"),
            *_texts("reason"),
            ("reason", TWENTY_MB),
        ),
    ),
    WriteForm(
        "adverse event",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/adverse-events",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/adverse-events",
        valid=lambda ids: {
            "term": "Nausea",
            "grade": 2,
            "onset": "2024-06-05",
            "attribution": {"lenalidomide": "possible"},
        },
        bad=(
            *_texts("term"),
            ("grade", "severe"),
            ("grade", 9),
            *_dates("onset"),
            *_dates("resolved"),
            *_texts("attribution.lenalidomide"),
            *_texts("verbatim"),
        ),
    ),
    WriteForm(
        "off treatment",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/off-treatment",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/off-treatment",
        valid=lambda ids: {"ended_on": "2024-07-01", "reason": "physician_decision"},
        bad=(*_dates("ended_on"), *_texts("reason"), *_texts("detail")),
    ),
    WriteForm(
        "lab correction",
        page_path=lambda ids: (
            f"/patients/{ids['a']['patients']}/labs/{ids['a']['lab-results']}/correct"
        ),
        api_path=lambda ids: f"/lab-results/{ids['a']['lab-results']}",
        valid=lambda ids: {"value": 0.5, "reason": "transcription error"},
        bad=(*_numbers("value"), *_dates("collected_on"), *_texts("reason"), *_texts("unit")),
        api_method="patch",
    ),
    WriteForm(
        "dose correction",
        page_path=lambda ids: (
            f"/patients/{ids['a']['patients']}/doses/{ids['a']['dose-administrations']}/correct"
        ),
        api_path=lambda ids: f"/dose-administrations/{ids['a']['dose-administrations']}",
        valid=lambda ids: {"given_dose": 10.0, "reason": "transcription error"},
        bad=(*_numbers("given_dose"), ("given", "maybe"), *_texts("override")),
        api_method="patch",
    ),
    WriteForm(
        "adverse event void",
        page_path=lambda ids: (
            f"/patients/{ids['a']['patients']}/adverse-events/{ids['a']['adverse-events']}/void"
        ),
        api_path=lambda ids: f"/adverse-events/{ids['a']['adverse-events']}/void",
        valid=lambda ids: {"reason": "entered twice"},
        bad=(*_texts("reason"), ("reason", TWENTY_MB)),
    ),
    WriteForm(
        "disease evaluation",
        page_path=lambda ids: f"/patients/{ids['a']['patients']}/evaluations",
        api_path=lambda ids: f"/patients/{ids['a']['patients']}/evaluations",
        valid=lambda ids: {
            "disease_at_entry": "measurable",
            "evaluation": {
                "date": "2024-06-01",
                "kind": "baseline",
                "label": "at entry",
                "mibg": {"avid": True, "curie": {"pelvis": 2}},
                "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 40.0}],
                "marrow": [{"side": "left", "kind": "aspirate", "tumour_percent": 10.0}],
            },
        },
        bad=(
            ("evaluation.mibg.curie.pelvis", 4),
            ("evaluation.mibg.curie.pelvis", "three"),
            ("evaluation.lesions.0.diameter_mm", -3),
            *_numbers("evaluation.lesions.0.diameter_mm"),
            ("evaluation.marrow.0.tumour_percent", 140),
            *_numbers("evaluation.marrow.0.tumour_percent"),
            *_dates("evaluation.date"),
            *_texts("evaluation.label"),
            *_texts("evaluation.lesions.0.id"),
            ("evaluation.kind", "weekly"),
            ("evaluation.investigator_response", "XX"),
            ("course", "second"),
            ("disease_at_entry", "some"),
            ("evaluation.label", TWENTY_MB),
        ),
    ),
    WriteForm(
        "slot request",
        page_path=lambda ids: "/slots",
        api_path=lambda ids: "/slot-requests",
        valid=lambda ids: {"reference": "referral 9"},
        bad=(*_texts("reference"), ("reference", TWENTY_MB)),
    ),
)
