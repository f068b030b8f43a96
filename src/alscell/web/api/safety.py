"""Safety: adverse events and their reporting clocks, stopping rules, and outcome events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from alscell.domain.access import Action
from alscell.domain.adverse_events import Causality
from alscell.domain.protocol import Relatedness
from alscell.services import outcomes, safety
from alscell.services.safety import Report
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep, TodayDep
from alscell.web.schemas import IsoDate, Page, ReadModel, StrictModel, Text, action, lax

router = APIRouter(tags=["safety"])

SERIOUSNESS = f"The criteria met (ICH E2A): {', '.join(safety.SERIOUSNESS)}."


class AdverseEventCreate(StrictModel):
    """An adverse event: MedDRA term, CTCAE grade, seriousness, expectedness and causality."""

    patient_id: int
    term: str = Field(min_length=1, max_length=200)
    onset_on: IsoDate
    ctcae_grade: int = Field(description="CTCAE grade 1-5.")
    serious: bool
    seriousness: list[str] = Field(default_factory=list, max_length=6, description=SERIOUSNESS)
    expected: bool
    causality_procedure: Causality = lax()
    causality_product: Causality = lax()
    causality_drug: Causality = lax()
    aware_on: IsoDate = Field(description="Day 0: the day the sponsor knew of the event.")
    enrollment_id: int | None = None
    administration_id: int | None = None
    sponsor_days: int = Field(default=1, description="Days from Day 0 to the sponsor report.")


class AdverseEventChange(StrictModel):
    """A change to an event: the ``version`` read, the fields to change, and a reason if signed."""

    version: int = Field(ge=1, description="The version read; a stale one is refused (409).")
    reason: str | None = Field(default=None, max_length=2000)
    ctcae_grade: int | None = None
    serious: bool | None = None
    seriousness: list[str] | None = Field(default=None, max_length=6, description=SERIOUSNESS)
    expected: bool | None = None
    causality_procedure: Causality | None = Field(default=None, strict=False)
    causality_product: Causality | None = Field(default=None, strict=False)
    causality_drug: Causality | None = Field(default=None, strict=False)
    aware_on: IsoDate | None = None
    resolved_on: IsoDate | None = None
    sponsor_days: int | None = None


class AdverseEventRead(ReadModel):
    """An adverse event with its reporting clock."""

    id: int
    patient_id: int
    enrollment_id: int | None
    administration_id: int | None
    term: str
    onset_on: date
    resolved_on: date | None
    ctcae_grade: int
    serious: bool
    seriousness: list[Any]
    expected: bool
    causality_procedure: Causality
    causality_product: Causality
    causality_drug: Causality
    aware_on: date
    sponsor_due_on: date | None
    regulator_due_on: date | None
    complete_report_due_on: date | None
    sponsor_reported_on: date | None
    regulator_reported_on: date | None
    complete_report_sent_on: date | None
    recorded_at: datetime
    recorded_by_id: int
    signed_at: datetime | None
    version: int


class ReportSent(StrictModel):
    """One expedited report sent: sponsor, regulator or complete."""

    report: Report = lax()
    reported_on: IsoDate


class ReportingDueRead(ReadModel):
    """A report still owed; ``days_left`` below 0 means overdue."""

    adverse_event_id: int
    patient_id: int
    study_code: str
    term: str
    report: Report
    due_on: date
    days_left: int
    overdue: bool


class StoppingRuleRead(ReadModel):
    """A protocol stopping rule."""

    id: str
    description: str
    min_ctcae_grade: int
    related_to: list[Relatedness]
    serious_only: bool
    count: int


class DecisionCreate(StrictModel):
    """A physician's decision on a stopping rule."""

    rule_id: str = Field(min_length=1, max_length=80)
    decision: str = Field(max_length=20, description=" or ".join(safety.DECISIONS))
    reason: Text
    decided_on: IsoDate


class DecisionRead(ReadModel):
    """A recorded stopping-rule decision."""

    id: int
    protocol_id: int
    rule_id: str
    decided_on: date
    decided_at: datetime
    decision: str
    reason: str
    decided_by_id: int


class OutcomeEventCreate(StrictModel):
    """A death, tracheostomy or permanent ventilation, and how it is known."""

    kind: str = Field(max_length=30, description=f"One of {', '.join(outcomes.OUTCOME_KINDS)}.")
    occurred_on: IsoDate
    source: str | None = Field(default=None, max_length=200)


class OutcomeEventRead(ReadModel):
    """A recorded outcome event."""

    id: int
    patient_id: int
    kind: str
    occurred_on: date
    source: str | None
    recorded_by_id: int
    version: int


