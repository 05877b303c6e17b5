"""Response rates with Clopper-Pearson intervals; bad input refused with the field named."""

from __future__ import annotations

import pytest

from phaseone.errors import InputError
from phaseone.response import (
    clopper_pearson,
    criteria_for,
    evaluate_patients,
    evaluation_schema,
    parse_patients,
    rates_frame,
    response_rates,
)

from .helpers import REF, evaluation, lesion, marrow, patient

INRC = criteria_for("INRC-2017")


def test_clopper_pearson_closed_forms_and_a_published_value() -> None:
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n) (closed forms).
    assert clopper_pearson(0, 3) == (0.0, pytest.approx(1 - 0.025 ** (1 / 3), abs=1e-12))
    lo, hi = clopper_pearson(6, 6)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 6), abs=1e-12)
    # k = 1: lower = 1 - (1 - alpha/2)^(1/n); upper 0.6412 as in published exact tables
    # (e.g. the Geigy scientific tables' 95% binomial limits for 1/6).
    lo, hi = clopper_pearson(1, 6)
    assert lo == pytest.approx(1 - 0.975 ** (1 / 6), abs=1e-12)
    assert hi == pytest.approx(0.6412, abs=5e-5)


def _people():
    base = evaluation(0, lesions=[lesion("T1", 50, "primary")], marrow=marrow(0))
    pr = evaluation(56, lesions=[lesion("T1", 30, "primary")])
    sd = evaluation(56, lesions=[lesion("T1", 45, "primary")])
    in_cr = evaluation(0, marrow=marrow(0))
    return [
        patient(base, pr, level=1, pid="A"),
        patient(base, sd, level=1, pid="B"),
        patient(base, level=2, pid="C"),  # no evaluation after baseline: NE, non-responder
        patient(in_cr, evaluation(56, marrow=marrow(0)), level=2, pid="D"),  # excluded
    ]


def test_rates_per_dose_level_and_overall() -> None:
    rates = response_rates(evaluate_patients(_people(), INRC))
    by_level = {r.dose_level: r for r in rates}
    assert (by_level[1].responders, by_level[1].evaluable) == (1, 2)
    assert (by_level[2].responders, by_level[2].evaluable, by_level[2].excluded) == (0, 1, 1)
    assert by_level[2].not_evaluable == 1
    overall = by_level[None]
    assert (overall.responders, overall.evaluable, overall.excluded) == (1, 3, 1)
    assert (overall.lower, overall.upper) == clopper_pearson(1, 3)
    frame = rates_frame(rates)
    assert list(frame["dose_level"]) == [1, 2, "all"]


def _bad(evaluations):
    return {"patient_id": "X", "reference_date": REF.isoformat(), "evaluations": evaluations}


@pytest.mark.parametrize(
    ("evaluations", "path", "words"),
    [
        (
            [evaluation(0, mibg={"avid": True, "curie": {"pelvis": 4}})],
            "evaluations.0.mibg.curie.pelvis",
            "less than or equal to 3",
        ),
        (
            [evaluation(0, lesions=[lesion("T1", -3, "primary")])],
            "evaluations.0.lesions.0.diameter_mm",
            "greater than or equal to 0",
        ),
        (
            [evaluation(0, marrow=marrow(140))],
            "evaluations.0.marrow.0.tumour_percent",
            "less than or equal to 100",
        ),
        (
            [evaluation(0), evaluation(-10, kind="scheduled")],
            "evaluations[1].date",
            "before the baseline",
        ),
        (
            [evaluation(-20), evaluation(-10, kind="scheduled")],
            "evaluations[1].date",
            "before the reference date",
        ),
    ],
)
def test_bad_input_names_the_field(evaluations, path, words) -> None:
    with pytest.raises(InputError) as caught:
        parse_patients([_bad(evaluations)])
    problems = caught.value.problems
    assert any(p.path == f"[0].{path}" and words in p.message for p in problems), problems


def test_a_bad_value_says_what_it_got() -> None:
    with pytest.raises(InputError) as caught:
        parse_patients(_bad([evaluation(0, marrow=marrow(140))]))
    assert "(got 140)" in caught.value.problems[0].message


def test_unknown_parameter_or_value_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        INRC.with_params({"marrow_edge": 5, "marrow_new_involvement_pd": "=5"})
    paths = [p.path for p in caught.value.problems]
    assert paths == ["params.marrow_edge", "params.marrow_new_involvement_pd"]
    with pytest.raises(InputError):
        criteria_for("INRC-1993")


def test_schema_describes_the_segments() -> None:
    schema = evaluation_schema()
    curie = schema["$defs"]["CurieScores"]["properties"]["pelvis"]
    assert (curie["minimum"], curie["maximum"]) == (0, 3)
    siopen = schema["$defs"]["SiopenScores"]["properties"]["spine"]
    assert siopen["maximum"] == 6


def test_every_assumed_entry_is_documented_with_its_source() -> None:
    for cid in ("INRC-2017", "NANTRC-1.0"):
        c = criteria_for(cid)
        for name, _value, note in c.assumptions():
            assert note, name
            assert c.source_of(name).startswith("https://"), name
        assert {
            "marrow_new_involvement_pd",
            "new_low_level_marrow",
            "lymph_node_cr_max_mm",
            "cr_allows_not_involved",
            "confirmation_required",
        } <= set(c.parameter_names)
