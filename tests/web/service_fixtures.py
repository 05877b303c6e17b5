from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from phaseone.demo.records import screening_record
from phaseone.protocol import resolve_protocol
from phaseone.store import accounts, sites
from phaseone.store.access import Role, Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import AuditRecord
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy, hash_password
from phaseone.store.testing import SKIP_REASON, temporary_database
from phaseone.web.app import create_app

PASSWORD = "a long test password 1"
BASE = "https://testserver/api/v1"
# The service's clock starts on the day the invented screening record is eligible.
T0 = dt.datetime(2024, 6, 3, 9, 0, tzinfo=dt.UTC)
# When the journey's records are entered: after every date they carry.
ENTERED_AT = dt.datetime(2025, 1, 2, 9, 0, tzinfo=dt.UTC)
# The test patients' birth date (female); their screening records say the same.
PATIENT_BORN = dt.date(2014, 3, 5)


@dataclass
class Clock:
    """The service's clock, moved by the tests (DLT windows end, holds lapse)."""

    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


# (username, role, site): site A is chla, site B is stanford.
PEOPLE = (
    ("admin", Role.admin, None),
    ("chair", Role.study_chair, None),
    ("inv_a", Role.site_investigator, "chla"),
    ("coord_a", Role.site_coordinator, "chla"),
    ("inv_b", Role.site_investigator, "stanford"),
    ("coord_b", Role.site_coordinator, "stanford"),
    ("stat", Role.statistician, None),
    ("monitor", Role.monitor, None),
)


