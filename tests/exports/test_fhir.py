"""The FHIR R5 Bundle: valid R5 resources, references that resolve, values as stored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from fhir.resources.bundle import Bundle

from phaseone.exports import snapshot
from phaseone.exports.package import write_fhir
from tests.exports.test_sdtm import _add_statistician
from tests.workflow.conftest import World

CREATED = dt.datetime(2025, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def _bundle(world: World, out: Path, username: str = "chair") -> dict:
    with world.as_user(username) as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test")
    (written,) = write_fhir(snap, out, created=CREATED)
    content = json.loads(written.path.read_text())
    Bundle.model_validate(content)  # every resource valid against the R5 models
    return content


def test_bundle_holds_study_sites_patients_and_labs(trial_world: World, tmp_path: Path) -> None:
    content = _bundle(trial_world, tmp_path)
    resources = [e["resource"] for e in content["entry"]]
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(r)
    assert len(by_type["ResearchStudy"]) == 1 and len(by_type["Location"]) == 15
    study = by_type["ResearchStudy"][0]
    assert study["identifier"][0]["value"] == "NCT01711554"
    assert study["phase"]["coding"][0]["code"] == "phase-1"
    levels = trial_world.trial.protocol.dose_levels
    assert [g["linkId"] for g in study["comparisonGroup"]] == [f"DL{lv.id}" for lv in levels]
    # Every reference names a resource in the bundle.
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    references = {
        ref["reference"] for r in resources for key in ("study", "subject") if (ref := r.get(key))
    } | {s["reference"] for s in study["site"]}
    assert references and references <= present
    subjects = {r["subject"]["reference"]: r for r in by_type["ResearchSubject"]}
    first = subjects["Patient/CHLA-001"]
    assert first["progress"][0]["subjectState"]["coding"][0]["code"] == "follow-up"
    assert first["assignedComparisonGroup"] == first["actualComparisonGroup"]
    second = subjects["Patient/CHOP-002"]
    assert second["progress"][0]["subjectState"]["coding"][0]["code"] == "on-study-intervention"
    labs = {o["code"]["coding"][0]["code"]: o for o in by_type["Observation"]}
    anc = labs["anc"]
    assert anc["valueQuantity"] == {"value": 600.0, "unit": "/uL"}
    assert anc["interpretation"][0]["coding"][0]["code"] == "L"
    assert anc["effectiveDateTime"] == "2024-06-10"
    assert anc["subject"]["reference"] == "Patient/CHLA-001"


def test_statisticians_bundle_has_shifted_birth_dates(trial_world: World, tmp_path: Path) -> None:
    _add_statistician(trial_world)

    def births(content: dict) -> dict[str, str]:
        return {
            r["id"]: r["birthDate"]
            for e in content["entry"]
            if (r := e["resource"])["resourceType"] == "Patient"
        }

    plain = births(_bundle(trial_world, tmp_path / "a"))
    shifted = births(_bundle(trial_world, tmp_path / "b", "stats"))
    assert plain.keys() == shifted.keys() and all(plain[k] != shifted[k] for k in plain)


def test_bundle_carries_the_overall_response_of_each_evaluation(
    trial_world: World, tmp_path: Path
) -> None:
    from phaseone.response.evaluation import Evaluation
    from phaseone.workflow import evaluations
    from tests.reports.test_outcome_analyses import START, _evaluate

    _evaluate(trial_world)
    with trial_world.as_user("coord.chla") as scope:
        evaluations.record(
            scope, trial_world.trial, patient_id=trial_world.first,  # type: ignore[attr-defined]
            evaluation=Evaluation.model_validate({
                "date": START + dt.timedelta(days=30), "kind": "unscheduled",
                "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 72}],
                "investigator_response": "PD"}),
            today=START + dt.timedelta(days=30))
    content = _bundle(trial_world, tmp_path)
    responses = [
        r for e in content["entry"]
        if (r := e["resource"])["resourceType"] == "Observation"
        and r["code"]["coding"][0] == {"system": "http://loinc.org", "code": "88040-1",
                                       "display": "Response to cancer treatment"}
    ]
    # CHLA-001: 50 -> 70 mm at day 20 is PD (+40%, +20 mm; INRC 2017), as SDTM RS says; the
    # baselines (both patients) carry no response. Day 30: the computed call and the
    # investigator's PD beside it.
    assert [(r["effectiveDateTime"], r["method"]["text"].split(" ")[0]) for r in responses] == [
        ("2024-06-23", "Computed"), ("2024-07-03", "Computed"), ("2024-07-03", "Investigator's")]
    first = responses[0]
    assert first["subject"]["reference"] == "Patient/CHLA-001"
    assert first["valueCodeableConcept"]["coding"] == [
        {"system": "urn:phaseone:response", "code": "PD", "display": "Progressive disease"},
        # mCODE STU1 ConditionStatusTrendVS: worsened.
        {"system": "http://snomed.info/sct", "code": "271299001",
         "display": "Patient's condition worsened"},
    ]
    assert responses[2]["valueCodeableConcept"]["coding"][0]["code"] == "PD"
    assert len({r["id"] for r in responses}) == 3


def test_bundle_is_compact_utf8_json_ending_in_a_newline(
    trial_world: World, tmp_path: Path
) -> None:
    with trial_world.as_user("chair") as scope:
        snap = snapshot.read(scope, trial_world.trial.protocol, purpose="test")
    (written,) = write_fhir(snap, tmp_path, created=CREATED)
    data = written.path.read_bytes()
    assert data.endswith(b"}\n") and b"\n" not in data[:-1]
    assert data == json.dumps(json.loads(data), separators=(",", ":"),
                              ensure_ascii=False).encode() + b"\n"
