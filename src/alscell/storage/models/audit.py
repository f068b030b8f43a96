"""The audit trail: append-only events chained by SHA-256, and the head of the chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.storage.base import Base


class AuditEvent(Base):
    """Who did what to which record, when and why, with the record before and after.

    ``hash`` = SHA-256 of the previous event's hash and this event's canonical content, so an edit,
    deletion or insertion anywhere in the trail breaks the chain.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), default=None)
    action: Mapped[str] = mapped_column(sa.String(80))
    entity_type: Mapped[str] = mapped_column(sa.String(80))
    entity_id: Mapped[str] = mapped_column(sa.String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(sa.Text, default=None)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)


class AuditHead(Base):
    """One row: the last event's id and hash. Locked while appending, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
