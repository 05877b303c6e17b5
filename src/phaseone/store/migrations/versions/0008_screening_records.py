"""Screening records: drafts of the screening form and the record each screening read.

Revision ID: 0008_screening_records
Revises: 0007_admin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_screening_records"
down_revision = "0007_admin"
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLE = "screening_records"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("record", JSON_DATA, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("dose_level", sa.Integer(), nullable=True),
        sa.Column("evaluation_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f(f"fk_{TABLE}_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f(f"fk_{TABLE}_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["screening_evaluations.id"],
            name=op.f(f"fk_{TABLE}_evaluation_id_screening_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(op.f(f"ix_{TABLE}_patient_id"), TABLE, ["patient_id"])
    op.create_index(op.f(f"ix_{TABLE}_site_id"), TABLE, ["site_id"])
    op.create_index(op.f(f"ix_{TABLE}_evaluation_id"), TABLE, ["evaluation_id"])


def downgrade() -> None:
    op.drop_table(TABLE)
