"""DLT rules of the bundled NANT 2011-04 protocol (an assumed pediatric template): each rule
firing, each exception holding (and failing), pending windows, and evaluability.

The expected outcomes follow from the rule texts in the protocol file and the pediatric
template in trial-operations.md section 1.7 (e.g. "grade 3 nausea/vomiting < N days" is not a
DLT; "grade 4 neutropenia > 7 days" is).
"""

from __future__ import annotations

import datetime as dt

import pytest

from phaseone.errors import InputError
from phaseone.protocol import resolve_protocol
from phaseone.protocol.model import Dlt, DltRule
from phaseone.safety.dlt import PatientWindow, compile_rules, determine, parse_patients
from phaseone.safety.events import AdverseEvent

START = dt.date(2014, 1, 6)  # course 1 day 1
END = START + dt.timedelta(days=27)  # day 28
AFTER = END + dt.timedelta(days=1)
V = "4.03"


@pytest.fixture(scope="module")
def nant():
    return resolve_protocol("nant-2011-04")


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n - 1)


def ev(term, grade, onset_day, *, resolved_day=None, improvements=(), attr="possible", **kw):
    return AdverseEvent(
        id=kw.pop("id", "e1"),
        term=term,
        grade=grade,
        onset=day(onset_day),
        resolved=None if resolved_day is None else day(resolved_day),
        improvements=tuple({"grade": g, "on": day(d)} for g, d in improvements),
        attribution={"lenalidomide": attr},
        **kw,
    )


def patient(*events, **kw):
    base = dict(patient_id="p1", dose_level=2, course_start=START, doses_planned=21, doses_given=21)
    base.update(kw)
    return PatientWindow(events=tuple(events), **base)


def run(nant, p, as_of=AFTER):
    return determine(p, nant, version=V, as_of=as_of)


def fired(result):
    return [h.rule_id for h in result.hits]


# --- hematologic rules -----------------------------------------------------------------


def test_neutropenia_grade4_eight_days_fires(nant) -> None:
    r = run(nant, patient(ev("Neutrophil count decreased", 4, 10, resolved_day=18)))
    assert r.status == "dlt" and fired(r) == ["heme-neutropenia"]
    assert r.hits[0].event_id == "e1" and "8 days" in r.hits[0].reason


def test_neutropenia_grade4_seven_days_is_not_a_dlt(nant) -> None:
    r = run(nant, patient(ev("Neutrophil count decreased", 4, 10, resolved_day=17)))
    assert r.status == "no_dlt" and not r.hits
    assert "7 days (< 8)" in r.notes[0].finding


def test_neutropenia_improving_to_grade3_stops_the_clock(nant) -> None:
    e = ev("Neutrophil count decreased", 4, 10, resolved_day=25, improvements=[(3, 14)])
    assert run(nant, patient(e)).status == "no_dlt"


def test_neutropenia_ongoing_is_pending(nant) -> None:
    r = run(nant, patient(ev("Neutrophil count decreased", 4, 10)), as_of=day(14))
    assert r.status == "pending" and r.evaluable is None


def test_platelets_below_25000_on_two_days_within_7_fires(nant) -> None:
    labs = [
        {"date": day(12), "analyte": "platelets", "value": 24, "unit": "10^9/L"},
        {"date": day(17), "analyte": "platelets", "value": 20000, "unit": "/uL"},
    ]
    r = run(nant, patient(labs=labs))
    assert fired(r) == ["heme-thrombocytopenia"] and r.hits[0].event_id is None


def test_platelets_eight_days_apart_or_at_limit_do_not_fire(nant) -> None:
    labs = [
        {"date": day(12), "analyte": "platelets", "value": 24000, "unit": "/uL"},
        {"date": day(19), "analyte": "platelets", "value": 24000, "unit": "/uL"},  # 7 days on
        {"date": day(14), "analyte": "platelets", "value": 25000, "unit": "/uL"},  # not below
    ]
    assert run(nant, patient(labs=labs)).status == "no_dlt"


def test_platelet_transfusions_on_two_days_fire(nant) -> None:
    tx = [{"date": day(12), "product": "platelets"}, {"date": day(15), "product": "platelets"}]
    assert fired(run(nant, patient(transfusions=tx))) == ["heme-thrombocytopenia"]
    red = [{"date": day(12), "product": "red_cells"}, {"date": day(15), "product": "red_cells"}]
    assert run(nant, patient(transfusions=red)).status == "no_dlt"


