"""A short virtual trial through the in-process service, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from phaseone.synth.models import ToxicityModel
from phaseone.synth.patients import Models
from phaseone.synth.virtual_trial import run_virtual_trial
from tests.web.service_fixtures import PASSWORD, Service


class MovedClock:
    """Moves the service's clock (the fixture's in-process clock)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def today(self):  # type: ignore[no-untyped-def]
        return self.service.clock.now.date()

    def advance(self, days: int) -> None:
        self.service.clock.advance(days=days)


def test_short_virtual_trial_reaches_an_mtd_and_the_whole_checks_out(service: Service) -> None:
    # Level 1 never toxic, level 2 always: rolling six escalates after level 1, stops at
    # level 2 on two DLTs and declares level 1 the MTD once six are evaluable there.
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
    )
    assert result.mtd == 1 and result.closed, result.decisions
    levels = result.per_level()
    assert set(levels) == {1, 2}
    assert levels[1][1] == 0 and levels[2][1] >= 2
    assert result.audit_verified
    assert result.acknowledged > 100 and result.missing == []
    assert result.dlts_exported == result.dlts_signed
    # the chair's determinations agree with the dose-toxicity draws
    assert all(e.dlt_signed == e.dlt_drawn for e in result.enrolled)
    assert result.ok
