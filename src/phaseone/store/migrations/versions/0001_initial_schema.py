"""Initial schema: sites, accounts, clinical records, signatures and the audit trail.

The audit table is append-only: triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), so not even the application's own connection can rewrite history.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

REFUSE = "audit_records is append-only: UPDATE and DELETE are refused"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END""",
    f"""CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END""",
)

POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION phaseone_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{REFUSE}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    """CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION phaseone_audit_refuse()""",
    """CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION phaseone_audit_refuse()""",
    """CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION phaseone_audit_refuse()""",
)


def _create_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def _drop_audit_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for name in ("audit_records_no_update", "audit_records_no_delete", "audit_records_no_truncate"):
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_records")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS phaseone_audit_refuse()")


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("user_site_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("record_site_id", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_records")),
    )
    op.create_index(op.f("ix_audit_records_action"), "audit_records", ["action"], unique=False)
    op.create_index(op.f("ix_audit_records_at"), "audit_records", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_records_record_site_id"), "audit_records", ["record_site_id"], unique=False
    )
    op.create_index(op.f("ix_audit_records_user_id"), "audit_records", ["user_id"], unique=False)
    _create_audit_triggers()

    op.create_table(
        "escalation_decisions",
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("from_dose_level", sa.Integer(), nullable=True),
        sa.Column("dose_level", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("design", sa.String(length=64), nullable=False),
        sa.Column("state", JSON_DATA, nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_decisions")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "patients",
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("subject_code", sa.String(length=32), nullable=False),
        sa.Column("initials", sa.String(length=8), nullable=True),
        sa.Column("medical_record_number", sa.String(length=64), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("date_shift_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("sex IN ('F','M','U')", name=op.f("ck_patients_sex")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_patients_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("subject_code", name=op.f("uq_patients_subject_code")),
    )
    op.create_index(op.f("ix_patients_site_id"), "patients", ["site_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin','study_chair','site_investigator','site_coordinator',"
            "'statistician','monitor')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)

    op.create_table(
        "clinical_events",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('progression','relapse','death','off_study')",
            name=op.f("ck_clinical_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_clinical_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_clinical_events_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_events")),
    )
    op.create_index(
        op.f("ix_clinical_events_patient_id"), "clinical_events", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_clinical_events_site_id"), "clinical_events", ["site_id"], unique=False
    )

    op.create_table(
        "courses",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=False),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("bsa_m2", sa.Float(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_courses_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_courses_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("patient_id", "number", name=op.f("uq_courses_patient_id")),
    )
    op.create_index(op.f("ix_courses_patient_id"), "courses", ["patient_id"], unique=False)
    op.create_index(op.f("ix_courses_site_id"), "courses", ["site_id"], unique=False)

    op.create_table(
        "follow_ups",
        sa.Column("contact_date", sa.Date(), nullable=False),
        sa.Column("vital_status", sa.String(length=16), nullable=False),
        sa.Column("disease_status", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "vital_status IN ('alive','dead','unknown')", name=op.f("ck_follow_ups_vital_status")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_follow_ups_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_follow_ups_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    op.create_index(op.f("ix_follow_ups_patient_id"), "follow_ups", ["patient_id"], unique=False)
    op.create_index(op.f("ix_follow_ups_site_id"), "follow_ups", ["site_id"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"], unique=False)

    op.create_table(
        "registrations",
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=False),
        sa.Column("slot_reference", sa.String(length=64), nullable=True),
        sa.Column("assignment", JSON_DATA, nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_registrations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_registrations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_registrations_patient_id")),
    )
    op.create_index(
        op.f("ix_registrations_patient_id"), "registrations", ["patient_id"], unique=False
    )
    op.create_index(op.f("ix_registrations_site_id"), "registrations", ["site_id"], unique=False)

    op.create_table(
        "screening_evaluations",
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("dose_level", sa.Integer(), nullable=True),
        sa.Column("engine_version", sa.String(length=64), nullable=True),
        sa.Column("overall", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_screening_evaluations_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_screening_evaluations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_evaluations")),
    )
    op.create_index(
        op.f("ix_screening_evaluations_patient_id"),
        "screening_evaluations",
        ["patient_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_screening_evaluations_site_id"), "screening_evaluations", ["site_id"], unique=False
    )

    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=True),
        sa.Column("meaning_id", sa.String(length=64), nullable=False),
        sa.Column("meaning", sa.String(length=200), nullable=False),
        sa.Column("signer_user_id", sa.Integer(), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_user_id"], ["users.id"], name=op.f("fk_signatures_signer_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_signatures_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
    )
    op.create_index(op.f("ix_signatures_site_id"), "signatures", ["site_id"], unique=False)

    op.create_table(
        "adverse_events",
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("term_verbatim", sa.Text(), nullable=False),
        sa.Column("meddra_term", sa.String(length=200), nullable=True),
        sa.Column("meddra_code", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("ctcae_version", sa.String(length=16), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=False),
        sa.Column("resolved_date", sa.Date(), nullable=True),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("attribution", JSON_DATA, nullable=True),
        sa.Column("grading_detail", JSON_DATA, nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_adverse_events_grade")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_adverse_events_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_adverse_events_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    op.create_index(
        op.f("ix_adverse_events_course_id"), "adverse_events", ["course_id"], unique=False
    )
    op.create_index(
        op.f("ix_adverse_events_patient_id"), "adverse_events", ["patient_id"], unique=False
    )
    op.create_index(op.f("ix_adverse_events_site_id"), "adverse_events", ["site_id"], unique=False)

    op.create_table(
        "dose_administrations",
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("course_day", sa.Integer(), nullable=True),
        sa.Column("administered_on", sa.Date(), nullable=False),
        sa.Column("planned_dose", sa.Float(), nullable=True),
        sa.Column("given_dose", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("adjustment_reason", sa.Text(), nullable=True),
        sa.Column("how_taken", sa.String(length=32), nullable=True),
        sa.Column("dosing_detail", JSON_DATA, nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_dose_administrations_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_dose_administrations_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_dose_administrations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_administrations")),
    )
    op.create_index(
        op.f("ix_dose_administrations_course_id"),
        "dose_administrations",
        ["course_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_dose_administrations_patient_id"),
        "dose_administrations",
        ["patient_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_dose_administrations_site_id"), "dose_administrations", ["site_id"], unique=False
    )

    op.create_table(
        "lab_results",
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("analyte", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("lower_normal", sa.Float(), nullable=True),
        sa.Column("upper_normal", sa.Float(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_lab_results_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_lab_results_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
    )
    op.create_index(op.f("ix_lab_results_course_id"), "lab_results", ["course_id"], unique=False)
    op.create_index(op.f("ix_lab_results_patient_id"), "lab_results", ["patient_id"], unique=False)
    op.create_index(op.f("ix_lab_results_site_id"), "lab_results", ["site_id"], unique=False)

    op.create_table(
        "screening_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=True),
        sa.Column("evidence", JSON_DATA, nullable=True),
        sa.CheckConstraint(
            "result IN ('met','not_met','unknown')", name=op.f("ck_screening_criteria_result")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["screening_evaluations.id"],
            name=op.f("fk_screening_criteria_evaluation_id_screening_evaluations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_criteria")),
        sa.UniqueConstraint(
            "evaluation_id", "criterion_id", name=op.f("uq_screening_criteria_evaluation_id")
        ),
    )
    op.create_index(
        op.f("ix_screening_criteria_evaluation_id"),
        "screening_criteria",
        ["evaluation_id"],
        unique=False,
    )

    op.create_table(
        "dlt_determinations",
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("adverse_event_id", sa.Integer(), nullable=True),
        sa.Column("determined_on", sa.Date(), nullable=False),
        sa.Column("is_dlt", sa.Boolean(), nullable=False),
        sa.Column("evaluable", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("detail", JSON_DATA, nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverse_events.id"],
            name=op.f("fk_dlt_determinations_adverse_event_id_adverse_events"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_dlt_determinations_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_dlt_determinations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_dlt_determinations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dlt_determinations")),
    )
    op.create_index(
        op.f("ix_dlt_determinations_course_id"), "dlt_determinations", ["course_id"], unique=False
    )
    op.create_index(
        op.f("ix_dlt_determinations_patient_id"), "dlt_determinations", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_dlt_determinations_site_id"), "dlt_determinations", ["site_id"], unique=False
    )


def downgrade() -> None:
    _drop_audit_triggers()
    op.drop_index(op.f("ix_dlt_determinations_site_id"), table_name="dlt_determinations")
    op.drop_index(op.f("ix_dlt_determinations_patient_id"), table_name="dlt_determinations")
    op.drop_index(op.f("ix_dlt_determinations_course_id"), table_name="dlt_determinations")

    op.drop_table("dlt_determinations")
    op.drop_index(op.f("ix_screening_criteria_evaluation_id"), table_name="screening_criteria")

    op.drop_table("screening_criteria")
    op.drop_index(op.f("ix_lab_results_site_id"), table_name="lab_results")
    op.drop_index(op.f("ix_lab_results_patient_id"), table_name="lab_results")
    op.drop_index(op.f("ix_lab_results_course_id"), table_name="lab_results")

    op.drop_table("lab_results")
    op.drop_index(op.f("ix_dose_administrations_site_id"), table_name="dose_administrations")
    op.drop_index(op.f("ix_dose_administrations_patient_id"), table_name="dose_administrations")
    op.drop_index(op.f("ix_dose_administrations_course_id"), table_name="dose_administrations")

    op.drop_table("dose_administrations")
    op.drop_index(op.f("ix_adverse_events_site_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_patient_id"), table_name="adverse_events")
    op.drop_index(op.f("ix_adverse_events_course_id"), table_name="adverse_events")

    op.drop_table("adverse_events")
    op.drop_index(op.f("ix_signatures_site_id"), table_name="signatures")

    op.drop_table("signatures")
    op.drop_index(op.f("ix_screening_evaluations_site_id"), table_name="screening_evaluations")
    op.drop_index(op.f("ix_screening_evaluations_patient_id"), table_name="screening_evaluations")

    op.drop_table("screening_evaluations")
    op.drop_index(op.f("ix_registrations_site_id"), table_name="registrations")
    op.drop_index(op.f("ix_registrations_patient_id"), table_name="registrations")

    op.drop_table("registrations")
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")

    op.drop_table("login_sessions")
    op.drop_index(op.f("ix_follow_ups_site_id"), table_name="follow_ups")
    op.drop_index(op.f("ix_follow_ups_patient_id"), table_name="follow_ups")

    op.drop_table("follow_ups")
    op.drop_index(op.f("ix_courses_site_id"), table_name="courses")
    op.drop_index(op.f("ix_courses_patient_id"), table_name="courses")

    op.drop_table("courses")
    op.drop_index(op.f("ix_clinical_events_site_id"), table_name="clinical_events")
    op.drop_index(op.f("ix_clinical_events_patient_id"), table_name="clinical_events")

    op.drop_table("clinical_events")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_index(op.f("ix_patients_site_id"), table_name="patients")

    op.drop_table("patients")
    op.drop_table("sites")
    op.drop_table("escalation_decisions")
    op.drop_index(op.f("ix_audit_records_user_id"), table_name="audit_records")
    op.drop_index(op.f("ix_audit_records_record_site_id"), table_name="audit_records")
    op.drop_index(op.f("ix_audit_records_at"), table_name="audit_records")
    op.drop_index(op.f("ix_audit_records_action"), table_name="audit_records")

    op.drop_table("audit_records")
