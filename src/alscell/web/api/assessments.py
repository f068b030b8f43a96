"""Assessments: ALSFRS-R ratings, vital capacity, weight, laboratory values, vital signs; signing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from alscell.domain import alsfrs
from alscell.domain.access import Action
from alscell.services import assessments, signing
from alscell.storage.models import AlsfrsRating
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import Instant, IsoDate, Page, ReadModel, StrictModel, action

router = APIRouter(tags=["assessments"])

_ITEM = "0-4, 4 = normal."


class AlsfrsItems(StrictModel):
    """The twelve ALSFRS-R item responses; item 5 as exactly one of q5a (no gastrostomy) or q5b."""

    q1: int = Field(description=f"Speech, {_ITEM}")
    q2: int = Field(description=f"Salivation, {_ITEM}")
    q3: int = Field(description=f"Swallowing, {_ITEM}")
    q4: int = Field(description=f"Handwriting, {_ITEM}")
    q5a: int | None = Field(default=None, description=f"Cutting food (no gastrostomy), {_ITEM}")
    q5b: int | None = Field(default=None, description=f"Cutting food (gastrostomy), {_ITEM}")
    q6: int = Field(description=f"Dressing and hygiene, {_ITEM}")
    q7: int = Field(description=f"Turning in bed, {_ITEM}")
    q8: int = Field(description=f"Walking, {_ITEM}")
    q9: int = Field(description=f"Climbing stairs, {_ITEM}")
    q10: int = Field(description=f"Dyspnea, {_ITEM}")
    q11: int = Field(description=f"Orthopnea, {_ITEM}")
    q12: int = Field(description=f"Respiratory insufficiency, {_ITEM}")


class AlsfrsRatingCreate(StrictModel):
    """An ALSFRS-R rating on a day."""

    rated_on: IsoDate
    items: AlsfrsItems
    form: Literal["clinician", "self"] = "clinician"


class AlsfrsRatingRead(ReadModel):
    """A rating with its total and domain subscores, scored by the domain's ALSFRS-R."""

    id: int
    patient_id: int
    rated_on: date
    form: str
    items: dict[str, int]
    total: int
    bulbar: int
    fine_motor: int
    gross_motor: int
    respiratory: int
    scale_version: str
    rater_id: int
    signed_at: datetime | None
    version: int

    @classmethod
    def of(cls, row: AlsfrsRating) -> AlsfrsRatingRead:
        """The rating as the API shows it, with scores from :func:`alscell.domain.alsfrs.score`."""
        result = alsfrs.score(row.items())
        return cls(
            id=row.id, patient_id=row.patient_id, rated_on=row.rated_on, form=row.form, items=row.items(),
            total=result.total, bulbar=result.bulbar, fine_motor=result.fine_motor,
            gross_motor=result.gross_motor, respiratory=result.respiratory,
            scale_version=result.scale_version, rater_id=row.rater_id, signed_at=row.signed_at,
            version=row.version,
        )  # fmt: skip


class VitalCapacityCreate(StrictModel):
    """Vital capacity in % predicted."""

    measured_on: IsoDate
    percent_predicted: float = Field(description="1-200 % predicted.")
    method: Literal["fvc", "svc"] = "fvc"


class VitalCapacityRead(ReadModel):
    """A recorded vital capacity."""

    id: int
    patient_id: int
    measured_on: date
    percent_predicted: float
    method: str
    recorded_by_id: int
    version: int


class WeightCreate(StrictModel):
    """Body weight in kg."""

    measured_on: IsoDate
    weight_kg: float = Field(description="20-300 kg.")


class WeightRead(ReadModel):
    """A recorded weight."""

    id: int
    patient_id: int
    measured_on: date
    weight_kg: float
    recorded_by_id: int
    version: int


class LabResultCreate(StrictModel):
    """A laboratory value in alscell's unit for the analyte."""

    collected_on: IsoDate
    analyte: str = Field(
        min_length=1, max_length=60, description=f"One of {', '.join(assessments.LAB_UNITS)}."
    )
    value: float


class LabResultRead(ReadModel):
    """A recorded laboratory value with its unit."""

    id: int
    patient_id: int
    collected_on: date
    analyte: str
    value: float
    unit: str
    recorded_by_id: int
    version: int


class VitalSignsCreate(StrictModel):
    """Vital signs at an instant; each measurement optional."""

    measured_at: Instant
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    temperature_c: float | None = None
    spo2_percent: float | None = None


class VitalSignsRead(ReadModel):
    """Recorded vital signs."""

    id: int
    patient_id: int
    measured_at: datetime
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    temperature_c: float | None
    spo2_percent: float | None
    recorded_by_id: int
    version: int


