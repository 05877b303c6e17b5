"""Courses 2-12: the reason for a dose modification, a delay of day 1 with its cause and
reason, and the start conditions as checked.

Revision ID: 0003_courses
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_courses"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        batch.add_column(sa.Column("level_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delay_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delay_cause", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("delay_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("start_checks", JSON_DATA, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("courses") as batch:
        for name in ("start_checks", "delay_reason", "delay_cause", "delay_days", "level_reason"):
            batch.drop_column(name)
