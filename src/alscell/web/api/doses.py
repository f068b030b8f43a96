"""Giving the program's treatments: cell doses behind every safety block, and daily care.

A blocked dose is a 409 problem listing the broken ``rules``, whether a physician may override them
(``overridable``) and how (``how_to_override``): send the dose again with ``override``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from alscell.domain.access import Action
from alscell.domain.safety import PrePunctureFacts
from alscell.services import dosing
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import IsoDate, Page, ReadModel, StrictModel, Text, action

router = APIRouter(prefix="/enrollments", tags=["doses"])


class PrePunctureCheck(StrictModel):
    """The pre-puncture findings at the bedside; labs left out are taken from the latest on record."""

    platelets_10e9_per_l: float | None = None
    inr: float | None = None
    anticoagulants_reviewed: bool
    hours_since_last_dose: dict[str, float] = Field(
        default_factory=dict, description="Hours since each drug's last dose, by drug."
    )
    findings: dict[str, bool] = Field(
        default_factory=dict, description="Whether each contraindication is present."
    )


class BedsideCheck(StrictModel):
    """The two patient identifiers checked at the bedside, and the pre-puncture findings."""

    study_code: str = Field(min_length=1, max_length=40)
    birth_on: IsoDate
    pre_puncture: PrePunctureCheck

    def to_bedside(self) -> dosing.Bedside:
        """The service's bedside facts."""
        facts = PrePunctureFacts(**self.pre_puncture.model_dump())
        return dosing.Bedside(self.study_code, self.birth_on, facts)


class SafetyOverride(StrictModel):
    """A physician's override: every rule of the 409 problem, and a written reason."""

    rules: list[str] = Field(min_length=1, max_length=50)
    reason: Text

    def to_override(self) -> dosing.Override:
        """The service's override."""
        return dosing.Override(tuple(self.rules), self.reason)


class CellDoseCreate(StrictModel):
    """A cell dose, from the unit's typed or scanned id."""

    unit_id: str = Field(
        min_length=1,
        max_length=40,
        description="The DIN followed by its ISBT 128 check character.",
        examples=["G123498654321H"],
    )
    dose_cells: float = Field(gt=0)
    given_on: IsoDate
    bedside: BedsideCheck
    activity_id: str | None = Field(default=None, max_length=80)
    volume_ml: float | None = Field(default=None, gt=0)
    notes: str | None = Field(default=None, max_length=2000)
    override: SafetyOverride | None = None


class CareCreate(StrictModel):
    """An IV infusion, medication or rehabilitation session of the protocol."""

    activity_id: str = Field(min_length=1, max_length=80)
    given_on: IsoDate
    drug: str | None = Field(default=None, max_length=200)
    dose_text: str | None = Field(default=None, max_length=200)
    duration_minutes: int | None = None
    notes: str | None = Field(default=None, max_length=2000)


class AdministrationRead(ReadModel):
    """Something given to a patient; an overridden block keeps its rules, reason and physician."""

    id: int
    enrollment_id: int
    patient_id: int
    activity_id: str
    occurrence: int | None
    kind: str
    given_on: date
    product_unit_id: int | None
    dose_cells: float | None
    volume_ml: float | None
    drug: str | None
    dose_text: str | None
    duration_minutes: int | None
    performed_by_id: int
    overridden_rules: list[Any] | None
    override_reason: str | None
    override_by_id: int | None
    notes: str | None
    version: int


@router.post(
    "/{enrollment_id}/cell-doses",
    response_model=AdministrationRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_PUNCTURE, Action.OVERRIDE_SAFETY),
)
def record_cell_dose(
    enrollment_id: int, body: CellDoseCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> AdministrationRead:
    """Record a cell dose; a safety block is a 409 problem (an override needs override_safety)."""
    override = body.override.to_override() if body.override else None
    fields = body.model_dump(exclude={"bedside", "override"})
    dose = dosing.record_cell_dose(session, enrollment_id=enrollment_id, bedside=body.bedside.to_bedside(),
                                   override=override, by=user, now=now, **fields)  # fmt: skip
    return AdministrationRead.model_validate(dose)


@router.post(
    "/{enrollment_id}/care",
    response_model=AdministrationRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_CARE),
)
def record_care(
    enrollment_id: int, body: CareCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> AdministrationRead:
    """Record an infusion, a medication or a rehabilitation session."""
    record = dosing.record_care(
        session, enrollment_id=enrollment_id, by=user, now=now, **body.model_dump()
    )
    return AdministrationRead.model_validate(record)


@router.get(
    "/{enrollment_id}/administrations",
    response_model=Page[AdministrationRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_administrations(
    enrollment_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[AdministrationRead]:
    """The enrollment's cell doses and care, in the order given."""
    rows, total = dosing.list_administrations(
        session, enrollment_id=enrollment_id, by=user, limit=page.limit, offset=page.offset
    )
    return Page(items=[AdministrationRead.model_validate(row) for row in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip
