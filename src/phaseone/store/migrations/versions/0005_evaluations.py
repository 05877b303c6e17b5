"""Disease evaluations (MIBG scores per segment, CT/MRI lesions, marrow samples); clinical
events gain second malignancy and new anticancer therapy.

Revision ID: 0005_evaluations
Revises: 0004_specimens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_evaluations"
down_revision = "0004_specimens"
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

OLD_KINDS = "kind IN ('progression','relapse','death','off_study')"
NEW_KINDS = (
    "kind IN ('progression','relapse','second_malignancy','death','new_therapy','off_study')"
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
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _evaluation_child(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["disease_evaluations.id"],
            name=op.f(f"fk_{table}_evaluation_id_disease_evaluations"),
        ),
    ]


def _indexes(table: str, child: bool = True) -> None:
    op.create_index(op.f(f"ix_{table}_patient_id"), table, ["patient_id"])
    op.create_index(op.f(f"ix_{table}_site_id"), table, ["site_id"])
    if child:
        op.create_index(op.f(f"ix_{table}_evaluation_id"), table, ["evaluation_id"])


def _event_kinds(old: str, new: str, length: int) -> None:
    with op.batch_alter_table("clinical_events") as batch:
        batch.drop_constraint(op.f("ck_clinical_events_kind"), type_="check")
        batch.alter_column("kind", type_=sa.String(length=length), existing_nullable=False)
        batch.create_check_constraint("kind", new)
    del old


def upgrade() -> None:
    _event_kinds(OLD_KINDS, NEW_KINDS, 24)

    op.create_table(
        "disease_evaluations",
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("assessment_id", sa.String(length=64), nullable=True),
        sa.Column("course_number", sa.Integer(), nullable=True),
        sa.Column("disease_at_entry", sa.String(length=24), nullable=True),
        sa.Column("mibg_avid", sa.Boolean(), nullable=True),
        sa.Column("mibg_new_avid_bone_site", sa.Boolean(), nullable=False),
        sa.Column("pet_avid_bone_sites", sa.Integer(), nullable=True),
        sa.Column("pet_new_avid_bone_site", sa.Boolean(), nullable=False),
        sa.Column("new_lesion", sa.Boolean(), nullable=False),
        sa.Column("investigator_response", sa.String(length=2), nullable=True),
        sa.Column("investigator_reason", sa.Text(), nullable=True),
        *_owned("disease_evaluations"),
        *_stamped(),
        sa.CheckConstraint(
            "kind IN ('baseline','scheduled','unscheduled')",
            name=op.f("ck_disease_evaluations_kind"),
        ),
        sa.CheckConstraint(
            "disease_at_entry IN ('measurable','evaluable','complete_response')",
            name=op.f("ck_disease_evaluations_disease_at_entry"),
        ),
        sa.CheckConstraint(
            "investigator_response IN ('CR','PR','MR','SD','PD','NE')",
            name=op.f("ck_disease_evaluations_investigator_response"),
        ),
    )
    _indexes("disease_evaluations", child=False)

    op.create_table(
        "mibg_scores",
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        *_evaluation_child("mibg_scores"),
        *_owned("mibg_scores"),
        *_stamped(),
        sa.CheckConstraint("scale IN ('curie','siopen')", name=op.f("ck_mibg_scores_scale")),
        sa.CheckConstraint("score BETWEEN 0 AND 6", name=op.f("ck_mibg_scores_score")),
        sa.UniqueConstraint(
            "evaluation_id", "scale", "segment", name=op.f("uq_mibg_scores_evaluation_id")
        ),
    )
    _indexes("mibg_scores")

    op.create_table(
        "lesion_measurements",
        sa.Column("lesion_code", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=16), nullable=False),
        sa.Column("diameter_mm", sa.Float(), nullable=False),
        sa.Column("target", sa.Boolean(), nullable=False),
        sa.Column("avid", sa.Boolean(), nullable=True),
        sa.Column("new", sa.Boolean(), nullable=False),
        sa.Column("biopsy_proven", sa.Boolean(), nullable=False),
        *_evaluation_child("lesion_measurements"),
        *_owned("lesion_measurements"),
        *_stamped(),
        sa.CheckConstraint(
            "site IN ('primary','soft_tissue','lymph_node')",
            name=op.f("ck_lesion_measurements_site"),
        ),
        sa.CheckConstraint("diameter_mm >= 0", name=op.f("ck_lesion_measurements_diameter_mm")),
        sa.UniqueConstraint(
            "evaluation_id", "lesion_code", name=op.f("uq_lesion_measurements_evaluation_id")
        ),
    )
    _indexes("lesion_measurements")

    op.create_table(
        "marrow_samples",
        sa.Column("sample_number", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("tumour_percent", sa.Float(), nullable=False),
        *_evaluation_child("marrow_samples"),
        *_owned("marrow_samples"),
        *_stamped(),
        sa.CheckConstraint("side IN ('left','right')", name=op.f("ck_marrow_samples_side")),
        sa.CheckConstraint("kind IN ('aspirate','biopsy')", name=op.f("ck_marrow_samples_kind")),
        sa.CheckConstraint(
            "tumour_percent BETWEEN 0 AND 100", name=op.f("ck_marrow_samples_tumour_percent")
        ),
        sa.UniqueConstraint(
            "evaluation_id", "sample_number", name=op.f("uq_marrow_samples_evaluation_id")
        ),
    )
    _indexes("marrow_samples")


def downgrade() -> None:
    op.drop_table("marrow_samples")
    op.drop_table("lesion_measurements")
    op.drop_table("mibg_scores")
    op.drop_table("disease_evaluations")
    _event_kinds(NEW_KINDS, OLD_KINDS, 16)