def test_febrile_neutropenia_grade4_fires(nant) -> None:
    r = run(nant, patient(ev("Febrile neutropenia", 4, 12, resolved_day=14)))
    assert fired(r) == ["heme-febrile-neutropenia-g4"]
    assert run(nant, patient(ev("Febrile neutropenia", 3, 12, resolved_day=14))).status == "no_dlt"


def test_other_grade4_hematologic_fires_but_not_lymphopenia(nant) -> None:
    r = run(nant, patient(ev("White blood cell decreased", 4, 12, resolved_day=13)))
    assert fired(r) == ["heme-other-grade4"]
    r = run(nant, patient(ev("Lymphocyte count decreased", 4, 12, resolved_day=20)))
    assert r.status == "no_dlt"


def test_myelosuppression_delay_over_14_days_fires(nant) -> None:
    r = run(nant, patient(next_course_delay_days=15, delay_cause="myelosuppression"))
    assert fired(r) == ["heme-delay"]
    assert run(nant, patient(next_course_delay_days=14, delay_cause="myelosuppression")).hits == ()


def test_marrow_disease_excludes_hematologic_dlt(nant) -> None:
    # Registry: patients with marrow involvement are not evaluable for hematologic toxicity.
    p = patient(ev("Neutrophil count decreased", 4, 10, resolved_day=25), marrow_disease=True)
    r = run(nant, p)
    assert r.status == "no_dlt" and not r.hematologic_evaluable
    assert "marrow disease" in r.notes[0].finding


# --- non-hematologic rule and its exceptions -------------------------------------------


def test_nonhematologic_grade3_fires(nant) -> None:
    r = run(nant, patient(ev("Diarrhea", 3, 5, resolved_day=7)))
    assert fired(r) == ["nonheme-grade3"]


def test_nonhematologic_grade4_fires_even_if_excepted_at_grade3(nant) -> None:
    r = run(nant, patient(ev("Vomiting", 4, 5, resolved_day=6)))
    assert fired(r) == ["nonheme-grade3"]


def test_nausea_grade3_under_3_days_exception_holds(nant) -> None:
    r = run(nant, patient(ev("Nausea", 3, 5, resolved_day=7)))  # 2 days
    assert r.status == "no_dlt"
    assert "exception nausea-vomiting-short holds" in r.notes[0].finding


def test_nausea_grade3_for_3_days_is_a_dlt(nant) -> None:
    assert fired(run(nant, patient(ev("Nausea", 3, 5, resolved_day=8)))) == ["nonheme-grade3"]


def test_transaminase_back_to_grade1_within_7_days_exception_holds(nant) -> None:
    e = ev("Alanine aminotransferase increased", 3, 5, improvements=[(1, 12)])
    r = run(nant, patient(e))
    assert r.status == "no_dlt" and "transaminase-resolving holds" in r.notes[0].finding


def test_transaminase_back_to_grade2_only_is_a_dlt(nant) -> None:
    e = ev("Aspartate aminotransferase increased", 3, 5, improvements=[(2, 7)])
    assert fired(run(nant, patient(e))) == ["nonheme-grade3"]


def test_transaminase_after_8_days_is_a_dlt(nant) -> None:
    e = ev("Alanine aminotransferase increased", 3, 5, improvements=[(1, 13)])
    assert fired(run(nant, patient(e))) == ["nonheme-grade3"]


def test_transaminase_within_7_days_still_open_is_pending(nant) -> None:
    e = ev("Alanine aminotransferase increased", 3, 5)
    assert run(nant, patient(e), as_of=day(9)).status == "pending"


def test_infection_grade3_exception_by_system_organ_class(nant) -> None:
    # The term is not listed; its system organ class (Infections and infestations) is.
    infection = "Catheter related infection"
    r = run(nant, patient(ev(infection, 3, 15, resolved_day=25)))
    assert r.status == "no_dlt" and "fever-infection holds" in r.notes[0].finding
    r = run(nant, patient(ev(infection, 4, 15, resolved_day=25)))
    assert fired(r) == ["nonheme-grade3"]


