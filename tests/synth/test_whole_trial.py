"""A shortened whole virtual trial (two levels, two courses) to its report and exports,
through the in-process service, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx

from phaseone.synth.models import ToxicityModel
from phaseone.synth.patients import Models
from phaseone.synth.virtual_trial import run_virtual_trial
from tests.synth.test_virtual_trial import MovedClock
from tests.web.service_fixtures import PASSWORD, Service


def test_shortened_whole_trial_reaches_its_report(service: Service, tmp_path: Path) -> None:
    models = Models(toxicity=ToxicityModel(dlt_probability={1: 0.0, 2: 1.0}))
    transport = service.client._transport

    def factory(headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(transport=transport, base_url="https://testserver", headers=headers)

    result = run_virtual_trial(
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
    )
    print(result.checks, result.ended, result.courses, result.specimens, result.results_imported, result.steps, result.acknowledged, sorted(p.name for p in tmp_path.iterdir()))
    assert result.mtd == 1 and result.closed
    assert result.ok, (result.missing[:5], result.checks)
