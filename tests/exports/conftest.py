from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from phaseone.store import records
from phaseone.store.testing import sqlite_database
from phaseone.workflow import treatment as treat_service
from tests.workflow.conftest import T0, World, _seed


def cdisc_schema(*parts: str) -> object:
    """An XML schema shipped by odmlib (ODM 1.3.2, Define-XML 2.1), for validating our files."""
    import importlib.resources

    import xmlschema

    base = Path(str(importlib.resources.files("odmlib"))) / "schemas"
    return xmlschema.XMLSchema(str(base.joinpath(*parts)))


@pytest.fixture
def trial_world(tmp_path: Path) -> Iterator[World]:
    """Two patients on treatment at two sites: labs, an AE judged a DLT, an end of treatment."""
    with sqlite_database(tmp_path, migrated=False) as db:
        world = _seed(db)
        first = world.patient_on("chla", T0, doses=3)
        second = world.patient_on("chop", T0 + dt.timedelta(days=1), doses=2)
        start = T0.date()
        with world.as_user("coord.chla") as scope:
            treat_service.record_lab(
                scope,
                world.trial,
                patient_id=first,
                analyte_id="anc",
                value=600,
                unit="/uL",
                collected_on=start + dt.timedelta(days=7),
                course=1,
            )
            treat_service.record_lab(
                scope,
                world.trial,
                patient_id=first,
                analyte_id="creatinine",
                value=53,
                unit="umol/L",
                collected_on=start - dt.timedelta(days=2),
            )
            event = treat_service.record_adverse_event(
                scope,
                world.trial,
                patient_id=first,
                term="Diarrhea",
                grade=3,
                onset=start + dt.timedelta(days=9),
                resolved=start + dt.timedelta(days=12),
                attribution={"lenalidomide": "possible", "dinutuximab": "probable"},
                verbatim="loose stools x6/day",
                serious=True,
                course=1,
            )
            treat_service.end_treatment(
                scope,
                patient_id=first,
                ended_on=start + dt.timedelta(days=20),
                reason="progressive_disease",
            )
        with world.as_user("chair") as scope:
            records.create(
                scope,
                records.SPECS["dlt_determinations"],
                {
                    "patient_id": first,
                    "adverse_event_id": event.id,
                    "determined_on": start + dt.timedelta(days=28),
                    "is_dlt": True,
                    "evaluable": True,
                    "rule": "non_hematologic_grade_3",
                },
            )
        world.first, world.second, world.event_id = first, second, event.id  # type: ignore[attr-defined]
        yield world
