"""Assessments: ALSFRS-R ratings, vital capacity, weight, laboratory values and vital signs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from alscell.domain import alsfrs
from alscell.domain.access import Action
from alscell.errors import InvalidInput, Problem
from alscell.services import access
from alscell.services.paging import page
from alscell.services.records import add_record, commit, load
from alscell.storage.base import Base
from alscell.storage.models import (
    AlsfrsRating,
    LabResult,
    Patient,
    User,
    VitalCapacity,
    VitalSigns,
    Weight,
)

__all__ = [
    "LAB_UNITS",
    "list_alsfrs_ratings",
    "list_lab_results",
    "list_vital_capacities",
    "list_vital_signs",
    "list_weights",
    "record_alsfrs_rating",
    "record_lab_result",
    "record_measurements",
    "record_vital_capacity",
    "record_vital_signs",
    "record_weight",
]

R = TypeVar("R", AlsfrsRating, VitalCapacity, Weight, LabResult, VitalSigns)

LAB_UNITS: Mapping[str, str] = {
    "platelets": "10^9/L",
    "inr": "ratio",
    "hemoglobin": "g/dL",
    "leukocytes": "10^9/L",
    "creatinine": "mg/dL",
    "alt": "U/L",
    "ast": "U/L",
    "aptt": "s",
}
"""Analytes alscell knows, each in one unit (the pre-puncture checks read platelets and INR)."""


def record_alsfrs_rating(
    session: Session, *, patient_id: int, rated_on: date, items: Mapping[str, object], form: str = "clinician",
    by: User, now: datetime,
) -> AlsfrsRating:  # fmt: skip
    """Record an ALSFRS-R rating; the items are validated and scored by the domain (clinical.md §1)."""
    patient = _patient(session, patient_id, by)
    problems = _date_problems("rated_on", rated_on, now)
    if form not in ("clinician", "self"):
        problems.append(Problem("form", f"must be clinician or self, got {form!r}"))
    try:
        result = alsfrs.score(items)
    except InvalidInput as error:
        problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems, subject="ALSFRS-R rating")
    responses = alsfrs.validate(items)
    rating = AlsfrsRating(patient_id=patient.id, rated_on=rated_on, total=result.total, form=form, rater_id=by.id,
                          q5a=responses.get("q5a"), q5b=responses.get("q5b"),
                          **{k: v for k, v in responses.items() if k not in ("q5a", "q5b")})  # fmt: skip
    add_record(session, rating, by=by, action="alsfrs.recorded", now=now)
    commit(session)
    return rating


def record_vital_capacity(
    session: Session, *, patient_id: int, measured_on: date, percent_predicted: float, method: str = "fvc",
    by: User, now: datetime,
) -> VitalCapacity:  # fmt: skip
    """Record vital capacity in % predicted (forced or slow)."""
    patient = _patient(session, patient_id, by)
    problems, record = _vital_capacity(patient, measured_on, percent_predicted, method, by, now)
    _raise(problems, "vital capacity")
    return _store_one(session, record, by, now)


def record_weight(
    session: Session,
    *,
    patient_id: int,
    measured_on: date,
    weight_kg: float,
    by: User,
    now: datetime,
) -> Weight:
    """Record body weight in kg."""
    patient = _patient(session, patient_id, by)
    problems, record = _weight(patient, measured_on, weight_kg, by, now)
    _raise(problems, "weight")
    return _store_one(session, record, by, now)


def record_lab_result(
    session: Session,
    *,
    patient_id: int,
    collected_on: date,
    analyte: str,
    value: float,
    by: User,
    now: datetime,
) -> LabResult:
    """Record a laboratory value in alscell's unit for that analyte (see :data:`LAB_UNITS`)."""
    patient = _patient(session, patient_id, by)
    problems, record = _lab_result(patient, collected_on, analyte, value, by, now)
    _raise(problems, "laboratory result")
    return _store_one(session, record, by, now)