class SignatureCreate(StrictModel):
    """The record to sign."""

    kind: str = Field(
        min_length=1, max_length=40, description=f"One of {', '.join(signing.SIGNABLE)}."
    )
    record_id: int


class SignatureRead(ReadModel):
    """A signed record: who signed it, when, and its new version."""

    kind: str
    record_id: int
    signed_at: datetime
    signed_by_id: int
    version: int


@router.post(
    "/patients/{patient_id}/alsfrs-ratings",
    response_model=AlsfrsRatingRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_alsfrs_rating(
    patient_id: int, body: AlsfrsRatingCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> AlsfrsRatingRead:
    """Record an ALSFRS-R rating; the items are validated and scored (every problem listed)."""
    rating = assessments.record_alsfrs_rating(
        session, patient_id=patient_id, rated_on=body.rated_on, form=body.form,
        items=body.items.model_dump(exclude_none=True), by=user, now=now,
    )  # fmt: skip
    return AlsfrsRatingRead.of(rating)


@router.get(
    "/patients/{patient_id}/alsfrs-ratings",
    response_model=Page[AlsfrsRatingRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_alsfrs_ratings(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[AlsfrsRatingRead]:
    """The patient's ALSFRS-R ratings, newest first."""
    rows, total = assessments.list_alsfrs_ratings(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [AlsfrsRatingRead.of(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/patients/{patient_id}/vital-capacities",
    response_model=VitalCapacityRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_vital_capacity(
    patient_id: int, body: VitalCapacityCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> VitalCapacityRead:
    """Record vital capacity (forced or slow) in % predicted."""
    row = assessments.record_vital_capacity(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return VitalCapacityRead.model_validate(row)


@router.get(
    "/patients/{patient_id}/vital-capacities",
    response_model=Page[VitalCapacityRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_vital_capacities(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[VitalCapacityRead]:
    """The patient's vital capacities, newest first."""
    rows, total = assessments.list_vital_capacities(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [VitalCapacityRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/patients/{patient_id}/weights",
    response_model=WeightRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_weight(
    patient_id: int, body: WeightCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> WeightRead:
    """Record body weight in kg."""
    row = assessments.record_weight(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return WeightRead.model_validate(row)


@router.get(
    "/patients/{patient_id}/weights",
    response_model=Page[WeightRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_weights(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[WeightRead]:
    """The patient's weights, newest first."""
    rows, total = assessments.list_weights(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [WeightRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/patients/{patient_id}/lab-results",
    response_model=LabResultRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_lab_result(
    patient_id: int, body: LabResultCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> LabResultRead:
    """Record a laboratory value (platelets, INR, ...) in alscell's unit for it."""
    row = assessments.record_lab_result(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return LabResultRead.model_validate(row)


@router.get(
    "/patients/{patient_id}/lab-results",
    response_model=Page[LabResultRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_lab_results(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[LabResultRead]:
    """The patient's laboratory values, newest first."""
    rows, total = assessments.list_lab_results(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [LabResultRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/patients/{patient_id}/vital-signs",
    response_model=VitalSignsRead,
    status_code=201,
    openapi_extra=action(Action.RECORD_ASSESSMENT),
)
def record_vital_signs(
    patient_id: int, body: VitalSignsCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> VitalSignsRead:
    """Record vital signs taken at an instant."""
    row = assessments.record_vital_signs(
        session, patient_id=patient_id, by=user, now=now, **body.model_dump()
    )
    return VitalSignsRead.model_validate(row)


@router.get(
    "/patients/{patient_id}/vital-signs",
    response_model=Page[VitalSignsRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_vital_signs(
    patient_id: int, user: CurrentUser, session: SessionDep, page: PageDep
) -> Page[VitalSignsRead]:
    """The patient's vital signs, newest first."""
    rows, total = assessments.list_vital_signs(
        session, patient_id, by=user, limit=page.limit, offset=page.offset
    )
    items = [VitalSignsRead.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/signatures",
    response_model=SignatureRead,
    status_code=201,
    tags=["signatures"],
    openapi_extra=action(Action.SIGN_RECORD),
)
def sign_record(
    body: SignatureCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> SignatureRead:
    """Sign a diagnosis, ALSFRS-R rating, administration or adverse event; later changes need a reason."""
    record = signing.sign_record(
        session, kind=body.kind, record_id=body.record_id, by=user, now=now
    )
    return SignatureRead.model_validate(
        {"kind": body.kind, "record_id": record.id, "signed_at": record.signed_at,
         "signed_by_id": record.signed_by_id, "version": record.version}
    )  # fmt: skip
