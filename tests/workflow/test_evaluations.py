"""Disease evaluations through the workflow: measurements stored per segment, lesion and
sample; the response computed by the engine from them (and re-derived after a correction);
dates, schedule and bounds checked with the field named; roles and site scoping; audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from phaseone.errors import InputError, NotFoundError
from phaseone.response import Evaluation
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import AuditRecord, MibgScore
from phaseone.workflow import evaluations as service
from tests.workflow.conftest import T0, World

DAY = dt.timedelta(days=1)


def _evaluation(**changes: Any) -> Evaluation:
    """Baseline: primary 50 mm, MIBG-avid with Curie pelvis 2 (skeletal 2), bilateral
    aspirates 20% each."""
    data: dict[str, Any] = {
        "date": (T0 - 5 * DAY).date().isoformat(),
        "kind": "baseline",
        "mibg": {"avid": True, "curie": {"pelvis": 2}},
        "lesions": [{"id": "P1", "site": "primary", "diameter_mm": 50}],
        "marrow": [
            {"side": "left", "kind": "aspirate", "tumour_percent": 20},
            {"side": "right", "kind": "aspirate", "tumour_percent": 20},
        ],
    }
    data.update(changes)
    return Evaluation.model_validate(data)


def _after_course_2(primary_mm: float, marrow: float = 0, pelvis: int = 0) -> Evaluation:
    return _evaluation(
        date=(T0 + 56 * DAY).date().isoformat(),
        kind="scheduled",
        label="after course 2",
        mibg={"avid": True, "curie": {"pelvis": pelvis}},
        lesions=[{"id": "P1", "site": "primary", "diameter_mm": primary_mm}],
        # Marrow CR needs bilateral aspirates and biopsies (INRC 2017).
        marrow=[
            {"side": side, "kind": kind, "tumour_percent": marrow}
            for side in ("left", "right")
            for kind in ("aspirate", "biopsy")
        ],
    )


def _with_baseline(world: World, site: str = "chla") -> int:
    patient_id = world.patient_on(site, T0)
    with world.as_user(f"coord.{site}") as scope:
        service.record(scope, world.trial, patient_id=patient_id, evaluation=_evaluation(),
                       disease_at_entry="measurable", today=T0.date())
    return patient_id


def test_schedule_comes_from_the_protocols_imaging_assessment(world: World) -> None:
    # nant-2011-04.yaml: disease-evaluation, kind imaging, courses 2,4,6,9,12.
    assert service.scheduled_courses(world.trial) == {
        n: "disease-evaluation" for n in (2, 4, 6, 9, 12)
    }


def test_measurements_are_stored_per_segment_and_the_response_computed(world: World) -> None:
    patient_id = _with_baseline(world)
    with world.as_user("coord.chla") as scope:
        # Primary 50 -> 30 mm is a 40% fall (PR needs >= 30%: INRC 2017, PDQ); Curie
        # 2 -> 0 and marrow 20% -> 0% in four samples are complete: overall PR, since the
        # primary is not CR.
        service.record(scope, world.trial, patient_id=patient_id, evaluation=_after_course_2(30),
                       course=2, today=(T0 + 60 * DAY).date())
    with world.as_user("coord.chla") as scope:
        shown = service.present(scope, world.trial, patient_id)
        stored = scope.session.scalar(select(func.count()).select_from(MibgScore))
    assert stored == 20  # ten Curie segments per evaluation, each a row
    base, after = shown["evaluations"]
    assert base["curie_total"] == 2 and base["overall"] == "NE"
    assert after["course"] == 2 and after["curie_total"] == 0
    parts = {c["component"]: c["response"] for c in after["components"]}
    assert parts["primary"] == "PR"
    assert after["overall"] == "PR"
    assert shown["best_response"] == "PR"


def test_a_correction_re_derives_the_response_and_is_audited(world: World) -> None:
    patient_id = _with_baseline(world)
    with world.as_user("coord.chla") as scope:
        row = service.record(scope, world.trial, patient_id=patient_id,
                             evaluation=_after_course_2(30), course=2,
                             today=(T0 + 60 * DAY).date())
        row_id = row.id
    with world.as_user("inv.chla") as scope:
        with pytest.raises(InputError) as exc:
            service.correct(scope, world.trial, evaluation_id=row_id,
                            evaluation=_after_course_2(5), course=2, reason=" ")
        assert exc.value.problems[0].path == "reason"
    with world.as_user("inv.chla") as scope:
        # 5 mm residual primary is < 10 mm: CR, and with every other component CR, CR.
        service.correct(scope, world.trial, evaluation_id=row_id,
                        evaluation=_after_course_2(5), course=2, reason="re-read by radiology")
    with world.as_user("chair") as scope:
        shown = service.present(scope, world.trial, patient_id)
        audits = list(scope.session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "lesion_measurements",
                                      AuditRecord.action == "update")))
    assert shown["evaluations"][1]["overall"] == "CR"
    assert shown["best_response"] == "CR"
    assert len(audits) == 1 and audits[0].reason == "re-read by radiology"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mibg": {"avid": True, "curie": {"pelvis": 4}}}, "mibg.curie.pelvis"),
        ({"lesions": [{"id": "P1", "site": "primary", "diameter_mm": -3}]},
         "lesions.0.diameter_mm"),
        ({"marrow": [{"side": "left", "kind": "aspirate", "tumour_percent": 140}]},
         "marrow.0.tumour_percent"),
    ],
)
def test_out_of_range_measurements_are_refused_by_the_engines_model(
    changes: dict[str, Any], field: str
) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as exc:
        _evaluation(**changes)
    assert ".".join(str(p) for p in exc.value.errors()[0]["loc"]) == field


def test_an_evaluation_before_registration_is_refused_naming_the_date(world: World) -> None:
    patient_id = _with_baseline(world)
    early = _after_course_2(30).model_copy(update={"date": (T0 - 1 * DAY).date()})
    with world.as_user("coord.chla") as scope, pytest.raises(InputError) as exc:
        service.record(scope, world.trial, patient_id=patient_id, evaluation=early,
                       course=2, today=T0.date())
    assert [p.path for p in exc.value.problems] == ["evaluation.date"]
    assert "before" in exc.value.problems[0].message


def test_schedule_baseline_and_identity_rules(world: World) -> None:
    patient_id = _with_baseline(world)
    later = (T0 + 60 * DAY).date()
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError) as exc:
            service.record(scope, world.trial, patient_id=patient_id,
                           evaluation=_after_course_2(30), course=3, today=later)
        assert exc.value.problems[0].path == "course"
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError) as exc:
            service.record(scope, world.trial, patient_id=patient_id,
                           evaluation=_evaluation(date=later.isoformat()),
                           disease_at_entry="measurable", today=later)
        assert exc.value.problems[0].path == "evaluation.kind"  # a second baseline
    moved = _after_course_2(30).model_copy(
        update={"lesions": (_evaluation().lesions[0].model_copy(update={"site": "soft_tissue"}),)}
    )
    with world.as_user("coord.chla") as scope:
        with pytest.raises(InputError) as exc:
            service.record(scope, world.trial, patient_id=patient_id, evaluation=moved,
                           course=2, today=later)
        assert exc.value.problems[0].path == "evaluation.lesions[0].site"
    with world.as_user("coord.chla") as scope:
        service.record(scope, world.trial, patient_id=patient_id,
                       evaluation=_after_course_2(30), course=2, today=later)
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError):
        service.record(scope, world.trial, patient_id=patient_id,
                       evaluation=_after_course_2(30), course=2, today=later)


def test_baseline_needs_disease_status_at_entry(world: World) -> None:
    patient_id = world.patient_on("chla", T0)
    with world.as_user("coord.chla") as scope, pytest.raises(InputError) as exc:
        service.record(scope, world.trial, patient_id=patient_id, evaluation=_evaluation(),
                       today=T0.date())
    assert exc.value.problems[0].path == "disease_at_entry"


def test_other_sites_cannot_see_or_write_and_voiding_keeps_rows(world: World) -> None:
    patient_id = _with_baseline(world)
    with world.as_user("coord.chop") as scope:
        with pytest.raises(NotFoundError):
            service.evaluations_of(scope, patient_id)
        with pytest.raises(NotFoundError):
            service.record(scope, world.trial, patient_id=patient_id,
                           evaluation=_after_course_2(30), course=2, today=T0.date())
        assert service.stored_evaluations(scope) == {}
    with world.as_user("coord.chla") as scope:
        (row,) = service.evaluations_of(scope, patient_id)
        service.void(scope, evaluation_id=row.row["id"], reason="wrong patient")
    with world.as_user("chair") as scope:
        assert service.evaluations_of(scope, patient_id) == []
        voided = scope.session.scalar(
            select(func.count()).select_from(MibgScore).where(MibgScore.voided.is_(True)))
    assert voided == 10


def test_the_monitor_reads_but_does_not_write(world: World) -> None:
    from phaseone.store import accounts
    from phaseone.store.access import Role, system_actor
    from phaseone.store.scope import Scope
    from tests.workflow.conftest import PASSWORD

    patient_id = _with_baseline(world)
    with world.db.transaction() as session:
        accounts.add_user(Scope(session, system_actor("test")), username="mon",
                          full_name="mon", role=Role.monitor, password=PASSWORD)
    with world.as_user("mon") as scope:
        assert len(service.evaluations_of(scope, patient_id)) == 1
        with pytest.raises(PermissionDenied):
            service.record(scope, world.trial, patient_id=patient_id,
                           evaluation=_after_course_2(30), course=2, today=T0.date())
