"""HL7 FHIR R5: the study (ResearchStudy), its sites (Location), each patient (Patient,
ResearchSubject), their laboratory results and the overall response at each disease
evaluation (Observation), as one collection Bundle.

Plain JSON built here; the tests validate it with the fhir.resources R5 models. Codes come
from HL7's own code systems where one exists (study phase, objective type, subject state,
observation category and interpretation); an analyte is coded in phaseone's own system with
its name as text, since no LOINC map is kept, and units are given as text, not as UCUM codes.
A response is coded as mCODE codes its cancer disease status (LOINC 88040-1, "Response to
cancer treatment", valued from SNOMED CT's condition status trend), with the INRC category
itself in phaseone's own system beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from phaseone.exports.snapshot import Row, Snapshot
from phaseone.labs import analyte as lookup_analyte
from phaseone.response.inrc import EvaluationResponse
from phaseone.safety.ranges import position

HL7 = "http://terminology.hl7.org/CodeSystem"
PHASES = {
    "PHASE1": "phase-1",
    "PHASE2": "phase-2",
    "PHASE3": "phase-3",
    "EARLY_PHASE1": "early-phase-1",
}
INTERPRETATION = {"LOW": "L", "NORMAL": "N", "HIGH": "H"}
GENDER = {"F": "female", "M": "male", "U": "unknown"}
SAFE_ID = re.compile(r"[^A-Za-z0-9.-]")
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RESPONSE_SYSTEM = "urn:phaseone:response"
# An INRC category, its name, and the SNOMED CT condition status trend mCODE STU1 values its
# cancer disease status with (ConditionStatusTrendVS: 260415000 "Not detected" stands for no
# evidence of disease; a minor response is an improvement, as a partial one is).
RESPONSES = {
    "CR": ("Complete response", "260415000", "Not detected"),
    "PR": ("Partial response", "268910001", "Patient condition improved"),
    "MR": ("Minor response", "268910001", "Patient condition improved"),
    "SD": ("Stable disease", "359746009", "Patient's condition stable"),
    "PD": ("Progressive disease", "271299001", "Patient's condition worsened"),
    "NE": ("Not evaluable", "709137006", "Patient condition undetermined"),
}


def _id(text: str) -> str:
    return SAFE_ID.sub("-", text)[:64]


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def bundle(snapshot: Snapshot, created: dt.datetime) -> dict[str, Any]:
    protocol = snapshot.protocol
    study_id = _id(protocol.id)
    resources: list[dict[str, Any]] = [_study(snapshot, study_id)]
    resources += [
        _location(site, snapshot.site_names.get(site, site), country)
        for site, country in sorted(snapshot.site_countries.items())
    ]
    registrations = {r["patient_id"]: r for r in snapshot.rows("registrations")}
    courses = snapshot.by_patient("courses")
    ends = {e["patient_id"]: e for e in snapshot.rows("treatment_ends")}
    off = {e["patient_id"]: e for e in snapshot.rows("clinical_events") if e["kind"] == "off_study"}
    labs = snapshot.by_patient("lab_results")
    responses = {pid: r for pid, r in _responses(snapshot)}
    for patient in sorted(snapshot.rows("patients"), key=lambda p: p["subject_code"]):
        pid = patient["id"]
        patient_id = _id(f"{patient['subject_code']}")
        resources.append(_patient(patient, patient_id, study_id))
        resources.append(
            _subject(
                patient,
                patient_id,
                study_id,
                registrations.get(pid),
                min(courses.get(pid, []), key=lambda c: c["number"], default=None),
                ends.get(pid),
                off.get(pid),
            )
        )
        resources += [
            _observation(lab, patient_id)
            for lab in sorted(labs.get(pid, []), key=lambda r: r["id"])
        ]
        if pid in responses:
            resources += _response_observations(responses[pid], patient_id)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": created.replace(microsecond=0).isoformat(),
        "entry": [{"resource": r} for r in resources],
    }


def _study(snapshot: Snapshot, study_id: str) -> dict[str, Any]:
    protocol = snapshot.protocol
    ident = protocol.identity
    study: dict[str, Any] = {
        "resourceType": "ResearchStudy",
        "id": study_id,
        "identifier": [{"system": "https://clinicaltrials.gov", "value": ident.nct_id}],
        "title": ident.official_title or ident.brief_title,
        "status": "active",
        "condition": [{"text": c} for c in ident.conditions],
        "comparisonGroup": [
            {"linkId": _arm(level.id), "name": level.label or f"Dose level {level.id}"}
            for level in protocol.dose_levels
        ],
        "objective": [
            {
                "name": objective.id,
                "type": _coding(f"{HL7}/research-study-objective-type", objective.kind),
                "description": objective.text,
            }
            for objective in protocol.objectives
        ],
        "site": [
            {"reference": f"Location/{_id(site)}"} for site in sorted(snapshot.site_countries)
        ],
    }
    phases = [PHASES[p] for p in ident.phases if p in PHASES]
    if phases:
        study["phase"] = _coding(f"{HL7}/research-study-phase", phases[0])
    if ident.target_enrollment is not None:
        study["recruitment"] = {"targetNumber": ident.target_enrollment}
    return study


def _arm(level: int) -> str:
    return f"DL{level}" if level >= 0 else f"DLM{-level}"


def _location(site: str, name: str, country: str) -> dict[str, Any]:
    return {
        "resourceType": "Location",
        "id": _id(site),
        "name": name,
        "address": {"country": country},
    }


def _patient(patient: Row, patient_id: str, study_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [
            {"system": f"urn:phaseone:{study_id}:subject", "value": patient["subject_code"]}
        ],
        "gender": GENDER.get(patient["sex"], "unknown"),
    }
    if patient["birth_date"] is not None:
        resource["birthDate"] = patient["birth_date"].isoformat()
    return resource


def _subject(
    patient: Row,
    patient_id: str,
    study_id: str,
    registration: Row | None,
    first_course: Row | None,
    ended: Row | None,
    off_study: Row | None,
) -> dict[str, Any]:
    """Where the patient is in the study: candidate, on study intervention, follow-up, off."""
    if off_study is not None:
        state, since = "off-study", off_study["event_date"]
    elif ended is not None:
        state, since = "follow-up", ended["ended_on"]
    elif registration is not None:
        state, since = "on-study-intervention", registration["registered_on"]
    else:
        state, since = "candidate", patient["consent_date"]
    progress: dict[str, Any] = {
        "type": _coding(f"{HL7}/research-subject-state-type", "Enrollment"),
        "subjectState": _coding(f"{HL7}/research-subject-state", state),
    }
    if since is not None:
        progress["startDate"] = since.isoformat()
    subject: dict[str, Any] = {
        "resourceType": "ResearchSubject",
        "id": f"rs-{patient_id}"[:64],
        "status": "active",
        "study": {"reference": f"ResearchStudy/{study_id}"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "progress": [progress],
    }
    if registration is not None:
        subject["assignedComparisonGroup"] = _arm(registration["dose_level"])
    if first_course is not None:
        subject["actualComparisonGroup"] = _arm(first_course["dose_level"])
    return subject


def _observation(lab: Row, patient_id: str) -> dict[str, Any]:
    spec = lookup_analyte(lab["analyte"])
    unit = lab["unit"]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"lab-{lab['id']}",
        "status": "final",
        "category": [_coding(f"{HL7}/observation-category", "laboratory", "Laboratory")],
        "code": {**_coding("urn:phaseone:analyte", spec.id, spec.name), "text": spec.name},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": lab["collected_on"].isoformat(),
        "valueQuantity": {"value": lab["value"], "unit": unit},
    }
    low, high = lab["lower_normal"], lab["upper_normal"]
    if low is not None or high is not None:
        limits: dict[str, Any] = {}
        if low is not None:
            limits["low"] = {"value": low, "unit": unit}
        if high is not None:
            limits["high"] = {"value": high, "unit": unit}
        obs["referenceRange"] = [limits]
        flag = INTERPRETATION[position(lab["value"], low, high) or "NORMAL"]
        obs["interpretation"] = [_coding(f"{HL7}/v3-ObservationInterpretation", flag)]
    return obs


def _responses(snapshot: Snapshot) -> list[tuple[int, Any]]:
    from phaseone.workflow.evaluations import responses_from_rows

    return responses_from_rows(snapshot.protocol, snapshot.tables)


def _response_observations(result: Any, patient_id: str) -> list[dict[str, Any]]:
    """The overall response at each evaluation after baseline, as the response engine
    computes it from the stored measurements (as SDTM RS), and the investigator's own call
    beside it when one was given; the method says which is which."""
    out = []
    for number, e in enumerate(result.evaluations, start=1):
        if e.kind == "baseline":
            continue
        computed = f"Computed by phaseone from the measurements ({result.criteria})"
        out.append(_response(e, e.overall.response, f"resp-{patient_id}-{number}", patient_id,
                             computed))
        if e.investigator_response:
            out.append(_response(e, e.investigator_response,
                                 f"resp-{patient_id}-{number}-inv", patient_id,
                                 f"Investigator's assessment ({result.criteria})"))
    return out


def _response(
    e: EvaluationResponse, category: str, obs_id: str, patient_id: str, method: str
) -> dict[str, Any]:
    name, snomed, snomed_name = RESPONSES[category]
    return {
        "resourceType": "Observation",
        "id": obs_id[:64],
        "status": "final",
        "category": [_coding(f"{HL7}/observation-category", "exam", "Exam")],
        "code": {**_coding(LOINC, "88040-1", "Response to cancer treatment"),
                 "text": "Overall response"},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": e.date.isoformat(),
        "valueCodeableConcept": {
            "coding": [
                {"system": RESPONSE_SYSTEM, "code": category, "display": name},
                {"system": SNOMED, "code": snomed, "display": snomed_name},
            ],
            "text": name,
        },
        "method": {"text": method},
    }
