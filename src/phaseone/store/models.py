"""The trial's tables (SQLAlchemy 2).

Every patient-owned record carries its patient's `site_id`, copied from the patient when the
record is created and never taken from input, so site scoping is one indexed filter.
Results that belong to an engine (eligibility evidence, DLT rule detail, design state) are
JSON columns: the store keeps them as data and applies none of their rules.

Column `info["phi"]` marks what de-identification does for roles that see de-identified data:
"identifier" and "text" are withheld; "date" is shifted by the patient's own random offset.
Migrations are in migrations/; a test checks that they match these models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from phaseone.store.types import JsonData, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IDENTIFIER = {"phi": "identifier"}
PHI_DATE = {"phi": "date"}
FREE_TEXT = {"phi": "text"}

# Columns the store maintains itself; they are not part of a record's audited content.
BOOKKEEPING = frozenset(
    {"id", "created_at", "created_by", "updated_at", "voided", "void_reason", "date_shift_days"}
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Stamped:
    """Creation and last-change bookkeeping, plus voiding (records are never deleted)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str | None] = mapped_column(Text)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin','study_chair','site_investigator','site_coordinator',"
            "'statistician','monitor')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginSession(Base):
    """A browser login. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token for scripts. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OneTimeCode(Base):
    """A code that lets one person set their own password once (a new account's first
    password, or a reset), until it expires. Only the SHA-256 of the code is stored."""

    __tablename__ = "one_time_codes"
    __table_args__ = (CheckConstraint("purpose IN ('invite','reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Patient(Stamped, Base):
    __tablename__ = "patients"
    __table_args__ = (CheckConstraint("sex IN ('F','M','U')", name="sex"),)

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    subject_code: Mapped[str] = mapped_column(String(32), unique=True)
    initials: Mapped[str | None] = mapped_column(String(8), info=IDENTIFIER)
    medical_record_number: Mapped[str | None] = mapped_column(String(64), info=IDENTIFIER)
    birth_date: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    sex: Mapped[str] = mapped_column(String(1))
    consent_date: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    # A random per-patient offset for de-identified views; never derived from identifiers.
    date_shift_days: Mapped[int] = mapped_column(Integer)


class PatientOwned(Stamped):
    """A record about one patient; `site_id` is the patient's site."""

    @declared_attr
    def patient_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("patients.id"), index=True)

    @declared_attr
    def site_id(cls) -> Mapped[str]:
        return mapped_column(ForeignKey("sites.id"), index=True)

    @declared_attr
    def patient(cls) -> Mapped[Patient]:
        return relationship(Patient, lazy="joined", innerjoin=True)


class ScreeningEvaluation(PatientOwned, Base):
    """One eligibility evaluation; its per-criterion results are ScreeningCriterion rows."""

    __tablename__ = "screening_evaluations"

    evaluated_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    dose_level: Mapped[int | None] = mapped_column(Integer)
    engine_version: Mapped[str | None] = mapped_column(String(64))
    overall: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    criteria: Mapped[list[ScreeningCriterion]] = relationship(
        lazy="selectin", order_by="ScreeningCriterion.id", cascade="all"
    )


class ScreeningRecord(PatientOwned, Base):
    """A patient record as entered for screening: a draft (no evaluation yet), or the record
    an evaluation screened (kept so that a re-screening can show what changed)."""

    __tablename__ = "screening_records"

    record: Mapped[Any] = mapped_column(JsonData)
    as_of: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    dose_level: Mapped[int | None] = mapped_column(Integer)
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("screening_evaluations.id"), index=True
    )


class ScreeningCriterion(Base):
    __tablename__ = "screening_criteria"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "criterion_id"),
        CheckConstraint("result IN ('met','not_met','unknown')", name="result"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("screening_evaluations.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    rule_version: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[Any] = mapped_column(JsonData, nullable=True)


class Registration(PatientOwned, Base):
    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("patient_id"),)

    registered_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    dose_level: Mapped[int] = mapped_column(Integer)
    slot_reference: Mapped[str | None] = mapped_column(String(64))
    assignment: Mapped[Any] = mapped_column(JsonData, nullable=True)


class Course(PatientOwned, Base):
    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)

    number: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    dose_level: Mapped[int] = mapped_column(Integer)
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    bsa_m2: Mapped[float | None] = mapped_column(Float)
    # Why the course is below the previous course's level (a dose modification).
    level_reason: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    # Days day 1 moved past the date the previous course allowed, the cause as a
    # controlled term (dosing/data/course_terms.yaml) and the site's own words.
    delay_days: Mapped[int | None] = mapped_column(Integer)
    delay_cause: Mapped[str | None] = mapped_column(String(32))
    delay_reason: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    # The protocol's start conditions as checked when the course started (engine output).
    start_checks: Mapped[Any] = mapped_column(JsonData, nullable=True)


