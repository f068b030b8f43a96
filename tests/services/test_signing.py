"""Signing (services/signing.py): physicians sign; a signed record changes only with a reason."""

from __future__ import annotations

from datetime import date

import pytest

from alscell.domain.access import Role
from alscell.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alscell.services import assessments, signing
from alscell.services.audit import verify_trail
from tests.factories import NOW, make_patient, make_site, make_user

ITEMS = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
)


def test_a_physician_signs_once(session):
    site = make_site(session)
    patient = make_patient(session, site=site)
    physician = make_user(session, Role.PHYSICIAN, site=site)
    rating = assessments.record_alsfrs_rating(
        session,
        patient_id=patient.id,
        rated_on=date(2026, 1, 5),
        items=ITEMS,
        by=physician,
        now=NOW,
    )

    signed = signing.sign_record(
        session, kind="alsfrs_rating", record_id=rating.id, by=physician, now=NOW
    )

    assert (signed.signed_by_id, signed.signed_at) == (physician.id, NOW)
    with pytest.raises(Conflict, match="already signed"):
        signing.sign_record(
            session, kind="alsfrs_rating", record_id=rating.id, by=physician, now=NOW
        )
    assert verify_trail(session) == []


def test_signing_is_for_physicians_of_the_site(session):
    site = make_site(session)
    patient = make_patient(session, site=site)
    nurse = make_user(session, Role.NURSE, site=site)
    rating = assessments.record_alsfrs_rating(
        session, patient_id=patient.id, rated_on=date(2026, 1, 5), items=ITEMS, by=nurse, now=NOW
    )

    with pytest.raises(PermissionDenied):
        signing.sign_record(session, kind="alsfrs_rating", record_id=rating.id, by=nurse, now=NOW)
    with pytest.raises(PermissionDenied):
        signing.sign_record(
            session,
            kind="alsfrs_rating",
            record_id=rating.id,
            by=make_user(session, Role.PHYSICIAN),
            now=NOW,
        )


def test_unknown_kinds_and_records(session):
    physician = make_user(session, Role.PHYSICIAN)

    with pytest.raises(InvalidInput, match="kind: must be one of diagnosis"):
        signing.sign_record(session, kind="patient", record_id=1, by=physician, now=NOW)
    with pytest.raises(NotFound, match="alsfrs rating 99999"):
        signing.sign_record(session, kind="alsfrs_rating", record_id=99999, by=physician, now=NOW)
