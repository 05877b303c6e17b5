"""The patient page shows long lists a page at a time (newest first) and the course's own
doses only."""

from __future__ import annotations

import datetime as dt
import re

from phaseone.store import records
from phaseone.store.access import Source, system_actor
from phaseone.store.scope import Scope
from tests.web.service_fixtures import Service
from tests.web.test_visibility import _page


def _add_labs(service: Service, patient_id: int, n: int) -> None:
    with service.db.transaction() as session:
        scope = Scope(session, system_actor("cli:test", Source.cli))
        for k in range(n):
            records.create(
                scope,
                records.SPECS["lab_results"],
                {
                    "patient_id": patient_id,
                    "analyte": "alt",
                    "value": 20.0 + k,
                    "unit": "U/L",
                    "collected_on": dt.date(2024, 6, 4) + dt.timedelta(days=k % 20),
                },
            )


def _lab_rows(page: str) -> list[str]:
    """The collection dates of the lab rows shown."""
    section = page[page.index('id="labs"') : page.index('id="adverse-events"')]
    return re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td><th scope=\"row\">", section)


def test_labs_come_fifty_at_a_time_newest_first(service: Service, journey) -> None:
    patient = journey["a"]["patients"]
    _add_labs(service, patient, 60)  # with the journey's one lab: 61
    first = _page(service, "coord_a", f"/patients/{patient}")
    assert len(_lab_rows(first)) == 50
    assert "1–50 of 61" in first and "?labs=50#labs" in first
    rest = _page(service, "coord_a", f"/patients/{patient}?labs=50")
    assert len(_lab_rows(rest)) == 11
    assert "51–61 of 61" in rest and "?labs=0#labs" in rest
    dates = _lab_rows(first)
    assert dates == sorted(dates, reverse=True) and dates[0] == "2024-06-23"
