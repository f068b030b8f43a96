"""Protocol versions and their analysis plans: loaded from files, locked before treatment, amended
only with a reason that every report shows."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action, allowed
from alscell.domain.protocol import AnalysisPlan as PlanSpec
from alscell.domain.protocol import Protocol
from alscell.domain.schema import build
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import AnalysisPlan, AnalysisPlanAmendment, ProtocolVersion, User
from alscell.storage.protocol_files import load_protocol

__all__ = [
    "amend_analysis_plan",
    "analysis_plan_for",
    "get_analysis_plan",
    "get_protocol",
    "list_amendments",
    "list_protocols",
    "load_protocol_version",
    "lock_analysis_plan",
    "protocol_of",
]


def load_protocol_version(
    session: Session, *, text: str, source: str, by: User, now: datetime
) -> ProtocolVersion:
    """Store a validated protocol file as a new protocol version, with its (unlocked) analysis plan.

    The exact text is kept with its SHA-256; a protocol id and version are stored once (a changed
    file needs a new version number).
    """
    access.require(by, Action.MANAGE_PROTOCOLS)
    protocol = load_protocol(text, source=source)
    duplicate = sa.select(ProtocolVersion).where(
        ProtocolVersion.key == protocol.id, ProtocolVersion.version == protocol.version
    )
    if exists(session, duplicate):
        raise Conflict(
            f"protocol {protocol.id} version {protocol.version} is already loaded; give the file a new version"
        )
    row = ProtocolVersion(
        key=protocol.id, version=protocol.version, title=protocol.title, content=text,
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), loaded_at=now, loaded_by_id=by.id,
    )  # fmt: skip
    add_record(session, row, by=by, action="protocol.loaded", now=now)
    plan = AnalysisPlan(
        protocol_id=row.id,
        plan_version=protocol.analysis_plan.version,
        content=_plan_content(protocol.analysis_plan),
    )
    add_record(session, plan, by=by, action="analysis_plan.created", now=now)
    commit(session)
    return row


def protocol_of(session: Session, protocol_id: int) -> Protocol:
    """The domain protocol of a stored version, with its analysis plan as currently amended."""
    row = load(session, ProtocolVersion, protocol_id, kind="protocol")
    protocol = _parsed(row.content, f"{row.key} v{row.version}")
    plan = analysis_plan_for(session, protocol_id)
    return dataclasses.replace(
        protocol, analysis_plan=build(PlanSpec, plan.content, subject="analysis plan")
    )


@functools.lru_cache(maxsize=64)
def _parsed(content: str, source: str) -> Protocol:
    """A stored version's text parsed once: versions never change, and the Protocol is frozen."""
    return load_protocol(content, source=source)


def analysis_plan_for(session: Session, protocol_id: int) -> AnalysisPlan:
    """The analysis plan row of a protocol version; NotFound for an unknown (or impossible) id."""
    load(session, ProtocolVersion, protocol_id, kind="protocol")
    plan = session.execute(
        sa.select(AnalysisPlan).where(AnalysisPlan.protocol_id == protocol_id)
    ).scalar_one_or_none()
    if plan is None:
        raise Conflict(f"protocol {protocol_id} has no analysis plan; load the protocol again")
    return plan


def lock_analysis_plan(
    session: Session, *, protocol_id: int, by: User, now: datetime
) -> AnalysisPlan:
    """Lock the analysis plan: from now on it changes only by an amendment with a reason."""
    access.require(by, Action.MANAGE_ANALYSIS_PLAN)
    plan = analysis_plan_for(session, protocol_id)
    if plan.locked_at is not None:
        raise Conflict(
            f"the analysis plan was locked on {plan.locked_at:%Y-%m-%d}; amend it instead"
        )
    change_record(
        session,
        plan,
        {"locked_at": now, "locked_by_id": by.id},
        by=by,
        action="analysis_plan.locked",
        now=now,
    )
    commit(session)
    return plan


