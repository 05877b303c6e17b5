"""Specimens, shipment manifests, core-lab result imports and results; dose clock times.

Revision ID: 0004_specimens
Revises: 0003_courses
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_specimens"
down_revision = "0003_courses"
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


def _owned(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f(f"fk_{table}_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f(f"fk_{table}_site_id_sites")),
    ]


def _owned_indexes(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_patient_id"), table, ["patient_id"])
    op.create_index(op.f(f"ix_{table}_site_id"), table, ["site_id"])


def upgrade() -> None:
    with op.batch_alter_table("dose_administrations") as batch:
        batch.add_column(sa.Column("administered_time", sa.String(length=8), nullable=True))

    op.create_table(
        "shipments",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("lab", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking", sa.String(length=100), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        *_stamped(),
        sa.CheckConstraint(
            "status IN ('open','shipped','received')", name=op.f("ck_shipments_status")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_shipments_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("code", name=op.f("uq_shipments_code")),
    )
    op.create_index(op.f("ix_shipments_site_id"), "shipments", ["site_id"])

    op.create_table(
        "specimens",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("specimen_type", sa.String(length=16), nullable=False),
        sa.Column("lab", sa.String(length=64), nullable=False),
        sa.Column("course_number", sa.Integer(), nullable=False),
        sa.Column("course_day", sa.Integer(), nullable=False),
        sa.Column("sample_hour", sa.Float(), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=True),
        sa.Column("collected_time", sa.String(length=8), nullable=True),
        sa.Column("missed_reason", sa.Text(), nullable=True),
        sa.Column("processed_on", sa.Date(), nullable=True),
        sa.Column("processing", sa.Text(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("condition", sa.String(length=32), nullable=True),
        *_owned("specimens"),
        *_stamped(),
        sa.CheckConstraint(
            "status IN ('planned','collected','missed','processed','shipped','received')",
            name=op.f("ck_specimens_status"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_specimens_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_specimens_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specimens")),
        sa.UniqueConstraint("code", name=op.f("uq_specimens_code")),
    )
    _owned_indexes("specimens")
    op.create_index(op.f("ix_specimens_course_id"), "specimens", ["course_id"])
    op.create_index(op.f("ix_specimens_status"), "specimens", ["status"])
    op.create_index(op.f("ix_specimens_shipment_id"), "specimens", ["shipment_id"])

    op.create_table(
        "result_imports",
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        *_stamped(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_imports")),
    )
    op.create_index(op.f("ix_result_imports_sha256"), "result_imports", ["sha256"])

    op.create_table(
        "specimen_results",
        sa.Column("specimen_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("analyte", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("undetected", sa.Boolean(), nullable=False),
        sa.Column("call", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=False),
        *_owned("specimen_results"),
        *_stamped(),
        sa.ForeignKeyConstraint(
            ["specimen_id"],
            ["specimens.id"],
            name=op.f("fk_specimen_results_specimen_id_specimens"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["result_imports.id"],
            name=op.f("fk_specimen_results_import_id_result_imports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specimen_results")),
        sa.UniqueConstraint(
            "specimen_id", "analyte", "import_id", name=op.f("uq_specimen_results_specimen_id")
        ),
    )
    _owned_indexes("specimen_results")
    op.create_index(op.f("ix_specimen_results_specimen_id"), "specimen_results", ["specimen_id"])
    op.create_index(op.f("ix_specimen_results_import_id"), "specimen_results", ["import_id"])


def downgrade() -> None:
    op.drop_table("specimen_results")
    op.drop_table("result_imports")
    op.drop_table("specimens")
    op.drop_table("shipments")
    with op.batch_alter_table("dose_administrations") as batch:
        batch.drop_column("administered_time")
