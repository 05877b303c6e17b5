"""Audit entries waiting for their place in the hash chain (group sealing).

Revision ID: 0009_audit
Revises: 0008_screening_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_audit"
down_revision = "0008_screening_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_pending")),
    )


def downgrade() -> None:
    op.drop_table("audit_pending")
