"""Alembic migrations: up, down and up again on both databases; they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from phaseone.store import migrate
from phaseone.store.db import Database
from phaseone.store.models import Base

TABLES = {
    "sites",
    "users",
    "login_sessions",
    "api_tokens",
    "patients",
    "screening_evaluations",
    "screening_criteria",
    "registrations",
    "courses",
    "dose_administrations",
    "lab_results",
    "adverse_events",
    "dlt_determinations",
    "clinical_events",
    "follow_ups",
    "escalation_decisions",
    "signatures",
    "audit_records",
    "audit_pending",
    "slot_requests",
    "notifications",
    "treatment_ends",
    "shipments",
    "specimens",
    "result_imports",
    "specimen_results",
    "one_time_codes",
    "queries",
    "query_messages",
    "sdv_marks",
    "casebook_locks",
    "disease_evaluations",
    "mibg_scores",
    "lesion_measurements",
    "marrow_samples",
    "screening_records",
}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_table_matching_the_models(database: Database) -> None:
    assert _tables(database) == TABLES
    assert migrate.is_current(database.engine)
    with database.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(database: Database) -> None:
    migrate.downgrade(database.engine, "base")
    assert _tables(database) == set()
    assert migrate.current_revision(database.engine) is None
    migrate.upgrade(database.engine)
    assert _tables(database) == TABLES
    assert migrate.current_revision(database.engine) == migrate.head_revision()