class DoseAdministration(PatientOwned, Base):
    __tablename__ = "dose_administrations"

    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    course_day: Mapped[int | None] = mapped_column(Integer)
    administered_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    planned_dose: Mapped[float | None] = mapped_column(Float)
    given_dose: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    given: Mapped[bool] = mapped_column(Boolean, default=True)
    adjustment_reason: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    how_taken: Mapped[str | None] = mapped_column(String(32))
    dosing_detail: Mapped[Any] = mapped_column(JsonData, nullable=True)
    # Local clock time "HH:MM[:SS]" of the dose (or infusion start): PK needs times, not days.
    administered_time: Mapped[str | None] = mapped_column(String(8))


class LabResult(PatientOwned, Base):
    __tablename__ = "lab_results"

    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    analyte: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    collected_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    lower_normal: Mapped[float | None] = mapped_column(Float)
    upper_normal: Mapped[float | None] = mapped_column(Float)


class AdverseEvent(PatientOwned, Base):
    __tablename__ = "adverse_events"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade"),)

    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    term_verbatim: Mapped[str] = mapped_column(Text, info=FREE_TEXT)
    meddra_term: Mapped[str | None] = mapped_column(String(200))
    meddra_code: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[int] = mapped_column(Integer)
    ctcae_version: Mapped[str] = mapped_column(String(16))
    onset_date: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    resolved_date: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    attribution: Mapped[Any] = mapped_column(JsonData, nullable=True)
    grading_detail: Mapped[Any] = mapped_column(JsonData, nullable=True)


class DltDetermination(PatientOwned, Base):
    __tablename__ = "dlt_determinations"

    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    adverse_event_id: Mapped[int | None] = mapped_column(ForeignKey("adverse_events.id"))
    determined_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    is_dlt: Mapped[bool] = mapped_column(Boolean)
    evaluable: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[Any] = mapped_column(JsonData, nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)


class ClinicalEvent(PatientOwned, Base):
    __tablename__ = "clinical_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('progression','relapse','second_malignancy','death','new_therapy',"
            "'off_study')",
            name="kind",
        ),
    )

    kind: Mapped[str] = mapped_column(String(24))
    event_date: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    cause: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)


class FollowUp(PatientOwned, Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("vital_status IN ('alive','dead','unknown')", name="vital_status"),
    )

    contact_date: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    vital_status: Mapped[str] = mapped_column(String(16))
    disease_status: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)


class EscalationDecision(Stamped, Base):
    """A trial-level dose-level decision; it belongs to no site and every role may read it."""

    __tablename__ = "escalation_decisions"

    decided_on: Mapped[dt.date] = mapped_column(Date)
    from_dose_level: Mapped[int | None] = mapped_column(Integer)
    dose_level: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(32))
    design: Mapped[str] = mapped_column(String(64))
    state: Mapped[Any] = mapped_column(JsonData, nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text)


class Signature(Base):
    """An electronic signature: who, when, what it means, and the hash of what was signed."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    meaning_id: Mapped[str] = mapped_column(String(64))
    meaning: Mapped[str] = mapped_column(String(200))
    signer_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    signer_role: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))


class AuditRecord(Base):
    """One entry of the append-only, hash-chained audit trail.

    `at` is stored as fixed-format ISO 8601 UTC text and values as canonical JSON text, so
    the bytes that were hashed are the bytes that are stored on either database.
    """

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    user_site_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    record_site_id: Mapped[str | None] = mapped_column(String(64), index=True)
    field: Mapped[str | None] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditPending(Base):
    """An audit entry written with its transaction, waiting for its place in the chain.

    The chain's sealer moves committed entries from here into `audit_records` in one
    transaction under the chain lock, however many wait, so the lock is not held across
    every writer's commit. `entry` is the canonical JSON of the hashed fields but `seq`
    and `prev_hash`, which the sealer gives.
    """

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry: Mapped[str] = mapped_column(Text)


# --- the phase I workflow: slots, notifications, end of treatment -------------------------


class SlotRequest(Stamped, Base):
    """A site's request for a dose-level slot: held until an expiry, or waitlisted.

    Before consent it names no patient: `reference` is the site's own pseudonymous label.
    """

    __tablename__ = "slot_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('held','waitlisted','registered','expired','released','cancelled')",
            name="status",
        ),
    )

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    hold_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    priority_reason: Mapped[str | None] = mapped_column(Text)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    closed_reason: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """A message to one site (or, with no site, to every site and the operations centre)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    slot_request_id: Mapped[int | None] = mapped_column(ForeignKey("slot_requests.id"))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TreatmentEnd(PatientOwned, Base):
    """The patient came off protocol treatment (follow-up continues until off study)."""

    __tablename__ = "treatment_ends"
    __table_args__ = (UniqueConstraint("patient_id"),)

    ended_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)


