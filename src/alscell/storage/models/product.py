"""Cell product: lots, units (ISBT 128 DIN), release tests and the chain of custody (clinical.md §10)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.domain.dosing import TestResult
from alscell.storage.base import Base, Versioned, enum_type


class UnitStatus(StrEnum):
    """Where a unit stands."""

    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    DISPENSED = "dispensed"
    ADMINISTERED = "administered"
    RETURNED = "returned"
    DISCARDED = "discarded"


class CustodyKind(StrEnum):
    """A hand-off or handling step in a unit's chain of custody."""

    RECEIVED = "received"
    STORED = "stored"
    THAWED = "thawed"
    DISPENSED = "dispensed"
    ADMINISTERED = "administered"
    RETURNED = "returned"
    DISCARDED = "discarded"


class ProductLot(Base, Versioned):
    """A manufactured lot of the cell product; an autologous lot names its donor, the only patient
    its units may be given to (chain of identity, clinical.md §10)."""

    __tablename__ = "product_lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_code: Mapped[str] = mapped_column(sa.String(60), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"))
    product_name: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(20))
    cell_type: Mapped[str] = mapped_column(sa.String(200))
    donor_patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patients.id"), default=None)
    manufactured_on: Mapped[date]
    received_on: Mapped[date]
    registered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class ProductUnit(Base, Versioned):
    """One dose-sized unit, identified by its DIN; assigned to one patient when dispensed."""

    __tablename__ = "product_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("product_lots.id"), index=True)
    din: Mapped[str] = mapped_column(sa.String(13), unique=True)
    cells: Mapped[float]
    volume_ml: Mapped[float | None] = mapped_column(default=None)
    endotoxin_eu: Mapped[float | None] = mapped_column(default=None)
    expires_on: Mapped[date]
    status: Mapped[UnitStatus] = mapped_column(enum_type(UnitStatus, "status"))
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), default=None)
    assigned_patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id"), default=None
    )


class ReleaseTest(Base, Versioned):
    """A release test result for a unit (sterility, Gram stain, mycoplasma, endotoxin, viability...)."""

    __tablename__ = "release_tests"
    __table_args__ = (sa.UniqueConstraint("unit_id", "test"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("product_units.id"), index=True)
    test: Mapped[str] = mapped_column(sa.String(40))
    result: Mapped[TestResult] = mapped_column(enum_type(TestResult, "result"))
    value: Mapped[float | None] = mapped_column(default=None)
    tested_on: Mapped[date]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class CustodyEvent(Base):
    """A hand-off of a unit, with who and when; dispensing names the patient."""

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("product_units.id"), index=True)
    kind: Mapped[CustodyKind] = mapped_column(enum_type(CustodyKind, "kind"))
    at: Mapped[datetime]
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patients.id"), default=None)
    location: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    notes: Mapped[str | None] = mapped_column(sa.Text, default=None)
