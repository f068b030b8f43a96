"""Sites, users and patients; a patient's identifying data lives apart, in ``patient_identities``."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from alscell.domain.access import Role
from alscell.domain.lifecycle import PatientStatus
from alscell.storage.base import Base, Versioned, enum_type


class Site(Base, Versioned):
    """A clinic taking part in the program."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))


class User(Base, Versioned):
    """Someone who works in alscell, with one role, at one site (or none, for global roles)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id"), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    created_at: Mapped[datetime]


class Patient(Base, Versioned):
    """A patient, known by a study code that never changes."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id"), index=True)
    status: Mapped[PatientStatus] = mapped_column(enum_type(PatientStatus, "status"))
    sex: Mapped[str | None] = mapped_column(sa.String(10), default=None)
    birth_year: Mapped[int | None] = mapped_column(default=None)
    registered_at: Mapped[datetime]

    identity: Mapped[PatientIdentity | None] = relationship(back_populates="patient", uselist=False)


class PatientIdentity(Base, Versioned):
    """Identifying data, kept apart and never exported unless asked for with the right role."""

    __tablename__ = "patient_identities"

    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), primary_key=True)
    given_name: Mapped[str] = mapped_column(sa.String(200))
    family_name: Mapped[str] = mapped_column(sa.String(200))
    birth_on: Mapped[date]
    mrn: Mapped[str | None] = mapped_column(sa.String(80), default=None)

    patient: Mapped[Patient] = relationship(back_populates="identity")
