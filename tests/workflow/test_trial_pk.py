"""PK from the trial: a profile entered through specimens (collection clock times, the dose
given and its clock time, a core-lab file) gives the same parameters as `phaseone nca` on
the same data exported to CSV, and as Phoenix WinNonlin on the Theoph profiles.

The profiles are Theoph subjects 1-3 (tests/pk/data/theoph.csv, 320 mg oral at 0 h); the
WinNonlin values are the published pivot files pinned in tests/pk (see the README there).
Concentrations go to the lab file in ng/mL (mg/L x 1000), so amounts compare after
dividing by 1000 and times, rates and half-lives compare as they are.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from phaseone.cli import app
from phaseone.errors import InputError
from phaseone.pk import AUCMethod, LambdaZControls, LambdaZRule, NCAOptions
from phaseone.store.models import DoseAdministration
from phaseone.store.records import SPECS, update
from phaseone.workflow import results, trial_pk
from phaseone.workflow import specimens as spec_service
from tests.workflow.conftest import T0, World

DATA = Path(__file__).parents[1] / "pk" / "data"
SUBJECTS = ("1", "2", "3")
DOSE_AT = dt.datetime.combine(T0.date(), dt.time(8, 0))
OPTIONS = NCAOptions(
    auc_method=AUCMethod.LINUP_LOGDOWN, lambda_z=LambdaZControls(rule=LambdaZRule.WINNONLIN)
)


def _enter_profile(world: World, profile: pd.DataFrame) -> tuple[str, list[str]]:
    """One patient's lenalidomide day-1 profile through the workflow; returns the subject
    code and the lab file's lines for that patient."""
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope:
        planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
        pk = [s.id for s in planned if s.assessment_id == "pk-lenalidomide"]
        while len(pk) < len(profile):
            extra = spec_service.add_unscheduled(
                scope,
                world.trial,
                patient_id=patient_id,
                course=1,
                assessment_id="pk-lenalidomide",
                day=1,
            )
            pk.append(extra.id)
        dose = scope.session.scalar(
            select(DoseAdministration).where(
                DoseAdministration.patient_id == patient_id, DoseAdministration.course_day == 1
            )
        )
        assert dose is not None
        update(
            scope,
            SPECS["dose_administrations"],
            dose.id,
            {"administered_time": "08:00", "given_dose": 320.0},
            "dose as given: 320 mg at 08:00",
        )
        code = dose.patient.subject_code
        lines = []
        for specimen_id, (_, row) in zip(pk, profile.iterrows(), strict=True):
            at = DOSE_AT + dt.timedelta(seconds=round(row["time_h"] * 3600))
            done = spec_service.collect(
                scope,
                specimen_id=specimen_id,
                collected_on=at.date(),
                collected_time=at.strftime("%H:%M:%S"),
            )
            lines.append(f"{done.code},lenalidomide,{row['conc_mg_per_L'] * 1000:.6g},ng/mL")
    return code, lines


@pytest.fixture
def entered(world: World) -> tuple[World, dict[str, str]]:
    theoph = pd.read_csv(DATA / "theoph.csv")
    theoph["subject"] = theoph["subject"].astype(str)
    codes, lines = {}, ["specimen_id,analyte,value,unit"]
    for subject in SUBJECTS:
        code, rows = _enter_profile(world, theoph[theoph["subject"] == subject])
        codes[code] = subject
        lines += rows
    with world.as_user("chair") as scope:
        results.commit(scope, ("\n".join(lines) + "\n").encode(), "pk-lab.csv")
    return world, codes


