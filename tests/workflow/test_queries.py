"""Queries: raise, answer (with a correction), close, re-open; counts in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from phaseone.errors import InputError, NotFoundError
from phaseone.store.errors import ConflictError, PermissionDenied
from phaseone.store.models import AuditRecord, LabResult
from phaseone.workflow import queries
from phaseone.workflow import treatment as treat_service
from tests.workflow.conftest import T0, World, lab


def raise_on(world: World, lab_id: int, who: str = "monitor") -> int:
    with world.as_user(who) as scope:
        return queries.raise_query(
            scope,
            entity="lab_results",
            entity_id=lab_id,
            field="value",
            text="Source says 1.1",
            now=T0,
        ).id


def test_counts_by_site_patient_and_form_follow_each_step(two_sites) -> None:
    world, _, chop, lab_id = two_sites
    other = lab(world, "chop", chop)
    first = raise_on(world, lab_id)
    raise_on(world, lab_id, who="chair")
    raise_on(world, other)
    with world.as_user("coord.chla") as scope:
        queries.answer(scope, first, text="Checked, 1.2 is right", now=T0)
    with world.as_user("monitor") as scope:
        by_site = {
            c.key: (c.open, c.answered, c.closed)
            for c in queries.query_counts(scope.session, scope.actor, by="site")
        }
        by_form = {
            c.key: c.total for c in queries.query_counts(scope.session, scope.actor, by="form")
        }
        by_patient = {
            c.key: c.open for c in queries.query_counts(scope.session, scope.actor, by="patient")
        }
    assert by_site == {"chla": (1, 1, 0), "chop": (1, 0, 0)}
    assert by_form == {"labs": 3}
    assert by_patient == {"CHLA-001": 1, "CHOP-002": 1}
    # Site staff count their own site only.
    with world.as_user("inv.chop") as scope:
        mine = queries.query_counts(scope.session, scope.actor, by="site")
    assert [(c.key, c.open) for c in mine] == [("chop", 1)]


def test_statistician_counts_by_site_or_form_only(two_sites) -> None:
    world, _, _, lab_id = two_sites
    raise_on(world, lab_id)
    with world.as_user("stat") as scope:
        assert [c.key for c in queries.query_counts(scope.session, scope.actor, by="form")] == [
            "labs"
        ]
        with pytest.raises(PermissionDenied):
            queries.query_counts(scope.session, scope.actor, by="patient")
        with pytest.raises(PermissionDenied):
            queries.list_queries(scope, queries.QueryFilter())


def test_states_follow_the_workflow_and_are_audited(two_sites) -> None:
    world, _, _, lab_id = two_sites
    qid = raise_on(world, lab_id)
    with world.as_user("monitor") as scope, pytest.raises(PermissionDenied):
        queries.answer(scope, qid, text="not mine to answer", now=T0)
    with world.as_user("coord.chop") as scope, pytest.raises(NotFoundError):
        queries.answer(scope, qid, text="not our patient", now=T0)
    with world.as_user("coord.chla") as scope:
        with pytest.raises(PermissionDenied):
            queries.close(scope, qid, text="closing my own", now=T0)
        queries.answer(scope, qid, text="Confirmed against source", now=T0)
    with world.as_user("coord.chla") as scope, pytest.raises(ConflictError):
        queries.answer(scope, qid, text="again", now=T0)
    later = T0 + dt.timedelta(days=3)
    with world.as_user("monitor") as scope:
        queries.close(scope, qid, text="Accepted", now=later)
        queries.reopen(scope, qid, text="Please attach the report", now=later)
        q = queries.get(scope, qid)
        assert q.status == "open" and q.closed_at is None
        assert [m.step for m in q.messages] == ["raise", "answer", "close", "reopen"]
        assert queries.age_days(q, later + dt.timedelta(days=2)) == 5
        assert q.value_at_raise == "1.2"
    with world.db.transaction() as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.entity == "queries")
        ).all()
    assert actions == ["query_raise", "query_answer", "query_close", "query_reopen"]


def test_raising_names_a_real_field_and_needs_a_raiser(two_sites) -> None:
    world, _, _, lab_id = two_sites
    with world.as_user("monitor") as scope, pytest.raises(InputError) as bad:
        queries.raise_query(
            scope, entity="lab_results", entity_id=lab_id, field="colour", text="?", now=T0
        )
    assert bad.value.problems[0].path == "field"
    for who in ("coord.chla", "inv.chla", "stat", "admin"):
        with world.as_user(who) as scope, pytest.raises(PermissionDenied):
            queries.raise_query(
                scope, entity="lab_results", entity_id=lab_id, field="value", text="?", now=T0
            )
    with world.db.transaction() as session:
        assert session.scalar(select(LabResult.value).where(LabResult.id == lab_id)) == 1.2


def test_an_overridden_edit_check_opens_a_query_on_its_field(two_sites) -> None:
    world, chla, _, _ = two_sites
    # Day 2 was given already (patient_on gave days 1-2): a second dose needs a reason.
    with world.as_user("coord.chla") as scope, pytest.raises(InputError):
        treat_service.record_dose(
            scope, world.trial, patient_id=chla, course=1, day=2, agent_id="lenalidomide"
        )
    with world.as_user("coord.chla") as scope:
        dose = treat_service.record_dose(
            scope,
            world.trial,
            patient_id=chla,
            course=1,
            day=2,
            agent_id="lenalidomide",
            override="vomited within 15 minutes, re-dosed",
        )
        dose_id, course_id = dose.id, dose.course_id
    with world.as_user("monitor") as scope:
        found, total = queries.list_queries(scope, queries.QueryFilter(entity_id=dose_id))
        assert total == 1
        (q,) = found
        assert (q.entity, q.origin, q.check_id, q.status) == (
            "dose_administrations",
            "edit_check",
            "one-administration-a-day",
            "open",
        )
        assert q.form_key == f"doses:{chla}:{course_id}"
        assert "vomited within 15 minutes" in q.messages[0].text
        assert (q.raised_by, q.messages[0].username) == (
            None,
            "edit check one-administration-a-day",
        )
