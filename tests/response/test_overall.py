"""The overall combination, every row, and the best overall response.

Source: the overall table reconstructed from Park 2017 Table 5 and checked against PDQ's
overall definitions (shared/domain/standards.md §1.2 and §1.4).
"""

from __future__ import annotations

import pytest

from phaseone.response import best_response, combine, criteria_for, evaluate_patient

from .helpers import curie, evaluation, lesion, marrow, patient

INRC = criteria_for("INRC-2017")


@pytest.mark.parametrize(
    ("primary", "metastatic", "marrow_", "improved", "expected", "row"),
    [
        ("PD", "CR", "CR", True, "PD", "PD: any component PD"),
        ("PR", "PR", "PD", True, "PD", "PD: any component PD, whatever the others"),
        ("NE", "CR", "CR", True, "NE", "a component not evaluable"),
        ("NE", "PD", "CR", True, "PD", "PD wins over a component not evaluable"),
        ("NI", "NI", "NI", True, "NE", "no disease at baseline"),
        ("CR", "CR", "CR", True, "CR", "CR: all components CR"),
        ("CR", "NI", "NI", True, "CR", "CR: CR or NI, one involved"),
        ("PR", "CR", "NI", True, "PR", "PR: one PR, others CR/PR/MD/NI"),
        ("CR", "CR", "MD", True, "PR", "PDQ PR: marrow 0-5% with the rest responding"),
        ("CR", "CR", "MD", False, "PR", "persisting MD allowed beside a response"),
        ("NI", "NI", "MD", True, "PR", "marrow-only disease fell to <= 5%"),
        ("NI", "NI", "MD", False, "SD", "marrow-only MD persisting: no response"),
        ("PR", "SD", "NI", True, "MR", "MR: one responding, another SD, none PD"),
        ("CR", "SD", "CR", True, "MR", "MR: CR components with one SD"),
        ("SD", "NI", "MD", True, "MR", "MD from > 5% counts as responding"),
        ("SD", "NI", "NI", True, "SD", "SD: one SD, none better except NI"),
        ("SD", "SD", "MD", False, "SD", "persisting MD is not a response"),
    ],
)
def test_overall_rows(primary, metastatic, marrow_, improved, expected, row) -> None:
    assert combine(primary, metastatic, marrow_, INRC, improved).response == expected, row


def test_cr_with_not_involved_components_under_both_settings() -> None:
    assert combine("CR", "NI", "NI", INRC).rule == "overall.CR"
    strict = INRC.with_params({"cr_allows_not_involved": False})
    assert combine("CR", "NI", "NI", strict).rule == "overall.PR.cr_with_not_involved"
    assert combine("CR", "CR", "CR", strict).response == "CR"


# --- best overall response -------------------------------------------------------------------

BASE = evaluation(0, lesions=[lesion("T1", 50, "primary", avid=True)], marrow=marrow(0))


def at(day: int, mm: float, avid: bool = False):
    return evaluation(day, lesions=[lesion("T1", mm, "primary", avid=avid)])


def test_best_response_stops_at_the_first_pd() -> None:
    # PR (30 mm), SD (40: +33% over the nadir 30, +10 mm: PD), then CR: CR after PD ignored.
    r = evaluate_patient(patient(BASE, at(56, 30), at(112, 40), at(168, 5)), INRC)
    assert [e.response for e in r.evaluations[1:]] == ["PR", "PD", "CR"]
    assert r.best == "PR"


@pytest.mark.parametrize(
    ("days_mm", "expected"),
    [
        ([(56, 5), (84, 5)], "CR"),  # CR confirmed by CR 28 days later
        ([(56, 9), (84, 13)], "PR"),  # CR, then PR (13 mm: +4 mm, not PD): PR confirmed
        ([(56, 5)], "SD"),  # unconfirmed CR counts as SD
        ([(56, 5), (70, 5)], "SD"),  # 14 days later: too early to confirm
        ([(56, 30), (84, 60)], "SD"),  # PR followed by PD: not confirmed
    ],
)
def test_confirmation_when_required(days_mm, expected) -> None:
    confirm = INRC.with_params({"confirmation_required": True})
    p = patient(BASE, *(at(d, mm) for d, mm in days_mm))
    assert evaluate_patient(p, confirm).best == expected
    # Without confirmation the first response stands.
    assert evaluate_patient(p, INRC).best in ("CR", "PR")


def test_not_evaluable_with_reason() -> None:
    no_base = patient(at(56, 30))
    r = evaluate_patient(no_base, INRC)
    assert (r.best, r.best_reason) == ("NE", "no baseline evaluation")
    r = evaluate_patient(patient(BASE), INRC)
    assert (r.best, r.best_reason) == ("NE", "no evaluation after baseline")
    in_cr = evaluation(0, mibg=curie({}), marrow=marrow(0))
    r = evaluate_patient(patient(in_cr, evaluation(56, mibg=curie({}))), INRC)
    assert r.best == "NE" and "no disease at baseline" in r.best_reason
    assert not r.disease_at_baseline
    assert best_response([], INRC) == ("NE", "no evaluation after baseline", None)


def test_result_explains_itself() -> None:
    r = evaluate_patient(patient(BASE, at(56, 30)), INRC).evaluations[1]
    assert r.overall.rule == "overall.PR"
    primary = r.components[0]
    assert primary.rule == "primary.PR"
    assert primary.inputs["diameter_mm"] == 30 and primary.inputs["baseline_mm"] == 50
    assert "-40%" in primary.reason


def test_investigator_response_beside_the_computed_one() -> None:
    e = at(56, 30)
    e["investigator_response"] = "SD"
    e["investigator_reason"] = "measurement disputed"
    r = evaluate_patient(patient(BASE, e), INRC).evaluations[1]
    assert r.investigator_response == "SD" and r.agrees is False


def test_examples_keep_the_invariants_under_both_rule_sets() -> None:
    from pathlib import Path

    from phaseone.response import evaluate_patients, parse_evaluations_json
    from phaseone.response.inrc import check_consistency

    text = (Path(__file__).parents[2] / "examples" / "evaluations.json").read_text()
    for cid in ("INRC-2017", "NANTRC-1.0"):
        c = criteria_for(cid)
        for result in evaluate_patients(parse_evaluations_json(text), c):
            check_consistency(result, c)


def test_rs_rows_carry_components_and_overall() -> None:
    from phaseone.response import rs_frame

    frame = rs_frame([evaluate_patient(patient(BASE, at(56, 30)), INRC)])
    assert list(frame["RSTESTCD"]) == ["PRIMRESP", "METSRESP", "BMRESP", "OVRLRESP"]
    assert list(frame["RSORRES"]) == ["PR", "NI", "NI", "PR"]
    assert set(frame["RSCAT"]) == {"INRC-2017"} and list(frame["RSSEQ"]) == [1, 2, 3, 4]