@dataclass
class Service:
    db: Database
    client: TestClient
    tokens: dict[str, str]
    user_ids: dict[str, int]
    policy: SecurityPolicy
    clock: Clock
    made: dict[str, Any] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(BASE + path, headers=self.as_(who), **kw)

    def post(self, who: str, path: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(BASE + path, json=body, headers=self.as_(who), **kw)

    def patch(self, who: str, path: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(BASE + path, json=body, headers=self.as_(who), **kw)

    def delete(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.delete(BASE + path, headers=self.as_(who), **kw)

    def audit_count(self) -> int:
        with self.db.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def new_patient(self, who: str, site: str, code: str) -> dict[str, Any]:
        body = {
            "site_id": site,
            "subject_code": code,
            "initials": "AB",
            "medical_record_number": "MRN-77",
            "birth_date": PATIENT_BORN.isoformat(),
            "sex": "F",
            "consent_date": "2024-01-10",
        }
        return self.ok(self.post(who, "/patients", body), 201)  # type: ignore[no-any-return]

    def screen(self, who: str, patient_id: int, code: str, site: str) -> dict[str, Any]:
        """Screen with an eligible invented record, for the level open now."""
        day = self.clock.now.date()
        record = screening_record(code, site, day, sex="female", birth_date=PATIENT_BORN)
        body = {"record": record, "as_of": day.isoformat()}
        return self.ok(  # type: ignore[no-any-return]
            self.post(who, f"/patients/{patient_id}/screenings", body), 201
        )

    def sign_eligibility(self, who: str, evaluation_id: int) -> dict[str, Any]:
        body = {"meaning_id": "eligibility-confirmed", "username": who, "password": PASSWORD}
        path = f"/screening-evaluations/{evaluation_id}/signatures"
        return self.ok(self.post(who, path, body), 201)  # type: ignore[no-any-return]

    def request_slot(self, who: str, reference: str = "next patient") -> dict[str, Any]:
        body = {"reference": reference}
        return self.ok(self.post(who, "/slot-requests", body), 201)  # type: ignore[no-any-return]

    def register(self, who: str, patient_id: int, slot_id: int, **extra: Any) -> Any:
        body = {
            "slot_request_id": slot_id,
            "start_date": self.clock.now.date().isoformat(),
            "height_cm": 128.0,
            "weight_kg": 26.5,
            **extra,
        }
        return self.post(who, f"/patients/{patient_id}/registration", body)

    def ready_patient_waitlisted(self, site: str, code: str) -> tuple[int, dict[str, Any]]:
        """A new patient at `site` (not screened) and a slot request, whatever its fate."""
        suffix = {"chla": "a", "stanford": "b"}[site]
        patient = self.new_patient(f"coord_{suffix}", site, code)
        return patient["id"], self.request_slot(f"coord_{suffix}", code)

    def ready_patient(self, site: str, code: str) -> tuple[int, int]:
        """A patient at `site` screened eligible, signed, with a slot held: (patient, slot)."""
        suffix = {"chla": "a", "stanford": "b"}[site]
        patient = self.new_patient(f"coord_{suffix}", site, code)
        evaluation = self.screen(f"coord_{suffix}", patient["id"], code, site)
        self.sign_eligibility(f"inv_{suffix}", evaluation["id"])
        slot = self.request_slot(f"coord_{suffix}", code)
        assert slot["status"] == "held", slot
        return patient["id"], slot["id"]


# Hash the shared test password once; logins still verify it with real argon2.
_cached_hash = functools.cache(hash_password)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Each test runs on SQLite and on PostgreSQL (skipped, loudly, without a server URL)."""
    with temporary_database(request.param, tmp_path) as db:
        if db is None:
            pytest.skip(SKIP_REASON)
        yield db


@pytest.fixture
def service(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """A migrated database with the NANT sites, one account per role and site, API tokens."""
    monkeypatch.setattr(accounts, "hash_password", _cached_hash)
    # Back-offs long enough that a slow test run never outlasts one it checks.
    policy = SecurityPolicy(backoff_base_seconds=30.0)
    operator = system_actor("cli:test", Source.cli)
    tokens, ids = {}, {}
    with database.transaction() as session:
        scope = Scope(session, operator)
        sites.seed_sites(scope, resolve_protocol("nant-2011-04"))
        for username, role, site in PEOPLE:
            user = accounts.add_user(
                scope,
                username=username,
                full_name=f"{username.title()} Person",
                role=role,
                password=PASSWORD,
                site_id=site,
            )
            _, tokens[username] = accounts.create_api_token(scope, user, "tests", None)
            ids[username] = user.id
    clock = Clock()
    app = create_app(database, policy=policy, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        yield Service(database, client, tokens, ids, policy, clock)


# The API path of each site's record type, in an order where every record's references exist.
RECORD_PATHS = (
    "patients",
    "screening-evaluations",
    "registrations",
    "courses",
    "dose-administrations",
    "lab-results",
    "adverse-events",
    "dlt-determinations",
    "clinical-events",
    "follow-ups",
)
# Made only by the workflow (the server assigns levels, the rules propose determinations).
WORKFLOW_MADE = frozenset(
    {"registrations", "courses", "dlt-determinations", "escalation-decisions"}
)
# Created with POST /<path> (the generic record API).
CREATABLE = tuple(path for path in RECORD_PATHS if path not in WORKFLOW_MADE)


def body_for(path: str, site: str, code: str, made: dict[str, int]) -> dict[str, Any]:
    """A valid creation body for one record type; `made` holds ids created so far."""
    patient = made.get("patients")
    course = made.get("courses")
    bodies: dict[str, dict[str, Any]] = {
        "patients": {
            "site_id": site,
            "subject_code": code,
            "initials": "CD",
            "medical_record_number": "MRN-1",
            "birth_date": "2015-06-01",
            "sex": "M",
            "consent_date": "2024-01-05",
        },
        "screening-evaluations": {
            "patient_id": patient,
            "evaluated_on": "2024-06-01",
            "dose_level": 1,
            "overall": "met",
            "criteria": [
                {"criterion_id": "age", "result": "met", "evidence": {"age_years": 8.6}},
                {
                    "criterion_id": "anc",
                    "result": "met",
                    "evidence": {"value": 1.2, "unit": "10^9/L", "date": "2024-06-01"},
                },
            ],
        },
        "courses": {
            "patient_id": patient,
            "number": 2,
            "start_date": "2024-07-01",
            "dose_level": 1,
            "height_cm": 128.0,
            "weight_kg": 26.5,
            "bsa_m2": 0.97,
        },
        "dose-administrations": {
            "patient_id": patient,
            "course_id": course,
            "agent_id": "lenalidomide",
            "course_day": 1,
            "administered_on": "2024-06-03",
            "planned_dose": 15.0,
            "given_dose": 15.0,
            "unit": "mg",
            "how_taken": "swallowed",
        },
        "lab-results": {
            "patient_id": patient,
            "course_id": course,
            "analyte": "ANC",
            "value": 0.4,
            "unit": "10^9/L",
            "collected_on": "2024-06-10",
        },
        "adverse-events": {
            "patient_id": patient,
            "course_id": course,
            "term_verbatim": "low neutrophils",
            "meddra_term": "Neutrophil count decreased",
            "grade": 4,
            "ctcae_version": "5.0",
            "onset_date": "2024-06-10",
            "attribution": {"lenalidomide": "probable", "dinutuximab": "unlikely"},
        },
        "clinical-events": {
            "patient_id": patient,
            "kind": "off_study",
            "event_date": "2024-09-01",
            "cause": "toxicity",
        },
        "follow-ups": {
            "patient_id": patient,
            "contact_date": "2024-12-01",
            "vital_status": "alive",
        },
    }
    return bodies[path]


@pytest.fixture
def journey(service: Service) -> dict[str, dict[str, int]]:
    """One patient at site A (chla) and one at site B (stanford), each with every record type.

    Each is screened, signed and registered through the workflow on a held slot, records
    doses, a lab and an AE through the record API; then the DLT windows end and the rules
    propose both determinations (unsigned: the chair's signature is left to the tests).
    """
    made: dict[str, dict[str, int]] = {}
    for site, suffix in (("chla", "a"), ("stanford", "b")):
        code = f"{site.upper()}-001"
        coord = f"coord_{suffix}"
        patient_id, slot_id = service.ready_patient(site, code)
        ids: dict[str, int] = {"patients": patient_id, "slot-requests": slot_id}
        screening = service.ok(
            service.get(coord, f"/screening-evaluations?patient_id={patient_id}")
        )
        ids["screening-evaluations"] = screening["items"][-1]["id"]
        registered = service.ok(service.register(coord, patient_id, slot_id), 201)
        ids["registrations"] = registered["registration"]["id"]
        ids["courses"] = registered["course"]["id"]
        # The records are entered once their dates have passed (no date in the future).
        registered_at, service.clock.now = service.clock.now, ENTERED_AT
        for path in CREATABLE:
            if path in ids:
                continue
            body = body_for(path, site, code, ids)
            ids[path] = service.ok(service.post(coord, f"/{path}", body), 201)["id"]
        service.clock.now = registered_at
        made[suffix] = ids
    service.clock.advance(days=29)
    queue = service.ok(service.post("chair", "/dlt-determinations/proposals"))
    by_patient = {d["patient_id"]: d["id"] for d in queue["proposed_now"]}
    for ids in made.values():
        ids["dlt-determinations"] = by_patient[ids["patients"]]
    service.made = made
    return made
