"""Protocol versions and their analysis plans: load, read, lock and amend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from alscell.domain.access import Action
from alscell.domain.protocol import Comparator, ControlType, Protocol
from alscell.services import protocols
from alscell.storage.models import ProtocolVersion
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import Page, ReadModel, StrictModel, Text, action

router = APIRouter(prefix="/protocols", tags=["protocols"])


class ProtocolCreate(StrictModel):
    """A protocol file: its exact YAML text and the file name it came from."""

    text: str = Field(min_length=1, max_length=1_000_000, description="The YAML file's text.")
    source: str = Field(min_length=1, max_length=200, examples=["als-nsc-4lp.yaml"])


class ProtocolRead(ReadModel):
    """A loaded protocol version (its text is kept, and identified by its SHA-256)."""

    id: int
    key: str
    version: str
    title: str
    content_sha256: str
    loaded_at: datetime


class PhaseSummary(ReadModel):
    """A phase and the ids of its activities, in order."""

    id: str
    name: str
    activity_ids: list[str]


class AnalysisPlanFields(ReadModel):
    """The analysis plan's fields as currently amended."""

    version: str
    primary_outcome: str
    time_point_months: float
    anchor_activity: str
    improved_min_change: float
    worsened_max_change: float
    comparator: Comparator
    control: ControlType
    responder_slope_improvement: float
    rater_blinded: bool


class ProtocolDetail(ProtocolRead):
    """A protocol version with a summary: phases, follow-up visits and the analysis plan."""

    phases: list[PhaseSummary]
    follow_up_visit_ids: list[str]
    analysis_plan: AnalysisPlanFields

    @classmethod
    def of(cls, row: ProtocolVersion, protocol: Protocol) -> ProtocolDetail:
        """The stored version with the summary of its domain protocol."""
        phases = [
            PhaseSummary(id=p.id, name=p.name, activity_ids=[a.id for a in p.activities])
            for p in protocol.phases
        ]
        return cls(
            **ProtocolRead.model_validate(row).model_dump(), phases=phases,
            follow_up_visit_ids=[visit.id for visit in protocol.follow_up.visits],
            analysis_plan=AnalysisPlanFields.model_validate(protocol.analysis_plan),
        )  # fmt: skip


class AnalysisPlanRead(ReadModel):
    """A protocol version's analysis plan; ``version`` is the record's, for amendments."""

    id: int
    protocol_id: int
    plan_version: str
    content: dict[str, Any]
    locked_at: datetime | None
    locked_by_id: int | None
    version: int


class AmendmentCreate(StrictModel):
    """Changes to a locked plan (including a new plan ``version`` in them), why, and the version read."""

    changes: dict[str, Any] = Field(examples=[{"version": "1.1", "time_point_months": 12}])
    reason: Text
    version: int = Field(ge=1, description="The plan's version read; a stale one is refused (409).")


class AmendmentRead(ReadModel):
    """An amendment: the plan before and after, and why."""

    id: int
    analysis_plan_id: int
    amended_at: datetime
    amended_by_id: int
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


@router.post(
    "",
    response_model=ProtocolRead,
    status_code=201,
    openapi_extra=action(Action.MANAGE_PROTOCOLS),
)
def load_protocol(
    body: ProtocolCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ProtocolRead:
    """Load a validated protocol file as a new protocol version, with its unlocked analysis plan."""
    row = protocols.load_protocol_version(
        session, text=body.text, source=body.source, by=user, now=now
    )
    return ProtocolRead.model_validate(row)


@router.get("", response_model=Page[ProtocolRead], openapi_extra=action(Action.VIEW_PATIENT))
def list_protocols(user: CurrentUser, session: SessionDep, page: PageDep) -> Page[ProtocolRead]:
    """Loaded protocol versions, by key and newest first."""
    rows, total = protocols.list_protocols(session, by=user, limit=page.limit, offset=page.offset)
    items = [ProtocolRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/{protocol_id}", response_model=ProtocolDetail, openapi_extra=action(Action.VIEW_PATIENT)
)
def get_protocol(protocol_id: int, user: CurrentUser, session: SessionDep) -> ProtocolDetail:
    """One protocol version with a summary of its phases and analysis plan."""
    row, protocol = protocols.get_protocol(session, protocol_id, by=user)
    return ProtocolDetail.of(row, protocol)


@router.get(
    "/{protocol_id}/analysis-plan",
    response_model=AnalysisPlanRead,
    openapi_extra=action(Action.VIEW_PATIENT, Action.MANAGE_ANALYSIS_PLAN),
)
def get_analysis_plan(protocol_id: int, user: CurrentUser, session: SessionDep) -> AnalysisPlanRead:
    """The protocol version's analysis plan."""
    return AnalysisPlanRead.model_validate(
        protocols.get_analysis_plan(session, protocol_id, by=user)
    )


@router.post(
    "/{protocol_id}/analysis-plan/lock",
    response_model=AnalysisPlanRead,
    openapi_extra=action(Action.MANAGE_ANALYSIS_PLAN),
)
def lock_analysis_plan(
    protocol_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> AnalysisPlanRead:
    """Lock the analysis plan; from then on it changes only by an amendment with a reason."""
    plan = protocols.lock_analysis_plan(session, protocol_id=protocol_id, by=user, now=now)
    return AnalysisPlanRead.model_validate(plan)


@router.post(
    "/{protocol_id}/analysis-plan/amendments",
    response_model=AmendmentRead,
    status_code=201,
    openapi_extra=action(Action.MANAGE_ANALYSIS_PLAN),
)
def amend_analysis_plan(
    protocol_id: int, body: AmendmentCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> AmendmentRead:
    """Amend a locked analysis plan (send the ``version`` read); every report shows the amendment."""
    amendment = protocols.amend_analysis_plan(
        session, protocol_id=protocol_id, changes=body.changes, reason=body.reason, by=user,
        now=now, expected_version=body.version,
    )  # fmt: skip
    return AmendmentRead.model_validate(amendment)


@router.get(
    "/{protocol_id}/analysis-plan/amendments",
    response_model=list[AmendmentRead],
    openapi_extra=action(Action.VIEW_PATIENT, Action.MANAGE_ANALYSIS_PLAN),
)
def list_amendments(
    protocol_id: int, user: CurrentUser, session: SessionDep
) -> list[AmendmentRead]:
    """The amendments of the analysis plan, oldest first."""
    rows = protocols.list_amendments(session, protocol_id, by=user)
    return [AmendmentRead.model_validate(row) for row in rows]
