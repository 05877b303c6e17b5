"""Monitoring: queries and their threads, source-data verification marks, casebook locks.

Revision ID: 0006_monitoring
Revises: 0005_evaluations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_monitoring"
down_revision = "0005_evaluations"
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _patient(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f(f"fk_{table}_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f(f"fk_{table}_patient_id_patients")
        ),
    ]


def _patient_indexes(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_site_id"), table, ["site_id"])
    op.create_index(op.f(f"ix_{table}_patient_id"), table, ["patient_id"])


def upgrade() -> None:
    op.create_table(
        "queries",
        sa.Column("id", sa.Integer(), nullable=False),
        *_patient("queries"),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("form_type", sa.String(length=32), nullable=False),
        sa.Column("form_key", sa.String(length=128), nullable=False),
        sa.Column("value_at_raise", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=True),
        sa.Column("raised_by", sa.Integer(), nullable=True),
        sa.Column("raised_role", sa.String(length=32), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open','answered','closed')", name=op.f("ck_queries_status")
        ),
        sa.CheckConstraint("origin IN ('manual','edit_check')", name=op.f("ck_queries_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queries")),
    )
    _patient_indexes("queries")
    op.create_index(op.f("ix_queries_form_key"), "queries", ["form_key"])
    op.create_index(op.f("ix_queries_status"), "queries", ["status"])

    op.create_table(
        "query_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("correction", JSON_DATA, nullable=True),
        sa.CheckConstraint(
            "step IN ('raise','answer','close','reopen')", name=op.f("ck_query_messages_step")
        ),
        sa.ForeignKeyConstraint(
            ["query_id"], ["queries.id"], name=op.f("fk_query_messages_query_id_queries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_messages")),
    )
    op.create_index(op.f("ix_query_messages_query_id"), "query_messages", ["query_id"])

    op.create_table(
        "sdv_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        *_patient("sdv_marks"),
        sa.Column("form_type", sa.String(length=32), nullable=False),
        sa.Column("form_key", sa.String(length=128), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_by", sa.Integer(), nullable=True),
        sa.Column("verified_name", sa.String(length=200), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sdv_marks")),
    )
    _patient_indexes("sdv_marks")
    op.create_index(op.f("ix_sdv_marks_form_key"), "sdv_marks", ["form_key"])

    op.create_table(
        "casebook_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        *_patient("casebook_locks"),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["signatures.id"],
            name=op.f("fk_casebook_locks_signature_id_signatures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_casebook_locks")),
    )
    _patient_indexes("casebook_locks")


def downgrade() -> None:
    op.drop_table("casebook_locks")
    op.drop_table("sdv_marks")
    op.drop_table("query_messages")
    op.drop_table("queries")
