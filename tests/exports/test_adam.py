"""ADaM derivations: SAS dates, population flags, treatment emergence, occurrence flags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from phaseone.exports import adam, snapshot
from phaseone.exports.metadata import adam_parameters
from phaseone.exports.metadata import sdtm as definitions
from phaseone.exports.package import datasets, write
from tests.exports.conftest import cdisc_schema
from tests.workflow.conftest import World


@pytest.mark.parametrize(
    ("iso", "days"),
    [
        ("1960-01-01", 0.0),  # the SAS epoch
        ("1959-12-31", -1.0),
        ("1961-01-01", 366.0),  # 1960 was a leap year
        # 64 years with 16 leap days (1960..2020), then Jan-May 2024 (152 days), then 2 more.
        ("2024-06-03", 64 * 365 + 16 + 152 + 2),
    ],
)
def test_sas_dates_count_days_from_1960(iso: str, days: float) -> None:
    assert adam.sas_date(iso) == days


def test_subject_level_flags(trial_world: World) -> None:
    with trial_world.as_user("chair") as scope:
        snap = snapshot.read(scope, trial_world.trial.protocol, purpose="test")
    _, frames = datasets(snap, "adam")
    adsl = frames["ADSL"].set_index("SUBJID")
    first, second = adsl.loc["CHLA-001"], adsl.loc["CHOP-002"]
    june3 = 64 * 365 + 16 + 152 + 2
    assert (june3, june3 + 2, 3) == (first.TRTSDT, first.TRTEDT, first.TRTDURD)
    assert (first.ENRLFL, first.SAFFL, first.DLTEVLFL) == ("Y", "Y", "Y")
    assert (first.EOTSTT, first.DCTREAS) == ("DISCONTINUED", "PROGRESSIVE DISEASE")
    assert first.TRT01PN == first.TRT01AN and first.NCOURSE == 1
    assert (second.EOTSTT, second.DCTREAS, second.DLTEVLFL) == ("ONGOING", "", "")
    adae = frames["ADAE"]
    assert list(adae.DLTFL) == ["Y"] and list(adae.TRTEMFL) == ["Y"]
    assert adae.ASTDT.iloc[0] == june3 + 9 and adae.ATOXGRN.iloc[0] == 3


def _ae(seq: int, term: str, grade: int, start: str) -> dict:
    return {
        "STUDYID": "S",
        "DOMAIN": "AE",
        "USUBJID": "S-1",
        "AESEQ": float(seq),
        "AESPID": str(seq),
        "AETERM": term,
        "AELLT": term,
        "AELLTCD": 1.0,
        "AEDECOD": term,
        "AEBODSYS": "SOC",
        "AESER": "N",
        "AEREL": "",
        "AETOXGR": str(grade),
        "EPOCH": "TREATMENT",
        "VISITNUM": 1.0,
        "AESTDTC": start,
        "AEENDTC": "",
        "AESTDY": None,
        "AEENDY": None,
    }


def test_treatment_emergence_and_occurrence_flags() -> None:
    window = adam_parameters()["treatment_emergent_days"]["value"]
    assert window == 30  # the assumed default; the flags below are worked out for it
    ae = pd.DataFrame(
        [
            _ae(1, "Nausea", 1, "2024-06-02"),  # the day before the first dose: not emergent
            _ae(2, "Nausea", 2, "2024-06-04"),  # first emergent nausea
            _ae(3, "Nausea", 3, "2024-06-20"),  # worst nausea
            _ae(4, "Nausea", 3, "2024-06-25"),  # as bad, later: not the one flagged
            _ae(5, "Fever", 1, "2024-07-30"),  # last dose 06-30 + 30 days: still emergent
            _ae(6, "Rash", 2, "2024-07-31"),  # 31 days after the last dose: not emergent
        ]
    )
    supp = pd.DataFrame(columns=list(definitions().domains["SUPPAE"].names))
    adsl = pd.DataFrame(
        [
            {
                "USUBJID": "S-1",
                "SITEID": "x",
                "TRT01A": "DL1",
                "TRT01AN": 1.0,
                "TRTSDT": adam.sas_date("2024-06-03"),
                "TRTEDT": adam.sas_date("2024-06-30"),
            }
        ]
    )
    out = adam.adae({"AE": ae, "SUPPAE": supp}, adsl).set_index("AESEQ")
    assert list(out.TRTEMFL) == ["", "Y", "Y", "Y", "Y", ""]
    assert list(out.AOCCPFL) == ["", "Y", "", "", "Y", ""]
    assert list(out.WGRPTFL) == ["", "", "Y", "", "Y", ""]


def test_adam_package_with_dates_as_sas_dates_and_the_assumption_stated(
    trial_world: World, tmp_path: Path
) -> None:
    with trial_world.as_user("chair") as scope:
        snap = snapshot.read(scope, trial_world.trial.protocol, purpose="test")
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    names = [w.path.name for w in write(snap, "adam", tmp_path, created=created)]
    assert names == ["adsl.xpt", "adae.xpt", "adrs.xpt", "adtte.xpt", "adpp.xpt", "define.xml"]
    data, meta = pyreadstat.read_xport(str(tmp_path / "adsl.xpt"))
    assert meta.original_variable_types["TRTSDT"] == "DATE9."
    assert set(data.TRTSDT) == {dt.date(2024, 6, 3), dt.date(2024, 6, 4)}
    schema = cdisc_schema("define", "2.1", "define2-1-0.xsd")
    schema.validate(tmp_path / "define.xml")  # type: ignore[attr-defined]
    define = (tmp_path / "define.xml").read_text()
    assert "treatment_emergent_days = 30 (assumed:" in define
    assert 'Purpose="Analysis"' in define
