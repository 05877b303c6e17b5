"""Every leaf of the bundled protocol has a rule the engine knows, with valid params;
bad rule names and params are errors naming the field path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from phaseone.eligibility import RULES, Screener, check_rules
from phaseone.eligibility.rules.base import read_params
from phaseone.errors import ProtocolError
from phaseone.protocol import bundled_protocols, parse_protocol, resolve_protocol

NANT = bundled_protocols()["nant-2011-04"]


def test_every_leaf_has_a_known_rule_with_valid_params() -> None:
    protocol = resolve_protocol("nant-2011-04")
    leaves = [c for c in protocol.all_criteria() if not c.children]
    assert len(leaves) >= 60
    for leaf in leaves:
        assert leaf.rule in RULES, leaf.id
        read_params(RULES[leaf.rule].params, leaf.params)  # raises if invalid
    check_rules(protocol)


def test_every_registry_bullet_is_a_criterion() -> None:
    # Bullets of the record's Eligibility Criteria (inclusion 67, exclusion 7 in the
    # registry text, counting each nested bullet and each creatinine table row under its
    # criterion): spot-check the ids that carry them.
    ids = {c.id for c in resolve_protocol("nant-2011-04").all_criteria()}
    for cid in [
        "inc-high-risk",
        "inc-recurrent",
        "inc-refractory",
        "inc-persistent",
        "inc-bone-mibg-site",
        "inc-bone-fdg",
        "inc-marrow",
        "inc-soft-tissue-size",
        "inc-soft-tissue-non-avid",
        "inc-prior-pd-recent",
        "inc-washout-rt-large-field",
        "inc-auto-sct-non-myeloablative",
        "inc-prior-iso-len",
        "inc-apc",
        "inc-creatinine",
        "inc-gfr",
        "inc-sos",
        "inc-fractional-shortening",
        "inc-male-condom",
        "exc-biology-study",
    ]:
        assert cid in ids


def _mutated(edit: str, replacement: str) -> str:
    text = NANT.read_text(encoding="utf-8")
    assert edit in text
    return text.replace(edit, replacement, 1)


@pytest.mark.parametrize(
    ("edit", "replacement", "path", "message"),
    [
        ("rule: max_age", "rule: max_ages", "eligibility[", "unknown rule 'max_ages'"),
        (
            "params: {categories: [cytokine], min_days: 7}",
            "params: {categories: [cytokine], min_days: -7}",
            ".params.min_days",
            "greater than or equal to 0",
        ),
        (
            "params: {analyte: anc, min: 750, unit: /uL, lookback_days",
            "params: {analyte: anc, min: 750, unit: mg/dL, lookback_days",
            ".params.unit",
            "not accepted for anc",
        ),
        (
            "params: {max_completed_years: 21}",
            "params: {max_completed_years: 21, fudge: 1}",
            ".params.fudge",
            "extra inputs are not permitted",
        ),
        (
            "params: {sites_criterion: inc-evaluable-disease}",
            "params: {sites_criterion: inc-nowhere}",
            ".params",
            "refers to unknown criterion 'inc-nowhere'",
        ),
        ("for_each: soft_tissue_lesion", "for_each: lesion", ".for_each", "unknown collection"),
    ],
)
def test_bad_rules_name_the_field(edit: str, replacement: str, path: str, message: str) -> None:
    protocol = parse_protocol(_mutated(edit, replacement))
    with pytest.raises(ProtocolError) as info:
        Screener(protocol)
    problems = info.value.problems
    assert any(path in p.path and message in p.message for p in problems), problems


def test_leaf_without_rule_is_reported() -> None:
    data = yaml.safe_load(NANT.read_text(encoding="utf-8"))
    data["eligibility"][0].pop("rule")
    data["eligibility"][0].pop("params")
    data["eligibility"][0].pop("field_provenance")
    protocol = parse_protocol(yaml.safe_dump(data))
    with pytest.raises(ProtocolError, match=r"eligibility\[0\].rule: criterion has no rule"):
        check_rules(protocol)


def test_protocol_validate_checks_rules(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(_mutated("rule: max_age", "rule: max_ages"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown rule 'max_ages'" in result.stderr
    assert str(bad) in result.stderr
    assert "Traceback" not in result.stderr
