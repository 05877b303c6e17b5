"""Patients and screening: the eligibility engine's per-criterion result, stored and signed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from phaseone.eligibility import (
    ENGINE_VERSION,
    EligibilityResult,
    PatientRecord,
    parse_record,
    record_data,
)
from phaseone.eligibility import evaluate as screen_record
from phaseone.eligibility.changes import Change, record_changes
from phaseone.errors import InputError, Problem
from phaseone.store import records, signatures
from phaseone.store.access import CLINICAL_WRITERS
from phaseone.store.audit import jsonable
from phaseone.store.models import Patient, ScreeningEvaluation, ScreeningRecord
from phaseone.store.scope import Scope
from phaseone.store.security import SecurityPolicy
from phaseone.workflow.context import Trial
from phaseone.workflow.history import trial_state, valid_signature

ELIGIBILITY_MEANING = "eligibility-confirmed"
# The records entered for screening: not a record type of the generic record API (a draft
# is saved, and a screened record stored, only through the functions below).
SCREENING_RECORDS = records.EntitySpec(
    "screening_records", "screening record", ScreeningRecord, CLINICAL_WRITERS
)
SEX = {"female": "F", "male": "M"}


def add_patient(
    scope: Scope,
    *,
    site_id: str,
    subject_code: str | None = None,
    birth_date: dt.date,
    sex: str,
    consent_date: dt.date | None = None,
    initials: str | None = None,
) -> Patient:
    """A consented patient at a site (site staff: their own site only); audited. Without a
    `subject_code` the server assigns the next trial-wide number."""
    patient: Patient = records.create(
        scope,
        records.SPECS["patients"],
        {
            "site_id": site_id,
            "subject_code": subject_code,
            "birth_date": birth_date,
            "sex": sex,
            "consent_date": consent_date,
            "initials": initials,
        },
    )
    return patient


IDENTITY = ("birth_date", "sex", "site")


def _identity(patient: Patient) -> dict[str, Any]:
    sex = {"F": "female", "M": "male"}.get(patient.sex)
    return {"birth_date": patient.birth_date.isoformat(), "sex": sex, "site": patient.site_id}


def with_identity(patient: Patient, record: PatientRecord | dict[str, Any] | str) -> PatientRecord:
    """The record screened for `patient`: birth date, sex and site are the registered
    patient's. A record that leaves them out gets them; one that gives other values is
    refused naming each field (it would screen someone else). Problems are under `record.`.
    """
    if isinstance(record, str):
        try:
            record = json.loads(record)
        except json.JSONDecodeError as exc:
            raise InputError(
                [Problem("record", f"not JSON: {exc.msg} at line {exc.lineno}")]
            ) from None
    if isinstance(record, PatientRecord):
        given: dict[str, Any] = {
            "birth_date": record.birth_date.isoformat(),
            "sex": record.sex,
            "site": record.site,
        }
    elif isinstance(record, dict):
        given = {k: record.get(k) for k in IDENTITY}
    else:
        raise InputError([Problem("record", "expected a JSON object")])
    known = _identity(patient)
    clashes = [
        Problem(
            f"record.{name}",
            f"does not match the registered patient's {name.replace('_', ' ')}; "
            "correct the patient (with a reason) or leave it out of the record",
        )
        for name in IDENTITY
        if given[name] is not None and known[name] is not None and str(given[name]) != known[name]
    ]
    if clashes:
        raise InputError(clashes)
    if isinstance(record, PatientRecord):
        return record
    filled = {**record, **{k: v for k, v in known.items() if v is not None}}
    filled.setdefault("id", patient.subject_code)  # a form's record names no id of its own
    try:
        return parse_record(filled)
    except InputError as exc:
        raise InputError(
            [Problem(f"record.{p.path}" if p.path else "record", p.message) for p in exc.problems]
        ) from None


def screen(
    scope: Scope,
    trial: Trial,
    patient_id: int,
    record: PatientRecord | dict[str, Any] | str,
    as_of: dt.date,
    dose_level: int | None = None,
) -> tuple[ScreeningEvaluation, EligibilityResult]:
    """Screen a patient's record against the dose level they would get (default: the level
    open now), and store every criterion's result with its evidence."""
    patient = records.get(scope, records.SPECS["patients"], patient_id)  # another site's: 404
    scope.require_role(CLINICAL_WRITERS, "screen patients")
    parsed = with_identity(patient, record)
    if dose_level is None:
        dose_level = trial_state(scope.session, trial, as_of).current_level
    result = screen_record(trial.protocol, parsed, as_of, dose_level)
    criteria = []
    skipped = []
    for c in result.criteria:
        if c.status == "not_applicable":
            skipped.append(c.id)
            continue
        criteria.append(
            {
                "criterion_id": c.id,
                "result": c.status,
                "rule_version": None if c.rule_version is None else str(c.rule_version),
                "evidence": {
                    "kind": c.kind,
                    "parent": c.parent,
                    "depth": c.depth,
                    "text": c.text,
                    "rule": c.rule,
                    "outcome": c.outcome,
                    "reason": c.reason,
                    "missing": list(c.missing),
                    "values": jsonable(c.evidence),
                },
            }
        )
    notes = None
    if skipped:
        notes = f"not applicable at dose level {dose_level}: {', '.join(skipped)}"
    evaluation: ScreeningEvaluation = records.create(
        scope,
        records.SPECS["screening_evaluations"],
        {
            "patient_id": patient.id,
            "evaluated_on": as_of,
            "dose_level": dose_level,
            "engine_version": ENGINE_VERSION,
            "overall": result.overall,
            "notes": notes,
            "criteria": criteria,
        },
    )
    _keep_record(scope, patient.id, parsed, as_of, dose_level, evaluation.id)
    return evaluation, result


