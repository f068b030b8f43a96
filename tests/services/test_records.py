"""Lost updates are impossible (services/records.py): two people change the same record at once.

These tests commit for real, in two sessions on a database of their own, on SQLite and PostgreSQL.
Both people read the diagnosis at version 1; the first saves; the second's save is refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from alscell.domain.access import Role
from alscell.errors import Conflict
from alscell.services import patients
from alscell.services.audit import verify_trail
from alscell.services.records import commit
from alscell.storage.models import Diagnosis, User
from alscell.storage.session import make_session_factory
from tests.factories import NOW, make_patient, make_site, make_user

DX = patients.DiagnosisInput(
    onset_on=date(2025, 3, 10), onset_site="spinal", diagnosis_on=date(2025, 11, 20), familial=False
)


def setup(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        site = make_site(session)
        patient_id = make_patient(session, site=site).id
        physician = make_user(session, Role.PHYSICIAN, site=site)
        patients.record_diagnosis(
            session, patient_id=patient_id, diagnosis=DX, by=physician, now=NOW
        )
        return patient_id, physician.id


def read_version_1(session: Session) -> Diagnosis:
    diagnosis = session.execute(sa.select(Diagnosis)).scalar_one()
    session.commit()  # the page is shown; the person starts typing
    assert diagnosis.version == 1
    return diagnosis


def save(session: Session, patient_id: int, physician_id: int, **changes: Any) -> None:
    expected = changes.pop("expected_version", None)
    by = session.get(User, physician_id)
    assert by is not None
    patients.record_diagnosis(
        session, patient_id=patient_id, diagnosis=replace(DX, **changes), by=by, now=NOW,
        expected_version=expected,
    )  # fmt: skip


def test_the_second_of_two_concurrent_changes_is_refused(fresh_engine):
    sessions = make_session_factory(fresh_engine)
    patient_id, physician_id = setup(sessions)

    with sessions() as first, sessions() as second:
        read_version_1(first)
        read_version_1(second)
        save(first, patient_id, physician_id, el_escorial="definite", expected_version=1)
        with pytest.raises(Conflict, match="changed"):
            save(second, patient_id, physician_id, el_escorial="possible", expected_version=1)

    with sessions() as check:
        stored = check.execute(sa.select(Diagnosis)).scalar_one()
        assert (stored.el_escorial, stored.version) == ("definite", 2)
        assert verify_trail(check) == []


def test_a_stale_row_is_refused_by_the_database_even_without_an_expected_version(fresh_engine):
    sessions = make_session_factory(fresh_engine)
    patient_id, physician_id = setup(sessions)

    with sessions() as first, sessions() as second:
        stale = read_version_1(second)
        save(first, patient_id, physician_id, el_escorial="definite")
        stale.el_escorial = "possible"  # a write that bypasses the version check in the service
        with pytest.raises(Conflict, match="changed by someone else at the same time"):
            commit(second)

    with sessions() as check:
        assert check.execute(sa.select(Diagnosis.el_escorial)).scalar_one() == "definite"
