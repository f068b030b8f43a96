"""What the records say about a patient on a given day, gathered for the domain's rules.

Eligibility, ENCALS prediction and outcome evaluation all ask the same questions of the records:
the diagnosis, the latest ALSFRS-R rating, vital capacity and weight, laboratory values, age.
Each answer is None when the records do not hold it: the domain then says "unknown", never "met".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import encals, progression
from alscell.domain.months import months_between
from alscell.storage.models import (
    AlsfrsRating,
    Diagnosis,
    LabResult,
    Patient,
    PatientIdentity,
    VitalCapacity,
    Weight,
)

__all__ = ["PatientFacts", "gather_facts", "latest_lab"]

M = TypeVar("M", AlsfrsRating, VitalCapacity, Weight)


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """A patient's facts on ``on``; None where the records hold no answer."""

    on: date
    diagnosis: Diagnosis | None
    rating: AlsfrsRating | None
    first_rating: AlsfrsRating | None
    vital_capacity_percent: float | None
    weight_kg: float | None
    age_years: int | None
    age_at_onset_years: float | None

    @property
    def months_since_onset(self) -> float | None:
        if self.diagnosis is None or self.diagnosis.onset_on >= self.on:
            return None
        return months_between(self.diagnosis.onset_on, self.on)

    @property
    def delta_fs(self) -> float | None:
        """ΔFS at the latest rating (clinical.md §2), positive for decline."""
        if (
            self.diagnosis is None
            or self.rating is None
            or self.rating.rated_on <= self.diagnosis.onset_on
        ):
            return None
        return progression.delta_fs(
            self.rating.total, self.diagnosis.onset_on, self.rating.rated_on
        )

    @property
    def run_in_decline(self) -> float | None:
        """ALSFRS-R points lost from the first to the latest rating; None with fewer than two."""
        if (
            self.rating is None
            or self.first_rating is None
            or self.first_rating.id == self.rating.id
        ):
            return None
        return float(self.first_rating.total - self.rating.total)

    @property
    def encals_lp(self) -> float | None:
        """The ENCALS linear predictor when every predictor is on record (clinical.md §5)."""
        dx, rate = self.diagnosis, self.delta_fs
        if (
            dx is None
            or rate is None
            or self.vital_capacity_percent is None
            or self.age_at_onset_years is None
        ):
            return None
        delay = months_between(dx.onset_on, dx.diagnosis_on)
        if delay <= 0 or not math.isfinite(rate):
            return None
        return encals.linear_predictor(
            age_at_onset_years=self.age_at_onset_years, delta_fs=rate, diagnostic_delay_months=delay,
            vital_capacity_percent=self.vital_capacity_percent, bulbar_onset=dx.onset_site == "bulbar",
            definite_el_escorial=dx.el_escorial == "definite", ftd=dx.ftd, c9orf72=dx.c9orf72,
        )  # fmt: skip


def gather_facts(session: Session, patient: Patient, *, on: date) -> PatientFacts:
    """The patient's facts as the records stand on ``on`` (nothing recorded later is used)."""
    diagnosis = session.execute(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient.id)
    ).scalar_one_or_none()
    identity = session.get(PatientIdentity, patient.id)
    vc = _latest(session, VitalCapacity, patient.id, VitalCapacity.measured_on, on)
    weight = _latest(session, Weight, patient.id, Weight.measured_on, on)
    birth_on = identity.birth_on if identity else None
    return PatientFacts(
        on=on,
        diagnosis=diagnosis,
        rating=_latest(session, AlsfrsRating, patient.id, AlsfrsRating.rated_on, on),
        first_rating=_first(session, patient.id, on),
        vital_capacity_percent=vc.percent_predicted if vc else None,
        weight_kg=weight.weight_kg if weight else None,
        age_years=_completed_years(birth_on, on) if birth_on else None,
        age_at_onset_years=(months_between(birth_on, diagnosis.onset_on) / 12)
        if birth_on and diagnosis
        else None,
    )


def latest_lab(session: Session, patient_id: int, analyte: str, *, on: date) -> float | None:
    """The latest value of ``analyte`` collected on or before ``on``."""
    statement = (
        sa.select(LabResult.value)
        .where(
            LabResult.patient_id == patient_id,
            LabResult.analyte == analyte,
            LabResult.collected_on <= on,
        )
        .order_by(LabResult.collected_on.desc(), LabResult.id.desc())
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def _latest(
    session: Session,
    model: type[M],
    patient_id: int,
    column: sa.orm.InstrumentedAttribute[date],
    on: date,
) -> M | None:
    statement = (
        sa.select(model)
        .where(model.patient_id == patient_id, column <= on)
        .order_by(column.desc(), model.id.desc())
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def _first(session: Session, patient_id: int, on: date) -> AlsfrsRating | None:
    statement = (
        sa.select(AlsfrsRating)
        .where(AlsfrsRating.patient_id == patient_id, AlsfrsRating.rated_on <= on)
        .order_by(AlsfrsRating.rated_on, AlsfrsRating.id)
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def _completed_years(birth_on: date, on: date) -> int:
    years = on.year - birth_on.year
    return years - 1 if (on.month, on.day) < (birth_on.month, birth_on.day) else years
