"""The bundled NANT 2011-04 protocol against the public registry record (NCT01711554)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from phaseone.protocol import bundled_protocols, resolve_protocol
from phaseone.protocol.summary import assumed_values, course_calendar


@pytest.fixture(scope="module")
def nant():
    return resolve_protocol("nant-2011-04")


def test_bundled_list_has_nant() -> None:
    assert "nant-2011-04" in bundled_protocols()


def test_identity_matches_registry(nant) -> None:
    ident = nant.identity
    assert ident.nct_id == "NCT01711554"
    assert ident.target_enrollment == 27
    assert ident.phases == ("PHASE1",)
    assert str(ident.start_date) == "2013-02-04"
    assert str(ident.completion_date) == "2026-03-17"
    assert ident.max_age_years == 21
    assert ident.study_chair is not None and ident.study_chair.name == "Araz Marachelian"
    ids = {o.id for o in ident.other_ids}
    assert {"NCI-2012-02011", "CDR0000741991", "N2011-04", "NANT 11-04", "NANT N2011-04"} <= ids


def test_fifteen_registry_sites(nant) -> None:
    assert len(nant.sites) == 15
    assert {s.country for s in nant.sites} == {"United States", "Canada"}
    assert all(s.provenance.source == "registry" for s in nant.sites)


def test_objectives_three_primary_eleven_secondary(nant) -> None:
    kinds = [o.kind for o in nant.objectives]
    assert kinds.count("primary") == 3
    assert kinds.count("secondary") == 11


def test_course_calendar_from_registry(nant) -> None:
    assert nant.course.length_days == 28
    assert nant.course.max_courses == 12
    rows = {r.agent: r for r in course_calendar(nant)}
    len_ = rows["lenalidomide"]
    assert len_.days == tuple(range(1, 22)) and len_.times_per_day == 1 and len_.all_levels
    din = rows["dinutuximab"]
    assert din.days == (8, 9, 10, 11) and din.infusion_hours == 10 and din.route == "IV"
    iso = rows["isotretinoin"]
    assert iso.days == tuple(range(15, 29)) and iso.times_per_day == 2
    assert iso.dose_levels == (2, 3, 4, 5) and not iso.all_levels


def test_not_public_values_are_assumed(nant) -> None:
    paths = {a.path for a in assumed_values(nant)}
    for level in ("1", "2", "3", "4", "5"):
        assert f"dose_levels[{level}]" in paths
    assert {"design", "dlt", "dosing", "response"} <= paths
    # Registry facts are never flagged.
    assert not any(p.startswith(("identity.nct_id", "sites", "objectives")) for p in paths)
    assert not any(p.startswith("course.schedule") for p in paths)


def test_isotretinoin_criteria_depend_on_dose_level(nant) -> None:
    dependent = {c.id for c in nant.all_criteria() if c.applies_when is not None}
    assert dependent == {"inc-hematuria", "inc-triglycerides", "inc-hypercalcemia", "exc-paraben"}
    for cid in dependent:
        crit = next(c for c in nant.all_criteria() if c.id == cid)
        assert crit.applies_when is not None
        assert crit.applies_when.dose_level_includes == "isotretinoin"


def test_show_prints_calendar_and_flags_assumptions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "show", "nant-2011-04"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "80", "PATH": "", "NO_COLOR": "1"},
    )
    out = result.stdout
    assert "Lenalidomide: days 1-21, PO once daily; all levels" in out
    assert "Dinutuximab: days 8-11, IV over 10 h, once daily; all levels" in out
    assert "Isotretinoin: days 15-28, PO twice daily; levels 2-5" in out
    assert "Assumed values" in out and "assumed" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_show_unknown_protocol_is_a_clean_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phaseone", "protocol", "show", "no-such-trial"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "no bundled protocol 'no-such-trial'" in result.stderr
    assert "Traceback" not in result.stderr
