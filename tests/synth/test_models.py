"""Virtual patients: seeded, reproducible, and judged by the real eligibility engine."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from phaseone.correlatives.records import GenotypeCall, Measurement
from phaseone.eligibility import evaluate, parse_record
from phaseone.protocol import resolve_protocol
from phaseone.synth.models import GrowthModel, OneCompartment, ToxicityModel
from phaseone.synth.patients import Models, correlatives, make_patients, pk_samples, response

SITES = ("chla", "chop", "seattle")
DAY = dt.date(2024, 6, 3)


def test_the_same_seed_gives_the_same_patients_and_another_seed_others() -> None:
    first = make_patients(np.random.default_rng(7), 20, SITES)
    again = make_patients(np.random.default_rng(7), 20, SITES)
    other = make_patients(np.random.default_rng(8), 20, SITES)
    assert first == again
    assert first != other
    assert [p.code for p in first[:4]] == ["CHLA-001", "CHOP-001", "SEATTLE-001", "CHLA-002"]
    vp = first[0]
    assert vp.course_one(Models(), 3) == again[0].course_one(Models(), 3)
    assert pk_samples(vp, Models(), {"lenalidomide": 15.0}, {}) == pk_samples(
        again[0], Models(), {"lenalidomide": 15.0}, {}
    )


def test_every_record_validates_and_eligibility_is_as_intended_at_each_level() -> None:
    protocol = resolve_protocol("nant-2011-04")
    patients = make_patients(np.random.default_rng(11), 40, SITES)
    kinds = {(p.disease_status, p.disease_site) for p in patients}
    assert len(kinds) >= 5  # the draw covers statuses and sites
    assert {p.intended_eligible for p in patients} == {True, False}
    for vp in patients:
        record = parse_record(vp.screening_record(DAY))  # raises if the schema refuses it
        for level in (1, 3):  # without and with isotretinoin
            result = evaluate(protocol, record, DAY, level)
            assert (result.overall == "eligible") == vp.intended_eligible, (vp, result.failed)


def test_growth_medians_follow_the_stated_form() -> None:
    growth = GrowthModel()
    assert growth.median_height_cm(10, "male") == pytest.approx(75 + 62)
    assert growth.median_height_cm(30, "female") == 163.0
    assert growth.median_bmi(6) == 16.0 and growth.median_bmi(12) == pytest.approx(17.8)


def test_one_compartment_matches_the_closed_form_without_variability() -> None:
    model = OneCompartment(
        cl_l_per_h=10.0, v_l=50.0, ka_per_h=1.5, omega_cl=0, omega_v=0, omega_ka=0, residual_cv=0
    )
    rng = np.random.default_rng(0)
    (c2,) = model.concentrations(rng, 70.0, 100.0, (2.0,))
    ke = 10 / 50
    expected = 100 * 1.5 / (50 * (1.5 - ke)) * (math.exp(-ke * 2) - math.exp(-1.5 * 2))
    assert c2 == pytest.approx(expected)
    # steady state every 12 h: each exponential divided by its accumulation factor
    (css,) = model.concentrations(rng, 70.0, 100.0, (2.0,), tau_h=12.0)
    acc = (
        100
        * 1.5
        / (50 * (1.5 - ke))
        * (
            math.exp(-ke * 2) / (1 - math.exp(-ke * 12))
            - math.exp(-1.5 * 2) / (1 - math.exp(-1.5 * 12))
        )
    )
    assert css == pytest.approx(acc)


def test_dlt_frequency_follows_the_dose_toxicity_model() -> None:
    model = ToxicityModel(dlt_probability={1: 0.1, 5: 0.6})
    rng = np.random.default_rng(5)
    low = np.mean([model.draw(rng, 1)[0] for _ in range(2000)])
    high = np.mean([model.draw(rng, 5)[0] for _ in range(2000)])
    assert abs(low - 0.1) < 0.03 and abs(high - 0.6) < 0.04
    dlt, events = model.draw(np.random.default_rng(1), 99)
    assert dlt is False  # a level the model does not list is never toxic
    assert all(e.grade in (1, 2) for e in events)


def test_correlatives_and_response_come_in_the_engines_shapes() -> None:
    vp = make_patients(np.random.default_rng(2), 1, SITES)[0]
    rows, calls = correlatives(vp, Models(), 30.0)
    assert all(isinstance(r, Measurement) for r in rows)
    assert all(isinstance(c, GenotypeCall) for c in calls)
    assert {c.gene for c in calls} == {"FCGR2A", "FCGR3A"}
    assert all(c.call in {"H/H", "H/R", "R/R", "V/V", "V/F", "F/F"} for c in calls)
    assert {r.analyte for r in rows} >= {"NK cells", "HACA", "PHOX2B", "GUSB"}
    best, days, progressed = response(vp, Models(), 3)
    assert best in {"CR", "PR", "SD", "PD"} and 0 <= days <= 730
    assert progressed or days == 730
