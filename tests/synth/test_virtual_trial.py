"""A shortened whole virtual trial (two dose levels, two courses) through the in-process
service to its report and exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from phaseone.synth.drive_outputs import check_whole
from phaseone.synth.models import ToxicityModel
from phaseone.synth.patients import Models
from phaseone.synth.steps import NAMES, STEPS
from phaseone.synth.virtual_trial import Ack, VirtualTrial
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
    # every step ran or is named as absent, in the registry's order
    assert [s.name for s in result.steps] == list(NAMES)
    assert {s.status for s in result.steps} <= {"done", "absent"}
    # the report and every export are saved; the checks of the whole agree
    saved = set(result.outputs)
    assert {"study-report.html", "export-sdtm.zip", "export-adam.zip", "export-odm.zip",
            "export-fhir.zip", "checks.json"} <= saved  # fmt: skip
    assert b"Study report" in (tmp_path / "study-report.html").read_bytes()
    assert json.loads((tmp_path / "checks.json").read_text())["mtd"] == 1
    assert result.audit_verified
    assert result.acknowledged > 500 and result.missing == []
    assert result.dlts_exported == result.dlts_signed
    assert set(result.checks) == {"report DLTs", "dose intensity", "lenalidomide NCA"}
    assert all(problems == [] for problems in result.checks.values()), result.checks
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
    check_whole(trial)
    assert any("doses entered" in p for p in result.checks["dose intensity"])
    assert any("level 1" in p for p in result.checks["report DLTs"])
    assert not result.ok
