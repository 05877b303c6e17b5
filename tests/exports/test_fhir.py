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
