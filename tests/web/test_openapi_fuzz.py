"""Fuzz every operation of the OpenAPI document: no input may cause a server error.

Runs on SQLite with a small, fixed number of generated cases per operation (derandomised so
CI is repeatable) as the administrator, the study chair and a site coordinator; a 5xx fails.
The database holds one registered patient (id 1) with a held slot beside it, so that the
workflow operations are reached with ids that exist, not only refused with 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from phaseone.demo.records import screening_record
from phaseone.protocol import resolve_protocol
from phaseone.store import accounts, sites
from phaseone.store.access import Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import User
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.store.testing import sqlite_database
from phaseone.web.app import create_app
from phaseone.workflow import Trial, registration, screening, slots
from tests.web.service_fixtures import PASSWORD, PATIENT_BORN, PEOPLE, T0

FUZZ_AS = ("admin", "chair", "coord_a")
TOKENS: dict[str, str] = {}


def _seed_patient(db: Database, trial: Trial) -> None:
    """Patient 1 at chla, screened, signed and registered; slot request 2 held."""
    with db.transaction() as session:
        coord = Scope(session, accounts.actor_for(_user(session, "coord_a"), Source.api, None))
        patient = screening.add_patient(
            coord, site_id="chla", subject_code="CHLA-F1", birth_date=PATIENT_BORN, sex="F"
        )
        record = screening_record(
            "CHLA-F1", "chla", T0.date(), sex="female", birth_date=PATIENT_BORN
        )
        evaluation, _ = screening.screen(coord, trial, patient.id, record, T0.date())
        inv = Scope(session, accounts.actor_for(_user(session, "inv_a"), Source.api, None))
        screening.sign_eligibility(inv, evaluation.id, "inv_a", PASSWORD, SecurityPolicy())
        slot, _ = slots.request_slot(coord, trial, "fuzz", T0)
        registration.register(
            coord,
            trial,
            patient_id=patient.id,
            slot_request_id=slot.id,
            start_date=T0.date(),
            height_cm=120.0,
            weight_kg=22.0,
            now=T0,
        )
        slots.request_slot(coord, trial, "fuzz held", T0)


def _user(session: Any, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    with sqlite_database(directory) as db:
        with db.transaction() as session:
            scope = Scope(session, system_actor("cli:fuzz", Source.cli))
            sites.seed_sites(scope, resolve_protocol("nant-2011-04"))
            for username, role, site in PEOPLE:
                if username not in (*FUZZ_AS, "inv_a"):
                    continue
                user = accounts.add_user(
                    scope,
                    username=username,
                    full_name=username,
                    role=role,
                    password=PASSWORD,
                    site_id=site,
                )
                _, TOKENS[username] = accounts.create_api_token(scope, user, "fuzz", None)
        trial = Trial.from_protocol(resolve_protocol("nant-2011-04"))
        _seed_patient(db, trial)
        app = create_app(db, policy=SecurityPolicy(), trial=trial, clock=lambda: T0)
        with TestClient(app):
            yield app


# The operations, read from the OpenAPI document (building it touches no database).
OPERATIONS = [
    (method.upper(), path)
    for path, methods in create_app(Database("sqlite://")).openapi()["paths"].items()
    for method in methods
]


@pytest.fixture(scope="module")
def api_schema(fuzz_app: object) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_input_causes_a_server_error(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: schemathesis.Case) -> None:
        for who in FUZZ_AS:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {TOKENS[who]}"}, checks=[not_a_server_error]
            )

    no_server_error()
