"""Change from baseline and the low vs high comparison, on numbers worked by hand."""

from __future__ import annotations

import math

import pytest

from phaseone.correlatives.immune import (
    change_value,
    changes_from_baseline,
    compare_groups,
    mixed_model,
)
from phaseone.correlatives.records import Measurement, PatientGroup
from phaseone.errors import InputError
from phaseone.protocol.model import ImmuneGroups
from phaseone.protocol.provenance import Provenance

GROUPS = ImmuneGroups(provenance=Provenance(source="assumed", note="test"),
                      groups={"low": (1, 2), "high": (3,)}, baseline_max_day=1)


def m(patient: str, day: int, value: float, analyte: str = "NK") -> Measurement:
    return Measurement(patient, "blood", day, analyte, value, "cells/uL")


PATIENTS = [PatientGroup("a", 1), PatientGroup("b", 2), PatientGroup("c", 3),
            PatientGroup("d", 3), PatientGroup("e", 4)]


def test_change_scales() -> None:
    assert change_value(150, 100, "absolute") == 50
    assert change_value(150, 100, "relative") == pytest.approx(0.5)
    assert change_value(400, 100, "log2") == pytest.approx(2)
    assert change_value(5, 0, "relative") is None
    assert change_value(0, 10, "log2") is None


def test_baseline_is_last_sample_on_or_before_day_one() -> None:
    data = [m("a", -3, 90), m("a", 1, 100), m("a", 8, 130), m("a", 15, 80),
            m("b", 8, 50),  # no baseline: left out
            m("e", 1, 10), m("e", 8, 20)]  # level 4 is in no group: left out
    changes = changes_from_baseline(data, PATIENTS, GROUPS)
    assert [(c.patient, c.study_day, c.baseline, c.change) for c in changes] == [
        ("a", 8, 100, 30), ("a", 15, 100, -20)]
    assert changes[0].group == "low"


def test_unknown_patient_names_the_line() -> None:
    data = [Measurement("zz", "blood", 1, "NK", 1.0, "cells/uL", line=7)]
    with pytest.raises(InputError) as err:
        changes_from_baseline(data, PATIENTS, GROUPS, file="r.csv")
    assert str(err.value.problems[0]) == ("r.csv:7: patient: patient 'zz' is not in the "
                                          "patients file (no dose level)")


def test_comparison_is_high_minus_low_per_day() -> None:
    # Day 8 changes: low a=+30, b=+10; high c=+100, d=+60.
    data = [m("a", 1, 100), m("a", 8, 130), m("b", 1, 50), m("b", 8, 60),
            m("c", 1, 200), m("c", 8, 300), m("d", 1, 40), m("d", 8, 100)]
    [cmp] = compare_groups(changes_from_baseline(data, PATIENTS, GROUPS), GROUPS)
    assert cmp.study_day == 8 and (cmp.first, cmp.second) == ("low", "high")
    assert sorted(cmp.first_values) == [10, 30] and sorted(cmp.second_values) == [60, 100]
    assert cmp.test is not None
    # Differences high - low: 60-30, 60-10, 100-30, 100-10 = 30, 50, 70, 90; median 60.
    assert cmp.test.estimate == pytest.approx(60)
    # Both high changes rank above both low ones: P = 2 / C(4, 2) = 1/3 two-sided.
    assert cmp.test.p_value == pytest.approx(1 / 3)
    row = cmp.row()
    assert row["n_low"] == 2 and row["median_change_high"] == 80
    # With 2 vs 2 the widest interval (min to max difference) has confidence 1 - 2/6; R 4.2.2
    # wilcox.test(c(100, 60), c(30, 10), exact = TRUE, conf.int = TRUE) prints 30 90 with
    # attr(, "conf.level") 0.6666667 and warns "Requested conf.level not achievable".
    assert (row["shift_conf_low"], row["shift_conf_high"]) == (30, 90)
    assert row["conf_achieved"] == pytest.approx(1 - 2 / 6, abs=1e-4)


def test_mixed_model_recovers_a_group_effect() -> None:
    # Change = 10 in low and 40 in high at every day, plus patient offsets: the group
    # coefficient must be close to 30.
    data: list[Measurement] = []
    patients = []
    for i, (level, offset) in enumerate([(1, -2), (1, 1), (2, 3), (2, -1), (3, 2), (3, -2),
                                         (3, 0), (1, 0)]):
        pid = f"p{i}"
        patients.append(PatientGroup(pid, level))
        effect = 40 if level == 3 else 10
        data.append(m(pid, 1, 100))
        for day, noise in ((8, 0.5), (15, -0.5)):
            data.append(m(pid, day, 100 + effect + offset + noise))
    frame = mixed_model(changes_from_baseline(data, patients, GROUPS), "NK", groups=GROUPS)
    terms = frame.set_index("term")
    assert list(terms.index) == ["Intercept", "group[T.high]", "day[T.15]",
                                 "group[T.high]:day[T.15]"]
    assert terms.loc["group[T.high]", "estimate"] == pytest.approx(30, abs=1.0)
    assert terms.loc["Intercept", "estimate"] == pytest.approx(10.5, abs=1.0)
    assert math.isfinite(frame["std_error"].iloc[0])
