"""Comparator cohorts: imported external cohorts (PRO-ACT) with their subjects, ratings and FVC.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alscell.storage.base

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEMS = ("q1", "q2", "q3", "q4", "q5a", "q5b", "q6", "q7", "q8", "q9", "q10", "q11", "q12")


def _keys(table: str) -> list[sa.schema.SchemaItem]:
    """The id, the cohort and the subject of a row of ``table``."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["comparator_cohorts.id"],
            name=op.f(f"fk_{table}_cohort_id_comparator_cohorts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "comparator_cohorts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", alscell.storage.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("subject_count", sa.Integer(), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("fvc_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["users.id"],
            name=op.f("fk_comparator_cohorts_imported_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparator_cohorts")),
        sa.UniqueConstraint("name", name=op.f("uq_comparator_cohorts_name")),
    )  # fmt: skip
    op.create_table(
        "comparator_subjects",
        *_keys("comparator_subjects"),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("age_years", sa.Double(), nullable=True),
        sa.Column("onset_site", sa.String(length=20), nullable=True),
        sa.Column("onset_delta_days", sa.Integer(), nullable=True),
        sa.Column("diagnosis_delta_days", sa.Integer(), nullable=True),
        sa.Column("died", sa.Boolean(), nullable=True),
        sa.Column("death_days", sa.Integer(), nullable=True),
    )
    op.create_table(
        "comparator_ratings",
        *_keys("comparator_ratings"),
        sa.Column("delta_days", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=10), nullable=False),
        *(sa.Column(item, sa.Integer(), nullable=True) for item in ITEMS),
        sa.Column("total", sa.Integer(), nullable=False),
    )
    op.create_table(
        "comparator_fvc",
        *_keys("comparator_fvc"),
        sa.Column("delta_days", sa.Integer(), nullable=False),
        sa.Column("percent_predicted", sa.Double(), nullable=True),
    )
    for table in ("comparator_subjects", "comparator_ratings", "comparator_fvc"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                f"ix_{table}_cohort_subject",
                ["cohort_id", "subject_id"],
                unique=table == "comparator_subjects",
            )


def downgrade() -> None:
    for table in ("comparator_fvc", "comparator_ratings", "comparator_subjects"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_cohort_subject")
        op.drop_table(table)
    op.drop_table("comparator_cohorts")