def record_measurements(
    session: Session, *, patient_id: int, measured_on: date, vital_capacity: tuple[float, str] | None = None,
    weight_kg: float | None = None, labs: Mapping[str, float] | None = None, by: User, now: datetime,
) -> list[VitalCapacity | Weight | LabResult]:  # fmt: skip
    """Record several measurements of one day together: all of them, or none.

    ``vital_capacity`` is (percent predicted, method). Problems are located as
    ``vital_capacity.percent_predicted``, ``weight_kg`` or ``labs.<analyte>``.

    Raises
    ------
    InvalidInput
        Listing every problem in every measurement; nothing is recorded.
    """
    patient = _patient(session, patient_id, by)
    problems: list[Problem] = []
    records: list[VitalCapacity | Weight | LabResult] = []

    def collect(
        prefix: str, found: list[Problem], record: VitalCapacity | Weight | LabResult
    ) -> None:
        problems.extend(
            Problem(
                "measured_on" if problem.location in _DAYS else f"{prefix}.{problem.location}",
                problem.message,
            )
            for problem in found
        )
        records.append(record)

    if vital_capacity is not None:
        collect("vital_capacity", *_vital_capacity(patient, measured_on, *vital_capacity, by, now))
    if weight_kg is not None:
        collect("weight", *_weight(patient, measured_on, weight_kg, by, now))
    for analyte, value in (labs or {}).items():
        found, record = _lab_result(patient, measured_on, analyte, value, by, now)
        collect(f"labs.{analyte}", found, record)
    if not records:
        problems.append(Problem("measured_on", "enter at least one measurement for this day"))
    _raise(_unique(problems), "measurements")
    _store(session, records, by, now)
    return records


def _vital_capacity(
    patient: Patient,
    measured_on: date,
    percent_predicted: float,
    method: str,
    by: User,
    now: datetime,
) -> tuple[list[Problem], VitalCapacity]:
    problems = _date_problems("measured_on", measured_on, now)
    problems += _range("percent_predicted", percent_predicted, 1, 200)
    if method not in ("fvc", "svc"):
        problems.append(Problem("method", f"must be fvc or svc, got {method!r}"))
    record = VitalCapacity(patient_id=patient.id, measured_on=measured_on, percent_predicted=percent_predicted,
                           method=method, recorded_by_id=by.id)  # fmt: skip
    return problems, record


def _weight(
    patient: Patient, measured_on: date, weight_kg: float, by: User, now: datetime
) -> tuple[list[Problem], Weight]:
    problems = _date_problems("measured_on", measured_on, now) + _range(
        "weight_kg", weight_kg, 20, 300
    )
    record = Weight(
        patient_id=patient.id, measured_on=measured_on, weight_kg=weight_kg, recorded_by_id=by.id
    )
    return problems, record


def _lab_result(
    patient: Patient, collected_on: date, analyte: str, value: float, by: User, now: datetime
) -> tuple[list[Problem], LabResult]:
    problems = _date_problems("collected_on", collected_on, now) + _range("value", value, 0, 1e6)
    if analyte not in LAB_UNITS:
        problems.append(
            Problem("analyte", f"must be one of {', '.join(LAB_UNITS)}, got {analyte!r}")
        )
    record = LabResult(patient_id=patient.id, collected_on=collected_on, analyte=analyte, value=value,
                       unit=LAB_UNITS.get(analyte, ""), recorded_by_id=by.id)  # fmt: skip
    return problems, record


_DAYS: Final = frozenset({"measured_on", "collected_on"})


