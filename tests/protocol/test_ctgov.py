"""Drafting protocols from ClinicalTrials.gov API v2 records (read from files)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from phaseone.errors import InputError, ProtocolError
from phaseone.protocol import load_protocol, resolve_protocol
from phaseone.protocol.ctgov import draft_from_file, draft_from_study, unescape

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ctgov"
NANT = FIXTURES / "NCT01711554.json"


def _flatten(criteria):
    for c in criteria:
        yield c
        yield from _flatten(c.get("children", []))


def _record_bullets(path: Path) -> list[str]:
    """The bullets of the record's eligibility text, unescaped, as the record wrote them."""
    text = json.loads(path.read_text())["protocolSection"]["eligibilityModule"][
        "eligibilityCriteria"
    ]
    return [
        unescape(m.group(1)).strip() for m in re.finditer(r"^\s*\* (.*)$", text, re.MULTILINE)
    ]


def test_nant_identity_sites_agents() -> None:
    draft = draft_from_file(NANT)
    ident = draft.data["identity"]
    assert ident["nct_id"] == "NCT01711554"
    assert ident["phases"] == ["PHASE1"]
    assert ident["target_enrollment"] == 27
    assert ident["max_age_years"] == "21 years"
    assert ident["start_date"] == "2013-02-04"
    assert draft.n_sites == 15
    routes = {a["name"]: a["route"] for a in draft.data["agents"]}
    assert routes == {"Dinutuximab": "IV", "Isotretinoin": "PO", "Lenalidomide": "PO"}
    assert draft.skipped_interventions == ["Laboratory Biomarker Analysis", "Pharmacological Study"]


def test_nant_every_bullet_becomes_a_criterion_with_its_wording() -> None:
    draft = draft_from_file(NANT)
    texts = [c["text"] for c in _flatten(draft.data["eligibility"])]
    bullets = _record_bullets(NANT)
    assert len(bullets) == 75  # 68 inclusion + 7 exclusion bullets in the record
    assert texts == [" ".join(b.split()) for b in bullets]
    assert not any("\\" in t for t in texts)  # markdown escapes removed
    assert any("score of >= 3" in t for t in texts)


def test_nant_nesting_and_combine() -> None:
    draft = draft_from_file(NANT)
    status = draft.data["eligibility"][1]
    assert status["text"] == "Patients must have at least ONE of the following:"
    assert status["combine"] == "any_of"
    assert [c["text"].split(":")[0] for c in status["children"]] == [
        "Recurrent/progressive disease at any time prior to enrollment - regardless of "
        "response to frontline therapy",
        "Refractory disease",
        "Persistent disease",
    ]
    cardiac = next(c for c in draft.data["eligibility"] if c["text"] == "Cardiac function:")
    assert cardiac["combine"] == "all_of" and len(cardiac["children"]) == 3
    exclusions = [c for c in draft.data["eligibility"] if c["kind"] == "exclusion"]
    assert len(exclusions) == 7 and exclusions[0]["id"] == "exc-1"


def test_bundled_protocol_carries_every_record_bullet() -> None:
    criteria = resolve_protocol("nant-2011-04").all_criteria()
    bundled = " ".join(" ".join(c.text.split()) for c in criteria)
    missing = [b for b in _record_bullets(NANT) if " ".join(b.split()) not in bundled]
    assert missing == []


def test_nant_draft_validate_reports_only_todos(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    out.write_text(draft_from_file(NANT).yaml_text)
    with pytest.raises(ProtocolError) as info:
        load_protocol(out)
    problems = info.value.problems
    assert problems and all(p.message.startswith("TODO: ") for p in problems)
    assert all(p.line is not None and p.file == str(out) for p in problems)
    paths = {p.path for p in problems}
    assert {"dose_levels", "course", "dlt", "evaluability", "design"} <= paths


def test_numbered_phase1_2_record() -> None:
    draft = draft_from_file(FIXTURES / "invented-phase1-2-numbered.json")
    data = draft.data
    assert data["identity"]["phases"] == ["PHASE1", "PHASE2"]
    assert data["identity"]["collaborators"] == ["Example Pharma"]
    assert data["sites"] == [] and data["objectives"] == []
    agents = {a["name"]: a for a in data["agents"]}
    assert agents["Drug X"]["route"] == {"todo": "route of administration"}
    assert agents["Drug Y"]["route"] == "IV"
    assert draft.skipped_interventions == ["Tumor biopsy"]
    inc = [c for c in data["eligibility"] if c["kind"] == "inclusion"]
    assert [c["id"] for c in inc] == ["inc-1", "inc-2", "inc-3"]
    assert inc[1]["combine"] == "any_of"
    assert [c["text"] for c in inc[1]["children"]] == [
        "measurable disease by RECIST 1.1; or",
        "evaluable disease by MIBG",
    ]
    # a continuation line joins its bullet; the escape is removed
    assert inc[2]["text"] == (
        "Adequate organ function, defined as serum creatinine <= 1.5 x ULN for age."
    )
    assert [c["text"] for c in data["eligibility"] if c["kind"] == "exclusion"] == [
        "Prior treatment with Drug X.",
        "Pregnant or breast-feeding.",
    ]


def test_observational_record_with_missing_modules() -> None:
    draft = draft_from_file(FIXTURES / "invented-observational-dashes.json")
    data = draft.data
    assert "todo" in data["identity"]["phases"]
    assert "todo" in data["identity"]["sponsor"]
    assert "todo" in data["agents"]
    assert "start_date" not in data["identity"]  # "2019-03" is not turned into a day
    assert "min_age_years" not in data["identity"]  # "N/A"
    assert [s["id"] for s in data["sites"]] == [
        "example-children-s-hospital",
        "example-children-s-hospital-2",
    ]
    assert "todo" in data["sites"][0]["country"]
    tissue = data["eligibility"][1]
    assert tissue["combine"] == "any_of"
    assert [c["text"] for c in tissue["children"]] == ["primary tumor", "metastatic site"]
    assert all(c["kind"] == "inclusion" for c in data["eligibility"])
    yaml.safe_load(draft.yaml_text)  # the written draft is valid YAML


@pytest.mark.parametrize(
    ("study", "message"),
    [
        ({}, "protocolSection"),
        ({"protocolSection": {"identificationModule": {"nctId": "NCT-1"}}}, "expected an NCT id"),
    ],
)
def test_bad_records_are_clear_errors(study: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        draft_from_study(study)


def test_cli_import_then_validate(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    cmd = [sys.executable, "-m", "phaseone", "protocol"]
    imported = subprocess.run(
        [*cmd, "import-ctgov", str(NANT), "-o", str(out)], capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    assert "75 criteria, 3 agents, 15 sites" in " ".join(imported.stdout.split())
    checked = subprocess.run([*cmd, "validate", str(out)], capture_output=True, text=True)
    assert checked.returncode == 2
    assert all("TODO: " in line for line in checked.stderr.splitlines() if line.strip())


def test_cli_import_of_broken_json_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"protocolSection": ')
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "import-ctgov", str(bad), "-o",
         str(tmp_path / "x.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr
