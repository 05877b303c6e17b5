"""HACA status rules (induced, boosted, transient, persistent) and incidence."""

from __future__ import annotations

import pytest

from phaseone.correlatives.haca import analyse, classify_patient
from phaseone.correlatives.records import Measurement
from phaseone.protocol.model import HacaRules
from phaseone.protocol.provenance import Provenance

RULES = HacaRules(provenance=Provenance(source="assumed", note="test"), positive_titre=1.0,
                  boost_fold=4.0, persistent_days=112)


def series(patient: str, *points: tuple[int, float]) -> list[Measurement]:
    return [Measurement(patient, "serum", d, "HACA", v, "titre") for d, v in points]


def test_induced_and_transient() -> None:
    p = classify_patient("a", series("a", (1, 0), (29, 8), (57, 2), (85, 0)), RULES)
    assert p.status == "treatment-induced" and p.emergent
    assert (p.first_positive_day, p.last_positive_day) == (29, 57)
    assert p.persistence == "transient"  # 28 days apart and the last sample negative


def test_persistent_by_span_or_by_last_sample() -> None:
    span = classify_patient("a", series("a", (1, 0), (29, 2), (141, 2), (169, 0)), RULES)
    assert span.persistence == "persistent"  # 112 days apart
    last = classify_patient("b", series("b", (1, 0), (29, 0), (57, 4)), RULES)
    assert last.persistence == "persistent"  # only one positive, but it is the last sample


def test_boosted_needs_the_fold_rise() -> None:
    boosted = classify_patient("a", series("a", (1, 2), (29, 8)), RULES)
    assert boosted.status == "treatment-boosted" and boosted.emergent
    flat = classify_patient("b", series("b", (1, 2), (29, 7.9)), RULES)
    assert flat.status == "baseline positive, not boosted" and flat.emergent is False


def test_unevaluable_patients() -> None:
    assert classify_patient("a", series("a", (29, 8)), RULES).emergent is None
    assert classify_patient("b", series("b", (1, 0)), RULES).emergent is None


def test_incidence_and_trough_comparison() -> None:
    titres = (series("a", (1, 0), (29, 8)) + series("b", (1, 0), (29, 0))
              + series("c", (1, 0), (29, 0)) + series("d", (29, 3)))
    troughs = [Measurement(p, "serum", d, "DIN", v, "ug/mL") for p, d, v in [
        ("a", 8, 2.0), ("a", 36, 1.0), ("b", 8, 2.0), ("b", 36, 2.2), ("c", 8, 1.0),
        ("c", 36, 1.1), ("d", 8, 3.0), ("d", 36, 3.0)]]
    result = analyse(titres, RULES, troughs)
    inc = result.incidence
    assert inc is not None and (inc.k, inc.n) == (1, 3)  # d has no baseline
    # binom.test(1, 3)$conf.int in R 4.2.2: 0.00840375865961264 0.90570067594975390
    assert (inc.conf_low, inc.conf_high) == pytest.approx((0.00840375865961,
                                                           0.90570067594975390), rel=1e-9)
    assert [(c.patient, c.ratio) for c in result.troughs] == [
        ("a", 0.5), ("b", pytest.approx(1.1)), ("c", pytest.approx(1.1))]
    assert result.trough_test is not None and result.trough_test.n_x == 1
    assert result.titres_over_time()[0] == {"study_day": 1, "n": 3, "median_titre": 0,
                                            "max_titre": 0}


def test_negative_titre_is_refused_with_its_line() -> None:
    from phaseone.errors import InputError

    bad = [Measurement("a", "serum", 1, "HACA", -1.0, "titre", line=4)]
    with pytest.raises(InputError, match="line 4: value: a titre cannot be negative"):
        analyse(bad, RULES)
