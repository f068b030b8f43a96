"""Clinical facts about a patient: diagnosis, consent, screening, assessments, outcome events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from alscell.domain.criteria import Status
from alscell.storage.base import Base, Signable, Versioned


class Diagnosis(Base, Versioned, Signable):
    """The patient's ALS diagnosis (clinical.md §8: rEEC, Awaji and Gold Coast kept apart)."""

    __tablename__ = "diagnoses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), unique=True)
    onset_on: Mapped[date]
    onset_site: Mapped[str] = mapped_column(sa.String(20))
    diagnosis_on: Mapped[date]
    el_escorial: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    awaji: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    gold_coast: Mapped[bool | None] = mapped_column(default=None)
    familial: Mapped[bool]
    c9orf72: Mapped[bool | None] = mapped_column(default=None)
    other_genetics: Mapped[str | None] = mapped_column(sa.String(400), default=None)
    ftd: Mapped[bool] = mapped_column(default=False)


class Consent(Base, Versioned):
    """Informed consent to one version of the consent form."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    form_version: Mapped[str] = mapped_column(sa.String(40))
    consented_on: Mapped[date]
    withdrawn_on: Mapped[date | None] = mapped_column(default=None)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class Screening(Base, Versioned):
    """An eligibility evaluation against a protocol version, every criterion with its answer."""

    __tablename__ = "screenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    protocol_id: Mapped[int] = mapped_column(sa.ForeignKey("protocols.id"))
    screened_on: Mapped[date]
    outcome: Mapped[str] = mapped_column(sa.String(20))
    criteria: Mapped[list[Any]]
    screened_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def outcome_status(self) -> Status:
        """The overall answer as a :class:`~alscell.domain.criteria.Status`."""
        return Status(self.outcome)


class AlsfrsRating(Base, Versioned, Signable):
    """One ALSFRS-R rating with its item responses (clinical.md §1)."""

    __tablename__ = "alsfrs_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    rated_on: Mapped[date]
    q1: Mapped[int]
    q2: Mapped[int]
    q3: Mapped[int]
    q4: Mapped[int]
    q5a: Mapped[int | None]
    q5b: Mapped[int | None]
    q6: Mapped[int]
    q7: Mapped[int]
    q8: Mapped[int]
    q9: Mapped[int]
    q10: Mapped[int]
    q11: Mapped[int]
    q12: Mapped[int]
    total: Mapped[int]
    form: Mapped[str] = mapped_column(sa.String(20), default="clinician")
    rater_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    def items(self) -> dict[str, int]:
        """The item responses as a mapping for :func:`alscell.domain.alsfrs.score`."""
        keys = ("q1", "q2", "q3", "q4", "q5a", "q5b", "q6", "q7", "q8", "q9", "q10", "q11", "q12")
        values = {key: getattr(self, key) for key in keys}
        return {key: value for key, value in values.items() if value is not None}


class VitalCapacity(Base, Versioned):
    """Forced or slow vital capacity, % predicted."""

    __tablename__ = "vital_capacities"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    measured_on: Mapped[date]
    percent_predicted: Mapped[float]
    method: Mapped[str] = mapped_column(sa.String(10), default="fvc")
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class Weight(Base, Versioned):
    """Body weight (the per-kg dose and endotoxin limit use the latest)."""

    __tablename__ = "weights"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    measured_on: Mapped[date]
    weight_kg: Mapped[float]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class LabResult(Base, Versioned):
    """One laboratory value, e.g. platelets (× 10^9/L) or INR."""

    __tablename__ = "lab_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    collected_on: Mapped[date]
    analyte: Mapped[str] = mapped_column(sa.String(60))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(sa.String(20))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class VitalSigns(Base, Versioned):
    """Vital signs at one instant."""

    __tablename__ = "vital_signs"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    measured_at: Mapped[datetime]
    systolic_mmhg: Mapped[int | None] = mapped_column(default=None)
    diastolic_mmhg: Mapped[int | None] = mapped_column(default=None)
    heart_rate_bpm: Mapped[int | None] = mapped_column(default=None)
    temperature_c: Mapped[float | None] = mapped_column(default=None)
    spo2_percent: Mapped[float | None] = mapped_column(default=None)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))


class OutcomeEvent(Base, Versioned):
    """Death, tracheostomy or permanent ventilation: the survival endpoints (clinical.md §5.1)."""

    __tablename__ = "outcome_events"
    __table_args__ = (sa.UniqueConstraint("patient_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    occurred_on: Mapped[date]
    source: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
