"""The audit trail: its events, and a check that it is intact and explains every record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from alscell.domain.access import Action
from alscell.services import audit
from alscell.services.records import MAX_ID
from alscell.web.deps import CurrentUser, PageDep, SessionDep
from alscell.web.schemas import Page, ReadModel, action

router = APIRouter(tags=["audit"])


class AuditEventRead(ReadModel):
    """One audit event: who, when, what (the record before and after), why, and its hash link."""

    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    prev_hash: str
    hash: str


class BreakRead(ReadModel):
    """Where the trail and the data disagree, and how."""

    where: str
    problem: str


class TrailCheckRead(ReadModel):
    """Whether the trail is intact, every break found, and how many events it holds."""

    intact: bool
    breaks: list[BreakRead]
    events: int


@router.get(
    "/audit-events", response_model=Page[AuditEventRead], openapi_extra=action(Action.VIEW_AUDIT)
)
def list_audit_events(
    user: CurrentUser, session: SessionDep, page: PageDep,
    entity_type: Annotated[str | None, Query(max_length=80, description="A table, e.g. patients.")] = None,
    entity_id: Annotated[str | None, Query(max_length=80, description="A record's key.")] = None,
    actor_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Events by this user only.")
    ] = None,
) -> Page[AuditEventRead]:  # fmt: skip
    """Audit events, newest first."""
    rows, total = audit.list_audit_events(session, by=user, entity_type=entity_type, entity_id=entity_id,
                                          actor_id=actor_id, limit=page.limit, offset=page.offset)  # fmt: skip
    return Page(items=[AuditEventRead.model_validate(row) for row in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.get("/audit/verify", response_model=TrailCheckRead, openapi_extra=action(Action.VIEW_AUDIT))
def verify_audit_trail(user: CurrentUser, session: SessionDep) -> TrailCheckRead:
    """Recompute the hash chain and compare every audited record with its last audited state."""
    return TrailCheckRead.model_validate(audit.check_trail(session, by=user))
