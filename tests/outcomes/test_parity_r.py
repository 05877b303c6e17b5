"""Kaplan-Meier estimates, log(-log) intervals and medians equal R's survfit to 1e-6.

Reference: R 4.2.2, survival 3.5-3, `survfit(Surv(time, status) ~ ..., conf.type =
"log-log")` on R's `aml` and `lung` datasets; data/README.md says how the numbers were
produced, data/make_reference.R is the script.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from phaseone.outcomes.km import kaplan_meier

DATA = Path(__file__).parent / "data"

# survival::aml, typed from R's print-out (data/aml_print.txt): time, status, x.
AML = [
    (9, 1, "Maintained"), (13, 1, "Maintained"), (13, 0, "Maintained"), (18, 1, "Maintained"),
    (23, 1, "Maintained"), (28, 0, "Maintained"), (31, 1, "Maintained"), (34, 1, "Maintained"),
    (45, 0, "Maintained"), (48, 1, "Maintained"), (161, 0, "Maintained"),
    (5, 1, "Nonmaintained"), (5, 1, "Nonmaintained"), (8, 1, "Nonmaintained"),
    (8, 1, "Nonmaintained"), (12, 1, "Nonmaintained"), (16, 0, "Nonmaintained"),
    (23, 1, "Nonmaintained"), (27, 1, "Nonmaintained"), (30, 1, "Nonmaintained"),
    (33, 1, "Nonmaintained"), (43, 1, "Nonmaintained"), (45, 1, "Nonmaintained"),
]  # fmt: skip


def _lung() -> list[tuple[float, int, str]]:
    with (DATA / "lung.csv").open() as f:
        return [(float(r["time"]), int(r["status"]), r["sex"]) for r in csv.DictReader(f)]


def _fits():
    lung = _lung()
    return {
        ("aml", "all"): AML,
        ("aml_by_x", "x=Maintained"): [r for r in AML if r[2] == "Maintained"],
        ("aml_by_x", "x=Nonmaintained"): [r for r in AML if r[2] == "Nonmaintained"],
        ("lung", "all"): lung,
        ("lung_by_sex", "sex=1"): [r for r in lung if r[2] == "1"],
        ("lung_by_sex", "sex=2"): [r for r in lung if r[2] == "2"],
    }


def _r(name: str) -> list[dict[str, str]]:
    with (DATA / name).open() as f:
        return list(csv.DictReader(f))


def _num(text: str) -> float:
    return math.nan if text == "NA" else float(text)


@pytest.mark.parametrize("key", list(_fits()))
def test_curve_equals_survfit(key) -> None:
    rows = _fits()[key]
    km = kaplan_meier([r[0] for r in rows], [bool(r[1]) for r in rows])
    expected = [r for r in _r("r_survfit_curves.csv") if (r["fit"], r["strata"]) == key]
    assert len(km.time) == len(expected)
    for i, r in enumerate(expected):
        assert km.time[i] == float(r["time"])
        assert km.n_risk[i] == int(r["n_risk"]) and km.n_event[i] == int(r["n_event"])
        for ours, name in (
            (km.survival[i], "surv"),
            (km.std_err[i], "std_err"),
            (km.lower[i], "lower"),
            (km.upper[i], "upper"),
        ):
            theirs = _num(r[name])
            if math.isnan(theirs):
                assert math.isnan(ours), (key, r["time"], name)
            else:
                assert ours == pytest.approx(theirs, abs=1e-6), (key, r["time"], name)


@pytest.mark.parametrize("key", list(_fits()))
def test_median_and_interval_equal_survfit(key) -> None:
    rows = _fits()[key]
    km = kaplan_meier([r[0] for r in rows], [bool(r[1]) for r in rows])
    (r,) = [r for r in _r("r_survfit_medians.csv") if (r["fit"], r["strata"]) == key]
    pairs = [(km.median, r["median"]), (km.median_ci[0], r["lower"]), (km.median_ci[1], r["upper"])]
    for ours, theirs in pairs:
        if theirs == "NA":
            assert math.isnan(ours)
        else:
            assert ours == pytest.approx(float(theirs), abs=1e-6)


def test_one_and_two_year_estimates_equal_survfit() -> None:
    rows = _lung()
    km = kaplan_meier([r[0] for r in rows], [bool(r[1]) for r in rows])
    for r in _r("r_survfit_landmarks.csv"):
        s, lo, hi, _ = km.at(float(r["time"]))
        assert (s, lo, hi) == pytest.approx(
            (float(r["surv"]), float(r["lower"]), float(r["upper"])), abs=1e-6
        )
        assert km.at_risk(float(r["time"])) == int(r["n_risk"])