def test_specimen_profile_equals_phaseone_nca_and_winnonlin(
    entered: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    world, codes = entered
    with world.as_user("chair") as scope:
        got = trial_pk.lenalidomide(scope, world.trial, OPTIONS)
    # 1. The same tables exported to CSV and run through `phaseone nca`.
    got.tables.conc.to_csv(tmp_path / "conc.csv", index=False)
    got.tables.doses.to_csv(tmp_path / "dose.csv", index=False)
    out = CliRunner().invoke(
        app,
        [
            "nca",
            "--conc",
            str(tmp_path / "conc.csv"),
            "--dose",
            str(tmp_path / "dose.csv"),
            "--lambda-z",
            "winnonlin",
            "--method",
            "linup-logdown",
            "--conc-unit",
            "ng/mL",
            "--format",
            "csv",
        ],
    )
    assert out.exit_code == 0, out.output
    cli = pd.read_csv(io.StringIO(out.stdout))
    ours = got.nca.parameters
    cli["subject"] = cli["subject"].astype(str)
    merged = ours.merge(cli, on=["subject", "PPTESTCD"], suffixes=("", "_cli"))
    assert len(merged) == len(ours) > 30 * len(SUBJECTS)
    np.testing.assert_allclose(
        merged["value"].to_numpy(float),
        merged["value_cli"].to_numpy(float),
        rtol=1e-12,
        equal_nan=True,
    )
    # 2. WinNonlin on the Theoph numbers (linear-up/log-down).
    ref = pd.read_csv(DATA / "winnonlin-Final_Parameters_Pivoted_Theoph_Log.csv")
    ref["Subject"] = ref["Subject"].astype(str)
    ref = ref.set_index("Subject")
    wide = got.nca.wide().droplevel(["analyte", "interval"])
    for code, subject in codes.items():
        row = ref.loc[subject]
        assert wide.loc[code, "TMAX"] == pytest.approx(row["Tmax"], rel=1e-9)
        assert wide.loc[code, "LAMZ"] == pytest.approx(row["Lambda_z"], rel=1e-6)
        assert wide.loc[code, "LAMZHL"] == pytest.approx(row["HL_Lambda_z"], rel=1e-6)
        assert wide.loc[code, "LAMZNPT"] == row["No_points_lambda_z"]
        assert wide.loc[code, "CMAX"] / 1000 == pytest.approx(row["Cmax"], rel=1e-9)
        assert wide.loc[code, "AUCLST"] / 1000 == pytest.approx(row["AUClast"], rel=1e-6)
        assert wide.loc[code, "AUCIFO"] / 1000 == pytest.approx(row["AUCINF_obs"], rel=1e-6)
    # By dose level: three patients, all on the registered level, 320 mg each.
    assert got.by_level["n"].sum() == len(SUBJECTS)
    expected = np.exp(np.mean(np.log([ref.loc[s, "AUCINF_obs"] * 1000 / 320 for s in SUBJECTS])))
    assert got.by_level["AUCIFO_per_mg_geomean"].iloc[0] == pytest.approx(expected, rel=1e-6)
    assert got.proportionality["AUCIFO"].reason == "only one dose"


def test_other_sites_see_no_profiles_and_a_missing_dose_time_is_named(
    entered: tuple[World, dict[str, str]],
) -> None:
    world, _ = entered
    with world.as_user("coord.chop") as scope, pytest.raises(InputError) as err:
        trial_pk.lenalidomide(scope, world.trial)
    assert "no concentrations" in str(err.value.problems[0].message)
    with world.as_user("coord.chla") as scope:
        dose = scope.session.scalar(
            select(DoseAdministration).where(
                DoseAdministration.course_day == 1,
                DoseAdministration.administered_time.is_not(None),
            )
        )
        assert dose is not None
        update(
            scope,
            SPECS["dose_administrations"],
            dose.id,
            {"administered_time": None},
            "time unknown",
        )
    with world.as_user("chair") as scope, pytest.raises(InputError) as err:
        trial_pk.lenalidomide(scope, world.trial)
    assert err.value.problems[0].path.endswith("administered_time")


def test_dinutuximab_peak_and_trough_from_specimens(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope:
        planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
        peak = next(s for s in planned if s.assessment_id == "pk-dinutuximab-peak")
        trough = next(s for s in planned if s.assessment_id == "pk-dinutuximab-trough")
        # End of a 10-h infusion started at 08:00 on day 11; trough the morning of day 28.
        spec_service.collect(
            scope, specimen_id=peak.id, collected_on=peak.planned_on, collected_time="18:05"
        )
        spec_service.collect(
            scope, specimen_id=trough.id, collected_on=trough.planned_on, collected_time="07:40"
        )
        lines = [f"{peak.code},dinutuximab,12.1,mcg/mL", f"{trough.code},dinutuximab,0.25,mcg/mL"]
    with world.as_user("chair") as scope:
        results.commit(
            scope, ("specimen_id,analyte,value,unit\n" + "\n".join(lines)).encode(), "din.csv"
        )
        got = trial_pk.dinutuximab(scope, world.trial)
    [row] = got.per_course.to_dict(orient="records")
    assert (row["course"], row["peak"], row["trough"]) == (1, 12.1, 0.25)
    assert row["peak_time"] == pytest.approx(10 * 24 + 18 + 5 / 60)  # day 11, 18:05
    # Desai et al. 2014 in pk/data/trial_pk.yaml: peak 11, trough 0.2 mcg/mL (means).
    desai = got.comparison[got.comparison["reference"] == "desai-2014"].set_index("measure")
    assert desai.loc["peak", "ratio_to_reference"] == pytest.approx(12.1 / 11)
    assert desai.loc["trough", "ratio_to_reference"] == pytest.approx(0.25 / 0.2)


def test_isotretinoin_steady_state_from_specimens(world: World) -> None:
    """The by-hand day-28 example of tests/pk/test_trial_pk.py, entered through the
    workflow: 160 mg recorded for day 28 is two 80-mg intakes (08:00 and 20:00)."""
    import math

    from phaseone.workflow import Trial
    from phaseone.workflow import treatment as treat_service

    protocol = world.trial.protocol
    level1, level2 = protocol.dose_levels[0], protocol.dose_levels[1]
    with_iso = level1.model_copy(
        update={"doses": {**level1.doses, "isotretinoin": level2.doses["isotretinoin"]}}
    )
    world.trial = Trial.from_protocol(
        protocol.model_copy(update={"dose_levels": (with_iso, *protocol.dose_levels[1:])})
    )
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope:
        dose = treat_service.record_dose(
            scope,
            world.trial,
            patient_id=patient_id,
            course=1,
            day=28,
            agent_id="isotretinoin",
            given_mg=160.0,
            reason="rounded to whole capsules",
            override="rounded up to whole capsules",
            how_taken="opened",
        )
        update(
            scope,
            SPECS["dose_administrations"],
            dose.id,
            {"administered_time": "08:00"},
            "clock time of the first intake",
        )
        planned = spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
        iso = {s.sample_hour: s for s in planned if s.assessment_id == "pk-isotretinoin-ss"}
        lines = []
        for hour, conc in ((0, 2.0), (1, 8.0), (2, 6.0), (6, 4.0), (12, 2.5)):
            at = dt.datetime.combine(iso[hour].planned_on, dt.time(8)) + dt.timedelta(hours=hour)
            spec_service.collect(
                scope,
                specimen_id=iso[hour].id,
                collected_on=at.date(),
                collected_time=at.strftime("%H:%M"),
            )
            lines.append(f"{iso[hour].code},isotretinoin,{conc:g},ng/mL")
    with world.as_user("chair") as scope:
        results.commit(
            scope, ("specimen_id,analyte,value,unit\n" + "\n".join(lines)).encode(), "iso.csv"
        )
        got = trial_pk.isotretinoin(scope, world.trial)
    p = got.parameters.set_index("PPTESTCD")["value"]
    auc = (
        5
        + (8 - 6) / math.log(8 / 6)
        + 4 * (6 - 4) / math.log(6 / 4)
        + 6 * (4 - 2.5) / math.log(4 / 2.5)
    )
    assert p["AUCTAU"] == pytest.approx(auc, rel=1e-12)
    assert p["CTROUGH"] == 2.0
    assert p["CLFTAU"] == pytest.approx(80 / auc, rel=1e-12)
    assert got.profiles["administration"].tolist() == ["opened"]


def test_cli_pk_exports_the_tables_phaseone_nca_reads(
    entered: tuple[World, dict[str, str]], tmp_path: Path
) -> None:
    import json

    world, codes = entered
    out = CliRunner().invoke(
        app,
        [
            "specimens",
            "pk",
            "lenalidomide",
            "--export",
            str(tmp_path),
            "--database-url",
            world.db.url,
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["conc_unit"] == "ng/mL" and data["by_level"][0]["n"] == len(SUBJECTS)
    conc = pd.read_csv(tmp_path / "conc.csv")
    doses = pd.read_csv(tmp_path / "dose.csv")
    assert len(conc) == 11 * len(SUBJECTS) and set(conc["subject"].astype(str)) == set(codes)
    assert doses["dose"].tolist() == [320.0] * len(SUBJECTS)
    assert doses["time"].tolist() == [8.0] * len(SUBJECTS)  # 08:00 on course 1 day 1
