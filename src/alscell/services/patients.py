"""Patients: registration with identifying data kept apart, diagnosis, consent, and lifecycle steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import registration
from alscell.domain.access import Action
from alscell.domain.lifecycle import PatientStatus, check_transition
from alscell.errors import Conflict, InvalidInput, NotFound, Problem
from alscell.services import access
from alscell.services.paging import page
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import Consent, Diagnosis, Enrollment, Patient, PatientIdentity, User

__all__ = [
    "DiagnosisInput",
    "close_participation",
    "get_diagnosis",
    "get_identity",
    "get_patient",
    "list_consents",
    "list_patients",
    "move_patient",
    "record_consent",
    "record_diagnosis",
    "register_patient",
]

ONSET_SITES = registration.ONSET_SITES
CLOSING = (
    PatientStatus.WITHDRAWN,
    PatientStatus.LOST_TO_FOLLOW_UP,
    PatientStatus.COMPLETED,
    PatientStatus.FOLLOW_UP,
)


def get_patient(session: Session, patient_id: int, *, by: User) -> Patient:
    """The patient, if ``by`` may see them (their site, or a global role)."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    return patient


def register_patient(
    session: Session, *, study_code: str, site_id: int, given_name: str, family_name: str, birth_on: date,
    sex: str | None = None, mrn: str | None = None, by: User, now: datetime,
) -> Patient:  # fmt: skip
    """Register a referred patient: a study code that never changes, identifying data kept apart."""
    access.require(by, Action.REGISTER_PATIENT, site_id=site_id, resource="a patient")
    problems = [
        *registration.patient_problems(study_code=study_code, sex=sex),
        *registration.identity_problems(given_name=given_name, family_name=family_name),
        *registration.future_problems(now.date(), birth_on=birth_on),
    ]
    if problems:
        raise InvalidInput(problems, subject="patient")
    if exists(session, sa.select(Patient).where(Patient.study_code == study_code)):
        raise Conflict(f"study code {study_code} is already in use")
    patient = Patient(study_code=study_code, site_id=site_id, status=PatientStatus.REFERRED, sex=sex,
                      birth_year=birth_on.year, registered_at=now)  # fmt: skip
    add_record(session, patient, by=by, action="patient.registered", now=now)
    identity = PatientIdentity(patient_id=patient.id, given_name=given_name.strip(),
                               family_name=family_name.strip(), birth_on=birth_on, mrn=mrn)  # fmt: skip
    add_record(session, identity, by=by, action="patient.identity_recorded", now=now)
    commit(session)
    return patient


@dataclass(frozen=True, slots=True)
class DiagnosisInput:
    """A diagnosis as the physician records it (clinical.md §8)."""

    onset_on: date
    onset_site: str
    diagnosis_on: date
    familial: bool
    el_escorial: str | None = None
    awaji: str | None = None
    gold_coast: bool | None = None
    c9orf72: bool | None = None
    other_genetics: str | None = None
    ftd: bool = False

    def problems(self) -> list[Problem]:
        return registration.diagnosis_problems(
            onset_site=self.onset_site,
            onset_on=self.onset_on,
            diagnosis_on=self.diagnosis_on,
            el_escorial=self.el_escorial,
            awaji=self.awaji,
        )


def record_diagnosis(
    session: Session, *, patient_id: int, diagnosis: DiagnosisInput, by: User, now: datetime,
    expected_version: int | None = None, reason: str | None = None,
) -> Diagnosis:  # fmt: skip
    """Record the patient's diagnosis, or change it (a signed diagnosis changes only with a reason)."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by,
        Action.RECORD_DIAGNOSIS,
        site_id=patient.site_id,
        resource=f"patient {patient.study_code}",
    )
    problems = diagnosis.problems()
    problems += registration.future_problems(now.date(), diagnosis_on=diagnosis.diagnosis_on)
    if problems:
        raise InvalidInput(problems, subject="diagnosis")
    fields = {name: getattr(diagnosis, name) for name in DiagnosisInput.__dataclass_fields__}
    current = session.execute(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient.id)
    ).scalar_one_or_none()
    if current is None:
        record = add_record(
            session,
            Diagnosis(patient_id=patient.id, **fields),
            by=by,
            action="diagnosis.recorded",
            now=now,
        )
    else:
        record = change_record(session, current, fields, by=by, action="diagnosis.changed", now=now,
                               expected_version=expected_version, reason=reason)  # fmt: skip
    commit(session)
    return record


def record_consent(
    session: Session,
    *,
    patient_id: int,
    form_version: str,
    consented_on: date,
    by: User,
    now: datetime,
) -> Consent:
    """Record informed consent to a version of the consent form."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.RECORD_CONSENT, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    problems = []
    if not form_version.strip():
        problems.append(Problem("form_version", "must not be empty"))
    if consented_on > now.date():
        problems.append(Problem("consented_on", f"{consented_on} is in the future"))
    if problems:
        raise InvalidInput(problems, subject="consent")
    consent = Consent(
        patient_id=patient.id,
        form_version=form_version.strip(),
        consented_on=consented_on,
        recorded_by_id=by.id,
    )
    add_record(session, consent, by=by, action="consent.recorded", now=now)
    commit(session)
    return consent


