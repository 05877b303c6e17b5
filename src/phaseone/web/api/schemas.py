"""Request bodies for creating records. Corrections (PATCH) and responses are derived from these.

Registrations, DLT determinations and escalation decisions are created by the workflow only;
their classes here describe the fields that are read and (where allowed) corrected.

Structures that belong to an engine (eligibility evidence, dosing, grading, DLT rule detail,
design state) are `EngineData`: stored as given, never interpreted here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from phaseone.trial.history import DecisionKind
from phaseone.web.api.types import (
    ClinicalDate,
    ClockTime,
    Code,
    DoseLevel,
    EngineData,
    Id,
    LabValue,
    Measure,
    Name,
    Note,
    ShortText,
    Slug,
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientIn(Body):
    site_id: Slug
    subject_code: Code | None = Field(
        default=None,
        description="The study's own subject code (not an identifier). Leave it out to have "
        "the next trial-wide number (S-0001, ...) assigned; site staff may choose one only "
        "under their site's prefix (e.g. CHLA-012).",
    )
    initials: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,4}$")
    medical_record_number: ShortText | None = None
    birth_date: ClinicalDate
    sex: Literal["F", "M", "U"]
    consent_date: ClinicalDate | None = None


class OwnedIn(Body):
    patient_id: Id


class CriterionIn(Body):
    criterion_id: Slug
    result: Literal["met", "not_met", "unknown"]
    rule_version: ShortText | None = None
    evidence: EngineData | None = None


class ScreeningEvaluationIn(OwnedIn):
    evaluated_on: ClinicalDate
    dose_level: DoseLevel | None = Field(
        default=None, description="The dose level (slot) the evaluation was made for."
    )
    engine_version: ShortText | None = None
    overall: Literal["met", "not_met", "unknown"]
    notes: Note | None = None
    criteria: list[CriterionIn] = Field(min_length=1, max_length=200)


class RegistrationIn(OwnedIn):
    registered_on: ClinicalDate
    dose_level: DoseLevel
    slot_reference: ShortText | None = None
    assignment: EngineData | None = None


class CourseIn(OwnedIn):
    number: int = Field(ge=1, le=99)
    start_date: ClinicalDate
    dose_level: DoseLevel
    height_cm: Measure | None = None
    weight_kg: Measure | None = None
    bsa_m2: Measure | None = None
    level_reason: Note | None = Field(
        default=None, description="Why the course is below the previous course's dose level."
    )
    delay_days: int | None = Field(
        default=None, ge=0, le=366, description="Days day 1 moved past the date it was due."
    )
    delay_cause: Slug | None = Field(default=None, description="Why day 1 moved (a term id).")
    delay_reason: Note | None = None
    start_checks: list[EngineData] | None = Field(
        default=None, description="The protocol's start conditions as checked at the start."
    )


class DoseAdministrationIn(OwnedIn):
    course_id: Id | None = None
    agent_id: Slug
    course_day: int | None = Field(default=None, ge=1, le=366)
    administered_on: ClinicalDate
    planned_dose: Measure | None = None
    given_dose: Measure | None = None
    unit: ShortText
    given: bool = True
    adjustment_reason: Note | None = None
    how_taken: Literal["swallowed", "chewed", "opened", "infused", "other"] | None = None
    dosing_detail: EngineData | None = None
    administered_time: ClockTime | None = None


class LabResultIn(OwnedIn):
    course_id: Id | None = None
    analyte: ShortText
    value: LabValue
    unit: ShortText
    collected_on: ClinicalDate
    lower_normal: LabValue | None = None
    upper_normal: LabValue | None = None


class AdverseEventIn(OwnedIn):
    course_id: Id | None = None
    term_verbatim: Note
    meddra_term: Name | None = None
    meddra_code: str | None = Field(default=None, pattern=r"^\d{8}$")
    grade: int = Field(ge=1, le=5)
    ctcae_version: str = Field(pattern=r"^\d+(\.\d+){0,2}$", max_length=16)
    onset_date: ClinicalDate
    resolved_date: ClinicalDate | None = None
    serious: bool = False
    attribution: EngineData | None = Field(
        default=None, description="Attribution per agent, e.g. {'lenalidomide': 'possible'}."
    )
    grading_detail: EngineData | None = None


class DltDeterminationIn(OwnedIn):
    course_id: Id | None = None
    adverse_event_id: Id | None = None
    determined_on: ClinicalDate
    is_dlt: bool
    evaluable: bool
    rule: ShortText | None = None
    detail: EngineData | None = None
    rationale: Note | None = None


class ClinicalEventIn(OwnedIn):
    kind: Literal[
        "progression", "relapse", "second_malignancy", "death", "new_therapy", "off_study"
    ]
    event_date: ClinicalDate
    cause: Name | None = None
    detail: Note | None = None


class FollowUpIn(OwnedIn):
    contact_date: ClinicalDate
    vital_status: Literal["alive", "dead", "unknown"]
    disease_status: ShortText | None = None
    notes: Note | None = None


class EscalationDecisionIn(Body):
    decided_on: ClinicalDate
    from_dose_level: DoseLevel | None = None
    dose_level: DoseLevel | None = Field(default=None, description="The level now open, if any.")
    decision: DecisionKind = Field(description="What the confirmed decision did to accrual.")
    design: ShortText
    state: EngineData | None = None
    rationale: Note | None = None