def _keep_record(
    scope: Scope,
    patient_id: int,
    record: PatientRecord,
    as_of: dt.date | None,
    dose_level: int | None,
    evaluation_id: int | None,
) -> ScreeningRecord:
    row: ScreeningRecord = records.create(
        scope,
        SCREENING_RECORDS,
        {
            "patient_id": patient_id,
            "record": record_data(record),
            "as_of": as_of,
            "dose_level": dose_level,
            "evaluation_id": evaluation_id,
        },
    )
    return row


def save_draft(
    scope: Scope,
    patient_id: int,
    record: PatientRecord | dict[str, Any] | str,
    as_of: dt.date | None = None,
    dose_level: int | None = None,
) -> ScreeningRecord:
    """Save a screening record without screening it (audited, like every save); it is
    read back by `entered_record` until the patient is screened. The record is read as a
    screening reads it: an incomplete record is a valid draft, a mistyped one is refused."""
    patient = records.get(scope, records.SPECS["patients"], patient_id)  # another site's: 404
    scope.require_role(CLINICAL_WRITERS, "save screening drafts")
    return _keep_record(scope, patient.id, with_identity(patient, record), as_of, dose_level, None)


def entered_record(scope: Scope, patient_id: int) -> ScreeningRecord | None:
    """The newest record entered for the patient's screening: an open draft
    (`evaluation_id` None) or else the record of the latest screening."""
    records.get(scope, records.SPECS["patients"], patient_id)  # another site's: 404
    stmt = (
        select(ScreeningRecord)
        .where(ScreeningRecord.patient_id == patient_id, ScreeningRecord.voided.is_(False))
        .order_by(ScreeningRecord.id.desc())
        .limit(1)
    )
    found: ScreeningRecord | None = scope.session.scalar(stmt)
    return found


def screened_record(scope: Scope, evaluation: ScreeningEvaluation) -> dict[str, Any] | None:
    """The record an evaluation read (None for screenings stored before records were kept)."""
    stmt = select(ScreeningRecord.record).where(
        ScreeningRecord.evaluation_id == evaluation.id,
        ScreeningRecord.patient_id == evaluation.patient_id,
    )
    found: dict[str, Any] | None = scope.session.scalar(stmt)
    return found


def record_changes_between(
    scope: Scope, previous: ScreeningEvaluation, current: ScreeningEvaluation
) -> list[Change] | None:
    """The values of the patient record that changed between two screenings (None when
    either screening's record was not kept)."""
    old, new = screened_record(scope, previous), screened_record(scope, current)
    if old is None or new is None:
        return None
    return record_changes(old, new)


def sign_eligibility(
    scope: Scope, evaluation_id: int, username: str, password: str, policy: SecurityPolicy
) -> Any:
    """The site investigator signs the screening (re-authenticating)."""
    sig, _ = signatures.sign(
        scope,
        entity="screening_evaluations",
        record_id=evaluation_id,
        meaning_id=ELIGIBILITY_MEANING,
        username=username,
        password=password,
        policy=policy,
    )
    return sig


def latest_screening(scope: Scope, patient_id: int) -> ScreeningEvaluation | None:
    stmt = (
        select(ScreeningEvaluation)
        .where(
            ScreeningEvaluation.patient_id == patient_id,
            ScreeningEvaluation.voided.is_(False),
        )
        .order_by(ScreeningEvaluation.id.desc())
        .limit(1)
    )
    if scope.actor.site_scoped:
        stmt = stmt.where(ScreeningEvaluation.site_id == scope.actor.site_id)
    return scope.session.scalar(stmt)


def is_signed(scope: Scope, evaluation: ScreeningEvaluation) -> bool:
    found = valid_signature(scope.session, "screening_evaluations", evaluation, ELIGIBILITY_MEANING)
    return found is not None
