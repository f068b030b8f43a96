"""Screening, enrollment, the start of treatment, each enrollment's calendar and its deviations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from alscell.domain.access import Action
from alscell.domain.criteria import Status
from alscell.domain.deviations import DeviationKind, Severity
from alscell.domain.protocol import ActivityKind
from alscell.domain.safety import PrePunctureFacts
from alscell.domain.scheduling import ItemStatus
from alscell.services import enrollment
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep, TodayDep
from alscell.web.schemas import IsoDate, Page, ReadModel, StrictModel, Text, action

router = APIRouter(tags=["enrollments"])

ActivityId = Annotated[str, Field(min_length=1, max_length=80, examples=["spine-imaging"])]


class PrePuncture(StrictModel):
    """Bedside facts before a puncture; platelets and INR default to the latest lab values."""

    platelets: float | None = Field(default=None, description="× 10^9/L.")
    inr: float | None = None
    anticoagulants_reviewed: bool = False
    hours_since_last_dose: dict[str, float] = Field(
        default_factory=dict, description="Hours since the last dose, by drug (e.g. apixaban)."
    )
    findings: dict[str, bool] = Field(
        default_factory=dict, description="Whether each contraindication is present."
    )


class ScreeningCreate(StrictModel):
    """A screening against a protocol version: exclusions and bedside facts (the rest is on record)."""

    protocol_id: int
    screened_on: IsoDate
    exclusions: dict[str, bool] = Field(
        default_factory=dict, description="Whether each protocol exclusion is present."
    )
    pre_puncture: PrePuncture = Field(default_factory=PrePuncture)
    familial: bool | None = Field(default=None, description="Used when no diagnosis says so.")


class CriterionRead(ReadModel):
    """One criterion's answer, the value it was decided on, and the rule in words."""

    criterion: str
    status: Status
    value: bool | int | float | str | None
    rule: str


class ScreeningRead(ReadModel):
    """A screening with every criterion."""

    id: int
    patient_id: int
    protocol_id: int
    screened_on: date
    outcome: Status
    criteria: list[CriterionRead]
    screened_by_id: int
    version: int


class EnrollmentCreate(StrictModel):
    """An eligible, consented patient enrolled in a protocol version."""

    patient_id: int
    protocol_id: int
    enrolled_on: IsoDate


class EnrollmentRead(ReadModel):
    """A patient's participation in a protocol version; ``start_on`` is day 0."""

    id: int
    patient_id: int
    protocol_id: int
    enrolled_on: date
    start_on: date | None
    ended_on: date | None
    end_reason: str | None
    version: int


class TreatmentStart(StrictModel):
    """The first day of the program (day 0)."""

    start_on: IsoDate


class ScheduledItemRead(ReadModel):
    """One dated occurrence of an activity or follow-up visit, with its window."""

    activity_id: str
    name: str
    kind: ActivityKind
    occurrence: int
    of: int | None
    planned_on: date
    earliest_on: date
    latest_on: date
    status: ItemStatus
    actual_on: date | None
    note: str | None


class ScheduleRead(ReadModel):
    """An enrollment's calendar as it stands, items by date."""

    start_on: date
    treatment_end_on: date
    items: list[ScheduledItemRead]


class DeviationRead(ReadModel):
    """One departure from the protocol, with its severity."""

    kind: DeviationKind
    severity: Severity
    activity_id: str | None
    occurrence: int | None
    on: date | None
    detail: str


class ActivityDone(StrictModel):
    """An activity that happened (cell doses are recorded as punctures)."""

    activity_id: ActivityId
    on: IsoDate
    occurrence: int | None = Field(
        default=None, ge=1, description="Left out: matched by date (daily) or the next due."
    )


class ActivitySkipped(StrictModel):
    """An occurrence that will not happen, and why."""

    activity_id: ActivityId
    occurrence: int = Field(ge=1)
    reason: Text


class ScheduleEventRead(ReadModel):
    """What happened to one occurrence: done on a day, or skipped."""

    id: int
    enrollment_id: int
    activity_id: str
    occurrence: int | None
    kind: str
    on: date | None
    reason: str | None
    version: int


class ClosureCreate(StrictModel):
    """A day the site is closed."""

    closed_on: IsoDate
    reason: str | None = Field(default=None, max_length=200)


class ClosureRead(ReadModel):
    """A recorded site closure."""

    id: int
    site_id: int
    closed_on: date
    reason: str | None