def test_electrolyte_corrected_within_72_hours_exception_holds(nant) -> None:
    ok = ev("Hypokalemia", 3, 9, improvements=[(2, 12)])  # 3 days = 72 h
    assert run(nant, patient(ok)).status == "no_dlt"
    late = ev("Hypokalemia", 3, 9, improvements=[(2, 13)])  # 4 days
    assert fired(run(nant, patient(late))) == ["nonheme-grade3"]


# --- dinutuximab-expected toxicities ---------------------------------------------------


def test_pain_grade3_controlled_is_not_a_dlt_and_not_judged_by_nonheme_rule(nant) -> None:
    r = run(nant, patient(ev("Neuralgia", 3, 8, resolved_day=12)))
    assert r.status == "no_dlt"
    assert "din-pain" in r.notes[0].finding and "nonheme" not in r.notes[0].finding


def test_pain_grade3_uncontrolled_fires(nant) -> None:
    e = ev(
        "Neuralgia",
        3,
        8,
        resolved_day=12,
        flags=frozenset({"uncontrolled_despite_supportive_care"}),
    )
    assert fired(run(nant, patient(e))) == ["din-pain"]


def test_allergic_reaction_rules(nant) -> None:
    assert fired(run(nant, patient(ev("Anaphylaxis", 4, 8, resolved_day=8)))) == ["din-allergic"]
    once = ev("Allergic reaction", 3, 8, resolved_day=8)
    assert run(nant, patient(once)).status == "no_dlt"
    again = ev(
        "Allergic reaction",
        3,
        8,
        resolved_day=8,
        flags=frozenset({"recurred_despite_premedication"}),
    )
    assert fired(run(nant, patient(again))) == ["din-allergic"]


def test_capillary_leak_over_72_hours_fires(nant) -> None:
    assert (
        run(nant, patient(ev("Capillary leak syndrome", 3, 9, resolved_day=12))).status == "no_dlt"
    )
    assert fired(run(nant, patient(ev("Capillary leak syndrome", 3, 9, resolved_day=13)))) == [
        "din-capillary-leak"
    ]
    assert fired(run(nant, patient(ev("Capillary leak syndrome", 4, 9, resolved_day=10)))) == [
        "din-capillary-leak"
    ]


def test_hypotension_over_24_hours_fires(nant) -> None:
    assert run(nant, patient(ev("Hypotension", 3, 9, resolved_day=10))).status == "no_dlt"
    assert fired(run(nant, patient(ev("Hypotension", 3, 9, resolved_day=11)))) == [
        "din-hypotension"
    ]
    assert fired(run(nant, patient(ev("Hypotension", 4, 9, resolved_day=9)))) == ["din-hypotension"]


def test_neuropathy_over_14_days_fires(nant) -> None:
    e = ev("Peripheral sensory neuropathy", 3, 9, resolved_day=23)  # 14 days
    assert run(nant, patient(e)).status == "no_dlt"
    e = ev("Peripheral motor neuropathy", 3, 9, resolved_day=24)  # 15 days
    assert fired(run(nant, patient(e))) == ["din-neuropathy"]
    e = ev("Peripheral motor neuropathy", 4, 9, resolved_day=10)
    assert fired(run(nant, patient(e))) == ["din-neuropathy"]


def test_fever_is_expected_below_grade4(nant) -> None:
    assert run(nant, patient(ev("Fever", 3, 9, resolved_day=10))).status == "no_dlt"
    assert fired(run(nant, patient(ev("Fever", 4, 9, resolved_day=12)))) == ["din-fever"]


# --- window, attribution, evaluability --------------------------------------------------


def test_event_outside_window_or_unrelated_is_not_a_dlt(nant) -> None:
    late = ev("Diarrhea", 4, 29, resolved_day=30)
    assert "outside the DLT window" in run(nant, patient(late), as_of=day(31)).notes[0].finding
    unlikely = ev("Diarrhea", 4, 5, resolved_day=6, attr="unlikely")
    r = run(nant, patient(unlikely))
    assert r.status == "no_dlt" and "below possible" in r.notes[0].finding