def amend_analysis_plan(
    session: Session, *, protocol_id: int, changes: dict[str, Any], reason: str, by: User, now: datetime,
    expected_version: int | None = None,
) -> AnalysisPlanAmendment:  # fmt: skip
    """Amend a locked analysis plan; the amendment (before, after, reason) is kept for every report.

    Raises
    ------
    InvalidInput
        If there is no reason, or the amended plan is not valid (every problem listed).
    Conflict
        If the plan is not locked yet (edit the protocol file instead) or changed since it was read.
    """
    access.require(by, Action.MANAGE_ANALYSIS_PLAN)
    if not reason.strip():
        raise InvalidInput(
            [Problem("reason", "required: an amendment must say why")], subject="amendment"
        )
    plan = analysis_plan_for(session, protocol_id)
    if plan.locked_at is None:
        raise Conflict(
            "the analysis plan is not locked yet; change the protocol file and load a new version"
        )
    before = dict(plan.content)
    after = {**before, **changes}
    if after.get("version") == before.get("version"):
        rule = f"an amendment needs a new plan version (now {before.get('version')!r})"
        raise InvalidInput([Problem("version", rule)], subject="amendment")
    amended = build(PlanSpec, after, subject="amended analysis plan")
    change_record(session, plan, {"content": _plan_content(amended), "plan_version": amended.version},
                  by=by, action="analysis_plan.amended", now=now, reason=reason, expected_version=expected_version)  # fmt: skip
    amendment = AnalysisPlanAmendment(analysis_plan_id=plan.id, amended_at=now, amended_by_id=by.id,
                                      reason=reason.strip(), before=before, after=_plan_content(amended))  # fmt: skip
    add_record(
        session, amendment, by=by, action="analysis_plan.amendment_recorded", now=now, reason=reason
    )
    commit(session)
    return amendment


def _plan_content(plan: PlanSpec) -> dict[str, Any]:
    return {
        key: (value.value if hasattr(value, "value") else value)
        for key, value in dataclasses.asdict(plan).items()
    }


def list_protocols(
    session: Session, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[ProtocolVersion], int]:
    """Loaded protocol versions, by key and newest version first; and the total."""
    access.require(by, Action.VIEW_PATIENT)
    total = session.execute(sa.select(sa.func.count()).select_from(ProtocolVersion)).scalar_one()
    statement = (
        sa.select(ProtocolVersion)
        .order_by(ProtocolVersion.key, ProtocolVersion.loaded_at.desc(), ProtocolVersion.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(statement).scalars()), int(total)


def get_protocol(
    session: Session, protocol_id: int, *, by: User
) -> tuple[ProtocolVersion, Protocol]:
    """A loaded protocol version and its domain protocol (analysis plan as currently amended)."""
    access.require(by, Action.VIEW_PATIENT)
    row = load(session, ProtocolVersion, protocol_id, kind="protocol")
    return row, protocol_of(session, protocol_id)


def get_analysis_plan(session: Session, protocol_id: int, *, by: User) -> AnalysisPlan:
    """The analysis plan of a protocol version, for those who view patients or manage the plan."""
    manages = allowed(by.role, Action.MANAGE_ANALYSIS_PLAN)
    access.require(by, Action.MANAGE_ANALYSIS_PLAN if manages else Action.VIEW_PATIENT)
    return analysis_plan_for(session, protocol_id)


def list_amendments(session: Session, protocol_id: int, *, by: User) -> list[AnalysisPlanAmendment]:
    """The amendments of a protocol version's analysis plan, oldest first."""
    plan = get_analysis_plan(session, protocol_id, by=by)
    statement = (
        sa.select(AnalysisPlanAmendment)
        .where(AnalysisPlanAmendment.analysis_plan_id == plan.id)
        .order_by(AnalysisPlanAmendment.amended_at, AnalysisPlanAmendment.id)
    )
    return list(session.execute(statement).scalars())


# ---------------------------------------------------------------- reading for the administrators' pages


def list_protocol_versions(
    session: Session, *, by: User
) -> list[tuple[ProtocolVersion, AnalysisPlan | None]]:
    """Every loaded protocol version with its analysis plan, by key and newest first.

    Raises
    ------
    PermissionDenied
        Unless ``by`` manages protocols.
    """
    access.require(by, Action.MANAGE_PROTOCOLS)
    statement = (
        sa.select(ProtocolVersion, AnalysisPlan)
        .outerjoin(AnalysisPlan, AnalysisPlan.protocol_id == ProtocolVersion.id)
        .order_by(ProtocolVersion.key, ProtocolVersion.loaded_at.desc(), ProtocolVersion.id.desc())
    )
    return [(row, plan) for row, plan in session.execute(statement)]


def get_protocol_details(
    session: Session, protocol_id: int, *, by: User
) -> tuple[ProtocolVersion, Protocol, AnalysisPlan, list[AnalysisPlanAmendment]]:
    """A loaded protocol version, its domain protocol, its analysis plan and the plan's amendments.

    Raises
    ------
    PermissionDenied
        Unless ``by`` manages protocols.
    NotFound
        For an unknown protocol version.
    """
    access.require(by, Action.MANAGE_PROTOCOLS)
    row = load(session, ProtocolVersion, protocol_id, kind="protocol")
    plan = analysis_plan_for(session, protocol_id)
    amendments = sa.select(AnalysisPlanAmendment).where(
        AnalysisPlanAmendment.analysis_plan_id == plan.id
    )
    ordered = amendments.order_by(AnalysisPlanAmendment.amended_at, AnalysisPlanAmendment.id)
    return row, protocol_of(session, protocol_id), plan, list(session.scalars(ordered))
