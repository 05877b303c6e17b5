"""Toxicity tables and the historical comparison.

Clopper-Pearson limits are checked against their closed forms for k = 0 and k = n
(upper = 1 - (alpha/2)^(1/n); lower = (alpha/2)^(1/n)) and against the beta-quantile
definition; the exact binomial p-value against an independent sum of binomial
probabilities (the "minimum likelihood" two-sided test). ANBL0032 figures are those of
Yu et al. NEJM 2010 Table 2 (PMC3086629 T2).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import beta

from phaseone.errors import InputError
from phaseone.safety.historical import (
    clopper_pearson,
    compare_anbl0032,
    compare_anbl0931,
    exact_test,
    historical,
)
from phaseone.safety.tables import CourseRecord, tolerability, toxicity_table, worst_grades

V = "4.03"


def frame(rows):
    return pd.DataFrame(rows, columns=["patient_id", "dose_level", "course", "term", "grade"])


EVENTS = frame(
    [
        ("p1", 1, 1, "Neuralgia", 2),
        ("p1", 1, 2, "Neuralgia", 3),  # worst grade for p1 is 3
        ("p1", 1, 1, "Fever", 1),
        ("p2", 1, 1, "Neuralgia", 3),
        ("p3", 2, 1, "Hypokalemia", 4),
        ("p3", 2, 1, "Catheter related infection", 3),
        ("p4", 2, 2, "Neuralgia", 1),
    ]
)


def test_worst_grade_per_patient_per_term() -> None:
    worst = worst_grades(EVENTS)
    p1 = worst[(worst.patient_id == "p1") & (worst.term == "Neuralgia")]
    assert p1.grade.tolist() == [3]
    assert len(worst) == 6


def test_toxicity_table_per_level_and_overall() -> None:
    table = toxicity_table(EVENTS, {1: 3, 2: 2})  # 3 patients treated at DL1, 2 at DL2
    row = table[(table.dose_level == 1) & (table.term == "Neuralgia")].iloc[0]
    assert (row.n_patients, row.g3, row.g3plus, row.pct_g3plus) == (3, 2, 2, 66.7)
    overall = table[(table.dose_level == "all") & (table.term == "Neuralgia")].iloc[0]
    assert (overall.n_patients, overall.g1, overall.g3, overall.g3plus) == (5, 1, 2, 2)


def test_tolerability_courses_6_to_12() -> None:
    courses = [
        CourseRecord("p1", 6, 21, 21),
        CourseRecord("p2", 6, 21, 14, delay_days=7, dose_reduced=True),
        CourseRecord("p1", 7, 21, 21),
        CourseRecord("p1", 5, 21, 0),  # outside 6-12
    ]
    table = tolerability(courses).set_index("course")
    assert table.loc[6, "share_doses_given"] == round(35 / 42, 3)
    assert (table.loc[6, "n_full_doses"], table.loc[6, "n_delayed"], table.loc[6, "n_reduced"]) == (
        1,
        1,
        1,
    )
    assert table.loc[12, "n_patients"] == 0 and list(table.index) == list(range(6, 13))


def test_clopper_pearson_closed_forms() -> None:
    zero = clopper_pearson(0, 6)
    assert zero.low == 0 and zero.high == pytest.approx(1 - 0.025 ** (1 / 6), abs=1e-12)
    full = clopper_pearson(6, 6)
    assert full.high == 1 and full.low == pytest.approx(0.025 ** (1 / 6), abs=1e-12)
    # General case by the beta-quantile definition.
    mid = clopper_pearson(3, 12)
    assert mid.low == pytest.approx(beta.ppf(0.025, 3, 10))
    assert mid.high == pytest.approx(beta.ppf(0.975, 4, 9))
    assert (round(1 - 0.025 ** (1 / 6), 4), round(0.025 ** (1 / 6), 4)) == (0.4593, 0.5407)


def _minlike_p(k: int, n: int, p: float) -> float:
    pmf = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(x for x in pmf if x <= pmf[k] * (1 + 1e-7)))


@pytest.mark.parametrize(
    ("k", "n", "p0"), [(3, 6, 71 / 137), (0, 6, 24 / 137), (5, 6, 0.2), (2, 12, 0.39)]
)
def test_exact_binomial_test(k, n, p0) -> None:
    assert exact_test(k, n, p0) == pytest.approx(_minlike_p(k, n, p0), rel=1e-9)


def test_anbl0032_data_matches_the_published_table() -> None:
    data = historical("ANBL0032")
    assert data["arms"]["immunotherapy"]["n"] == 137 and data["arms"]["standard"]["n"] == 108
    rows = {r["toxicity"]: r for r in data["rows"]}
    # Yu et al. 2010 Table 2: neuropathic pain 71 (52%), hypokalemia 48 (35%), CLS 31 (23%).
    assert rows["Neuropathic pain"]["immunotherapy"] == 71
    assert rows["Hypokalemia"]["immunotherapy"] == 48
    assert rows["Acute capillary leak syndrome"]["immunotherapy"] == 31
    assert round(100 * 71 / 137) == 52


def test_compare_anbl0032() -> None:
    table = compare_anbl0032(EVENTS, 5, version=V).set_index("toxicity")
    pain = table.loc["Neuropathic pain"]
    assert (pain.k, pain.n, pain.hist_k, pain.hist_n) == (2, 5, 71, 137)
    assert pain.p_value == round(_minlike_p(2, 5, 71 / 137), 4)
    # "Infection (any)" counts every term of the Infections and infestations SOC.
    assert table.loc["Infection (any)", "k"] == 1
    assert table.loc["Hypokalemia", "k"] == 1 and table.loc["Hypotension", "k"] == 0


def test_compare_anbl0931_per_course() -> None:
    table = compare_anbl0931(EVENTS, {1: 4, 2: 3}, version=V)
    pain1 = table[(table.toxicity == "Neuropathic pain") & (table.course == 1)].iloc[0]
    assert (pain1.k, pain1.n, pain1.hist_rate) == (1, 4, 0.41)  # p2 in course 1 (p1 was G2)
    pain2 = table[(table.toxicity == "Neuropathic pain") & (table.course == 2)].iloc[0]
    assert (pain2.k, pain2.n, pain2.hist_rate) == (1, 3, 0.28)
    assert set(table.course) == {1, 2}


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="unknown study"):
        historical("ANBL9999")
    with pytest.raises(InputError, match="0 <= k <= n"):
        clopper_pearson(7, 6)