def move_patient(
    session: Session,
    patient: Patient,
    new: PatientStatus,
    *,
    by: User,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Change the patient's status along the lifecycle (no commit: the calling service commits)."""
    check_transition(patient.status, new)
    change_record(
        session,
        patient,
        {"status": new},
        by=by,
        action=f"patient.{new.value}",
        now=now,
        reason=reason,
    )


def close_participation(
    session: Session,
    *,
    patient_id: int,
    status: PatientStatus,
    on: date,
    reason: str,
    by: User,
    now: datetime,
) -> Patient:
    """Withdraw a patient, mark them lost to follow-up, move them to follow-up or complete them.

    A withdrawal or loss needs a reason; the enrollment records the end date. Death is recorded as an
    outcome event instead (it is also a survival endpoint).
    """
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by,
        Action.CLOSE_PARTICIPATION,
        site_id=patient.site_id,
        resource=f"patient {patient.study_code}",
    )
    if status not in CLOSING:
        rule = f"must be one of {', '.join(CLOSING)}; record a death as an outcome event"
        raise InvalidInput([Problem("status", rule)], subject="lifecycle step")
    if not reason.strip():
        raise InvalidInput([Problem("reason", "required: say why")], subject="lifecycle step")
    move_patient(session, patient, status, by=by, now=now, reason=reason)
    if status is not PatientStatus.FOLLOW_UP:
        for enrollment in session.execute(
            sa.select(Enrollment).where(
                Enrollment.patient_id == patient.id, Enrollment.ended_on.is_(None)
            )
        ).scalars():
            change_record(
                session,
                enrollment,
                {"ended_on": on, "end_reason": reason},
                by=by,
                action="enrollment.ended",
                now=now,
            )
    commit(session)
    return patient


def list_patients(
    session: Session, *, by: User, status: PatientStatus | None = None, search: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[Patient], int]:  # fmt: skip
    """Patients ``by`` may see (their site, or all for global roles), by study code; and the total.

    ``search`` matches the start of the study code.
    """
    access.require(by, Action.VIEW_PATIENT)
    statement = sa.select(Patient)
    if not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    if status is not None:
        statement = statement.where(Patient.status == status)
    if search:
        statement = statement.where(Patient.study_code.startswith(search.upper(), autoescape=True))
    return page(session, statement, Patient.study_code, limit=limit, offset=offset)


def get_identity(session: Session, patient_id: int, *, by: User) -> PatientIdentity:
    """The patient's identifying data, for roles allowed to see it at the patient's site."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by,
        Action.VIEW_IDENTITY,
        site_id=patient.site_id,
        resource=f"identity of {patient.study_code}",
    )
    return load(session, PatientIdentity, patient.id, kind="patient identity")


def get_diagnosis(session: Session, patient_id: int, *, by: User) -> Diagnosis:
    """The patient's diagnosis."""
    patient = get_patient(session, patient_id, by=by)
    diagnosis = session.execute(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient.id)
    ).scalar_one_or_none()
    if diagnosis is None:
        raise NotFound("diagnosis of patient", patient.study_code)
    return diagnosis


def list_consents(session: Session, patient_id: int, *, by: User) -> list[Consent]:
    """The patient's consents, oldest first."""
    patient = get_patient(session, patient_id, by=by)
    statement = (
        sa.select(Consent)
        .where(Consent.patient_id == patient.id)
        .order_by(Consent.consented_on, Consent.id)
    )
    return list(session.execute(statement).scalars())