@router.post(
    "/patients/{patient_id}/screenings",
    response_model=ScreeningRead,
    status_code=201,
    openapi_extra=action(Action.SCREEN),
)
def screen_patient(
    patient_id: int, body: ScreeningCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ScreeningRead:
    """Screen a patient against a protocol version, criterion by criterion."""
    bedside = body.pre_puncture
    facts = PrePunctureFacts(
        platelets_10e9_per_l=bedside.platelets, inr=bedside.inr,
        anticoagulants_reviewed=bedside.anticoagulants_reviewed,
        hours_since_last_dose=bedside.hours_since_last_dose, findings=bedside.findings,
    )  # fmt: skip
    screening = enrollment.screen_patient(
        session, patient_id=patient_id, protocol_id=body.protocol_id, screened_on=body.screened_on,
        exclusions=body.exclusions, pre_puncture=facts, familial=body.familial, by=user, now=now,
    )  # fmt: skip
    return ScreeningRead.model_validate(screening)


@router.get(
    "/patients/{patient_id}/screenings",
    response_model=Page[ScreeningRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_screenings(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[ScreeningRead]:
    """The patient's screenings, newest first."""
    rows, total = enrollment.list_screenings(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [ScreeningRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/enrollments",
    response_model=EnrollmentRead,
    status_code=201,
    openapi_extra=action(Action.ENROLL),
)
def enroll(
    body: EnrollmentCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> EnrollmentRead:
    """Enroll an eligible patient with consent on file in a protocol version."""
    row = enrollment.enroll(session, by=user, now=now, **body.model_dump())
    return EnrollmentRead.model_validate(row)


@router.get(
    "/enrollments/{enrollment_id}",
    response_model=EnrollmentRead,
    openapi_extra=action(Action.VIEW_PATIENT),
)
def get_enrollment(enrollment_id: int, user: CurrentUser, session: SessionDep) -> EnrollmentRead:
    """One enrollment."""
    return EnrollmentRead.model_validate(enrollment.get_enrollment(session, enrollment_id, by=user))


@router.get(
    "/patients/{patient_id}/enrollments",
    response_model=Page[EnrollmentRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_enrollments(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[EnrollmentRead]:
    """The patient's enrollments, newest first."""
    rows, total = enrollment.list_enrollments(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [EnrollmentRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/enrollments/{enrollment_id}/start",
    response_model=EnrollmentRead,
    openapi_extra=action(Action.START_TREATMENT),
)
def start_treatment(
    enrollment_id: int, body: TreatmentStart, user: CurrentUser, session: SessionDep, now: NowDep
) -> EnrollmentRead:
    """Start the program on ``start_on`` (day 0) and plan the calendar."""
    row = enrollment.start_treatment(
        session, enrollment_id=enrollment_id, start_on=body.start_on, by=user, now=now
    )
    return EnrollmentRead.model_validate(row)


@router.get(
    "/enrollments/{enrollment_id}/schedule",
    response_model=ScheduleRead,
    openapi_extra=action(Action.VIEW_PATIENT),
)
def get_schedule(enrollment_id: int, user: CurrentUser, session: SessionDep) -> ScheduleRead:
    """The enrollment's calendar: every dated occurrence with its window and status."""
    return ScheduleRead.model_validate(enrollment.get_schedule(session, enrollment_id, by=user))


@router.get(
    "/enrollments/{enrollment_id}/deviations",
    response_model=list[DeviationRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_deviations(
    enrollment_id: int, user: CurrentUser, session: SessionDep, today: TodayDep,
    as_of: Annotated[date | None, Query(description="Count windows closed before this day (default today).")] = None,
) -> list[DeviationRead]:  # fmt: skip
    """The enrollment's departures from the protocol, by date."""
    found = enrollment.list_deviations(session, enrollment_id, by=user, as_of=as_of or today)
    return [DeviationRead.model_validate(deviation) for deviation in found]


@router.post(
    "/enrollments/{enrollment_id}/activities",
    response_model=ScheduleEventRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_activity(
    enrollment_id: int, body: ActivityDone, user: CurrentUser, session: SessionDep, now: NowDep
) -> ScheduleEventRead:
    """Record that an examination, lab panel, assessment, session or visit happened."""
    event = enrollment.record_activity(
        session, enrollment_id=enrollment_id, by=user, now=now, **body.model_dump()
    )
    return ScheduleEventRead.model_validate(event)


@router.post(
    "/enrollments/{enrollment_id}/skips",
    response_model=ScheduleEventRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def skip_activity(
    enrollment_id: int, body: ActivitySkipped, user: CurrentUser, session: SessionDep, now: NowDep
) -> ScheduleEventRead:
    """Record that an occurrence will not happen, with the reason."""
    event = enrollment.skip_activity(
        session, enrollment_id=enrollment_id, by=user, now=now, **body.model_dump()
    )
    return ScheduleEventRead.model_validate(event)


@router.post(
    "/sites/{site_id}/closures",
    response_model=ClosureRead,
    status_code=201,
    openapi_extra=action(Action.CLOSE_PARTICIPATION),
)
def record_closure(
    site_id: int, body: ClosureCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ClosureRead:
    """Close a site for a day; every active calendar at the site moves accordingly."""
    closure = enrollment.record_closure(
        session, site_id=site_id, closed_on=body.closed_on, reason=body.reason, by=user, now=now
    )
    return ClosureRead.model_validate(closure)
