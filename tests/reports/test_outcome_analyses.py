"""The report's response and event-free survival sections on the two-patient trial, worked
by hand: one patient with a measurable primary that grows (PD), one entering in complete
response; the data cut-off and the statistician's de-identified copy give the same counts."""

from __future__ import annotations

import datetime as dt

from phaseone.reports.gather import study_report
from phaseone.reports.study import as_dict
from phaseone.response import Evaluation
from phaseone.store import accounts
from phaseone.store.access import Role, system_actor
from phaseone.store.scope import Scope
from phaseone.workflow import evaluations
from tests.workflow.conftest import PASSWORD, T0, World

START = T0.date()


def _evaluate(world: World) -> None:
    first, second = world.first, world.second  # type: ignore[attr-defined]
    with world.as_user("coord.chla") as scope:
        evaluations.record(
            scope, world.trial, patient_id=first, disease_at_entry="measurable",
            evaluation=Evaluation.model_validate({
                "date": START - dt.timedelta(days=3), "kind": "baseline",
                "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 50}]}),
            today=START)
        # 50 -> 70 mm: +40% and +20 mm, past both PD thresholds (20% and 5 mm; INRC 2017).
        evaluations.record(
            scope, world.trial, patient_id=first,
            evaluation=Evaluation.model_validate({
                "date": START + dt.timedelta(days=20), "kind": "unscheduled",
                "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 70}]}),
            today=START + dt.timedelta(days=20))
    with world.as_user("coord.chop") as scope:
        evaluations.record(
            scope, world.trial, patient_id=second, disease_at_entry="complete_response",
            evaluation=Evaluation.model_validate({
                "date": START - dt.timedelta(days=1), "kind": "baseline",
                "mibg": {"avid": True, "curie": {}},
                "marrow": [{"side": s, "kind": k, "tumour_percent": 0}
                           for s in ("left", "right") for k in ("aspirate", "biopsy")]}),
            today=START)


def _sections(world: World, who: str = "chair", days: int = 40) -> dict[str, dict]:
    with world.as_user(who) as scope:
        report = study_report(scope, world.trial, START + dt.timedelta(days=days))
    by_analysis = {s.objective.id: s.objective.analysis for s in report.sections}
    sections = as_dict(report)["sections"]
    return {by_analysis[k]: v for k, v in sections.items() if by_analysis.get(k)}


def test_response_and_event_free_survival_worked_by_hand(trial_world: World) -> None:
    _evaluate(trial_world)
    sections = _sections(trial_world)
    response = sections["response-rate"]
    rates, best = (response["tables"][n] for n in sorted(response["tables"]))
    overall = next(r for r in rates if r["dose_level"] == "all")
    # One patient with disease (best PD: not a responder); the other entered in CR.
    assert (overall["responders"], overall["evaluable"], overall["excluded_no_disease"]) == (
        0, 1, 1)
    # Clopper-Pearson for 0 of 1: lower 0, upper 0.975 (the alpha/2 = 0.025 tail).
    assert overall["ci_lower"] == 0.0 and abs(overall["ci_upper"] - 0.975) < 1e-9
    assert {r["USUBJID"]: r["BOR"] for r in best}["CHLA-001"] == "PD"
    efs = sections["event-free-survival"]
    summary = efs["tables"][sorted(efs["tables"])[0]]
    rows = {r["stratum"]: r for r in summary if r["endpoint"] == "efs"}
    # EFS: the progression at the day-20 evaluation is the one event.
    assert (rows["all"]["n"], rows["all"]["events"]) == (2, 1)
    assert (rows["disease at entry"]["events"], rows["CR at entry"]["events"]) == (1, 0)


def test_the_cut_off_and_the_statisticians_copy(trial_world: World) -> None:
    _evaluate(trial_world)
    early = _sections(trial_world, days=10)  # before the PD evaluation on day 20
    rates = early["response-rate"]["tables"]
    overall = next(r for r in rates[sorted(rates)[0]] if r["dose_level"] == "all")
    assert overall["evaluable"] == 1 and overall["NE"] == 1  # baseline only: not evaluable
    with trial_world.db.transaction() as session:
        accounts.add_user(Scope(session, system_actor("test")), username="stat",
                          full_name="stat", role=Role.statistician, password=PASSWORD)
    shown = _sections(trial_world, "stat")
    efs = shown["event-free-survival"]["tables"]
    rows = {r["stratum"]: r for r in efs[sorted(efs)[0]] if r["endpoint"] == "efs"}
    assert (rows["all"]["n"], rows["all"]["events"]) == (2, 1)
    best = shown["response-rate"]["tables"]
    by_patient = {r["USUBJID"]: r for r in best[sorted(best)[1]]}
    # The statistician's dates are moved by each patient's offset, never real.
    assert by_patient["CHLA-001"]["BORDTC"] != (START + dt.timedelta(days=20)).isoformat()
