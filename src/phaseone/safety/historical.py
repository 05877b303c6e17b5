"""Grade >= 3 toxicity rates beside the historical COG studies ANBL0032 and ANBL0931.

For each historical row: our count k of n patients (worst grade >= 3 for any CTCAE term the
row maps to), the exact Clopper-Pearson interval for k/n, and the two-sided exact binomial
test of k/n against the historical rate p0 (scipy.stats.binomtest). The historical figures
and the term mapping are data (data/historical_*.yaml) with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml
from scipy.stats import binomtest

from phaseone.errors import InputError, Problem
from phaseone.safety.terms import find_term


@dataclass(frozen=True)
class Rate:
    k: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.k / self.n


def clopper_pearson(k: int, n: int, level: float = 0.95) -> Rate:
    """The exact (Clopper-Pearson) interval for k events in n."""
    if n < 1 or not 0 <= k <= n:
        raise InputError([Problem("k", f"expected 0 <= k <= n and n >= 1, got k={k}, n={n}")])
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return Rate(k, n, float(ci.low), float(ci.high))


def exact_test(k: int, n: int, p0: float) -> float:
    """Two-sided exact binomial test p-value of k in n against rate p0."""
    return float(binomtest(k, n, p0, alternative="two-sided").pvalue)


@cache
def historical(study: str) -> dict[str, Any]:
    name = {"ANBL0032": "historical_anbl0032.yaml", "ANBL0931": "historical_anbl0931.yaml"}.get(
        study.upper()
    )
    if name is None:
        raise InputError(
            [Problem("study", f"unknown study {study!r}; expected ANBL0032, ANBL0931")]
        )
    text = resources.files("phaseone.safety").joinpath(f"data/{name}").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _matches(term: str, row: dict[str, Any], version: str) -> bool:
    if term.lower() in {t.lower() for t in row.get("ctcae_terms", [])}:
        return True
    socs = row.get("ctcae_socs", [])
    entry = find_term(term, version) if socs else None
    return entry is not None and entry.soc in socs


def _patients_with(events: pd.DataFrame, row: dict[str, Any], version: str) -> set[str]:
    hit = events[(events["grade"] >= 3) & events["term"].map(lambda t: _matches(t, row, version))]
    return set(hit["patient_id"])


def compare_anbl0032(
    events: pd.DataFrame, n_patients: int, *, version: str, arm: str = "immunotherapy"
) -> pd.DataFrame:
    """Our grade >= 3 rate per ANBL0032 toxicity beside the published arm's rate.

    `events` has one row per event (patient_id, term, grade); `n_patients` is our denominator
    (patients evaluable for toxicity).
    """
    data = historical("ANBL0032")
    if arm not in data["arms"]:
        raise InputError(
            [Problem("arm", f"unknown arm {arm!r}; expected one of: {', '.join(data['arms'])}")]
        )
    hist_n = int(data["arms"][arm]["n"])
    rows = []
    for row in data["rows"]:
        k = len(_patients_with(events, row, version))
        ours = clopper_pearson(k, n_patients)
        hist_k = int(row[arm])
        p0 = hist_k / hist_n
        rows.append(
            {
                "toxicity": row["toxicity"],
                "k": k,
                "n": n_patients,
                "rate": round(ours.rate, 3),
                "ci_low": round(ours.low, 3),
                "ci_high": round(ours.high, 3),
                "hist_k": hist_k,
                "hist_n": hist_n,
                "hist_rate": round(p0, 3),
                "p_value": round(exact_test(k, n_patients, p0), 4),
            }
        )
    return pd.DataFrame(rows)


def compare_anbl0931(
    events: pd.DataFrame, patients_per_course: dict[int, int], *, version: str
) -> pd.DataFrame:
    """Per course 1-5: our share of treated patients with a grade >= 3 event of each ANBL0931
    toxicity in that course, beside the published per-cycle percentage.

    `events` needs a `course` column; `patients_per_course` gives our denominators.
    """
    data = historical("ANBL0931")
    rows = []
    for row in data["rows"]:
        for index, percent in enumerate(row["percent_by_cycle"]):
            course = index + 1
            n = patients_per_course.get(course, 0)
            if n == 0:
                continue
            in_course = events[events["course"] == course]
            k = len(_patients_with(in_course, row, version))
            ours = clopper_pearson(k, n)
            p0 = percent / 100
            rows.append(
                {
                    "toxicity": row["toxicity"],
                    "course": course,
                    "k": k,
                    "n": n,
                    "rate": round(ours.rate, 3),
                    "ci_low": round(ours.low, 3),
                    "ci_high": round(ours.high, 3),
                    "hist_rate": p0,
                    "p_value": round(exact_test(k, n, p0), 4),
                }
            )
    return pd.DataFrame(rows)