def test_evaluability(nant) -> None:
    # 18/21 = 86% >= 85%: evaluable once the window is complete.
    r = run(nant, patient(doses_given=18))
    assert r.evaluable is True and r.status == "no_dlt"
    # 17/21 = 81% < 85%: not evaluable.
    r = run(nant, patient(doses_given=17))
    assert r.evaluable is False and "81%" in r.evaluability_reason
    # A DLT makes a patient evaluable whatever the doses.
    r = run(nant, patient(ev("Diarrhea", 4, 5, resolved_day=6), doses_given=5))
    assert r.evaluable is True
    # Off treatment early without a DLT: not evaluable.
    r = run(nant, patient(off_treatment=day(10), off_treatment_reason="progression"))
    assert r.evaluable is False and "progression" in r.evaluability_reason
    # Window still open.
    assert run(nant, patient(), as_of=day(20)).status == "pending"


# --- bad input --------------------------------------------------------------------------


def _problems(exc_info) -> dict[str, str]:
    return {p.path: p.message for p in exc_info.value.problems}


def test_bad_events_name_the_field(nant) -> None:
    raw = [
        {
            "patient_id": "p1",
            "dose_level": 1,
            "course_start": "2014-01-06",
            "doses_planned": 21,
            "doses_given": 21,
            "events": [
                {"id": "a", "term": "Nausea", "grade": 6, "onset": "2014-01-08"},
                {"id": "b", "term": "Headachey", "grade": 2, "onset": "2014-01-08"},
                {
                    "id": "c",
                    "term": "Nausea",
                    "grade": 2,
                    "onset": "2014-01-09",
                    "resolved": "2014-01-08",
                },
                {"id": "d", "term": "Nausea", "grade": 4, "onset": "2014-01-09"},
                {
                    "id": "e",
                    "term": "Nausea",
                    "grade": 2,
                    "onset": "2014-01-09",
                    "attribution": {"aspirin": "possible"},
                },
                {
                    "id": "f",
                    "term": "Nausea",
                    "grade": 2,
                    "onset": "2014-01-09",
                    "attribution": {"lenalidomide": "maybe"},
                },
            ],
        }
    ]
    with pytest.raises(InputError) as info:
        parse_patients(raw, version=V, protocol=nant)
    found = _problems(info)
    assert "not a CTCAE grade" in found["patients[0].events[0].grade"]
    assert "unknown CTCAE v4.03 term 'Headachey'" in found["patients[0].events[1].term"]
    assert "Headache" in found["patients[0].events[1].term"]  # suggestion
    assert "before onset" in found["patients[0].events[2].resolved"]
    assert "no grade 4 for 'Nausea'" in found["patients[0].events[3].grade"]
    assert "unknown agent 'aspirin'" in found["patients[0].events[4].attribution.aspirin"]
    assert "patients[0].events[5].attribution.lenalidomide" in found


def test_bad_rule_names_and_params_are_input_errors(nant) -> None:
    prov = {"source": "assumed", "note": "test"}
    bad = Dlt(
        window={"last_day": 28, "provenance": prov},
        provenance=prov,
        rules=(
            DltRule(id="a", category="other", text="x", rule="no_such_rule", provenance=prov),
            DltRule(
                id="b",
                category="other",
                text="x",
                rule="grade_at_least",
                params={"min_grade": 6},
                provenance=prov,
            ),
            DltRule(
                id="c",
                category="other",
                text="x",
                rule="expected_toxicity",
                params={"terms": ["Pain"]},
                provenance=prov,
            ),
            DltRule(
                id="d",
                category="other",
                text="x",
                rule="grade_for_days",
                params={"terms": ["Neutropenia"], "min_grade": 4, "min_days": 8},
                provenance=prov,
            ),
            DltRule(
                id="e",
                category="other",
                text="x",
                rule="grade_at_least",
                params={"min_grade": 3, "colour": "red"},
                provenance=prov,
            ),
        ),
    )
    with pytest.raises(InputError) as info:
        compile_rules(bad, V)
    found = _problems(info)
    assert "unknown DLT rule 'no_such_rule'" in found["dlt.rules[0].rule"]
    assert "dlt.rules[1].params.min_grade" in found
    assert "could never fire" in found["dlt.rules[2].params"]
    assert "unknown CTCAE v4.03 term 'Neutropenia'" in found["dlt.rules[3].params.terms[0]"]
    assert "dlt.rules[4].params.colour" in found


def test_bundled_rules_compile_in_both_versions(nant) -> None:
    for version in ("4.03", "5.0"):
        assert len(compile_rules(nant.dlt, version)) == len(nant.dlt.rules)
    assert all(r.provenance.is_assumed for r in nant.dlt.rules)
