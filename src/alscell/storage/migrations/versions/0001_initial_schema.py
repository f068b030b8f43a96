"""Initial schema: every record of DESIGN.md, and the genesis of the audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscell.storage.base

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "login_throttles",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_code", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "referred",
                "screening",
                "eligible",
                "ineligible",
                "enrolled",
                "in_treatment",
                "follow_up",
                "completed",
                "withdrawn",
                "lost_to_follow_up",
                "died",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("registered_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_patients_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("study_code", name=op.f("uq_patients_study_code")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patients_site_id"), ["site_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "physician",
                "nurse",
                "coordinator",
                "cell_lab",
                "monitor",
                "analyst",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_users_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "alsfrs_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("q1", sa.Integer(), nullable=False),
        sa.Column("q2", sa.Integer(), nullable=False),
        sa.Column("q3", sa.Integer(), nullable=False),
        sa.Column("q4", sa.Integer(), nullable=False),
        sa.Column("q5a", sa.Integer(), nullable=True),
        sa.Column("q5b", sa.Integer(), nullable=True),
        sa.Column("q6", sa.Integer(), nullable=False),
        sa.Column("q7", sa.Integer(), nullable=False),
        sa.Column("q8", sa.Integer(), nullable=False),
        sa.Column("q9", sa.Integer(), nullable=False),
        sa.Column("q10", sa.Integer(), nullable=False),
        sa.Column("q11", sa.Integer(), nullable=False),
        sa.Column("q12", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_alsfrs_ratings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["users.id"], name=op.f("fk_alsfrs_ratings_rater_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_alsfrs_ratings_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alsfrs_ratings")),
    )
    with op.batch_alter_table("alsfrs_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alsfrs_ratings_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=80), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("form_version", sa.String(length=40), nullable=False),
        sa.Column("consented_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_consents_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_consents_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("onset_site", sa.String(length=20), nullable=False),
        sa.Column("diagnosis_on", sa.Date(), nullable=False),
        sa.Column("el_escorial", sa.String(length=40), nullable=True),
        sa.Column("awaji", sa.String(length=40), nullable=True),
        sa.Column("gold_coast", sa.Boolean(), nullable=True),
        sa.Column("familial", sa.Boolean(), nullable=False),
        sa.Column("c9orf72", sa.Boolean(), nullable=True),
        sa.Column("other_genetics", sa.String(length=400), nullable=True),
        sa.Column("ftd", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_diagnoses_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_diagnoses_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_diagnoses_patient_id")),
    )
    op.create_table(
        "lab_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("analyte", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_lab_results_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
    )
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_results_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outcome_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_outcome_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_outcome_events_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_events")),
        sa.UniqueConstraint("patient_id", "kind", name=op.f("uq_outcome_events_patient_id_kind")),
    )
    with op.batch_alter_table("outcome_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_events_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "patient_identities",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("birth_on", sa.Date(), nullable=False),
        sa.Column("mrn", sa.String(length=80), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_identities_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_identities")),
    )
    op.create_table(
        "product_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_code", sa.String(length=60), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("cell_type", sa.String(length=200), nullable=False),
        sa.Column("donor_patient_id", sa.Integer(), nullable=True),
        sa.Column("manufactured_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["donor_patient_id"],
            ["patients.id"],
            name=op.f("fk_product_lots_donor_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["users.id"], name=op.f("fk_product_lots_registered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_product_lots_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_lots")),
        sa.UniqueConstraint("lot_code", name=op.f("uq_product_lots_lot_code")),
    )
    op.create_table(
        "protocols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loaded_by_id"], ["users.id"], name=op.f("fk_protocols_loaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocols")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_protocols_key_version")),
    )
    op.create_table(
        "site_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_site_closures_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_closures_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_closures")),
        sa.UniqueConstraint(
            "site_id", "closed_on", name=op.f("uq_site_closures_site_id_closed_on")
        ),
    )
    op.create_table(
        "vital_capacities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("percent_predicted", sa.Double(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vital_capacities_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_vital_capacities_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_capacities")),
    )
    with op.batch_alter_table("vital_capacities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vital_capacities_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "vital_signs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measured_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("systolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("diastolic_mmhg", sa.Integer(), nullable=True),
        sa.Column("heart_rate_bpm", sa.Integer(), nullable=True),
        sa.Column("temperature_c", sa.Double(), nullable=True),
        sa.Column("spo2_percent", sa.Double(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vital_signs_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_vital_signs_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_signs")),
    )
    with op.batch_alter_table("vital_signs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vital_signs_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "weights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("weight_kg", sa.Double(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_weights_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_weights_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weights")),
    )
    with op.batch_alter_table("weights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weights_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "analysis_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.String(length=40), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("locked_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["locked_by_id"], ["users.id"], name=op.f("fk_analysis_plans_locked_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocols.id"], name=op.f("fk_analysis_plans_protocol_id_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_plans")),
        sa.UniqueConstraint("protocol_id", name=op.f("uq_analysis_plans_protocol_id")),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_enrollments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocols.id"], name=op.f("fk_enrollments_protocol_id_protocols")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint(
            "patient_id", "protocol_id", name=op.f("uq_enrollments_patient_id_protocol_id")
        ),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollments_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "product_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("cells", sa.Double(), nullable=False),
        sa.Column("volume_ml", sa.Double(), nullable=True),
        sa.Column("endotoxin_eu", sa.Double(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "quarantine",
                "released",
                "rejected",
                "dispensed",
                "administered",
                "returned",
                "discarded",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("released_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_patient_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_patient_id"],
            ["patients.id"],
            name=op.f("fk_product_units_assigned_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["product_lots.id"], name=op.f("fk_product_units_lot_id_product_lots")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["users.id"], name=op.f("fk_product_units_released_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_units")),
        sa.UniqueConstraint("din", name=op.f("uq_product_units_din")),
    )
    with op.batch_alter_table("product_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_units_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("screened_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_screenings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"], ["protocols.id"], name=op.f("fk_screenings_protocol_id_protocols")
        ),
        sa.ForeignKeyConstraint(
            ["screened_by_id"], ["users.id"], name=op.f("fk_screenings_screened_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screenings_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "stopping_rule_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("protocol_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_stopping_rule_decisions_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["protocol_id"],
            ["protocols.id"],
            name=op.f("fk_stopping_rule_decisions_protocol_id_protocols"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stopping_rule_decisions")),
    )
    with op.batch_alter_table("stopping_rule_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stopping_rule_decisions_protocol_id"), ["protocol_id"], unique=False
        )

    op.create_table(
        "administrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("product_unit_id", sa.Integer(), nullable=True),
        sa.Column("dose_cells", sa.Double(), nullable=True),
        sa.Column("volume_ml", sa.Double(), nullable=True),
        sa.Column("drug", sa.String(length=200), nullable=True),
        sa.Column("dose_text", sa.String(length=200), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("performed_by_id", sa.Integer(), nullable=False),
        sa.Column("overridden_rules", sa.JSON(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_administrations_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"], ["users.id"], name=op.f("fk_administrations_override_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_administrations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["performed_by_id"], ["users.id"], name=op.f("fk_administrations_performed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_unit_id"],
            ["product_units.id"],
            name=op.f("fk_administrations_product_unit_id_product_units"),
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_administrations_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_administrations")),
    )
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_administrations_enrollment_id"), ["enrollment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_administrations_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "analysis_plan_amendments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_plan_id", sa.Integer(), nullable=False),
        sa.Column("amended_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("amended_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["amended_by_id"],
            ["users.id"],
            name=op.f("fk_analysis_plan_amendments_amended_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["analysis_plan_id"],
            ["analysis_plans.id"],
            name=op.f("fk_analysis_plan_amendments_analysis_plan_id_analysis_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_plan_amendments")),
    )
    with op.batch_alter_table("analysis_plan_amendments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysis_plan_amendments_analysis_plan_id"),
            ["analysis_plan_id"],
            unique=False,
        )

    op.create_table(
        "custody_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "received",
                "stored",
                "thawed",
                "dispensed",
                "administered",
                "returned",
                "discarded",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_custody_events_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_custody_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["product_units.id"], name=op.f("fk_custody_events_unit_id_product_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_events")),
    )
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custody_events_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "release_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("test", sa.String(length=40), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "pass",
                "fail",
                "pending",
                "no_growth_to_date",
                name="result",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_release_tests_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["product_units.id"], name=op.f("fk_release_tests_unit_id_product_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_tests")),
        sa.UniqueConstraint("unit_id", "test", name=op.f("uq_release_tests_unit_id_test")),
    )
    with op.batch_alter_table("release_tests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_tests_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "scheduled_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("earliest_on", sa.Date(), nullable=False),
        sa.Column("latest_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "done",
                "skipped",
                "closed",
                "cancelled",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("actual_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_scheduled_activities_enrollment_id_enrollments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_activities")),
        sa.UniqueConstraint(
            "enrollment_id",
            "activity_id",
            "occurrence",
            name=op.f("uq_scheduled_activities_enrollment_id_activity_id_occurrence"),
        ),
    )
    with op.batch_alter_table("scheduled_activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduled_activities_enrollment_id"), ["enrollment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scheduled_activities_planned_on"), ["planned_on"], unique=False
        )

    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("administration_id", sa.Integer(), nullable=True),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("ctcae_grade", sa.Integer(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("seriousness", sa.JSON(), nullable=False),
        sa.Column("expected", sa.Boolean(), nullable=False),
        sa.Column(
            "causality_procedure",
            sa.Enum(
                "unrelated",
                "unlikely",
                "possible",
                "probable",
                "definite",
                name="causality_procedure",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "causality_product",
            sa.Enum(
                "unrelated",
                "unlikely",
                "possible",
                "probable",
                "definite",
                name="causality_product",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "causality_drug",
            sa.Enum(
                "unrelated",
                "unlikely",
                "possible",
                "probable",
                "definite",
                name="causality_drug",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("sponsor_due_on", sa.Date(), nullable=True),
        sa.Column("regulator_due_on", sa.Date(), nullable=True),
        sa.Column("complete_report_due_on", sa.Date(), nullable=True),
        sa.Column("sponsor_reported_on", sa.Date(), nullable=True),
        sa.Column("regulator_reported_on", sa.Date(), nullable=True),
        sa.Column("complete_report_sent_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_adverse_events_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_adverse_events_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_adverse_events_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_adverse_events_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["users.id"], name=op.f("fk_adverse_events_signed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_events_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "schedule_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=80), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("administration_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["administration_id"],
            ["administrations.id"],
            name=op.f("fk_schedule_events_administration_id_administrations"),
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_schedule_events_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_schedule_events_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_events")),
    )
    with op.batch_alter_table("schedule_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_events_enrollment_id"), ["enrollment_id"], unique=False
        )

    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("last_event_id"), sa.column("last_hash")),
        [{"id": 1, "last_event_id": 0, "last_hash": "0" * 64}],
    )


def downgrade() -> None:
    with op.batch_alter_table("schedule_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_events_enrollment_id"))

    op.drop_table("schedule_events")
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_events_patient_id"))

    op.drop_table("adverse_events")
    with op.batch_alter_table("scheduled_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_activities_planned_on"))
        batch_op.drop_index(batch_op.f("ix_scheduled_activities_enrollment_id"))

    op.drop_table("scheduled_activities")
    with op.batch_alter_table("release_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_tests_unit_id"))

    op.drop_table("release_tests")
    with op.batch_alter_table("custody_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custody_events_unit_id"))

    op.drop_table("custody_events")
    with op.batch_alter_table("analysis_plan_amendments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysis_plan_amendments_analysis_plan_id"))

    op.drop_table("analysis_plan_amendments")
    with op.batch_alter_table("administrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_administrations_patient_id"))
        batch_op.drop_index(batch_op.f("ix_administrations_enrollment_id"))

    op.drop_table("administrations")
    with op.batch_alter_table("stopping_rule_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stopping_rule_decisions_protocol_id"))

    op.drop_table("stopping_rule_decisions")
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screenings_patient_id"))

    op.drop_table("screenings")
    with op.batch_alter_table("product_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_units_lot_id"))

    op.drop_table("product_units")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollments_patient_id"))

    op.drop_table("enrollments")
    op.drop_table("analysis_plans")
    with op.batch_alter_table("weights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weights_patient_id"))

    op.drop_table("weights")
    with op.batch_alter_table("vital_signs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vital_signs_patient_id"))

    op.drop_table("vital_signs")
    with op.batch_alter_table("vital_capacities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vital_capacities_patient_id"))

    op.drop_table("vital_capacities")
    op.drop_table("site_closures")
    op.drop_table("protocols")
    op.drop_table("product_lots")
    op.drop_table("patient_identities")
    with op.batch_alter_table("outcome_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_events_patient_id"))

    op.drop_table("outcome_events")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))

    op.drop_table("login_sessions")
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_results_patient_id"))

    op.drop_table("lab_results")
    op.drop_table("diagnoses")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_patient_id"))

    op.drop_table("consents")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_entity")

    op.drop_table("audit_events")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("alsfrs_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alsfrs_ratings_patient_id"))

    op.drop_table("alsfrs_ratings")
    op.drop_table("users")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_site_id"))

    op.drop_table("patients")
    op.drop_table("sites")
    op.drop_table("login_throttles")
    op.drop_table("audit_head")
