"""Disease evaluations under monitoring: one form per evaluation, measurements included."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from phaseone.store.models import LesionMeasurement
from phaseone.workflow import evaluations as service
from phaseone.workflow import expected, forms, sdv
from tests.workflow.conftest import T0, World, add_monitoring_users
from tests.workflow.test_courses import counts, start
from tests.workflow.test_evaluations import _after_course_2, _with_baseline

DAY = dt.timedelta(days=1)


def _states(world: World, patient_id: int) -> dict[str, str]:
    with world.as_user("monitor") as scope:
        return {f.key: f.state for f in sdv.patient_forms(scope, patient_id)}


def test_a_corrected_lesion_shows_the_verified_evaluation_changed(world: World) -> None:
    add_monitoring_users(world)
    patient_id = _with_baseline(world)
    with world.as_user("coord.chla") as scope:
        row_id = service.record(scope, world.trial, patient_id=patient_id,
                                evaluation=_after_course_2(30), course=2,
                                today=(T0 + 60 * DAY).date()).id
    key = f"evaluation:{patient_id}:{row_id}"
    evaluation_forms = {k for k in _states(world, patient_id) if k.startswith("evaluation:")}
    # Two evaluations entered (baseline, after course 2): two forms, none verified yet.
    assert len(evaluation_forms) == 2 and key in evaluation_forms
    assert _states(world, patient_id)[key] == "not_verified"
    with world.as_user("monitor") as scope:
        sdv.verify(scope, key, now=T0 + 61 * DAY)
    assert _states(world, patient_id)[key] == "verified"
    # Only the lesion's diameter changes (30 -> 5 mm): it lives in a child table, the
    # evaluation's own row is left as it was.
    with world.as_user("inv.chla") as scope:
        service.correct(scope, world.trial, evaluation_id=row_id,
                        evaluation=_after_course_2(5), course=2, reason="re-read by radiology")
        lesion = scope.session.scalar(
            select(LesionMeasurement).where(LesionMeasurement.evaluation_id == row_id))
        assert lesion is not None and lesion.diameter_mm == 5
        # A query on the lesion is counted under its evaluation's form.
        assert forms.form_key("lesion_measurements", lesion) == key
    assert _states(world, patient_id)[key] == "changed"
    others = evaluation_forms - {key}
    assert [_states(world, patient_id)[k] for k in others] == ["not_verified"]


def _overdue(world: World, as_of: dt.date, who: str = "chair") -> list[tuple[str, int, dt.date]]:
    with world.as_user(who) as scope:
        return [
            (e.subject_code, e.course or 0, e.due_on)
            for e in expected.overdue(scope, world.trial, as_of)  # grace: 3 days, as labs
            if e.form == "evaluations"
        ]


def test_the_evaluation_after_a_scheduled_course_is_overdue_until_entered(
    world: World,
) -> None:
    # nant-2011-04.yaml: the disease evaluation follows courses 2, 4, 6, 9, 12 on day 28.
    # Course 1 starts on T0, course 2 on T0 + 28 days; day 28 of course 2 is T0 + 55 days.
    patient_id = _with_baseline(world)
    counts(world, patient_id, (T0 + 27 * DAY).date())
    start(world, patient_id, (T0 + 28 * DAY).date())
    due = (T0 + 55 * DAY).date()
    # Course 1 schedules none; course 2's is due on T0+55 and late only past 3 days' grace.
    assert _overdue(world, (T0 + 50 * DAY).date()) == []
    assert _overdue(world, due + 3 * DAY) == []
    assert _overdue(world, due + 4 * DAY) == [("CHLA-001", 2, due)]
    # Its own site sees it; another site's staff do not.
    assert _overdue(world, due + 4 * DAY, "coord.chla") == [("CHLA-001", 2, due)]
    assert _overdue(world, due + 4 * DAY, "coord.chop") == []
    with world.as_user("coord.chla") as scope:
        service.record(scope, world.trial, patient_id=patient_id,
                       evaluation=_after_course_2(30), course=2,
                       today=(T0 + 60 * DAY).date())
    assert _overdue(world, due + 4 * DAY) == []
