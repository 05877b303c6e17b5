"""The companion-study exclusion reads the study the protocol names, not a fixed field."""

from __future__ import annotations

from typing import Any

import yaml

from phaseone.eligibility import Screener, parse_record
from phaseone.eligibility.verdict import MET, UNKNOWN
from phaseone.protocol import bundled_protocols, parse_protocol, resolve_protocol
from tests.eligibility.conftest import AS_OF, base


def _protocol_naming(study: str, title: str) -> Any:
    data = yaml.safe_load(bundled_protocols()["nant-2011-04"].read_text("utf-8"))
    (criterion,) = [c for c in data["eligibility"] if c["id"] == "exc-biology-study"]
    criterion["params"] = {"study": study, "title": title}
    return parse_protocol(yaml.safe_dump(data, sort_keys=False), "variant.yaml")


def _status(protocol: Any, studies: dict[str, Any] | None) -> tuple[str, str]:
    record = base()
    record["companion_studies"] = studies
    result = Screener(protocol).evaluate(parse_record(record), AS_OF, 2)
    c = result.criterion("exc-biology-study")
    return c.status, c.reason


def test_nant_2011_04_names_the_nant_2004_05_biology_study() -> None:
    nant = resolve_protocol("nant-2011-04")
    declined = {"nant-2004-05": {"status": "declined", "site_exemption": False}}
    status, reason = _status(nant, declined)
    assert status == MET and "NANT 2004-05 biology study" in reason


def test_another_protocol_names_another_study_without_code() -> None:
    other = _protocol_naming("abc-biology", "ABC biology study")
    nant_only = {"nant-2004-05": {"status": "declined", "site_exemption": False}}
    status, reason = _status(other, nant_only)
    assert status == UNKNOWN and reason.startswith("ABC biology study: enrolment not recorded")
    declined = {"abc-biology": {"status": "declined", "site_exemption": False}}
    assert _status(other, declined)[0] == MET