# --- specimens and core-lab results -------------------------------------------------------


class Shipment(Stamped, Base):
    """A manifest: specimens one site sends together to one central laboratory."""

    __tablename__ = "shipments"
    __table_args__ = (CheckConstraint("status IN ('open','shipped','received')", name="status"),)

    code: Mapped[str] = mapped_column(String(16), unique=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    lab: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    shipped_on: Mapped[dt.date | None] = mapped_column(Date)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[dt.date | None] = mapped_column(Date)


class Specimen(PatientOwned, Base):
    """One scheduled sample: planned from a protocol assessment, then collected (or missed),
    processed, shipped on a manifest and received by the central laboratory."""

    __tablename__ = "specimens"
    __table_args__ = (
        CheckConstraint(
            "status IN ('planned','collected','missed','processed','shipped','received')",
            name="status",
        ),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    assessment_id: Mapped[str] = mapped_column(String(64))
    specimen_type: Mapped[str] = mapped_column(String(16))
    lab: Mapped[str] = mapped_column(String(64))
    course_number: Mapped[int] = mapped_column(Integer)
    course_day: Mapped[int] = mapped_column(Integer)
    sample_hour: Mapped[float | None] = mapped_column(Float)
    planned_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    status: Mapped[str] = mapped_column(String(16), index=True)
    collected_on: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    collected_time: Mapped[str | None] = mapped_column(String(8))
    missed_reason: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    processed_on: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    processing: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    received_on: Mapped[dt.date | None] = mapped_column(Date, info=PHI_DATE)
    condition: Mapped[str | None] = mapped_column(String(32))


class ResultImport(Stamped, Base):
    """One committed core-lab results file, identified by its SHA-256."""

    __tablename__ = "result_imports"

    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(Integer)


class SpecimenResult(PatientOwned, Base):
    """One analyte's result for one specimen: a number (a Ct may be undetected) or a call."""

    __tablename__ = "specimen_results"
    __table_args__ = (UniqueConstraint("specimen_id", "analyte", "import_id"),)

    specimen_id: Mapped[int] = mapped_column(ForeignKey("specimens.id"), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("result_imports.id"), index=True)
    analyte: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    undetected: Mapped[bool] = mapped_column(Boolean, default=False)
    call: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    source_line: Mapped[int] = mapped_column(Integer)


# --- disease evaluations ------------------------------------------------------------------


class DiseaseEvaluation(PatientOwned, Base):
    """One disease evaluation (baseline, scheduled or unscheduled). Only measurements are
    kept: the response is computed from them by phaseone.response, never stored."""

    __tablename__ = "disease_evaluations"
    __table_args__ = (
        CheckConstraint("kind IN ('baseline','scheduled','unscheduled')", name="kind"),
        CheckConstraint(
            "disease_at_entry IN ('measurable','evaluable','complete_response')",
            name="disease_at_entry",
        ),
        CheckConstraint(
            "investigator_response IN ('CR','PR','MR','SD','PD','NE')",
            name="investigator_response",
        ),
    )

    evaluated_on: Mapped[dt.date] = mapped_column(Date, info=PHI_DATE)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(80))
    # The protocol's scheduled assessment and course the evaluation stands for.
    assessment_id: Mapped[str | None] = mapped_column(String(64))
    course_number: Mapped[int | None] = mapped_column(Integer)
    # Disease status at study entry (baseline only): objective VII's strata.
    disease_at_entry: Mapped[str | None] = mapped_column(String(24))
    # MIBG: None when no scan was read; per-segment scores are MibgScore rows.
    mibg_avid: Mapped[bool | None] = mapped_column(Boolean)
    mibg_new_avid_bone_site: Mapped[bool] = mapped_column(Boolean, default=False)
    # FDG-PET for MIBG-non-avid disease: None when not done.
    pet_avid_bone_sites: Mapped[int | None] = mapped_column(Integer)
    pet_new_avid_bone_site: Mapped[bool] = mapped_column(Boolean, default=False)
    new_lesion: Mapped[bool] = mapped_column(Boolean, default=False)
    investigator_response: Mapped[str | None] = mapped_column(String(2))
    investigator_reason: Mapped[str | None] = mapped_column(Text, info=FREE_TEXT)


class MibgScore(PatientOwned, Base):
    """One segment's MIBG extent score on one scale (Curie 0-3, SIOPEN 0-6)."""

    __tablename__ = "mibg_scores"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "scale", "segment"),
        CheckConstraint("scale IN ('curie','siopen')", name="scale"),
        CheckConstraint("score BETWEEN 0 AND 6", name="score"),
    )

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("disease_evaluations.id"), index=True)
    scale: Mapped[str] = mapped_column(String(8))
    segment: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)


