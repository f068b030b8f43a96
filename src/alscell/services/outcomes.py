"""Outcome events: death, tracheostomy and permanent ventilation, the survival endpoints.

Each is recorded once per patient. A death also moves the patient to ``died`` (from any state but
``died``: survival is followed for everyone) and ends their open enrollments.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.lifecycle import PatientStatus, check_transition
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.patients import move_patient
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import Enrollment, OutcomeEvent, Patient, User

__all__ = ["OUTCOME_KINDS", "record_outcome_event"]

OUTCOME_KINDS: Final = ("death", "tracheostomy", "permanent_ventilation")
_MAX_SOURCE: Final = 200


def record_outcome_event(
    session: Session, *, patient_id: int, kind: str, occurred_on: date, source: str | None = None,
    by: User, now: datetime,
) -> OutcomeEvent:  # fmt: skip
    """Record a death, tracheostomy or permanent ventilation (once per patient and kind).

    ``source`` says how it is known (e.g. "death certificate", "family by telephone").
    """
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.RECORD_OUTCOME, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    source = (source.strip() or None) if source is not None else None
    problems = _problems(kind, occurred_on, source, now.date())
    if problems:
        raise InvalidInput(problems, subject="outcome event")
    if exists(
        session,
        sa.select(OutcomeEvent).where(
            OutcomeEvent.patient_id == patient.id, OutcomeEvent.kind == kind
        ),
    ):
        raise Conflict(
            f"a {kind} is already recorded for patient {patient.study_code}; "
            "only one is kept per patient: check the existing record instead"
        )
    if kind == "death":
        check_transition(patient.status, PatientStatus.DIED)  # before any write
    event = OutcomeEvent(
        patient_id=patient.id,
        kind=kind,
        occurred_on=occurred_on,
        source=source,
        recorded_by_id=by.id,
    )
    add_record(session, event, by=by, action=f"outcome.{kind}", now=now)
    if kind == "death":
        _record_death(session, patient, occurred_on, by=by, now=now)
    commit(session)
    return event


def _problems(kind: str, occurred_on: date, source: str | None, today: date) -> list[Problem]:
    problems = []
    if kind not in OUTCOME_KINDS:
        problems.append(Problem("kind", f"must be one of {', '.join(OUTCOME_KINDS)}, got {kind!r}"))
    if occurred_on > today:
        problems.append(Problem("occurred_on", f"{occurred_on} is in the future"))
    if source is not None and len(source) > _MAX_SOURCE:
        problems.append(Problem("source", f"must be at most {_MAX_SOURCE} characters"))
    return problems


def _record_death(
    session: Session, patient: Patient, died_on: date, *, by: User, now: datetime
) -> None:
    """Move the patient to died and end their open enrollments on the day of death."""
    reason = f"death on {died_on} recorded as an outcome event"
    move_patient(session, patient, PatientStatus.DIED, by=by, now=now, reason=reason)
    open_enrollments = sa.select(Enrollment).where(
        Enrollment.patient_id == patient.id, Enrollment.ended_on.is_(None)
    )
    for enrollment in session.execute(open_enrollments).scalars():
        change_record(
            session,
            enrollment,
            {"ended_on": died_on, "end_reason": "died"},
            by=by,
            action="enrollment.ended",
            now=now,
            reason=reason,
        )
