from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from phaseone.demo.records import screening_record
from phaseone.protocol import resolve_protocol
from phaseone.store import accounts
from phaseone.store.access import Role, Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import User
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.store.setup import prepare
from phaseone.store.testing import SKIP_REASON, postgres_database, postgres_url, sqlite_database
from phaseone.workflow import Trial
from phaseone.workflow import registration as reg_service
from phaseone.workflow import screening as screen_service
from phaseone.workflow import slots as slot_service
from phaseone.workflow import treatment as treat_service

PASSWORD = "correct horse battery staple"
POLICY = SecurityPolicy(cookie_secure=False)
T0 = dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC)
USERS = (
    ("chair", Role.study_chair, None),
    ("coord.chla", Role.site_coordinator, "chla"),
    ("inv.chla", Role.site_investigator, "chla"),
    ("coord.chop", Role.site_coordinator, "chop"),
    ("inv.chop", Role.site_investigator, "chop"),
    ("coord.ucsf", Role.site_coordinator, "ucsf"),
    ("inv.ucsf", Role.site_investigator, "ucsf"),
)


@dataclass
class World:
    db: Database
    trial: Trial
    counter: int = field(default=0)

    @contextmanager
    def as_user(self, username: str, source: Source = Source.page) -> Iterator[Scope]:
        with self.db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            yield Scope(session, accounts.actor_for(user, source, "127.0.0.1"))

    def enrol(self, site: str, now: dt.datetime, *, level: int | None = None) -> int:
        """A consented patient screened, signed, holding a slot: returns the patient id."""
        self.counter += 1
        code = f"{site.upper()}-{self.counter:03d}"
        with self.as_user(f"coord.{site}") as scope:
            patient = screen_service.add_patient(
                scope,
                site_id=site,
                subject_code=code,
                birth_date=dt.date(2017, 3, 1),
                sex="M",
                consent_date=now.date(),
            )
            record = screening_record(code, site, now.date(), birth_date=dt.date(2017, 3, 1))
            evaluation, _ = screen_service.screen(
                scope, self.trial, patient.id, record, now.date(), level
            )
            patient_id, evaluation_id = patient.id, evaluation.id
        with self.as_user(f"inv.{site}") as scope:
            screen_service.sign_eligibility(scope, evaluation_id, f"inv.{site}", PASSWORD, POLICY)
        return patient_id

    def request(self, site: str, now: dt.datetime, reference: str | None = None) -> int:
        with self.as_user(f"coord.{site}") as scope:
            row, _ = slot_service.request_slot(scope, self.trial, reference or "next", now)
            return row.id

    def register(self, site: str, patient_id: int, slot_id: int, now: dt.datetime) -> int:
        with self.as_user(f"coord.{site}") as scope:
            reg, _, _ = reg_service.register(
                scope,
                self.trial,
                patient_id=patient_id,
                slot_request_id=slot_id,
                start_date=now.date(),
                height_cm=121.5,
                weight_kg=22.4,
                now=now,
            )
            return reg.dose_level

    def full_course(self, site: str, patient_id: int, doses: int = 21) -> None:
        with self.as_user(f"coord.{site}") as scope:
            for day in range(1, doses + 1):
                treat_service.record_dose(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    course=1,
                    day=day,
                    agent_id="lenalidomide",
                )

    def patient_on(self, site: str, now: dt.datetime, doses: int = 21) -> int:
        patient_id = self.enrol(site, now)
        slot = self.request(site, now)
        self.register(site, patient_id, slot, now)
        self.full_course(site, patient_id, doses)
        return patient_id


def _seed(db: Database) -> World:
    protocol = resolve_protocol("nant-2011-04")
    prepare(db, protocol, system_actor("test"))
    with db.transaction() as session:
        scope = Scope(session, system_actor("test"))
        for username, role, site in USERS:
            accounts.add_user(
                scope,
                username=username,
                full_name=username.replace(".", " ").title(),
                role=role,
                password=PASSWORD,
                site_id=site,
            )
    return World(db, Trial.from_protocol(protocol))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with sqlite_database(tmp_path, migrated=False) as db:
        yield _seed(db)


@pytest.fixture
def pg_world() -> Iterator[World]:
    server = postgres_url()
    if server is None:
        pytest.skip(SKIP_REASON)
    with postgres_database(server, migrated=False, pool_size=10) as db:
        yield _seed(db)


# --- monitoring (queries, SDV, casebooks): the roles the journey above does not need -----

EXTRA = (
    ("monitor", Role.monitor, None),
    ("stat", Role.statistician, None),
    ("admin", Role.admin, None),
)


def add_monitoring_users(world: World) -> None:
    with world.db.transaction() as session:
        scope = Scope(session, system_actor("test"))
        for username, role, site in EXTRA:
            accounts.add_user(
                scope,
                username=username,
                full_name=username.title(),
                role=role,
                password=PASSWORD,
                site_id=site,
            )


def lab(world: World, site: str, patient_id: int, value: float = 1.2) -> int:
    with world.as_user(f"coord.{site}") as scope:
        row, _ = treat_service.record_lab(
            scope,
            world.trial,
            patient_id=patient_id,
            analyte_id="creatinine",
            value=value,
            unit="mg/dL",
            collected_on=T0.date(),
        )
        return row.id


@pytest.fixture
def two_sites(world: World) -> tuple[World, int, int, int]:
    """Monitor, statistician and admin added; a patient on course 1 at CHLA and at CHOP
    (two doses each) and a creatinine at CHLA: (world, chla, chop, lab id)."""
    add_monitoring_users(world)
    chla = world.patient_on("chla", T0, doses=2)
    chop = world.patient_on("chop", T0, doses=2)
    return world, chla, chop, lab(world, "chla", chla)