class LesionMeasurement(PatientOwned, Base):
    """A CT/MRI lesion at one evaluation; `lesion_code` is the lesion's identity across the
    patient's evaluations (the primary tumour and each soft-tissue lesion)."""

    __tablename__ = "lesion_measurements"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "lesion_code"),
        CheckConstraint("site IN ('primary','soft_tissue','lymph_node')", name="site"),
        CheckConstraint("diameter_mm >= 0", name="diameter_mm"),
    )

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("disease_evaluations.id"), index=True)
    lesion_code: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(16))
    # Longest diameter; short axis for lymph nodes; 0 when no longer seen.
    diameter_mm: Mapped[float] = mapped_column(Float)
    target: Mapped[bool] = mapped_column(Boolean, default=True)
    avid: Mapped[bool | None] = mapped_column(Boolean)
    new: Mapped[bool] = mapped_column(Boolean, default=False)
    biopsy_proven: Mapped[bool] = mapped_column(Boolean, default=False)


class MarrowSample(PatientOwned, Base):
    """One bone-marrow sample of an evaluation: side, aspirate or biopsy, method, % tumour."""

    __tablename__ = "marrow_samples"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "sample_number"),
        CheckConstraint("side IN ('left','right')", name="side"),
        CheckConstraint("kind IN ('aspirate','biopsy')", name="kind"),
        CheckConstraint("tumour_percent BETWEEN 0 AND 100", name="tumour_percent"),
    )

    evaluation_id: Mapped[int] = mapped_column(ForeignKey("disease_evaluations.id"), index=True)
    sample_number: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(24))
    tumour_percent: Mapped[float] = mapped_column(Float)


# Tables whose rows a client may create, read, correct and void through the API, by name.
PATIENT_OWNED: dict[str, type[PatientOwned]] = {
    "screening_evaluations": ScreeningEvaluation,
    "registrations": Registration,
    "courses": Course,
    "dose_administrations": DoseAdministration,
    "lab_results": LabResult,
    "adverse_events": AdverseEvent,
    "dlt_determinations": DltDetermination,
    "clinical_events": ClinicalEvent,
    "follow_ups": FollowUp,
}


# --- monitoring: queries, source-data verification, casebook locks ------------------------


class DataQuery(Base):
    """A question about one field of one record, raised by a monitor, the operations centre
    or an edit check the site overrode; answered by the site, closed or re-opened by the
    raiser's side. Its messages are the thread; every step is also audited."""

    __tablename__ = "queries"
    __table_args__ = (
        CheckConstraint("status IN ('open','answered','closed')", name="status"),
        CheckConstraint("origin IN ('manual','edit_check')", name="origin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    # The form the record belongs to (workflow/forms.py): its type and its key.
    form_type: Mapped[str] = mapped_column(String(32))
    form_key: Mapped[str] = mapped_column(String(128), index=True)
    # The field's value when the query was raised, as canonical JSON.
    value_at_raise: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    check_id: Mapped[str | None] = mapped_column(String(64))
    raised_by: Mapped[int | None] = mapped_column(Integer)
    raised_role: Mapped[str | None] = mapped_column(String(32))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    messages: Mapped[list[QueryMessage]] = relationship(
        lazy="selectin", order_by="QueryMessage.id", cascade="all"
    )


class QueryMessage(Base):
    """One step of a query's thread: raised, answered (perhaps with a correction), closed
    or re-opened, with the words of the person who took it."""

    __tablename__ = "query_messages"
    __table_args__ = (CheckConstraint("step IN ('raise','answer','close','reopen')", name="step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("queries.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, info=FREE_TEXT)
    # The correction made with an answer: field, old and new values (canonical JSON).
    correction: Mapped[Any] = mapped_column(JsonData, nullable=True)


class SdvMark(Base):
    """A monitor's verification of one form against source: the hash of the form's records
    as they were verified. The newest mark of a form counts; it holds while the hash of the
    form's records still equals it."""

    __tablename__ = "sdv_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    form_type: Mapped[str] = mapped_column(String(32))
    form_key: Mapped[str] = mapped_column(String(128), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    verified_by: Mapped[int | None] = mapped_column(Integer)
    verified_name: Mapped[str] = mapped_column(String(200))
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CasebookLock(Base):
    """A patient's casebook locked by the investigator's signature; released (with a reason)
    only by the study chair or an administrator. Locked while `released_at` is empty."""

    __tablename__ = "casebook_locks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    locked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by: Mapped[int | None] = mapped_column(Integer)
    release_reason: Mapped[str | None] = mapped_column(Text)
