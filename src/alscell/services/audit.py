"""The audit trail: record every change in the same transaction, and verify the whole trail.

Each event stores who, when (UTC), what (the record before and after), why, and a SHA-256 hash over
the previous event's hash and its own canonical content. Appending locks the chain's head row, so
concurrent writers never fork the chain. :func:`verify_trail` recomputes the chain and compares every
audited table with the last state the trail recorded, so a row changed, deleted or inserted with raw
SQL, outside the services, is found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action, allowed
from alscell.services import access
from alscell.services.paging import page
from alscell.storage.base import Base, snapshot
from alscell.storage.models import (
    AuditEvent,
    AuditHead,
    ComparatorFvc,
    ComparatorRating,
    ComparatorSubject,
    LoginSession,
    LoginThrottle,
    PatientIdentity,
    ScheduledActivityRow,
    User,
)

__all__ = [
    "AUDITED_TABLES",
    "HIDDEN",
    "Break",
    "TrailCheck",
    "check_trail",
    "entity_key",
    "list_audit_events",
    "record_event",
    "verify_trail",
]

GENESIS: Final = "0" * 64
UNAUDITED: Final = frozenset(
    model.__tablename__
    for model in (AuditEvent, AuditHead, ScheduledActivityRow, LoginSession, LoginThrottle,
                  ComparatorSubject, ComparatorRating, ComparatorFvc)
)  # fmt: skip
"""Tables the trail does not cover: the trail itself, derived calendars, sign-in state, and the bulk
rows of imported comparator cohorts (each import is one event on its cohort row)."""


def _audited_tables() -> dict[str, type[Base]]:
    return {
        mapper.class_.__tablename__: mapper.class_
        for mapper in Base.registry.mappers
        if mapper.class_.__tablename__ not in UNAUDITED
    }


AUDITED_TABLES: Final = _audited_tables()
"""Every table whose rows the trail covers (all but the trail itself and derived calendars)."""


def entity_key(record: Base) -> str:
    """The record's primary key as text (several columns joined by '/')."""
    mapper = sa.inspect(type(record))
    keys = (mapper.get_property_by_column(column).key for column in mapper.primary_key)
    return "/".join(str(getattr(record, key)) for key in keys)


def record_event(
    session: Session, *, actor: User | None, action: str, entity: Base | None = None,
    before: dict[str, Any] | None = None, reason: str | None = None, now: datetime,
    entity_type: str | None = None, entity_id: str | None = None,
) -> AuditEvent:  # fmt: skip
    """Append one event for ``entity`` (its state after this change) in the current transaction.

    Flushes first so the entity's key and columns are final. Pass ``before`` for an update or
    deletion; for a deletion pass ``entity=None`` with ``entity_type`` and ``entity_id``.
    """
    session.flush()
    after = snapshot(entity) if entity is not None else None
    kind = entity_type or (entity.__tablename__ if entity is not None else "")
    key = entity_id or (entity_key(entity) if entity is not None else "")
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    event = AuditEvent(
        at=now.astimezone(UTC), actor_id=actor.id if actor else None, action=action, entity_type=kind,
        entity_id=key, before=before, after=after, reason=reason, prev_hash=head.last_hash, hash="",
    )  # fmt: skip
    session.add(event)
    session.flush()
    event.hash = event_hash(event)
    head.last_event_id, head.last_hash = event.id, event.hash
    session.flush()
    return event


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON content."""
    content = {
        "id": event.id,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((event.prev_hash + canonical).encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Break:
    """A place where the trail and the data disagree: which event or record, and what is wrong."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def verify_trail(session: Session) -> list[Break]:
    """Every break in the chain and every audited row that differs from its last recorded state.

    An empty list means the trail is intact and explains every row. Reads only.
    """
    breaks, last_state = _chain_breaks(session)
    breaks.extend(_data_breaks(session, last_state))
    return breaks


