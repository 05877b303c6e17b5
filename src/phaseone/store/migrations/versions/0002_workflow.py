"""The phase I workflow: slot requests (holds and waitlist), notifications, end of treatment.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STAMPED = (
    ("id", sa.Integer(), False),
    ("created_at", sa.DateTime(), False),
    ("created_by", sa.Integer(), True),
    ("updated_at", sa.DateTime(), False),
    ("voided", sa.Boolean(), False),
    ("void_reason", sa.Text(), True),
)


def _stamped() -> list[sa.Column[object]]:
    return [sa.Column(name, kind, nullable=null) for name, kind, null in STAMPED]


def upgrade() -> None:
    op.create_table(
        "slot_requests",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("priority_reason", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        *_stamped(),
        sa.CheckConstraint(
            "status IN ('held','waitlisted','registered','expired','released','cancelled')",
            name=op.f("ck_slot_requests_status"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_slot_requests_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_slot_requests_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_requests")),
    )
    op.create_index(op.f("ix_slot_requests_site_id"), "slot_requests", ["site_id"])
    op.create_index(op.f("ix_slot_requests_status"), "slot_requests", ["status"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("slot_request_id", sa.Integer(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_notifications_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["slot_request_id"],
            ["slot_requests.id"],
            name=op.f("fk_notifications_slot_request_id_slot_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_site_id"), "notifications", ["site_id"])

    op.create_table(
        "treatment_ends",
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        *_stamped(),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_treatment_ends_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_treatment_ends_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_ends")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_treatment_ends_patient_id")),
    )
    op.create_index(op.f("ix_treatment_ends_patient_id"), "treatment_ends", ["patient_id"])
    op.create_index(op.f("ix_treatment_ends_site_id"), "treatment_ends", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_treatment_ends_site_id"), table_name="treatment_ends")
    op.drop_index(op.f("ix_treatment_ends_patient_id"), table_name="treatment_ends")
    op.drop_table("treatment_ends")
    op.drop_index(op.f("ix_notifications_site_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_slot_requests_status"), table_name="slot_requests")
    op.drop_index(op.f("ix_slot_requests_site_id"), table_name="slot_requests")
    op.drop_table("slot_requests")
