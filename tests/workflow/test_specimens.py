"""Specimens through the workflow: planning from the protocol, collection with clock times,
flags, manifests and receipt, roles and site scoping; core-lab result imports."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from phaseone.errors import InputError, NotFoundError
from phaseone.store import accounts
from phaseone.store.access import Role, system_actor
from phaseone.store.errors import PermissionDenied
from phaseone.store.models import AuditRecord, DoseAdministration, ResultImport, SpecimenResult
from phaseone.store.records import SPECS, update
from phaseone.store.scope import Scope
from phaseone.workflow import results
from phaseone.workflow import specimens as spec_service
from phaseone.workflow.registration import registration_of
from tests.workflow.conftest import PASSWORD, T0, World


def _extra_users(world: World) -> None:
    with world.db.transaction() as session:
        scope = Scope(session, system_actor("test"))
        for name, role in (("stat", Role.statistician), ("mon", Role.monitor), ("adm", Role.admin)):
            accounts.add_user(scope, username=name, full_name=name, role=role, password=PASSWORD)


def _planned(world: World, site: str = "chla") -> tuple[int, list[dict[str, object]]]:
    patient_id = world.patient_on(site, T0)
    with world.as_user(f"coord.{site}") as scope:
        spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
    with world.as_user(f"coord.{site}") as scope:
        rows = spec_service.listing(scope, world.trial, as_of=T0.date(), patient_id=patient_id)
    return patient_id, rows


def _expected_course1(world: World, level: int) -> int:
    # Counted from the protocol file's own numbers, independently of the planner.
    protocol = world.trial.protocol
    count = 0
    for a in protocol.assessments:
        if a.specimen is None or (a.courses != "all" and 1 not in a.courses):
            continue
        if a.agent is not None and level not in protocol.levels_with(a.agent):
            continue
        count += len(a.days) * max(1, len(a.sample_hours))
    return count


def test_course_one_is_planned_from_the_protocol_and_is_idempotent(world: World) -> None:
    patient_id, rows = _planned(world)
    assert {r["course_number"] for r in rows} == {1}
    with world.as_user("chair") as scope:
        reg = registration_of(scope, patient_id)
        assert reg is not None
        dose_level = reg.dose_level
    assert len(rows) == _expected_course1(world, dose_level)
    pk = sorted(r["sample_hour"] for r in rows if r["assessment_id"] == "pk-lenalidomide")
    assert pk == [0, 0.5, 1, 2, 4, 6, 8, 24]
    day2 = [r for r in rows if r["sample_hour"] == 24]
    assert day2[0]["planned_on"] == T0.date() + dt.timedelta(days=1)
    assert len({r["code"] for r in rows}) == len(rows)
    with world.as_user("coord.chla") as scope:
        again = spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
    assert len(again) == len(rows)


def test_other_sites_and_read_only_roles(world: World) -> None:
    _extra_users(world)
    patient_id, rows = _planned(world)
    code = str(rows[0]["code"])
    with world.as_user("coord.chop") as scope:
        assert spec_service.listing(scope, world.trial, as_of=T0.date()) == []
        with pytest.raises(NotFoundError):
            spec_service.by_code(scope, code)
        with pytest.raises(NotFoundError):
            spec_service.schedule_course(scope, world.trial, patient_id=patient_id, course=1)
    for user in ("stat", "mon", "adm"):
        with world.as_user(user) as scope:
            assert len(spec_service.listing(scope, world.trial, as_of=T0.date())) == len(rows)
            with pytest.raises(PermissionDenied):
                spec_service.collect(
                    scope,
                    specimen_id=int(rows[0]["id"]),  # type: ignore[call-overload]
                    collected_on=T0.date(),
                    collected_time="09:00",
                )
    with world.as_user("stat") as scope:
        seen = spec_service.listing(scope, world.trial, as_of=T0.date())
        assert all(r["deidentified"] for r in seen)
        assert seen[0]["planned_on"] != rows[0]["planned_on"]  # dates shifted


def _set_dose_time(world: World, patient_id: int, day: int, clock: str) -> None:
    with world.as_user("coord.chla") as scope:
        dose = scope.session.scalar(
            select(DoseAdministration).where(
                DoseAdministration.patient_id == patient_id,
                DoseAdministration.course_day == day,
                DoseAdministration.agent_id == "lenalidomide",
            )
        )
        assert dose is not None
        update(
            scope,
            SPECS["dose_administrations"],
            dose.id,
            {"administered_time": clock},
            "clock time of the dose",
        )


def _by_hour(rows: list[dict[str, object]], assessment: str) -> dict[float, int]:
    return {
        float(r["sample_hour"]): int(r["id"])  # type: ignore[arg-type]
        for r in rows
        if r["assessment_id"] == assessment
    }


def test_collection_times_give_timing_flags(world: World) -> None:
    patient_id, rows = _planned(world)
    _set_dose_time(world, patient_id, 1, "08:00")
    pk = _by_hour(rows, "pk-lenalidomide")
    day1 = T0.date()
    with world.as_user("coord.chla") as scope:
        spec_service.collect(scope, specimen_id=pk[1.0], collected_on=day1, collected_time="09:05")
        spec_service.collect(scope, specimen_id=pk[2.0], collected_on=day1, collected_time="10:20")
        spec_service.collect(scope, specimen_id=pk[4.0], collected_on=day1, collected_time="11:45")
        spec_service.miss(scope, specimen_id=pk[6.0], reason="line blocked")
        with pytest.raises(InputError) as err:
            spec_service.collect(scope, specimen_id=pk[8.0], collected_on=day1, collected_time=None)
        assert err.value.problems[0].path == "collected_time"
        with pytest.raises(InputError):
            spec_service.collect(
                scope, specimen_id=pk[8.0], collected_on=day1, collected_time="25:00"
            )
    with world.as_user("coord.chla") as scope:
        flags = {
            r["id"]: r
            for r in spec_service.listing(scope, world.trial, as_of=day1 + dt.timedelta(days=1))
        }
    assert flags[pk[1.0]]["flags"] == [] and flags[pk[1.0]]["deviation_minutes"] == 5.0
    assert flags[pk[2.0]]["flags"] == ["late", "out_of_window"]
    assert flags[pk[4.0]]["flags"] == ["early", "out_of_window"]
    assert flags[pk[6.0]]["flags"] == ["missed"]
    assert flags[pk[8.0]]["flags"] == ["overdue"]  # planned day 1, window 0 days
    assert flags[pk[24.0]]["flags"] == []  # planned on day 2, not yet due
    # A correction of a recorded collection needs a reason.
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError):
            spec_service.collect(
                scope, specimen_id=pk[2.0], collected_on=day1, collected_time="10:05"
            )
        spec_service.collect(
            scope,
            specimen_id=pk[2.0],
            collected_on=day1,
            collected_time="10:05",
            reason="transcription error",
        )


def _collect_all(world: World, rows: list[dict[str, object]]) -> None:
    with world.as_user("coord.chla") as scope:
        for r in rows:
            if r["sample_hour"] is not None:
                continue
            spec_service.collect(
                scope,
                specimen_id=int(r["id"]),  # type: ignore[call-overload]
                collected_on=r["planned_on"],
                collected_time=None,
            )


def test_manifest_and_receipt(world: World) -> None:
    _extra_users(world)
    _, rows = _planned(world)
    _collect_all(world, rows)
    haca = [str(r["code"]) for r in rows if r["assessment_id"] == "haca"]
    immune = [str(r["code"]) for r in rows if r["assessment_id"] == "immune"]
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError):  # two laboratories on one manifest
            spec_service.ship(scope, codes=[*haca, *immune], shipped_on=T0.date())
        shipment = spec_service.ship(
            scope,
            codes=immune,
            shipped_on=T0.date() + dt.timedelta(15),
            carrier="courier",
            tracking="1Z",
        )
        shipment_id = shipment.id
    with world.as_user("coord.chop") as scope:
        assert spec_service.visible_shipments(scope) == []
    with world.as_user("coord.chla") as scope, pytest.raises(PermissionDenied):
        spec_service.receive(
            scope,
            shipment_id=shipment_id,
            received_on=T0.date() + dt.timedelta(16),
            conditions=None,
        )
    with world.as_user("chair") as scope:
        spec_service.receive(
            scope,
            shipment_id=shipment_id,
            received_on=T0.date() + dt.timedelta(16),
            conditions={immune[0]: "haemolysed"},
        )
        members = spec_service.manifest(scope, shipment_id)
    assert {m.code for m in members} == set(immune)
    assert {m.status for m in members} == {"received"}
    assert sorted(m.condition or "" for m in members) == ["good", "good", "haemolysed"]


def _results_file(codes: dict[str, str], bad: bool) -> bytes:
    lines = [
        "specimen_id,analyte,value,unit",
        f"{codes['haca']},haca,0,titre",
        f"{codes['immune']},cd3,1450,cells/uL",
        f"{codes['immune']},ifng,{'12.5,ng/L' if bad else '12.5,pg/mL'}",
        f"{codes['tlda']},PHOX2B,undetermined,Ct",
        f"{codes['tlda']},GUSB,24.1,Ct",
    ]
    return ("\n".join(lines) + "\n").encode()


def test_import_with_one_bad_row_stores_nothing_then_the_fixed_file_imports(world: World) -> None:
    _, rows = _planned(world)
    _collect_all(world, rows)
    codes = {
        a: str(next(r["code"] for r in rows if r["assessment_id"] == a)) for a in ("haca", "immune")
    }
    codes["tlda"] = str(next(r["code"] for r in rows if r["assessment_id"] == "tlda-blood"))
    with world.as_user("coord.chla") as scope, pytest.raises(PermissionDenied):
        results.preview(scope, _results_file(codes, False), "lab.csv")
    with world.as_user("chair") as scope, pytest.raises(InputError) as err:
        results.commit(scope, _results_file(codes, True), "lab.csv")
    [problem] = err.value.problems
    assert (problem.line, problem.path) == (4, "unit")
    assert "pg/mL" in problem.message
    with world.as_user("chair") as scope:
        assert scope.session.scalar(select(func.count()).select_from(SpecimenResult)) == 0
        assert scope.session.scalar(select(func.count()).select_from(ResultImport)) == 0
    fixed = _results_file(codes, False)
    with world.as_user("chair") as scope:
        shown = results.preview(scope, fixed, "lab.csv")
        assert [r["analyte"] for r in shown.rows] == ["haca", "cd3", "ifng", "PHOX2B", "GUSB"]
        assert scope.session.scalar(select(func.count()).select_from(SpecimenResult)) == 0
    with world.as_user("chair") as scope:
        batch, _ = results.commit(scope, fixed, "lab.csv")
        batch_id = batch.id
    with world.as_user("chair") as scope:
        stored = list(scope.session.scalars(select(SpecimenResult)))
        assert len(stored) == 5
        phox = next(r for r in stored if r.analyte == "PHOX2B")
        assert phox.undetected and phox.value is None
        entry = scope.session.scalar(
            select(AuditRecord).where(
                AuditRecord.action == "import", AuditRecord.entity_id == str(batch_id)
            )
        )
        assert entry is not None and hashlib.sha256(fixed).hexdigest() in (entry.new_value or "")
        with pytest.raises(InputError) as again:  # the same file twice
            results.preview(scope, fixed, "lab.csv")
        assert "already imported" in again.value.problems[0].message


@pytest.mark.parametrize(
    ("row", "path", "words"),
    [
        ("S-ZZZZ-ZZZZ,cd3,10,cells/uL", "specimen_id", "no specimen"),
        ("{immune},cd3,-5,cells/uL", "value", "outside"),
        ("{immune},cd3,ten,cells/uL", "value", "expected a number"),
        ("{immune},cd99,1,cells/uL", "analyte", "unknown analyte"),
        ("{immune},cd3,1450,cells/uL", "", "duplicate"),
    ],
)
def test_each_kind_of_bad_row_is_named(world: World, row: str, path: str, words: str) -> None:
    _, rows = _planned(world)
    _collect_all(world, rows)
    immune = str(next(r["code"] for r in rows if r["assessment_id"] == "immune"))
    first = f"{immune},cd3,1450,cells/uL"
    data = f"specimen_id,analyte,value,unit\n{first}\n{row.format(immune=immune)}\n"
    with world.as_user("chair") as scope, pytest.raises(InputError) as err:
        results.preview(scope, data.encode(), "lab.csv")
    [problem] = err.value.problems
    assert (problem.line, problem.path) == (3, path) and words in problem.message


def test_a_non_utf8_file_is_refused(world: World) -> None:
    with world.as_user("chair") as scope, pytest.raises(InputError) as err:
        results.preview(
            scope, "specimen_id,analyte,value\nS-1,cd3,é\n".encode("latin-1"), "lab.csv"
        )
    assert "not UTF-8" in err.value.problems[0].message


def test_cli_import_previews_then_commits(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from typer.testing import CliRunner

    from phaseone.cli import app
    from phaseone.cli.output import run_safely

    _, rows = _planned(world)
    _collect_all(world, rows)
    immune = str(next(r["code"] for r in rows if r["assessment_id"] == "immune"))
    bad = tmp_path / "bad.csv"
    bad.write_text(f"specimen_id,analyte,value,unit\n{immune},cd3,12,cells/mL\n")
    good = tmp_path / "good.csv"
    good.write_text(f"specimen_id,analyte,value,unit\n{immune},cd3,12,cells/uL\n")
    url = ["--database-url", world.db.url]
    runner = CliRunner()
    code = run_safely(
        lambda: app(["specimens", "import", str(bad), "--commit", *url], standalone_mode=False)
    )
    assert code == 2
    assert "bad.csv:2: unit: cd3 is reported in cells/uL" in capsys.readouterr().err
    shown = runner.invoke(app, ["specimens", "import", str(good), "--format", "json", *url])
    assert shown.exit_code == 0, shown.output
    assert '"committed": false' in shown.stdout
    with world.as_user("chair") as scope:
        assert scope.session.scalar(select(func.count()).select_from(SpecimenResult)) == 0
    done = runner.invoke(app, ["specimens", "import", str(good), "--commit", *url])
    assert done.exit_code == 0, done.output
    with world.as_user("chair") as scope:
        assert scope.session.scalar(select(func.count()).select_from(SpecimenResult)) == 1
