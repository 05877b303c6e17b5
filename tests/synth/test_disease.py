"""The virtual patients' disease measurements show the overall response they were built to
show, as the INRC 2017 rules define it (Park et al., J Clin Oncol 2017;35:2580, Table 5 and
the component tables; the thresholds are those of response/data/inrc-2017.yaml)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from phaseone.response import criteria_for, evaluate_patient, parse_patient
from phaseone.synth.disease import Disease, baseline_disease, evaluation_body, shown_at
from phaseone.synth.drive_evaluations import evaluation_schedule
from phaseone.synth.patients import make_patients

BASE = dt.date(2025, 1, 1)
RULES = criteria_for("INRC-2017", {})


def _responses(disease: Disease, wanted: list[str]) -> list[str]:
    bodies = [evaluation_body(disease, BASE, None, "baseline")]
    bodies += [
        evaluation_body(disease, BASE + dt.timedelta(days=56 * (i + 1)), w, f"after {i}")
        for i, w in enumerate(wanted)
    ]
    patient = parse_patient(
        {"patient_id": "VP-1", "reference_date": BASE.isoformat(), "evaluations": bodies}
    )
    return [e.response for e in evaluate_patient(patient, RULES).evaluations[1:]]


def _one_of_each_site() -> dict[str, Disease]:
    found: dict[str, Disease] = {}
    for p in make_patients(np.random.default_rng(7), 60, ("a", "b")):
        found.setdefault(p.disease_site, baseline_disease(p))
    return found


@pytest.mark.parametrize("site", ["mibg_bone", "marrow", "soft_tissue"])
@pytest.mark.parametrize("wanted", ["CR", "PR", "SD", "PD"])
def test_each_site_shows_each_response_after_baseline(site: str, wanted: str) -> None:
    disease = _one_of_each_site()[site]
    assert _responses(disease, [wanted]) == [wanted]


def test_the_rules_each_category_stands_on() -> None:
    # Built by hand from the INRC thresholds, not from the generator: Curie 2+1 = 3 at
    # baseline; one segment of 1 is a relative score of 1/3 <= 0.5 (PR), all 0 with the
    # marrow clear is CR, a new avid bone site is PD.
    bone = Disease("mibg_bone", {"pelvis": 2, "thighs": 1}, 0.0, 0.0)
    pr = evaluation_body(bone, BASE, "PR", "x")
    assert pr["mibg"]["curie"] == {"pelvis": 1, "soft_tissue": 0}
    assert evaluation_body(bone, BASE, "PD", "x")["mibg"]["new_avid_bone_site"] is True
    # marrow 30% -> 3% is minimal disease (<= 5%), 30% -> 60% doubles above 20% (PD)
    marrow = Disease("marrow", {}, 30.0, 0.0)
    def percents(wanted: str) -> set[float]:
        return {s["tumour_percent"] for s in evaluation_body(marrow, BASE, wanted, "x")["marrow"]}

    assert percents("PR") == {3.0}
    assert percents("PD") == {60.0}
    # a 40 mm lesion: 20 mm is -50% (PR needs -30%), 60 mm is +50% and +20 mm (PD: 20%, 5 mm)
    soft = Disease("soft_tissue", {}, 0.0, 40.0)
    assert evaluation_body(soft, BASE, "PR", "x")["lesions"][0]["diameter_mm"] == 20.0
    assert evaluation_body(soft, BASE, "PD", "x")["lesions"][0]["diameter_mm"] == 60.0


def test_a_response_then_progression_is_best_then_pd() -> None:
    for disease in _one_of_each_site().values():
        assert _responses(disease, ["PR", "PR", "PD"]) == ["PR", "PR", "PD"]
        assert _responses(disease, ["SD", "PD"]) == ["SD", "PD"]


def test_what_an_evaluation_shows_follows_the_time_to_progression() -> None:
    assert shown_at(55, "PR", 100) == "PR"
    assert shown_at(100, "PR", 100) == "PD"
    assert shown_at(55, "PD", 100) == "SD"  # progression comes later than this evaluation
    assert shown_at(400, "CR", None) == "CR"


def test_the_schedule_is_the_protocols_imaging_assessment() -> None:
    # NANT 2011-04 (protocol YAML, disease-evaluation): after courses 2, 4, 6, 9 and 12, day 28
    assert evaluation_schedule() == {2: 28, 4: 28, 6: 28, 9: 28, 12: 28}
