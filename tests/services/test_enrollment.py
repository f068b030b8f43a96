"""Screening, enrollment, the start of treatment and the calendar (services/enrollment.py).

Every test runs on SQLite and PostgreSQL (the ``session`` fixture). The seed protocol's criteria and
calendar are in protocols/als-nsc-4lp.yaml; dates below are worked by hand from it.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.criteria import Status
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.safety import PrePunctureFacts
from alscell.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from alscell.services import assessments, enrollment, patients
from alscell.services.audit import verify_trail
from alscell.storage.models import (
    Consent,
    Enrollment,
    ScheduledActivityRow,
    ScheduleEvent,
    Screening,
)
from tests.services.scenario import (
    START,
    clear_bedside,
    clinic,
    day,
    eligible_patient,
    enrolled_in_treatment,
    no_exclusions,
)


def criteria(screening: Screening) -> dict[str, str]:
    return {c["criterion"]: c["status"] for c in screening.criteria}


def latest_screening(session: Session, patient_id: int) -> Screening:
    statement = (
        sa.select(Screening).where(Screening.patient_id == patient_id).order_by(Screening.id.desc())
    )
    return session.execute(statement).scalars().first()  # type: ignore[return-value]


# ---------------------------------------------------------------- screening


def test_a_patient_meeting_every_criterion_becomes_eligible(session):
    c = clinic(session)

    patient = eligible_patient(c)

    screening = latest_screening(session, patient.id)
    assert patient.status is PatientStatus.ELIGIBLE
    assert screening.outcome == Status.MET.value
    assert set(criteria(screening).values()) == {"met"}
    # age 61 (born 1964-05-17, screened 2025-12-20); 9 months 10 days since onset 2025-03-10
    values = {c_["criterion"]: c_["value"] for c_ in screening.criteria}
    assert values["age_years"] == 61
    assert values["alsfrs_r_total_min"] == 46  # 48 minus q4 and q8 at 3
    assert verify_trail(session) == []


def test_missing_facts_keep_the_patient_in_screening(session):
    c = clinic(session)
    patient = patients.register_patient(session, study_code="AMS-002", site_id=c.site.id, given_name="B", family_name="C",
                                        birth_on=date(1970, 1, 1), by=c.coordinator, now=c.at(date(2025, 12, 20)))  # fmt: skip

    screening = enrollment.screen_patient(session, patient_id=patient.id, protocol_id=c.protocol.id, screened_on=date(2025, 12, 20),
                                          exclusions={}, pre_puncture=PrePunctureFacts(), by=c.physician, now=c.at(date(2025, 12, 20)))  # fmt: skip

    assert patient.status is PatientStatus.SCREENING
    assert screening.outcome == Status.UNKNOWN.value
    assert criteria(screening)["diagnosis"] == "unknown"
    assert criteria(screening)["platelets"] == "unknown"


def test_a_criterion_not_met_makes_the_patient_ineligible(session):
    c = clinic(session)
    patient = eligible_patient(c)
    assessments.record_lab_result(session, patient_id=patient.id, collected_on=date(2025, 12, 21), analyte="platelets",
                                  value=40, by=c.nurse, now=c.at(date(2025, 12, 21)))  # fmt: skip

    screening = enrollment.screen_patient(session, patient_id=patient.id, protocol_id=c.protocol.id, screened_on=date(2025, 12, 21),
                                          exclusions=no_exclusions(), pre_puncture=clear_bedside().pre_puncture,
                                          by=c.physician, now=c.at(date(2025, 12, 21)))  # fmt: skip

    assert patient.status is PatientStatus.INELIGIBLE
    assert criteria(screening)["platelets"] == "not_met"  # 40 < 50 × 10^9/L (clinical.md §9.1)


def test_only_physicians_screen(session):
    c = clinic(session)
    patient = eligible_patient(c)

    with pytest.raises(PermissionDenied):
        enrollment.screen_patient(session, patient_id=patient.id, protocol_id=c.protocol.id, screened_on=date(2025, 12, 21),
                                  exclusions={}, pre_puncture=PrePunctureFacts(), by=c.nurse, now=c.at(date(2025, 12, 21)))  # fmt: skip


# ---------------------------------------------------------------- enrollment and start


def test_enroll_then_start_plans_the_calendar(session):
    c = clinic(session)

    patient, e = enrolled_in_treatment(c)

    rows = session.execute(sa.select(ScheduledActivityRow).where(ScheduledActivityRow.enrollment_id == e.id,
                                                                 ScheduledActivityRow.activity_id == "implantation")
                           .order_by(ScheduledActivityRow.occurrence)).scalars().all()  # fmt: skip
    assert patient.status is PatientStatus.IN_TREATMENT
    assert e.start_on == START
    assert [row.planned_on for row in rows] == [
        date(2026, 1, 15),
        date(2026, 1, 22),
        date(2026, 1, 29),
        date(2026, 2, 5),
    ]
    assert verify_trail(session) == []


def test_enrolling_needs_consent(session):
    c = clinic(session)
    patient = eligible_patient(c)
    consent = patient_consent(session, patient.id)
    consent.withdrawn_on = date(2025, 12, 21)  # as the consent service will record a withdrawal
    session.flush()

    with pytest.raises(Conflict, match="no informed consent on file"):
        enrollment.enroll(
            session,
            patient_id=patient.id,
            protocol_id=c.protocol.id,
            enrolled_on=date(2025, 12, 22),
            by=c.physician,
            now=c.at(date(2025, 12, 22)),
        )


def patient_consent(session: Session, patient_id: int) -> Consent:
    return session.execute(sa.select(Consent).where(Consent.patient_id == patient_id)).scalar_one()


def test_enrolling_needs_an_eligible_screening(session):
    c = clinic(session)
    patient = patients.register_patient(session, study_code="AMS-009", site_id=c.site.id, given_name="D", family_name="E",
                                        birth_on=date(1970, 1, 1), by=c.coordinator, now=c.at(date(2025, 12, 20)))  # fmt: skip

    with pytest.raises(Conflict, match="no screening against this protocol"):
        enrollment.enroll(
            session,
            patient_id=patient.id,
            protocol_id=c.protocol.id,
            enrolled_on=date(2025, 12, 22),
            by=c.physician,
            now=c.at(date(2025, 12, 22)),
        )
    assert session.execute(sa.select(sa.func.count()).select_from(Enrollment)).scalar_one() == 0


def test_treatment_needs_a_locked_analysis_plan(session):
    c = clinic(session, lock_plan=False)
    patient = eligible_patient(c)
    e = enrollment.enroll(
        session,
        patient_id=patient.id,
        protocol_id=c.protocol.id,
        enrolled_on=date(2025, 12, 22),
        by=c.physician,
        now=c.at(date(2025, 12, 22)),
    )

    with pytest.raises(Conflict, match="lock it before the first patient is treated"):
        enrollment.start_treatment(
            session, enrollment_id=e.id, start_on=START, by=c.physician, now=c.at(START)
        )
    assert e.start_on is None


def test_a_patient_cannot_start_twice(session):
    c = clinic(session)
    _, e = enrolled_in_treatment(c)

    with pytest.raises(InvalidTransition):
        enrollment.start_treatment(
            session, enrollment_id=e.id, start_on=START, by=c.physician, now=c.at(START)
        )


# ---------------------------------------------------------------- the calendar


def test_recording_a_late_examination_and_a_missed_session(session):
    c = clinic(session)
    _, e = enrolled_in_treatment(c)

    enrollment.record_activity(
        session,
        enrollment_id=e.id,
        activity_id="spine-imaging",
        on=day(3),
        by=c.nurse,
        now=c.at(day(3)),
    )
    enrollment.skip_activity(
        session,
        enrollment_id=e.id,
        activity_id="physiotherapy",
        occurrence=1,
        reason="fatigue",
        by=c.nurse,
        now=c.at(day(7)),
    )

    plan = enrollment.plan_for(session, e)
    assert plan.occurrences("spine-imaging")[0].actual_on == day(3)
    assert plan.occurrences("physiotherapy")[0].status.value == "skipped"
    assert session.execute(sa.select(sa.func.count()).select_from(ScheduleEvent)).scalar_one() == 2
    assert verify_trail(session) == []


def test_an_event_that_does_not_apply_is_refused_and_leaves_nothing(session):
    c = clinic(session)
    _, e = enrolled_in_treatment(c)

    with pytest.raises(InvalidInput, match="no activity or visit 'x-ray'"):
        enrollment.record_activity(
            session,
            enrollment_id=e.id,
            activity_id="x-ray",
            on=day(3),
            by=c.nurse,
            now=c.at(day(3)),
        )
    assert session.execute(sa.select(sa.func.count()).select_from(ScheduleEvent)).scalar_one() == 0


def test_a_cell_dose_is_not_recorded_as_an_activity(session):
    c = clinic(session)
    _, e = enrolled_in_treatment(c)

    with pytest.raises(InvalidInput, match="record it as a lumbar puncture"):
        enrollment.record_activity(
            session,
            enrollment_id=e.id,
            activity_id="implantation",
            on=day(10),
            by=c.nurse,
            now=c.at(day(10)),
        )


def test_a_site_closure_moves_every_active_calendar(session):
    c = clinic(session)
    _, e = enrolled_in_treatment(c)

    enrollment.record_closure(
        session,
        site_id=c.site.id,
        closed_on=date(2026, 1, 15),
        reason="holiday",
        by=c.coordinator,
        now=c.at(START),
    )

    first = session.execute(sa.select(ScheduledActivityRow).where(ScheduledActivityRow.enrollment_id == e.id,
                                                                  ScheduledActivityRow.activity_id == "implantation",
                                                                  ScheduledActivityRow.occurrence == 1)).scalar_one()  # fmt: skip
    assert first.planned_on == date(2026, 1, 16)
    assert first.note == "moved from 2026-01-15: clinic closed"


def test_a_calendar_needs_a_started_enrollment(session):
    c = clinic(session)
    patient = eligible_patient(c)
    e = enrollment.enroll(
        session,
        patient_id=patient.id,
        protocol_id=c.protocol.id,
        enrolled_on=date(2025, 12, 22),
        by=c.physician,
        now=c.at(date(2025, 12, 22)),
    )

    with pytest.raises(Conflict, match="has not started treatment"):
        enrollment.plan_for(session, e)
