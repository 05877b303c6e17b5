"""Build the demo trial by driving the real workflow (every step audited, as in use).

About a dozen invented patients at the bundled protocol's sites, over three dose levels:
level 1 filled and escalated, level 2 with one DLT in six and escalated, level 3 with
patients inside their DLT windows (one window just over, its determination waiting for the
chair), a slot on hold for a site and a request on the waitlist; a baseline disease
evaluation per patient; course 1's specimens with the central laboratory's results
(`demo/specimens.py`). Dates count back from `today`, so
the trial is always in progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select

from phaseone.demo import specimens
from phaseone.demo.records import screening_record
from phaseone.demo.specimens import DemoPatient
from phaseone.protocol.model import Protocol
from phaseone.response import Evaluation
from phaseone.store import accounts
from phaseone.store.access import Role, Source, system_actor
from phaseone.store.db import Database
from phaseone.store.models import User
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.store.setup import prepare
from phaseone.workflow import (
    Trial,
    adjudication,
    evaluations,
    registration,
    screening,
    slots,
    treatment,
)

POLICY = SecurityPolicy(cookie_secure=False)
Passwords = str | Mapping[str, str]


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    site: str | None


USERS = (
    DemoUser("admin", "Ada Admin", Role.admin, None),
    DemoUser("chair", "Dr. Chris Chair", Role.study_chair, None),
    DemoUser("coord.chla", "Casey Coordinator (CHLA)", Role.site_coordinator, "chla"),
    DemoUser("inv.chla", "Dr. Ivy Investigator (CHLA)", Role.site_investigator, "chla"),
    DemoUser("coord.chop", "Cam Coordinator (CHOP)", Role.site_coordinator, "chop"),
    DemoUser("inv.chop", "Dr. Ira Investigator (CHOP)", Role.site_investigator, "chop"),
    DemoUser("coord.seattle", "Sam Coordinator (Seattle)", Role.site_coordinator, "seattle"),
    DemoUser("inv.seattle", "Dr. Sol Investigator (Seattle)", Role.site_investigator, "seattle"),
    DemoUser("stats", "Stella Statistician", Role.statistician, None),
    DemoUser("monitor", "Morgan Monitor", Role.monitor, None),
)


@dataclass(frozen=True)
class Planned:
    """One invented patient: where, when (days before today), and what happens."""

    site: str
    registered_days_ago: int
    age: int
    sex: str
    doses: int = 21
    dlt: bool = False
    mild_ae: str | None = None


# Level 1 (3), level 2 (6, one DLT), level 3 (3 in their DLT windows).
LEVEL_1 = (
    Planned("chla", 170, 6, "male", mild_ae="Nausea"),
    Planned("chop", 169, 9, "female"),
    Planned("seattle", 168, 6, "male", mild_ae="Fatigue"),
)
LEVEL_2 = (
    Planned("chla", 135, 8, "female", mild_ae="Neuralgia"),
    Planned("seattle", 134, 5, "male", dlt=True, doses=9),
    Planned("chop", 133, 11, "male"),
    Planned("chop", 100, 7, "female", mild_ae="Fever"),
    Planned("chla", 99, 10, "male"),
    Planned("seattle", 98, 5, "female"),
)
LEVEL_3 = (
    Planned("chop", 30, 6, "male", mild_ae="Neuralgia"),
    Planned("chla", 15, 9, "female", doses=14, mild_ae="Nausea"),
    Planned("seattle", 5, 12, "male", doses=5),
)


class DemoBuilder:
    def __init__(
        self, db: Database, protocol: Protocol, today: dt.date, passwords: Passwords
    ) -> None:
        self.db = db
        self.passwords = passwords
        self.trial = Trial.from_protocol(protocol)
        self.today = today
        self.count = 0
        self.treated: list[DemoPatient] = []

    def password(self, username: str) -> str:
        if isinstance(self.passwords, str):
            return self.passwords
        return self.passwords[username]

    def at(self, days_ago: int, hour: int = 9) -> dt.datetime:
        day = self.today - dt.timedelta(days=days_ago)
        return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)

    @contextmanager
    def as_user(self, username: str) -> Iterator[Scope]:
        with self.db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            yield Scope(session, accounts.actor_for(user, Source.page, "127.0.0.1"))

    # --- set-up ----------------------------------------------------------------------------

    def setup(self) -> None:
        prepare(self.db, self.trial.protocol, system_actor("demo", Source.cli))
        with self.db.transaction() as session:
            scope = Scope(session, system_actor("demo", Source.cli))
            for u in USERS:
                accounts.add_user(
                    scope,
                    username=u.username,
                    full_name=u.full_name,
                    role=u.role,
                    password=self.password(u.username),
                    site_id=u.site,
                    policy=POLICY,
                )

    # --- one patient through the workflow --------------------------------------------------

    def patient(self, plan: Planned) -> int:
        self.count += 1
        when = self.at(plan.registered_days_ago)
        screened = when - dt.timedelta(days=1)
        coord, inv = f"coord.{plan.site}", f"inv.{plan.site}"
        with self.as_user(coord) as scope:
            request, _ = slots.request_slot(
                scope, self.trial, f"{plan.site.upper()} referral {self.count}", screened
            )
            request_id = request.id
        with self.as_user(coord) as scope:
            p = screening.add_patient(
                scope,
                site_id=plan.site,
                birth_date=dt.date.fromisoformat(
                    screening_record("", plan.site, when.date(), age_years=plan.age)["birth_date"]
                ),
                sex="F" if plan.sex == "female" else "M",
                consent_date=screened.date(),
            )
            code = p.subject_code  # the next trial-wide number
            record = screening_record(
                code, plan.site, when.date(), age_years=plan.age, sex=plan.sex
            )
            evaluation, _ = screening.screen(scope, self.trial, p.id, record, when.date())
            patient_id, evaluation_id = p.id, evaluation.id
        with self.as_user(inv) as scope:
            screening.sign_eligibility(scope, evaluation_id, inv, self.password(inv), POLICY)
        height = 100 + 6.0 * plan.age
        weight = 12 + 2.6 * plan.age
        with self.as_user(coord) as scope:
            reg, _, _ = registration.register(
                scope,
                self.trial,
                patient_id=patient_id,
                slot_request_id=request_id,
                start_date=when.date(),
                height_cm=round(height, 1),
                weight_kg=round(weight, 1),
                now=when,
            )
            level = reg.dose_level
        self.baseline(patient_id, coord, when.date())
        self.treat(plan, patient_id, coord, when)
        self.treated.append(
            DemoPatient(patient_id, plan.site, level, round(weight, 1), when.date())
        )
        return patient_id

    def baseline(self, patient_id: int, coord: str, start: dt.date) -> None:
        """The baseline disease evaluation two days before course 1: MIBG-avid bone disease
        (Curie pelvis 2, thighs 1) for every other patient, marrow involvement of 20% in
        bilateral aspirates and biopsies for the others (invented). No demo patient is past
        course 1, so no response evaluation follows yet."""
        bone = self.count % 2 == 1
        marrow = [
            {"side": side, "kind": kind, "tumour_percent": 0.0 if bone else 20.0}
            for side in ("left", "right")
            for kind in ("aspirate", "biopsy")
        ]
        curie = {"pelvis": 2, "thighs": 1} if bone else {}
        found = Evaluation.model_validate(
            {
                "date": start - dt.timedelta(days=2),
                "kind": "baseline",
                "label": "baseline",
                "mibg": {"avid": True, "curie": curie},
                "marrow": marrow,
            }
        )
        with self.as_user(coord) as scope:
            evaluations.record(
                scope, self.trial, patient_id=patient_id, evaluation=found,
                disease_at_entry="evaluable", today=self.today,
            )  # fmt: skip

    def treat(self, plan: Planned, patient_id: int, coord: str, start: dt.datetime) -> None:
        elapsed = (self.today - start.date()).days
        doses = min(plan.doses, 21, elapsed + 1)
        with self.as_user(coord) as scope:
            for day in range(1, doses + 1):
                treatment.record_dose(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    course=1,
                    day=day,
                    agent_id="lenalidomide",
                )
            for day, anc in ((1, 1900), (8, 1300), (15, 900), (22, 1500)):
                if day <= elapsed + 1:
                    treatment.record_lab(
                        scope,
                        self.trial,
                        patient_id=patient_id,
                        analyte_id="anc",
                        value=anc - 40 * (self.count % 5),
                        unit="/uL",
                        collected_on=start.date() + dt.timedelta(days=day - 1),
                        course=1,
                    )
            if elapsed >= 8:
                treatment.record_lab(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    analyte_id="alt",
                    value=60 + 7 * self.count,
                    unit="U/L",
                    collected_on=start.date() + dt.timedelta(days=7),
                    course=1,
                )
            if plan.mild_ae and elapsed >= 9:
                treatment.record_adverse_event(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    term=plan.mild_ae,
                    grade=2,
                    onset=start.date() + dt.timedelta(days=8),
                    resolved=start.date() + dt.timedelta(days=11),
                    attribution={"dinutuximab": "probable", "lenalidomide": "unlikely"},
                    course=1,
                )
            if plan.dlt:
                onset = start.date() + dt.timedelta(days=plan.doses - 1)
                treatment.record_adverse_event(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    term="Diarrhea",
                    grade=3,
                    onset=onset,
                    resolved=onset + dt.timedelta(days=6),
                    attribution={"lenalidomide": "probable", "dinutuximab": "possible"},
                    course=1,
                    serious=True,
                )
                treatment.end_treatment(
                    scope,
                    self.trial,
                    patient_id=patient_id,
                    ended_on=onset + dt.timedelta(days=1),
                    reason="dlt",
                    detail="grade 3 diarrhea in course 1",
                )

    # --- the chair's side ------------------------------------------------------------------

    def adjudicate(self, days_ago: int, confirm: bool = True) -> None:
        now = self.at(days_ago, hour=15)
        with self.as_user("chair") as scope:
            made = adjudication.refresh(scope, self.trial, now)
            ids = [d.id for d in made]
        for det_id in ids:
            with self.as_user("chair") as scope:
                adjudication.sign_determination(
                    scope,
                    self.trial,
                    det_id,
                    username="chair",
                    password=self.password("chair"),
                    policy=POLICY,
                    now=now,
                )
        if not confirm:
            return
        with self.as_user("chair") as scope:
            for decision in adjudication.open_decisions(scope):
                adjudication.confirm_decision(
                    scope,
                    self.trial,
                    decision.id,
                    username="chair",
                    password=self.password("chair"),
                    policy=POLICY,
                    now=now,
                )

    def build(self) -> None:
        self.setup()
        for plan in LEVEL_1:
            self.patient(plan)
        self.adjudicate(140)  # level 1: 3/3 without DLT -> escalate to 2
        for plan in LEVEL_2[:3]:
            self.patient(plan)
        self.adjudicate(105)  # 1 DLT in 3: stay at level 2
        for plan in LEVEL_2[3:]:
            self.patient(plan)
        self.adjudicate(70)  # 1 DLT in 6 evaluable: escalate to 3
        for plan in LEVEL_3:
            self.patient(plan)
        # One level-3 window is over: the rules propose, the chair has not signed yet.
        with self.as_user("chair") as scope:
            adjudication.refresh(scope, self.trial, self.at(0, hour=8))
        with self.as_user("coord.chla") as scope:
            slots.request_slot(scope, self.trial, "CHLA referral (pre-consent)", self.at(0, 8))
        # Course 1's specimens and the central laboratory's results file.
        specimens.make(self.trial, self.as_user, self.today, self.treated)


def build_demo(db: Database, protocol: Protocol, today: dt.date, passwords: Passwords) -> None:
    """Build the demo trial; each demo account gets its password from `passwords` (by
    username; one string gives every account the same, as the tests do)."""
    DemoBuilder(db, protocol, today, passwords).build()