def _unique(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats (one date in the future is one problem, not one per measurement)."""
    return list(dict.fromkeys(problems))


def record_vital_signs(
    session: Session, *, patient_id: int, measured_at: datetime, systolic_mmhg: int | None = None,
    diastolic_mmhg: int | None = None, heart_rate_bpm: int | None = None, temperature_c: float | None = None,
    spo2_percent: float | None = None, by: User, now: datetime,
) -> VitalSigns:  # fmt: skip
    """Record vital signs taken at ``measured_at`` (an aware instant)."""
    patient = _patient(session, patient_id, by)
    problems = []
    if measured_at.tzinfo is None:
        problems.append(Problem("measured_at", "must include a time zone"))
    elif measured_at > now:
        problems.append(Problem("measured_at", f"{measured_at.isoformat()} is in the future"))
    bounds = {"systolic_mmhg": (50, 260), "diastolic_mmhg": (20, 160), "heart_rate_bpm": (20, 250),
              "temperature_c": (30, 45), "spo2_percent": (50, 100)}  # fmt: skip
    values = {"systolic_mmhg": systolic_mmhg, "diastolic_mmhg": diastolic_mmhg, "heart_rate_bpm": heart_rate_bpm,
              "temperature_c": temperature_c, "spo2_percent": spo2_percent}  # fmt: skip
    for name, value in values.items():
        if value is not None:
            problems += _range(name, value, *bounds[name])
    _raise(problems, "vital signs")
    record = VitalSigns(
        patient_id=patient.id, measured_at=measured_at, recorded_by_id=by.id, **values
    )
    return _store_one(session, record, by, now)


def _patient(session: Session, patient_id: int, by: User) -> Patient:
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by,
        Action.RECORD_ASSESSMENT,
        site_id=patient.site_id,
        resource=f"patient {patient.study_code}",
    )
    return patient


def _date_problems(field: str, day: date, now: datetime) -> list[Problem]:
    return [Problem(field, f"{day} is in the future")] if day > now.date() else []


def _range(field: str, value: float, low: float, high: float) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        return [Problem(field, f"must be a number from {low:g} to {high:g}, got {value!r}")]
    return []


def _raise(problems: list[Problem], subject: str) -> None:
    if problems:
        raise InvalidInput(problems, subject=subject)


_ACTIONS: Final[Mapping[type, str]] = {
    VitalCapacity: "vital_capacity.recorded",
    Weight: "weight.recorded",
    LabResult: "lab.recorded",
    VitalSigns: "vital_signs.recorded",
}


def _store_one(session: Session, record: R, by: User, now: datetime) -> R:
    _store(session, [record], by, now)
    return record


def _store(session: Session, records: Sequence[Base], by: User, now: datetime) -> None:
    """Add the records with their audit events and commit them as one transaction."""
    for record in records:
        add_record(session, record, by=by, action=_ACTIONS[type(record)], now=now)
    commit(session)


def list_alsfrs_ratings(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[AlsfrsRating], int]:
    """The patient's ALSFRS-R ratings, newest first; and the total."""
    return _list(session, AlsfrsRating, AlsfrsRating.rated_on, patient_id, by, limit, offset)


def list_vital_capacities(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[VitalCapacity], int]:
    """The patient's vital capacities, newest first; and the total."""
    column = VitalCapacity.measured_on
    return _list(session, VitalCapacity, column, patient_id, by, limit, offset)


def list_weights(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[Weight], int]:
    """The patient's weights, newest first; and the total."""
    return _list(session, Weight, Weight.measured_on, patient_id, by, limit, offset)


def list_lab_results(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[LabResult], int]:
    """The patient's laboratory values, newest first; and the total."""
    return _list(session, LabResult, LabResult.collected_on, patient_id, by, limit, offset)


def list_vital_signs(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[VitalSigns], int]:
    """The patient's vital signs, newest first; and the total."""
    return _list(session, VitalSigns, VitalSigns.measured_at, patient_id, by, limit, offset)


def _list(
    session: Session, model: type[R], column: InstrumentedAttribute[Any], patient_id: int, by: User,
    limit: int, offset: int,
) -> tuple[list[R], int]:  # fmt: skip
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    statement = sa.select(model).where(model.patient_id == patient.id)
    return page(session, statement, column.desc(), model.id.desc(), limit=limit, offset=offset)
