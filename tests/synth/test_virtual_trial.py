"""A shortened whole virtual trial (two dose levels, two courses) through the in-process
service to its report and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from phaseone.synth import check_outcomes
from phaseone.synth.drive_outputs import check_whole
from phaseone.synth.models import ToxicityModel
from phaseone.synth.patients import Models
from phaseone.synth.report_tables import report_tables
from phaseone.synth.steps import NAMES, STEPS
from phaseone.synth.virtual_trial import Ack, VirtualTrial, sdtm_domains
from tests.web.service_fixtures import PASSWORD, Service


class MovedClock:
    """Moves the service's clock (the fixture's in-process clock)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def today(self):  # type: ignore[no-untyped-def]
        return self.service.clock.now.date()

    def advance(self, days: int) -> None:
        self.service.clock.advance(days=days)


def test_shortened_virtual_trial_runs_to_its_report_and_the_whole_checks_out(
    service: Service, tmp_path: Path
) -> None:
    # Level 1 never toxic, level 2 always: rolling six escalates after level 1, stops at
    # level 2 on two DLTs and declares level 1 the MTD once six are evaluable there.
    models = Models(toxicity=ToxicityModel(dlt_probability={1: 0.0, 2: 1.0}))
    transport = service.client._transport

    def factory(headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(transport=transport, base_url="https://testserver", headers=headers)

    trial = VirtualTrial(
        "https://testserver",
        MovedClock(service),
        admin=("admin", PASSWORD),
        patients=16,
        seed=3,
        models=models,
        client_factory=factory,
        sites=("chla", "stanford"),
        courses=2,
        output=tmp_path,
        pdf=False,  # the same report as the HTML; rendering it takes seconds
    )
    result = trial.run(STEPS)
    assert result.mtd == 1 and result.closed, result.decisions
    levels = result.per_level()
    assert set(levels) == {1, 2}
    assert levels[1][1] == 0 and levels[2][1] >= 2
    # the chair's determinations agree with the dose-toxicity draws
    assert all(e.dlt_signed == e.dlt_drawn for e in result.enrolled)
    frame = result.patients()
    assert len(frame) == len(result.enrolled) and frame["courses"].sum() == result.courses
    # course 2: everyone on level 1 and the level-2 patients without a DLT start it; a
    # level-2 DLT is followed by course 2 one level lower (a modification with its reason)
    enrolled = len(result.enrolled)
    assert enrolled <= result.courses <= 2 * enrolled
    with_dlt = sum(1 for e in result.enrolled if e.dlt_signed)
    assert result.modifications == sum(
        1 for e in result.enrolled if e.dlt_signed and 2 in e.courses
    )
    assert with_dlt >= 2
    assert result.specimens > 0 and result.results_imported > 0
    # whoever ended treatment for progression has the progression recorded as an event
    assert result.progressions >= result.ended["progressive_disease"]
    # every step ran, in the registry's order
    assert [s.name for s in result.steps] == list(NAMES)
    assert {s.status for s in result.steps} == {"done"}
    # a baseline for everyone registered, one after course 2 for those who got there
    # without progressing first, and one at each progression recorded
    assert result.evaluations >= len(result.enrolled) + result.progressions
    # queries: one record of each of three kinds per four patients, the blood counts
    # answered with a correction; one patient in three has forms verified; every casebook
    # signed and locked
    per_kind = max(1, len(result.enrolled) // 4)
    assert result.queries == 3 * per_kind and result.corrections == per_kind
    assert result.verified_forms > 0
    assert result.casebooks_signed == len(result.enrolled)
    # the report and every export are saved; the checks of the whole agree
    saved = set(result.outputs)
    assert {"study-report.html", "export-sdtm.zip", "export-adam.zip", "export-odm.zip",
            "export-fhir.zip", "checks.json"} <= saved  # fmt: skip
    assert b"Study report" in (tmp_path / "study-report.html").read_bytes()
    assert json.loads((tmp_path / "checks.json").read_text())["mtd"] == 1
    assert result.audit_verified
    assert result.acknowledged > 500 and result.missing == []
    assert result.dlts_exported == result.dlts_signed
    checks = {"report DLTs", "dose intensity", "lenalidomide NCA", "evaluations as built",
              "response rate", "EFS median", "NCA from PC"}  # fmt: skip
    assert set(result.checks) == checks and set(result.compared) == checks
    assert all(problems == [] for problems in result.checks.values()), result.checks
    # every check compared something: none agrees by comparing nothing
    assert all(n > 0 for n in result.compared.values()), result.compared
    assert result.ok

    # The checks can fail: a write the service never acknowledged is reported missing, a
    # dose the driver says it entered but the service does not count is a disagreement, and
    # so is a DLT count that differs from the report's.
    trial.ledger.append(Ack("chair", "/lab-results/999999", "id", 999999))
    trial.step_checks()
    assert result.missing == ["/lab-results/999999"]
    (patient_id, course, agent, _day), _ = next(iter(trial.dose_ids.items()))
    trial.dose_ids[(patient_id, course, agent, 99)] = 0
    result.dlts_exported[1] += 1
    first = next(iter(trial.intended))
    trial.intended[first] = "CR" if trial.intended[first] != "CR" else "PD"
    check_whole(trial)
    assert any("doses entered" in p for p in result.checks["dose intensity"])
    assert any("level 1" in p for p in result.checks["report DLTs"])
    assert any("built to show" in p for p in result.checks["evaluations as built"])
    assert not result.ok
    # ... and so is an export that disagrees with the report: a best response changed in
    # ADRS, an event in ADTTE made a censoring, an NCA value in PP changed
    sdtm = sdtm_domains(trial.files["sdtm"], "ex", "rs", "pc", "pp")
    adam = sdtm_domains(trial.files["adam"], "adrs", "adtte")
    report = report_tables(trial.files["report-html"].decode())
    adrs = adam["adrs"].copy()
    bor = adrs.index[adrs["PARAMCD"] == "BOR"][0]
    adrs.loc[bor, "AVALC"] = "CR" if adrs.loc[bor, "AVALC"] != "CR" else "SD"
    problems, _ = check_outcomes.responses(sdtm["rs"], adrs, report)
    assert any("in ADRS" in p for p in problems)
    adtte = adam["adtte"].copy()
    event = adtte.index[(adtte["PARAMCD"] == "EFS") & (adtte["CNSR"] == 0)][0]
    adtte.loc[event, "CNSR"] = 1.0
    problems, _ = check_outcomes.efs(adtte, report, {})
    assert any("EFS events" in p for p in problems)
    pp = sdtm["pp"].copy()
    cmax = pp.index[(pp["PPCAT"] == "LENALIDOMIDE") & (pp["PPTESTCD"] == "CMAX")][0]
    pp.loc[cmax, "PPSTRESN"] *= 1.01
    problems, _ = check_outcomes.nca_from_pc(sdtm["pc"], sdtm["ex"], pp, report)
    assert any("CMAX" in p and "PP" in p for p in problems)
