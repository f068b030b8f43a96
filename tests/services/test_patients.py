"""Patients: registration, identity kept apart, diagnosis, consent and lifecycle (services/patients.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.lifecycle import PatientStatus
from alscell.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from alscell.services import patients, signing
from alscell.services.audit import verify_trail
from alscell.storage.models import AuditEvent, Diagnosis, Patient, PatientIdentity, Site
from tests.factories import NOW, make_patient, make_site, make_user

DX = patients.DiagnosisInput(
    onset_on=date(2025, 3, 10),
    onset_site="spinal",
    diagnosis_on=date(2025, 11, 20),
    familial=False,
    el_escorial="probable",
)


def count(session: Session, model: type) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_registration_keeps_identifying_data_apart(session):
    site = make_site(session)
    coordinator = make_user(session, Role.COORDINATOR, site=site)

    patient = patients.register_patient(session, study_code="AMS-001", site_id=site.id, given_name=" Alex ", family_name="Doe",
                                        birth_on=date(1964, 5, 17), sex="female", mrn="12345", by=coordinator, now=NOW)  # fmt: skip

    identity = session.get(PatientIdentity, patient.id)
    assert patient.status is PatientStatus.REFERRED
    assert patient.birth_year == 1964
    assert not hasattr(patient, "family_name")
    assert identity is not None
    assert (identity.given_name, identity.mrn) == ("Alex", "12345")
    assert [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)][-2:] == [
        "patient.registered", "patient.identity_recorded",
    ]  # fmt: skip
    assert verify_trail(session) == []


def test_every_registration_problem_is_listed(session):
    site = make_site(session)
    coordinator = make_user(session, Role.COORDINATOR, site=site)

    with pytest.raises(InvalidInput) as caught:
        patients.register_patient(session, study_code="a b", site_id=site.id, given_name=" ", family_name="",
                                  birth_on=date(2027, 1, 1), sex="x", by=coordinator, now=NOW)  # fmt: skip

    assert {p.location for p in caught.value.problems} == {
        "study_code",
        "given_name",
        "family_name",
        "birth_on",
        "sex",
    }
    assert count(session, Patient) == 0


def test_a_study_code_is_used_once(session):
    site = make_site(session)
    make_patient(session, site=site, study_code="AMS-001")

    with pytest.raises(Conflict, match="AMS-001 is already in use"):
        make_patient(session, site=site, study_code="AMS-001")


@pytest.mark.parametrize("role", [Role.NURSE, Role.CELL_LAB, Role.MONITOR, Role.ANALYST])
def test_only_coordinators_and_physicians_register(session, role):
    site = make_site(session)
    user = make_user(session, role, site=site)

    with pytest.raises(PermissionDenied):
        make_patient(session, site=site, by=user)


def test_a_coordinator_registers_only_at_their_site(session):
    coordinator = make_user(session, Role.COORDINATOR)

    with pytest.raises(PermissionDenied, match="at another site"):
        make_patient(session, site=make_site(session), by=coordinator)


def test_patients_of_another_site_are_invisible_except_to_global_roles(session):
    patient = make_patient(session)
    elsewhere = make_user(session, Role.NURSE)

    with pytest.raises(PermissionDenied):
        patients.get_patient(session, patient.id, by=elsewhere)
    assert patients.get_patient(session, patient.id, by=make_user(session, Role.MONITOR)) is patient
    with pytest.raises(NotFound):
        patients.get_patient(session, 999_999, by=make_user(session, Role.MONITOR))


def test_diagnosis_is_recorded_then_changed_with_its_version(session):
    patient = make_patient(session)
    site_physician = make_user(session, Role.PHYSICIAN, site=_site_of(session, patient))

    first = patients.record_diagnosis(
        session, patient_id=patient.id, diagnosis=DX, by=site_physician, now=NOW
    )
    changed = patients.record_diagnosis(session, patient_id=patient.id, diagnosis=_replace(DX, el_escorial="definite"),
                                        expected_version=1, by=site_physician, now=NOW)  # fmt: skip

    assert changed.id == first.id
    assert (changed.el_escorial, changed.version) == ("definite", 2)
    assert verify_trail(session) == []


def test_a_stale_version_is_refused(session):
    patient = make_patient(session)
    physician = make_user(session, Role.PHYSICIAN, site=_site_of(session, patient))
    record = patients.record_diagnosis
    record(session, patient_id=patient.id, diagnosis=DX, by=physician, now=NOW)
    definite = _replace(DX, el_escorial="definite")
    record(
        session,
        patient_id=patient.id,
        diagnosis=definite,
        expected_version=1,
        by=physician,
        now=NOW,
    )

    with pytest.raises(Conflict, match="changed since it was read"):
        record(
            session, patient_id=patient.id, diagnosis=DX, expected_version=1, by=physician, now=NOW
        )


def test_a_signed_diagnosis_changes_only_with_a_reason(session):
    patient = make_patient(session)
    physician = make_user(session, Role.PHYSICIAN, site=_site_of(session, patient))
    record = patients.record_diagnosis
    dx = record(session, patient_id=patient.id, diagnosis=DX, by=physician, now=NOW)
    signing.sign_record(session, kind="diagnosis", record_id=dx.id, by=physician, now=NOW)
    corrected = _replace(DX, onset_on=date(2025, 3, 1))

    with pytest.raises(InvalidInput, match="reason: required: this record is signed"):
        record(session, patient_id=patient.id, diagnosis=corrected, by=physician, now=NOW)
    record(
        session, patient_id=patient.id, diagnosis=DX, by=physician, now=NOW
    )  # no change: no reason
    record(
        session, patient_id=patient.id, diagnosis=corrected, reason="typo", by=physician, now=NOW
    )

    reasons = [e.reason for e in session.query(AuditEvent).filter_by(action="diagnosis.changed")]
    assert reasons == ["typo"]


def test_every_diagnosis_problem_is_listed(session):
    patient = make_patient(session)
    physician = make_user(session, Role.PHYSICIAN, site=_site_of(session, patient))
    bad = patients.DiagnosisInput(onset_on=date(2025, 3, 10), onset_site="arm", diagnosis_on=date(2025, 1, 1),
                                  familial=False, el_escorial="likely", awaji="sure")  # fmt: skip

    with pytest.raises(InvalidInput) as caught:
        patients.record_diagnosis(
            session, patient_id=patient.id, diagnosis=bad, by=physician, now=NOW
        )

    assert {p.location for p in caught.value.problems} == {
        "onset_site",
        "diagnosis_on",
        "el_escorial",  # the field's name, not the diagnostic system's
        "awaji",
    }
    assert count(session, Diagnosis) == 0


def test_only_physicians_diagnose(session):
    patient = make_patient(session)

    with pytest.raises(PermissionDenied):
        patients.record_diagnosis(
            session,
            patient_id=patient.id,
            diagnosis=DX,
            by=make_user(session, Role.NURSE, site=_site_of(session, patient)),
            now=NOW,
        )


def test_consent_is_recorded_and_validated(session):
    patient = make_patient(session)
    coordinator = make_user(session, Role.COORDINATOR, site=_site_of(session, patient))

    consent = patients.record_consent(
        session,
        patient_id=patient.id,
        form_version="v2",
        consented_on=date(2025, 12, 20),
        by=coordinator,
        now=NOW,
    )
    with pytest.raises(InvalidInput) as caught:
        patients.record_consent(
            session,
            patient_id=patient.id,
            form_version=" ",
            consented_on=date(2027, 1, 1),
            by=coordinator,
            now=NOW,
        )

    assert consent.form_version == "v2"
    assert {p.location for p in caught.value.problems} == {"form_version", "consented_on"}


def test_withdrawal_needs_a_reason_and_a_reachable_state(session):
    patient = make_patient(session)
    coordinator = make_user(session, Role.COORDINATOR, site=_site_of(session, patient))

    with pytest.raises(InvalidInput, match="reason: required"):
        patients.close_participation(
            session,
            patient_id=patient.id,
            status=PatientStatus.WITHDRAWN,
            on=date(2026, 1, 5),
            reason=" ",
            by=coordinator,
            now=NOW,
        )
    with pytest.raises(InvalidTransition, match="cannot go from referred to completed"):
        patients.close_participation(
            session,
            patient_id=patient.id,
            status=PatientStatus.COMPLETED,
            on=date(2026, 1, 5),
            reason="done",
            by=coordinator,
            now=NOW,
        )
    withdrawn = patients.close_participation(
        session,
        patient_id=patient.id,
        status=PatientStatus.WITHDRAWN,
        on=date(2026, 1, 5),
        reason="moved",
        by=coordinator,
        now=NOW,
    )

    assert withdrawn.status is PatientStatus.WITHDRAWN


def test_death_is_not_a_closing_step_here(session):
    patient = make_patient(session)
    coordinator = make_user(session, Role.COORDINATOR, site=_site_of(session, patient))

    with pytest.raises(InvalidInput, match="record a death as an outcome event"):
        patients.close_participation(
            session,
            patient_id=patient.id,
            status=PatientStatus.DIED,
            on=date(2026, 1, 5),
            reason="x",
            by=coordinator,
            now=NOW,
        )


def _site_of(session: Session, patient: Patient) -> Site:
    site = session.get(Site, patient.site_id)
    assert site is not None
    return site


def _replace(dx: patients.DiagnosisInput, **changes: Any) -> patients.DiagnosisInput:
    return replace(dx, **changes)