def _chain_breaks(
    session: Session,
) -> tuple[list[Break], dict[tuple[str, str], dict[str, Any] | None]]:
    breaks: list[Break] = []
    last_state: dict[tuple[str, str], dict[str, Any] | None] = {}
    previous, previous_id = GENESIS, 0
    for event in session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars():
        where = f"audit event {event.id}"
        if (
            event.prev_hash != previous
        ):  # ids may skip (rolled-back transactions); the hashes may not
            breaks.append(Break(where, "does not link to the event before it"))
        if event_hash(event) != event.hash:
            breaks.append(Break(where, "its content does not match its hash (edited)"))
        last_state[(event.entity_type, event.entity_id)] = event.after
        previous, previous_id = event.hash, event.id
    head = session.execute(sa.select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None or (head.last_event_id, head.last_hash) != (previous_id, previous):
        breaks.append(
            Break("audit head", "does not point at the last event (events deleted at the end?)")
        )
    return breaks, last_state


def _data_breaks(
    session: Session, last_state: dict[tuple[str, str], dict[str, Any] | None]
) -> Iterator[Break]:
    seen: set[tuple[str, str]] = set()
    for table, model in AUDITED_TABLES.items():
        for record in session.execute(sa.select(model)).scalars():
            key = (table, entity_key(record))
            seen.add(key)
            if key not in last_state:
                yield Break(f"{table} {key[1]}", "has no audit event (inserted outside alscell)")
            elif last_state[key] is None:
                yield Break(f"{table} {key[1]}", "was deleted according to the trail, yet exists")
            elif last_state[key] != snapshot(record):
                yield Break(
                    f"{table} {key[1]}",
                    "differs from its last audited state (changed outside alscell)",
                )
    for key, state in last_state.items():
        if state is not None and key not in seen and key[0] in AUDITED_TABLES:
            yield Break(f"{key[0]} {key[1]}", "is missing (deleted outside alscell)")


@dataclass(frozen=True, slots=True)
class TrailCheck:
    """The outcome of verifying the trail: intact or not, every break, and how many events."""

    intact: bool
    breaks: list[Break]
    events: int


def check_trail(session: Session, *, by: User) -> TrailCheck:
    """Verify the whole trail (see :func:`verify_trail`), for those who may read it. Reads only."""
    access.require(by, Action.VIEW_AUDIT, resource="the audit trail")
    breaks = verify_trail(session)
    events = session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()
    return TrailCheck(intact=not breaks, breaks=breaks, events=int(events))


def list_audit_events(
    session: Session, *, by: User, entity_type: str | None = None, entity_id: str | None = None,
    actor_id: int | None = None, limit: int = 50, offset: int = 0,
) -> tuple[list[AuditEvent], int]:  # fmt: skip
    """Audit events, newest first, optionally of one entity type, entity or actor; and their total."""
    access.require(by, Action.VIEW_AUDIT, resource="the audit trail")
    statement = sa.select(AuditEvent)
    if entity_type is not None:
        statement = statement.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        statement = statement.where(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    events, total = page(session, statement, AuditEvent.id.desc(), limit=limit, offset=offset)
    if allowed(by.role, Action.VIEW_IDENTITY):
        return events, total
    return [_without_identity(event) for event in events], total


HIDDEN: Final = "(identifying: hidden)"
"""What a reader without the right to see identities reads in place of an identifying value."""


def _without_identity(event: AuditEvent) -> AuditEvent:
    """The event as a reader who may not see identities reads it: identifying values hidden.

    A copy, never added to the session: the stored event (and so the hash chain) is left untouched.
    """
    if event.entity_type != PatientIdentity.__tablename__:
        return event
    shown = {name: getattr(event, name) for name in AuditEvent.__table__.columns.keys()}  # noqa: SIM118
    for name in ("before", "after"):
        state = shown[name]
        if state is not None:
            shown[name] = {
                key: value if key == "patient_id" else HIDDEN for key, value in state.items()
            }
    return AuditEvent(**shown)