@router.post(
    "/adverse-events",
    response_model=AdverseEventRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ADVERSE_EVENT),
)
def record_adverse_event(
    body: AdverseEventCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> AdverseEventRead:
    """Record an adverse event; a serious one gets its reporting clock."""
    event = safety.record_adverse_event(session, by=user, now=now, **body.model_dump())
    return AdverseEventRead.model_validate(event)


@router.patch(
    "/adverse-events/{adverse_event_id}",
    response_model=AdverseEventRead,
    openapi_extra=action(Action.RECORD_ADVERSE_EVENT),
)
def update_adverse_event(
    adverse_event_id: int,
    body: AdverseEventChange,
    user: CurrentUser,
    session: SessionDep,
    now: NowDep,
) -> AdverseEventRead:
    """Change an event's grade, seriousness, causality, Day 0 or resolution (fields left out stay)."""
    event = safety.update_adverse_event(session, adverse_event_id=adverse_event_id, expected_version=body.version,
                                        by=user, now=now, **body.model_dump(exclude={"version"}))  # fmt: skip
    return AdverseEventRead.model_validate(event)


@router.get(
    "/adverse-events/{adverse_event_id}",
    response_model=AdverseEventRead,
    openapi_extra=action(Action.VIEW_PATIENT),
)
def get_adverse_event(
    adverse_event_id: int, user: CurrentUser, session: SessionDep
) -> AdverseEventRead:
    """One adverse event."""
    return AdverseEventRead.model_validate(
        safety.get_adverse_event(session, adverse_event_id, by=user)
    )


@router.get(
    "/patients/{patient_id}/adverse-events",
    response_model=Page[AdverseEventRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_adverse_events(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[AdverseEventRead]:
    """The patient's adverse events by onset."""
    rows, total = safety.list_adverse_events(
        session, patient_id=patient_id, by=user, limit=page.limit, offset=page.offset
    )
    return Page(items=[AdverseEventRead.model_validate(row) for row in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.post(
    "/adverse-events/{adverse_event_id}/reports",
    response_model=AdverseEventRead,
    openapi_extra=action(Action.RECORD_ADVERSE_EVENT),
)
def mark_adverse_event_reported(
    adverse_event_id: int, body: ReportSent, user: CurrentUser, session: SessionDep, now: NowDep
) -> AdverseEventRead:
    """Mark one expedited report of a serious event as sent; only that report's clock stops."""
    event = safety.mark_reported(session, adverse_event_id=adverse_event_id, report=body.report,
                                 reported_on=body.reported_on, by=user, now=now)  # fmt: skip
    return AdverseEventRead.model_validate(event)


@router.get(
    "/reporting-clocks",
    response_model=list[ReportingDueRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_reporting_clocks(
    user: CurrentUser, session: SessionDep, today: TodayDep
) -> list[ReportingDueRead]:
    """Expedited reports still owed, soonest due first."""
    dues = safety.open_reporting_clocks(session, today=today, by=user)
    return [ReportingDueRead.model_validate(due) for due in dues]


@router.get(
    "/protocols/{protocol_id}/stopping-rules",
    response_model=list[StoppingRuleRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_active_stopping_rules(
    protocol_id: int, user: CurrentUser, session: SessionDep
) -> list[StoppingRuleRead]:
    """The protocol's stopping rules now halting new doses."""
    rules = safety.list_active_stopping_rules(session, protocol_id=protocol_id, by=user)
    return [StoppingRuleRead.model_validate(rule) for rule in rules]


@router.post(
    "/protocols/{protocol_id}/stopping-rule-decisions",
    response_model=DecisionRead,
    status_code=201,
    openapi_extra=action(Action.DECIDE_STOPPING_RULE),
)
def decide_stopping_rule(
    protocol_id: int, body: DecisionCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> DecisionRead:
    """Resume new doses under a halting rule, or keep them halted."""
    decision = safety.decide_stopping_rule(
        session, protocol_id=protocol_id, by=user, now=now, **body.model_dump()
    )
    return DecisionRead.model_validate(decision)


@router.post(
    "/patients/{patient_id}/outcome-events",
    response_model=OutcomeEventRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_OUTCOME),
)
def record_outcome_event(
    patient_id: int, body: OutcomeEventCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> OutcomeEventRead:
    """Record a death (which ends participation), tracheostomy or permanent ventilation."""
    event = outcomes.record_outcome_event(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return OutcomeEventRead.model_validate(event)
