"""Outcome events (services/outcomes.py): death, tracheostomy, permanent ventilation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.lifecycle import PatientStatus
from alscell.errors import Conflict, InvalidInput, PermissionDenied
from alscell.services import outcomes, patients, records
from alscell.services.audit import verify_trail
from alscell.storage.base import Base
from alscell.storage.models import AuditEvent, Enrollment, OutcomeEvent, Patient, User
from tests.factories import make_admin, make_patient, make_site, make_user
from tests.services.test_safety import add_protocol


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def record(
    session: Session, patient: Patient, by: User, now: datetime, **changes: Any
) -> OutcomeEvent:
    fields: dict[str, Any] = {"kind": "death", "occurred_on": date(2026, 1, 4)} | changes
    return outcomes.record_outcome_event(session, patient_id=patient.id, by=by, now=now, **fields)


@pytest.fixture(autouse=True)
def trail_stays_intact(session):
    """After every test, successful or refused calls alike, the audit trail explains every row."""
    yield
    assert verify_trail(session) == []


@pytest.fixture
def site(session):
    return make_site(session)


@pytest.fixture
def doctor(session, site):
    return make_user(session, Role.PHYSICIAN, site=site)


@pytest.fixture
def patient(session, site):
    return make_patient(session, site=site)


def test_a_death_moves_the_patient_to_died_and_ends_enrollments(session, now, doctor, patient):
    protocol = add_protocol(session, now)
    enrollment = Enrollment(
        patient_id=patient.id, protocol_id=protocol.id, enrolled_on=date(2026, 1, 2)
    )
    records.add_record(
        session, enrollment, by=make_admin(session), action="enrollment.created", now=now
    )
    records.commit(session)

    event = record(session, patient, doctor, now, source=" death certificate ")

    assert (event.kind, event.occurred_on, event.source) == (
        "death",
        date(2026, 1, 4),
        "death certificate",
    )
    assert patient.status is PatientStatus.DIED
    assert (enrollment.ended_on, enrollment.end_reason) == (date(2026, 1, 4), "died")
    assert verify_trail(session) == []


def test_a_second_death_is_a_conflict_and_leaves_nothing_behind(session, now, doctor, patient):
    record(session, patient, doctor, now)
    before = (count(session, OutcomeEvent), count(session, AuditEvent))

    with pytest.raises(Conflict, match="a death is already recorded"):
        record(session, patient, doctor, now, occurred_on=date(2026, 1, 3))

    assert (count(session, OutcomeEvent), count(session, AuditEvent)) == before
    assert verify_trail(session) == []


@pytest.mark.parametrize("status", [PatientStatus.WITHDRAWN, PatientStatus.LOST_TO_FOLLOW_UP])
def test_death_is_recorded_after_participation_ends(session, now, doctor, patient, status):
    patients.close_participation(
        session,
        patient_id=patient.id,
        status=status,
        on=date(2026, 1, 2),
        reason="moved away",
        by=doctor,
        now=now,
    )

    record(session, patient, doctor, now)

    assert patient.status is PatientStatus.DIED
    assert verify_trail(session) == []


def test_other_endpoints_leave_the_status_alone(session, now, site, patient):
    coordinator = make_user(session, Role.COORDINATOR, site=site)

    record(session, patient, coordinator, now, kind="tracheostomy", occurred_on=date(2026, 1, 2))
    record(session, patient, coordinator, now, kind="permanent_ventilation", source=None)

    assert patient.status is PatientStatus.REFERRED
    assert count(session, OutcomeEvent) == 2
    with pytest.raises(Conflict, match="a tracheostomy is already recorded"):
        record(session, patient, coordinator, now, kind="tracheostomy")
    assert verify_trail(session) == []


INVALID = {
    "unknown kind": ({"kind": "gastrostomy"}, "kind"),
    "in the future": ({"occurred_on": date(2026, 1, 6)}, "occurred_on"),
    "source too long": ({"source": "x" * 201}, "source"),
}


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_outcomes_name_the_field_and_leave_nothing_behind(
    session, now, doctor, patient, changes, field
):
    before = (count(session, OutcomeEvent), count(session, AuditEvent))

    with pytest.raises(InvalidInput) as caught:
        record(session, patient, doctor, now, **changes)

    assert [problem.location for problem in caught.value.problems] == [field]
    assert (count(session, OutcomeEvent), count(session, AuditEvent)) == before
    assert patient.status is PatientStatus.REFERRED


@pytest.mark.parametrize("role", [Role.NURSE, Role.CELL_LAB, Role.MONITOR])
def test_only_physicians_and_coordinators_record_outcomes(session, now, site, patient, role):
    user = make_user(session, role, site=site if role is not Role.MONITOR else None)

    with pytest.raises(PermissionDenied):
        record(session, patient, user, now)
    assert (count(session, OutcomeEvent), patient.status) == (0, PatientStatus.REFERRED)


def test_a_coordinator_of_another_site_is_refused(session, now, patient):
    stranger = make_user(session, Role.COORDINATOR)  # at a new site

    with pytest.raises(PermissionDenied, match="at another site"):
        record(session, patient, stranger, now)
    assert count(session, OutcomeEvent) == 0
