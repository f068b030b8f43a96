"""A value its column cannot hold is refused by the service, naming the field (services/records.py).

SQLite stores text of any length; PostgreSQL refused it mid-transaction, a 500 on the consent form
(found by the hostile-forms run). Both engines now refuse it the same way, before anything is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.errors import InvalidInput
from alscell.services import patients
from alscell.services.records import column_rule
from alscell.storage.base import Base
from alscell.storage.models import AuditEvent, Consent, Diagnosis
from tests.factories import NOW, make_patient, make_site, make_user

FORM_VERSION_LENGTH = 40  # consents.form_version is String(40)
OTHER_GENETICS_LENGTH = 400  # diagnoses.other_genetics is String(400)
DX = patients.DiagnosisInput(
    onset_on=date(2025, 3, 10), onset_site="spinal", diagnosis_on=date(2025, 11, 20), familial=False
)


def _count(session: Session, model: type[Base]) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_text_longer_than_its_column_is_refused_naming_the_field(session):
    site = make_site(session)
    patient = make_patient(session, site=site)
    coordinator = make_user(session, Role.COORDINATOR, site=site)
    events = _count(session, AuditEvent)

    with pytest.raises(InvalidInput) as caught:
        patients.record_consent(session, patient_id=patient.id, form_version="v" * 41,
                                consented_on=date(2025, 12, 1), by=coordinator, now=NOW)  # fmt: skip

    assert [(p.location, p.message) for p in caught.value.problems] == [
        ("form_version", "must be at most 40 characters, got 41")
    ]
    assert (_count(session, Consent), _count(session, AuditEvent)) == (0, events)
    fits = patients.record_consent(session, patient_id=patient.id, form_version="v" * 40,
                                   consented_on=date(2025, 12, 1), by=coordinator, now=NOW)  # fmt: skip
    assert len(fits.form_version) == FORM_VERSION_LENGTH


def test_a_change_too_long_for_its_column_is_refused_and_the_record_kept(session):
    site = make_site(session)
    patient = make_patient(session, site=site)
    physician = make_user(session, Role.PHYSICIAN, site=site)
    patients.record_diagnosis(session, patient_id=patient.id, diagnosis=DX, by=physician, now=NOW)
    longer = replace(DX, other_genetics="g" * (OTHER_GENETICS_LENGTH + 1))

    with pytest.raises(InvalidInput) as caught:
        patients.record_diagnosis(
            session, patient_id=patient.id, diagnosis=longer, by=physician, now=NOW
        )

    assert [p.location for p in caught.value.problems] == ["other_genetics"]
    stored = session.execute(sa.select(Diagnosis)).scalar_one()
    assert (stored.other_genetics, stored.version) == (None, 1)


@pytest.mark.parametrize(
    ("value", "column_type", "rule"),
    [
        ("abc", sa.String(3), None),
        ("abcd", sa.String(3), "must be at most 3 characters, got 4"),
        ("a\x00", sa.Text(), "must not contain a NUL character (byte 0)"),
        (2**31 - 1, sa.Integer(), None),
        (2**31, sa.Integer(), "must be a whole number between -2147483648 and 2147483647"),
        (-(2**15) - 1, sa.SmallInteger(), "must be a whole number between -32768 and 32767"),
        (True, sa.SmallInteger(), None),  # a boolean is not a whole number here
        (("fine", "bad\x00"), sa.JSON(), "must not contain a NUL character (byte 0)"),
        (1.5e308, sa.Float(), None),
    ],
)
def test_the_rule_of_each_kind_of_column(value, column_type, rule):
    assert column_rule(value, column_type) == rule
