"""Cell product: lots and units, release tests, release, dispensing and the chain of custody."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, computed_field

from alscell.domain import isbt128
from alscell.domain.access import Action
from alscell.domain.dosing import TestResult
from alscell.domain.product import ProductSource
from alscell.services import products
from alscell.storage.models import ProductLot, ProductUnit
from alscell.storage.models.product import CustodyKind, UnitStatus
from alscell.web.deps import CurrentUser, NowDep, PageDep, SessionDep
from alscell.web.schemas import IsoDate, Page, ReadModel, StrictModel, Text, action, lax

router = APIRouter(tags=["products"])

UNIT_ID = "The DIN followed by its ISBT 128 check character, as typed or scanned."


class UnitCreate(StrictModel):
    """One unit of a received lot."""

    unit_id: str = Field(
        min_length=1, max_length=40, description=UNIT_ID, examples=["G123498654321H"]
    )
    cells: float
    volume_ml: float | None = None
    endotoxin_eu: float | None = None
    expires_on: IsoDate


class LotCreate(StrictModel):
    """A received lot and its units; an autologous lot names its donor."""

    lot_code: str = Field(min_length=1, max_length=60)
    site_id: int
    product_name: str = Field(min_length=1, max_length=200)
    source: ProductSource = lax()
    cell_type: str = Field(min_length=1, max_length=200)
    manufactured_on: IsoDate
    received_on: IsoDate
    donor_patient_id: int | None = None
    units: list[UnitCreate] = Field(min_length=1, max_length=1000)


class LotRead(ReadModel):
    """A product lot."""

    id: int
    lot_code: str
    site_id: int
    product_name: str
    source: ProductSource
    cell_type: str
    donor_patient_id: int | None
    manufactured_on: date
    received_on: date
    registered_by_id: int
    version: int


class UnitRead(ReadModel):
    """A product unit; ``unit_id`` is its DIN with the check character, as a dose names it."""

    id: int
    lot_id: int
    din: str
    cells: float
    volume_ml: float | None
    endotoxin_eu: float | None
    expires_on: date
    status: UnitStatus
    released_at: datetime | None
    released_by_id: int | None
    assigned_patient_id: int | None
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unit_id(self) -> str:
        """The DIN and its check character."""
        return self.din + isbt128.check_character(self.din)


class LotDetail(LotRead):
    """A product lot with its units."""

    units: list[UnitRead]


class ReleaseTestCreate(StrictModel):
    """A release test result (a new one replaces the unit's earlier result for that test)."""

    test: str = Field(max_length=40, description=f"One of {', '.join(products.RELEASE_TESTS)}.")
    result: TestResult = lax()
    value: float | None = Field(default=None, description="The measured value (% for viability).")
    tested_on: IsoDate


class ReleaseTestRead(ReadModel):
    """A recorded release test."""

    id: int
    unit_id: int
    test: str
    result: TestResult
    value: float | None
    tested_on: date
    recorded_by_id: int
    version: int


class ReleaseRequest(StrictModel):
    """Release against the product release criteria of this protocol version."""

    protocol_id: int


class ReasonBody(StrictModel):
    """Why (rejecting, discarding or taking back a unit)."""

    reason: Text


class DispenseRequest(StrictModel):
    """The patient the unit is dispensed to."""

    patient_id: int


class CustodyCreate(StrictModel):
    """A handling step: ``stored`` or ``thawed``, where, and notes."""

    kind: CustodyKind = lax()
    location: str = Field(min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)


class CustodyRead(ReadModel):
    """A step in a unit's chain of custody."""

    id: int
    unit_id: int
    kind: CustodyKind
    at: datetime
    by_id: int
    patient_id: int | None
    location: str | None
    notes: str | None


class LatePositiveCultureRead(ReadModel):
    """A unit whose final sterility culture failed after it left the lab: follow up the patient."""

    din: str
    lot_code: str
    patient_id: int
    tested_on: date


@router.post(
    "/product-lots",
    response_model=LotDetail,
    status_code=201,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def register_product_lot(
    body: LotCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> LotDetail:
    """Register a received lot; its units start in quarantine."""
    units = [products.UnitInput(**unit.model_dump()) for unit in body.units]
    fields = body.model_dump(exclude={"units"})
    lot = products.register_lot(session, **fields, units=units, by=user, now=now)
    return _detail(*products.get_lot(session, lot.id, by=user))


@router.get(
    "/product-lots", response_model=Page[LotRead], openapi_extra=action(Action.VIEW_PATIENT)
)
def list_product_lots(user: CurrentUser, session: SessionDep, page: PageDep) -> Page[LotRead]:
    """Lots at the user's site (every site for global roles), most recently received first."""
    rows, total = products.list_lots(session, by=user, limit=page.limit, offset=page.offset)
    return Page(items=[LotRead.model_validate(row) for row in rows], total=total,
                limit=page.limit, offset=page.offset)  # fmt: skip


@router.get(
    "/product-lots/{lot_id}", response_model=LotDetail, openapi_extra=action(Action.VIEW_PATIENT)
)
def get_product_lot(lot_id: int, user: CurrentUser, session: SessionDep) -> LotDetail:
    """One lot with its units."""
    return _detail(*products.get_lot(session, lot_id, by=user))


@router.get("/product-units", response_model=UnitRead, openapi_extra=action(Action.VIEW_PATIENT))
def find_product_unit(
    user: CurrentUser, session: SessionDep,
    din: Annotated[str, Query(min_length=1, max_length=40, description=f"The DIN, or {UNIT_ID}")],
) -> UnitRead:  # fmt: skip
    """The unit with this DIN (a typed id's check character must match)."""
    return UnitRead.model_validate(products.get_unit_by_din(session, din=din, by=user))


@router.get(
    "/product-units/{unit_id}", response_model=UnitRead, openapi_extra=action(Action.VIEW_PATIENT)
)
def get_product_unit(unit_id: int, user: CurrentUser, session: SessionDep) -> UnitRead:
    """One unit."""
    return UnitRead.model_validate(products.get_unit(session, unit_id, by=user))


@router.post(
    "/product-units/{unit_id}/release-tests",
    response_model=ReleaseTestRead,
    status_code=201,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def record_release_test(
    unit_id: int, body: ReleaseTestCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> ReleaseTestRead:
    """Record a release test result; a new result withdraws an earlier release."""
    test = products.record_release_test(
        session, unit_id=unit_id, by=user, now=now, **body.model_dump()
    )
    return ReleaseTestRead.model_validate(test)


@router.post(
    "/product-units/{unit_id}/release",
    response_model=UnitRead,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def release_product_unit(
    unit_id: int, body: ReleaseRequest, user: CurrentUser, session: SessionDep, now: NowDep
) -> UnitRead:
    """Release a quarantined unit that meets the protocol's release criteria (never overridden)."""
    criteria = products.release_criteria(session, protocol_id=body.protocol_id)
    unit = products.release_unit(session, unit_id=unit_id, criteria=criteria, by=user, now=now)
    return UnitRead.model_validate(unit)


@router.post(
    "/product-units/{unit_id}/reject",
    response_model=UnitRead,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def reject_product_unit(
    unit_id: int, body: ReasonBody, user: CurrentUser, session: SessionDep, now: NowDep
) -> UnitRead:
    """Reject a quarantined unit that failed release."""
    unit = products.reject_unit(session, unit_id=unit_id, reason=body.reason, by=user, now=now)
    return UnitRead.model_validate(unit)


@router.post(
    "/product-units/{unit_id}/discard",
    response_model=UnitRead,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def discard_product_unit(
    unit_id: int, body: ReasonBody, user: CurrentUser, session: SessionDep, now: NowDep
) -> UnitRead:
    """Discard a unit not yet administered."""
    unit = products.discard_unit(session, unit_id=unit_id, reason=body.reason, by=user, now=now)
    return UnitRead.model_validate(unit)


@router.post(
    "/product-units/{unit_id}/return",
    response_model=UnitRead,
    openapi_extra=action(Action.DISPENSE_UNIT),
)
def return_product_unit(
    unit_id: int, body: ReasonBody, user: CurrentUser, session: SessionDep, now: NowDep
) -> UnitRead:
    """Take back a dispensed unit that was not thawed; it is released again."""
    unit = products.return_unit(session, unit_id=unit_id, reason=body.reason, by=user, now=now)
    return UnitRead.model_validate(unit)


@router.post(
    "/product-units/{unit_id}/dispense",
    response_model=UnitRead,
    openapi_extra=action(Action.DISPENSE_UNIT),
)
def dispense_product_unit(
    unit_id: int, body: DispenseRequest, user: CurrentUser, session: SessionDep, now: NowDep
) -> UnitRead:
    """Dispense a released unit to a named patient (never overridden)."""
    unit = products.dispense_unit(
        session, unit_id=unit_id, patient_id=body.patient_id, by=user, now=now
    )
    return UnitRead.model_validate(unit)


@router.post(
    "/product-units/{unit_id}/custody",
    response_model=CustodyRead,
    status_code=201,
    openapi_extra=action(Action.MANAGE_PRODUCT),
)
def record_custody(
    unit_id: int, body: CustodyCreate, user: CurrentUser, session: SessionDep, now: NowDep
) -> CustodyRead:
    """Record a ``stored`` or ``thawed`` step in the unit's chain of custody."""
    event = products.record_custody(session, unit_id=unit_id, by=user, now=now, **body.model_dump())
    return CustodyRead.model_validate(event)


@router.get(
    "/product-units/{unit_id}/custody",
    response_model=list[CustodyRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_custody(unit_id: int, user: CurrentUser, session: SessionDep) -> list[CustodyRead]:
    """The unit's chain of custody, oldest step first."""
    events = products.list_custody(session, unit_id, by=user)
    return [CustodyRead.model_validate(event) for event in events]


@router.get(
    "/late-positive-cultures",
    response_model=list[LatePositiveCultureRead],
    openapi_extra=action(Action.VIEW_PATIENT),
)
def list_late_positive_cultures(
    user: CurrentUser, session: SessionDep
) -> list[LatePositiveCultureRead]:
    """Units whose sterility culture failed after they left the lab, and whom to follow up."""
    found = products.late_positive_cultures(session, by=user)
    return [LatePositiveCultureRead.model_validate(item) for item in found]


def _detail(lot: ProductLot, units: list[ProductUnit]) -> LotDetail:
    read = LotRead.model_validate(lot)
    return LotDetail(**read.model_dump(), units=[UnitRead.model_validate(u) for u in units])
