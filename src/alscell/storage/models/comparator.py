"""External comparator cohorts (PRO-ACT): the cohort, and its subjects, ratings and vital capacities.

These are bulk research data, not clinical records of the program: one audit event records each
import (with its counts and the files' SHA-256), and the rows themselves are not audited one by one.
Times are PRO-ACT deltas, whole days from each subject's trial start (negative before it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.storage.base import Base

__all__ = ["ComparatorCohort", "ComparatorFvc", "ComparatorRating", "ComparatorSubject"]


class ComparatorCohort(Base):
    """One imported cohort, named by the analyst; ``files`` maps each file read to its SHA-256."""

    __tablename__ = "comparator_cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    source: Mapped[str] = mapped_column(sa.Text)
    imported_at: Mapped[datetime]
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), default=None)
    files: Mapped[dict[str, Any]]
    subject_count: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    fvc_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)


class ComparatorSubject(Base):
    """One subject of a cohort: demographics, ALS history and death record (None when not given)."""

    __tablename__ = "comparator_subjects"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("comparator_cohorts.id"))
    subject_id: Mapped[str] = mapped_column(sa.String(40))
    sex: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    age_years: Mapped[float | None] = mapped_column(default=None)
    onset_site: Mapped[str | None] = mapped_column(sa.String(20), default=None)
    onset_delta_days: Mapped[int | None] = mapped_column(default=None)
    diagnosis_delta_days: Mapped[int | None] = mapped_column(default=None)
    died: Mapped[bool | None] = mapped_column(default=None)
    death_days: Mapped[int | None] = mapped_column(default=None)

    __table_args__ = (
        sa.Index("ix_comparator_subjects_cohort_subject", "cohort_id", "subject_id", unique=True),
    )


class ComparatorRating(Base):
    """One ALSFRS-R (form ``alsfrs_r``) or original ALSFRS (form ``alsfrs``) rating of a subject.

    Items are named as :class:`~alscell.storage.models.clinical.AlsfrsRating` names them; for the
    original ALSFRS ``q10`` holds its item 10 ("respiratory") and ``q11``/``q12`` are empty.
    """

    __tablename__ = "comparator_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("comparator_cohorts.id"))
    subject_id: Mapped[str] = mapped_column(sa.String(40))
    delta_days: Mapped[int]
    form: Mapped[str] = mapped_column(sa.String(10))
    q1: Mapped[int | None]
    q2: Mapped[int | None]
    q3: Mapped[int | None]
    q4: Mapped[int | None]
    q5a: Mapped[int | None]
    q5b: Mapped[int | None]
    q6: Mapped[int | None]
    q7: Mapped[int | None]
    q8: Mapped[int | None]
    q9: Mapped[int | None]
    q10: Mapped[int | None]
    q11: Mapped[int | None]
    q12: Mapped[int | None]
    total: Mapped[int]

    __table_args__ = (sa.Index("ix_comparator_ratings_cohort_subject", "cohort_id", "subject_id"),)


class ComparatorFvc(Base):
    """One forced vital capacity of a subject, % predicted (empty when the file gave none)."""

    __tablename__ = "comparator_fvc"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("comparator_cohorts.id"))
    subject_id: Mapped[str] = mapped_column(sa.String(40))
    delta_days: Mapped[int]
    percent_predicted: Mapped[float | None] = mapped_column(default=None)

    __table_args__ = (sa.Index("ix_comparator_fvc_cohort_subject", "cohort_id", "subject_id"),)
