"""The program: protocol versions, analysis plans, enrollments, calendars, administrations, adverse
events and stopping-rule decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.domain.adverse_events import Causality
from alscell.domain.calendar import ItemStatus
from alscell.storage.base import Base, Signable, Versioned, enum_type


class ProtocolVersion(Base):
    """A protocol file as loaded: its id, version and exact text (never edited, only superseded)."""

    __tablename__ = "protocols"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    version: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(400))
    content: Mapped[str] = mapped_column(sa.Text)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[datetime]
    loaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class AnalysisPlan(Base, Versioned):
    """The pre-declared analysis of a protocol version: locked before the first patient is treated."""

    __tablename__ = "analysis_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(sa.ForeignKey("protocols.id"), unique=True)
    plan_version: Mapped[str] = mapped_column(sa.String(40))
    content: Mapped[dict[str, Any]]
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), default=None)


class AnalysisPlanAmendment(Base):
    """A change to a locked analysis plan, kept and shown in every report."""

    __tablename__ = "analysis_plan_amendments"

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_plan_id: Mapped[int] = mapped_column(sa.ForeignKey("analysis_plans.id"), index=True)
    amended_at: Mapped[datetime]
    amended_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    before: Mapped[dict[str, Any]]
    after: Mapped[dict[str, Any]]


class Enrollment(Base, Versioned):
    """A patient's participation in one protocol version; ``start_on`` is day 0 of the calendar."""

    __tablename__ = "enrollments"
    __table_args__ = (sa.UniqueConstraint("patient_id", "protocol_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    protocol_id: Mapped[int] = mapped_column(sa.ForeignKey("protocols.id"))
    enrolled_on: Mapped[date]
    start_on: Mapped[date | None] = mapped_column(default=None)
    ended_on: Mapped[date | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(sa.Text, default=None)


class ScheduledActivityRow(Base):
    """One dated occurrence of an enrollment's calendar, derived from the protocol and what happened.

    Rewritten by the services after each recorded event; not clinical data in itself, so not audited.
    """

    __tablename__ = "scheduled_activities"
    __table_args__ = (sa.UniqueConstraint("enrollment_id", "activity_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    activity_id: Mapped[str] = mapped_column(sa.String(80))
    occurrence: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(400))
    kind: Mapped[str] = mapped_column(sa.String(40))
    planned_on: Mapped[date] = mapped_column(index=True)
    earliest_on: Mapped[date]
    latest_on: Mapped[date]
    status: Mapped[ItemStatus] = mapped_column(enum_type(ItemStatus, "status"))
    actual_on: Mapped[date | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(sa.Text, default=None)


class Administration(Base, Versioned, Signable):
    """Something given to a patient: a cell dose (with its unit), an infusion, a drug, a session.

    A physician's override of a safety block is kept on the record: the rules overridden, the reason
    and who overrode.
    """

    __tablename__ = "administrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    activity_id: Mapped[str] = mapped_column(sa.String(80))
    occurrence: Mapped[int | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(sa.String(40))
    given_on: Mapped[date]
    product_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_units.id"), default=None
    )
    dose_cells: Mapped[float | None] = mapped_column(default=None)
    volume_ml: Mapped[float | None] = mapped_column(default=None)
    drug: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    dose_text: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    duration_minutes: Mapped[int | None] = mapped_column(default=None)
    performed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    overridden_rules: Mapped[list[Any] | None] = mapped_column(default=None)
    override_reason: Mapped[str | None] = mapped_column(sa.Text, default=None)
    override_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), default=None)
    notes: Mapped[str | None] = mapped_column(sa.Text, default=None)


class AdverseEvent(Base, Versioned, Signable):
    """An adverse event with CTCAE grade, seriousness, causality and its reporting clock (§9.3, §9.4)."""

    __tablename__ = "adverse_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollments.id"), default=None)
    administration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("administrations.id"), default=None
    )
    term: Mapped[str] = mapped_column(sa.String(200))
    onset_on: Mapped[date]
    resolved_on: Mapped[date | None] = mapped_column(default=None)
    ctcae_grade: Mapped[int]
    serious: Mapped[bool]
    seriousness: Mapped[list[Any]]
    expected: Mapped[bool]
    causality_procedure: Mapped[Causality] = mapped_column(
        enum_type(Causality, "causality_procedure")
    )
    causality_product: Mapped[Causality] = mapped_column(enum_type(Causality, "causality_product"))
    causality_drug: Mapped[Causality] = mapped_column(enum_type(Causality, "causality_drug"))
    aware_on: Mapped[date]
    sponsor_due_on: Mapped[date | None] = mapped_column(default=None)
    regulator_due_on: Mapped[date | None] = mapped_column(default=None)
    complete_report_due_on: Mapped[date | None] = mapped_column(default=None)
    sponsor_reported_on: Mapped[date | None] = mapped_column(default=None)
    regulator_reported_on: Mapped[date | None] = mapped_column(default=None)
    complete_report_sent_on: Mapped[date | None] = mapped_column(default=None)
    recorded_at: Mapped[datetime]  # when recorded or last changed: stopping rules count from it
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class StoppingRuleDecision(Base):
    """A physician's decision on a triggered stopping rule; new doses resume only after one."""

    __tablename__ = "stopping_rule_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_id: Mapped[int] = mapped_column(sa.ForeignKey("protocols.id"), index=True)
    rule_id: Mapped[str] = mapped_column(sa.String(80))
    decided_on: Mapped[date]
    decided_at: Mapped[datetime]  # events recorded after this instant count again
    decision: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str] = mapped_column(sa.Text)
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class ScheduleEvent(Base, Versioned):
    """What happened to one occurrence of an enrollment's calendar: done on a day, or skipped."""

    __tablename__ = "schedule_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id"), index=True)
    activity_id: Mapped[str] = mapped_column(sa.String(80))
    occurrence: Mapped[int | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(sa.String(10))  # "done" or "skipped"
    on: Mapped[date | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(sa.Text, default=None)
    administration_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("administrations.id"), default=None
    )
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class SiteClosure(Base):
    """A day a site is closed: daily sessions are not held, other activities move to the next day."""

    __tablename__ = "site_closures"
    __table_args__ = (sa.UniqueConstraint("site_id", "closed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    closed_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
