"""The overall verdict, three-valued groups, and the result's views."""

from __future__ import annotations

import itertools
import json

import pytest

from phaseone.eligibility import Screener, evaluate, parse_record
from phaseone.eligibility.verdict import BIT, COMBINED, combine
from phaseone.protocol import resolve_protocol

from .conftest import AS_OF, base, screen

M, N, U, A = "met", "not_met", "unknown", "not_applicable"


# Kleene's strong three-valued logic (AND/OR), with not-applicable parts left out.
@pytest.mark.parametrize(
    ("parts", "all_of", "any_of"),
    [
        ((M, M), M, M),
        ((M, N), N, M),
        ((M, U), U, M),
        ((N, U), N, U),
        ((U, U), U, U),
        ((N, N), N, N),
        ((A, M), M, M),
        ((A, N), N, N),
        ((A, U), U, U),
        ((A, A), A, A),
    ],
)
def test_three_valued_groups(parts: tuple[str, str], all_of: str, any_of: str) -> None:
    for order in itertools.permutations(parts):
        assert combine("all_of", order) == all_of  # type: ignore[arg-type]
        assert combine("any_of", order) == any_of  # type: ignore[arg-type]
    # The engine's group step: one lookup on the OR of the children's status bits.
    mask = BIT[parts[0]] | BIT[parts[1]]  # type: ignore[index]
    assert (COMBINED["all_of"][mask], COMBINED["any_of"][mask]) == (all_of, any_of)


def test_eligible(screener: Screener) -> None:
    result = screen(screener)
    assert (result.overall, result.failed, result.unknown, result.missing) == (
        "eligible",
        (),
        (),
        (),
    )
    assert result.protocol_id == "nant-2011-04"
    assert result.protocol_version == "2025-09-05+phaseone.1"
    assert result.engine_version


def test_ineligible_names_the_most_specific_failures(screener: Screener) -> None:
    def change(r: dict) -> None:
        r["prior_therapies"][6]["end"] = "2024-05-25"  # chemotherapy 9 days ago
        r["active_infection"] = True

    result = screen(screener, change)
    assert result.overall == "ineligible"
    assert result.failed == ("inc-washout-myelosuppressive", "exc-infection")
    assert result.criterion("exc-infection").outcome == "fail"
    assert result.criterion("inc-washout").outcome == "fail"


def test_failed_any_of_group_is_named_as_a_whole(screener: Screener) -> None:
    def change(r: dict) -> None:
        r["disease_history"] = {"frontline_response": "SD", "induction_cycles": 2, "relapses": []}

    result = screen(screener, change)
    assert "inc-disease-status" in result.failed


def test_incomplete_names_missing_data(screener: Screener) -> None:
    result = screen(screener, lambda r: r.update(prior_therapies=None))
    assert result.overall == "incomplete"
    assert "prior_therapies" in result.missing
    assert "inc-washout-myelosuppressive" in result.unknown


def test_a_failure_beats_unknowns(screener: Screener) -> None:
    result = screen(screener, lambda r: r.update(prior_therapies=None, active_infection=True))
    assert result.overall == "ineligible"
    assert result.failed == ("exc-infection",)


def test_one_lesion_must_meet_every_condition(screener: Screener) -> None:
    """Size from one lesion and avidity from another do not make a target lesion."""

    def change(r: dict) -> None:
        r["disease_sites"]["mibg_scans"] = []
        r["disease_sites"]["tumor_mibg_avid"] = True
        r["disease_sites"]["soft_tissue_lesions"] = [
            {
                "id": "big",
                "date": "2024-05-25",
                "lymph_node": False,
                "longest_diameter_mm": 30,
                "mibg_avid": False,
                "fdg_avid": False,
            },
            {
                "id": "avid",
                "date": "2024-05-25",
                "lymph_node": False,
                "longest_diameter_mm": 6,
                "mibg_avid": True,
            },
        ]
        r["biopsies"] = []

    result = screen(screener, change)
    assert result.criterion("inc-soft-tissue-size").status == M  # 'big'
    assert result.criterion("inc-soft-tissue-mibg").status == M  # 'avid'
    group = result.criterion("inc-soft-tissue")
    assert group.status == N
    assert group.evidence["per_item"] == {"big": N, "avid": N}


def test_json_form_is_stable(screener: Screener) -> None:
    data = json.loads(screen(screener).to_json())
    assert list(data) == [
        "format",
        "line",
        "record_id",
        "protocol",
        "engine_version",
        "as_of",
        "dose_level",
        "overall",
        "failed",
        "unknown",
        "missing",
        "criteria",
    ]
    assert data["format"] == "phaseone.eligibility.result/1"
    assert data["as_of"] == "2024-06-03"
    first = data["criteria"][0]
    assert list(first) == [
        "id",
        "kind",
        "parent",
        "rule",
        "rule_version",
        "applies_when",
        "status",
        "outcome",
        "reason",
        "missing",
        "evidence",
    ]
    washout = next(c for c in data["criteria"] if c["id"] == "inc-washout-myelosuppressive")
    assert washout["evidence"]["last_dose"] == "2024-05-10"


def test_summary_row_details_only_what_did_not_pass(screener: Screener) -> None:
    row = screen(screener, lambda r: r.update(active_infection=True)).to_row(line=3)
    assert row["format"] == "phaseone.eligibility.row/1"
    assert row["line"] == 3
    assert row["outcomes"]["exc-infection"] == "fail"
    assert [d["id"] for d in row["details"]] == ["exc-infection"]


def test_dataframe_view(screener: Screener) -> None:
    frame = screen(screener).to_frame()
    assert len(frame) == len(screener.order)
    assert {"record_id", "id", "kind", "status", "outcome", "reason", "evidence"} <= set(
        frame.columns
    )
    assert frame.loc[frame["id"] == "inc-anc", "outcome"].item() == "pass"


def test_one_call_api_reuses_the_compiled_protocol() -> None:
    protocol = resolve_protocol("nant-2011-04")
    record = parse_record(base())
    first = evaluate(protocol, record, AS_OF, 2)
    second = evaluate(protocol, record, AS_OF, 2)
    assert first.overall == second.overall == "eligible"
    assert first.criteria == second.criteria
