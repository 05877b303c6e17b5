"""SDTM datasets from a trial run through the workflow: derivations checked by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from phaseone.exports import sdtm, snapshot
from phaseone.exports.metadata import sdtm as definitions
from phaseone.exports.metadata import terminology
from phaseone.labs.catalogue import analytes
from phaseone.safety.events import ATTRIBUTIONS
from phaseone.store.errors import PermissionDenied
from phaseone.workflow.treatment import OFF_TREATMENT_REASONS
from tests.workflow.conftest import World


def _frames(world: World, username: str = "chair", deidentify: bool = False) -> dict:
    with world.as_user(username) as scope:
        snap = snapshot.read(scope, world.trial.protocol, purpose="test", deidentify=deidentify)
    return sdtm.build(snap)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (dt.date(2024, 1, 10), 1),  # the reference date is day 1
        (dt.date(2024, 1, 11), 2),
        (dt.date(2024, 1, 9), -1),  # the day before is -1: there is no day 0
        (dt.date(2023, 12, 31), -10),
        (dt.date(2024, 3, 1), 52),  # 2024 is a leap year: 21 + 29 + 1 + 1
    ],
)
def test_study_day_has_no_day_zero(on: dt.date, expected: int) -> None:
    assert sdtm.study_day(on, dt.date(2024, 1, 10)) == expected


def test_every_domain_is_built_with_its_defined_columns(trial_world: World) -> None:
    frames = _frames(trial_world)
    assert list(frames) == list(definitions().domains)
    for name, frame in frames.items():
        assert list(frame.columns) == list(definitions().domains[name].names), name


def test_demographics(trial_world: World) -> None:
    dm = _frames(trial_world)["DM"].set_index("SUBJID")
    first = dm.loc["CHLA-001"]
    assert first.USUBJID == "NANT-2011-04-CHLA-001"
    assert first.SITEID == "chla" and first.COUNTRY == "USA" and first.SEX == "M"
    # Born 2017-03-01, consented 2024-06-03: 7 whole years.
    assert first.AGE == 7 and first.AGEU == "YEARS"
    assert first.RFICDTC == "2024-06-03" and first.BRTHDTC == "2017-03-01"
    # Three daily lenalidomide doses from the start date: first and last exposure.
    assert first.RFXSTDTC == "2024-06-03" and first.RFXENDTC == "2024-06-05"
    assert first.RFENDTC == "2024-06-23"  # the end of treatment, 20 days after the start
    level = int(first.ARMCD.removeprefix("DL"))
    assert first.ACTARMCD == first.ARMCD and level in {
        lv.id for lv in trial_world.trial.protocol.dose_levels
    }


def test_exposure_holds_each_given_dose(trial_world: World) -> None:
    ex = _frames(trial_world)["EX"]
    first = ex[ex.USUBJID == "NANT-2011-04-CHLA-001"]
    assert list(first.EXSEQ) == [1.0, 2.0, 3.0]
    assert list(first.EXSTDTC) == ["2024-06-03", "2024-06-04", "2024-06-05"]
    assert list(first.EXSTDY) == [1.0, 2.0, 3.0]
    assert set(first.EXTRT) == {"LENALIDOMIDE"} and set(first.EXROUTE) == {"ORAL"}
    assert set(first.EXDOSFRQ) == {"QD"} and set(first.EXDOSFRM) == {"CAPSULE"}
    assert (first.EXDOSE > 0).all() and set(first.EXDOSU) == {"mg"}


def test_adverse_event_with_its_dlt_flag(trial_world: World) -> None:
    frames = _frames(trial_world)
    ae = frames["AE"].iloc[0]
    assert ae.AETERM == "loose stools x6/day" and ae.AEDECOD == "Diarrhea"
    assert ae.AETOXGR == "3" and ae.AESER == "Y"
    assert ae.AEREL == "PROBABLY RELATED"  # the strongest of possible and probable
    assert (ae.AESTDTC, ae.AESTDY, ae.AEENDY) == ("2024-06-12", 10.0, 13.0)
    assert ae.EPOCH == "TREATMENT" and ae.VISITNUM == 1.0
    supp = frames["SUPPAE"]
    assert len(supp) == 1
    row = supp.iloc[0]
    assert (
        ae.USUBJID,
        "AESEQ",
        str(int(ae.AESEQ)),
        "AEDLT",
        "Y",
    ) == (row.USUBJID, row.IDVAR, row.IDVARVAL, row.QNAM, row.QVAL)


def test_labs_in_original_and_standard_units(trial_world: World) -> None:
    lb = _frames(trial_world)["LB"].set_index("LBTESTCD")
    anc = lb.loc["NEUT"]
    assert anc.LBORRES == "600" and anc.LBORRESU == "/uL" and anc.LBSTRESN == 600
    assert anc.LBNRIND == "LOW" and anc.LBDY == 8.0
    # CTCAE v5.0 neutrophil count decreased: grade 3 is <1000-500/mm3.
    assert anc.LBTOXGR == "3"
    creat = lb.loc["CREAT"]
    # 53 umol/L at 88.4 umol/L per mg/dL: 0.5995... mg/dL, two days before day 1.
    assert creat.LBORRES == "53" and creat.LBORRESU == "umol/L" and creat.LBSTRESU == "mg/dL"
    assert pytest.approx(53 / 88.42, rel=1e-3) == creat.LBSTRESN
    assert (creat.LBDY, creat.EPOCH) == (-2.0, "SCREENING")


def test_disposition_and_visits(trial_world: World) -> None:
    frames = _frames(trial_world)
    ds = frames["DS"]
    first = ds[ds.USUBJID == "NANT-2011-04-CHLA-001"]
    assert set(first.DSDECOD) == {"INFORMED CONSENT OBTAINED", "PROGRESSIVE DISEASE"}
    end = first[first.DSCAT == "DISPOSITION EVENT"].iloc[0]
    assert (end.DSSTDTC, end.DSSTDY, end.EPOCH) == ("2024-06-23", 21.0, "TREATMENT")
    sv = frames["SV"]
    course = sv[(sv.USUBJID == "NANT-2011-04-CHLA-001") & (sv.VISITNUM == 1)].iloc[0]
    # A 28-day course cut short by the end of treatment on day 21.
    assert (course.SVSTDTC, course.SVENDTC) == ("2024-06-03", "2024-06-23")
    other = sv[(sv.USUBJID == "NANT-2011-04-CHOP-002") & (sv.VISITNUM == 1)].iloc[0]
    assert (other.SVSTDTC, other.SVENDTC) == ("2024-06-04", "2024-07-01")


def test_trial_summary_comes_from_the_protocol(trial_world: World) -> None:
    ts = _frames(trial_world)["TS"]
    values = dict(zip(ts.TSPARMCD, ts.TSVAL, strict=False))
    assert values["REGID"] == "NCT01711554" and values["TPHASE"] == "PHASE I TRIAL"
    assert set(ts[ts.TSPARMCD == "TRT"].TSVAL) == {"LENALIDOMIDE", "DINUTUXIMAB", "ISOTRETINOIN"}
    assert list(ts[ts.TSPARMCD == "TRT"].TSSEQ) == [1.0, 2.0, 3.0]


def test_deidentified_copy_shifts_dates_per_patient_and_keeps_study_days(
    trial_world: World,
) -> None:
    plain = _frames(trial_world)
    for who, deidentify in (("chair", True), ("stats", False)):
        if who == "stats":
            _add_statistician(trial_world)
        shifted = _frames(trial_world, who, deidentify)
        for name in ("EX", "AE", "LB", "DS", "SV"):
            dy = [c for c in plain[name].columns if c.endswith("DY")]
            pd.testing.assert_frame_equal(plain[name][dy], shifted[name][dy])
        dm_plain = plain["DM"].set_index("USUBJID")
        dm_shift = shifted["DM"].set_index("USUBJID")
        for subject in dm_plain.index:
            offsets = {
                (
                    dt.date.fromisoformat(dm_shift.loc[subject, c])
                    - dt.date.fromisoformat(dm_plain.loc[subject, c])
                ).days
                for c in ("RFSTDTC", "RFICDTC", "BRTHDTC")
            }
            assert len(offsets) == 1 and 0 not in offsets
        # The verbatim term is free text and stays behind; the CTCAE term stands in.
        assert shifted["AE"].iloc[0].AETERM == "Diarrhea"


def _add_statistician(world: World) -> None:
    from phaseone.store import accounts
    from phaseone.store.access import Role, system_actor
    from phaseone.store.scope import Scope
    from tests.workflow.conftest import PASSWORD

    with world.db.transaction() as session:
        accounts.add_user(
            Scope(session, system_actor("test")),
            username="stats",
            full_name="Stats",
            role=Role.statistician,
            password=PASSWORD,
            site_id=None,
        )


def test_site_staff_may_not_export_the_trial(trial_world: World) -> None:
    with trial_world.as_user("coord.chla") as scope, pytest.raises(PermissionDenied):
        snapshot.read(scope, trial_world.trial.protocol, purpose="test")


def test_the_export_is_audited(trial_world: World) -> None:
    from sqlalchemy import select

    from phaseone.store.models import AuditRecord

    _frames(trial_world)
    with trial_world.db.transaction() as session:
        actions = list(session.scalars(select(AuditRecord).where(AuditRecord.action == "export")))
    assert len(actions) == 1 and actions[0].username == "chair"


def test_every_code_the_store_holds_has_its_terminology() -> None:
    terms = terminology()
    assert set(terms["lab_tests"]) == set(analytes())
    assert set(terms["off_treatment"]) == set(OFF_TREATMENT_REASONS)
    assert set(terms["attribution"]) == set(ATTRIBUTIONS) == set(sdtm.ATTRIBUTION_ORDER)
