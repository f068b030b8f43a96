"""Screening, enrollment, the start of treatment, and each enrollment's calendar.

The calendar is the domain's plan (protocol, start day, site closures) with what happened applied
(``schedule_events``); its dated rows (``scheduled_activities``) are rewritten after every change so
the clinic can ask what is due on a day.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.criteria import Status
from alscell.domain.deviations import Deviation, find_deviations
from alscell.domain.eligibility import EligibilityFacts, EligibilityResult, evaluate_eligibility
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.protocol import Protocol
from alscell.domain.safety import PrePunctureFacts
from alscell.domain.scheduling import Done, Plan, Skipped, plan_schedule, reschedule
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.facts import PatientFacts, gather_facts, latest_lab
from alscell.services.paging import page
from alscell.services.patients import get_patient, move_patient
from alscell.services.protocols import analysis_plan_for, protocol_of
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import (
    Consent,
    Enrollment,
    Patient,
    ScheduledActivityRow,
    ScheduleEvent,
    Screening,
    SiteClosure,
    User,
)

__all__ = [
    "MarkedActivity",
    "as_event",
    "enroll",
    "get_enrollment",
    "get_schedule",
    "list_deviations",
    "list_enrollments",
    "list_screenings",
    "plan_for",
    "record_activity",
    "record_closure",
    "record_schedule_event",
    "refresh_schedule",
    "screen_patient",
    "skip_activity",
    "start_treatment",
]

T = TypeVar("T")

_OUTCOME_STATUS = {Status.MET: PatientStatus.ELIGIBLE, Status.NOT_MET: PatientStatus.INELIGIBLE}


def screen_patient(
    session: Session, *, patient_id: int, protocol_id: int, screened_on: date,
    exclusions: Mapping[str, bool], pre_puncture: PrePunctureFacts, familial: bool | None = None,
    by: User, now: datetime,
) -> Screening:  # fmt: skip
    """Evaluate eligibility against a protocol version from the records, criterion by criterion.

    Facts come from the records as of ``screened_on`` (diagnosis, latest ALSFRS-R, vital capacity,
    age, ΔFS, ENCALS linear predictor, platelets and INR); exclusions and bedside findings are given.
    The patient becomes eligible when every criterion is met, ineligible when any is not, and stays
    in screening while anything is unknown or needs a physician's review.
    """
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.SCREEN, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    protocol = protocol_of(session, protocol_id)
    if patient.status in (PatientStatus.ELIGIBLE, PatientStatus.INELIGIBLE, PatientStatus.REFERRED):
        move_patient(session, patient, PatientStatus.SCREENING, by=by, now=now)
    elif patient.status is not PatientStatus.SCREENING:
        raise Conflict(
            f"patient {patient.study_code} is {patient.status}; only referred or screened patients are screened"
        )
    result = _eligibility(
        session, patient, protocol, screened_on, exclusions, pre_puncture, familial
    )
    screening = Screening(
        patient_id=patient.id, protocol_id=protocol_id, screened_on=screened_on, outcome=result.status.value,
        criteria=[{"criterion": r.criterion, "status": r.status.value, "value": _plain(r.value), "rule": r.rule} for r in result.criteria],
        screened_by_id=by.id,
    )  # fmt: skip
    add_record(session, screening, by=by, action="screening.recorded", now=now)
    if result.status in _OUTCOME_STATUS:
        move_patient(session, patient, _OUTCOME_STATUS[result.status], by=by, now=now)
    commit(session)
    return screening


def _eligibility(
    session: Session, patient: Patient, protocol: Protocol, on: date, exclusions: Mapping[str, bool],
    pre_puncture: PrePunctureFacts, familial: bool | None,
) -> EligibilityResult:  # fmt: skip
    facts = gather_facts(session, patient, on=on)
    bedside = PrePunctureFacts(
        platelets_10e9_per_l=pre_puncture.platelets_10e9_per_l
        or latest_lab(session, patient.id, "platelets", on=on),
        inr=pre_puncture.inr or latest_lab(session, patient.id, "inr", on=on),
        anticoagulants_reviewed=pre_puncture.anticoagulants_reviewed,
        hours_since_last_dose=pre_puncture.hours_since_last_dose,
        findings=pre_puncture.findings,
    )
    return evaluate_eligibility(protocol, _eligibility_facts(facts, exclusions, bedside, familial))


def _eligibility_facts(
    facts: PatientFacts,
    exclusions: Mapping[str, bool],
    bedside: PrePunctureFacts,
    familial: bool | None,
) -> EligibilityFacts:
    dx = facts.diagnosis
    return EligibilityFacts(
        diagnosis_category=dx.el_escorial if dx else None,
        familial=dx.familial if dx else familial,
        age_years=facts.age_years,
        alsfrs_r_total=facts.rating.total if facts.rating else None,
        alsfrs_r_items=facts.rating.items() if facts.rating else None,
        vital_capacity_percent=facts.vital_capacity_percent,
        months_since_onset=facts.months_since_onset,
        delta_fs=facts.delta_fs,
        encals_lp=facts.encals_lp,
        run_in_decline=facts.run_in_decline,
        exclusions=dict(exclusions),
        pre_puncture=bedside,
    )


def enroll(
    session: Session,
    *,
    patient_id: int,
    protocol_id: int,
    enrolled_on: date,
    by: User,
    now: datetime,
) -> Enrollment:
    """Enroll an eligible patient with informed consent on file in a protocol version."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.ENROLL, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    latest = session.execute(
        sa.select(Screening).where(Screening.patient_id == patient.id, Screening.protocol_id == protocol_id)
        .order_by(Screening.screened_on.desc(), Screening.id.desc()).limit(1)
    ).scalar_one_or_none()  # fmt: skip
    if latest is None or latest.outcome != Status.MET.value:
        raise Conflict(
            f"patient {patient.study_code} has no screening against this protocol with every criterion met"
        )
    consented = sa.select(Consent).where(
        Consent.patient_id == patient.id,
        Consent.withdrawn_on.is_(None),
        Consent.consented_on <= enrolled_on,
    )
    if not exists(session, consented):
        raise Conflict(
            f"patient {patient.study_code} has no informed consent on file; record consent first"
        )
    enrollment = Enrollment(patient_id=patient.id, protocol_id=protocol_id, enrolled_on=enrolled_on)
    add_record(session, enrollment, by=by, action="enrollment.created", now=now)
    move_patient(session, patient, PatientStatus.ENROLLED, by=by, now=now)
    commit(session)
    return enrollment


def start_treatment(
    session: Session, *, enrollment_id: int, start_on: date, by: User, now: datetime
) -> Enrollment:
    """Start the program on ``start_on`` (day 0): plans the calendar. Needs a locked analysis plan."""
    enrollment, patient = _enrollment(session, enrollment_id, by, Action.START_TREATMENT)
    if analysis_plan_for(session, enrollment.protocol_id).locked_at is None:
        raise Conflict(
            "the analysis plan is not locked; lock it before the first patient is treated"
        )
    change_record(
        session, enrollment, {"start_on": start_on}, by=by, action="enrollment.started", now=now
    )
    move_patient(session, patient, PatientStatus.IN_TREATMENT, by=by, now=now)
    refresh_schedule(session, enrollment)
    commit(session)
    return enrollment


def record_activity(
    session: Session, *, enrollment_id: int, activity_id: str, on: date, occurrence: int | None = None,
    by: User, now: datetime,
) -> ScheduleEvent:  # fmt: skip
    """Record that an examination, lab panel, assessment or visit happened (doses have their own services)."""
    enrollment, _ = _enrollment(session, enrollment_id, by, Action.RECORD_ASSESSMENT)
    if on > now.date():
        raise InvalidInput([Problem("on", f"{on} is in the future")], subject="activity")
    protocol = protocol_of(session, enrollment.protocol_id)
    if activity_id in {a.id for a in protocol.activities() if a.cell_dose}:
        raise InvalidInput(
            [
                Problem(
                    "activity_id", f"{activity_id} is a cell dose: record it as a lumbar puncture"
                )
            ],
            subject="activity",
        )
    return _record_event(session, enrollment, Done(activity_id, on, occurrence), by=by, now=now)


def skip_activity(
    session: Session,
    *,
    enrollment_id: int,
    activity_id: str,
    occurrence: int,
    reason: str,
    by: User,
    now: datetime,
) -> ScheduleEvent:
    """Record that an occurrence will not happen (a dose skipped, a visit missed), with the reason."""
    enrollment, _ = _enrollment(session, enrollment_id, by, Action.RECORD_ASSESSMENT)
    if not reason.strip():
        raise InvalidInput(
            [Problem("reason", "required: say why it will not happen")], subject="skip"
        )
    return _record_event(
        session, enrollment, Skipped(activity_id, occurrence, reason.strip()), by=by, now=now
    )


def record_closure(
    session: Session, *, site_id: int, closed_on: date, reason: str | None, by: User, now: datetime
) -> SiteClosure:
    """Close a site for a day; every active calendar at the site moves accordingly."""
    access.require(by, Action.CLOSE_PARTICIPATION, site_id=site_id, resource="the site calendar")
    closure = add_record(session, SiteClosure(site_id=site_id, closed_on=closed_on, reason=reason, recorded_by_id=by.id),
                         by=by, action="site.closed", now=now)  # fmt: skip
    active = (
        sa.select(Enrollment)
        .join(Patient)
        .where(
            Patient.site_id == site_id,
            Enrollment.start_on.is_not(None),
            Enrollment.ended_on.is_(None),
        )
    )
    for enrollment in session.execute(active).scalars():
        refresh_schedule(session, enrollment)
    commit(session)
    return closure


def plan_for(
    session: Session, enrollment: Enrollment, *, extra: tuple[Done | Skipped, ...] = ()
) -> Plan:
    """The enrollment's calendar with everything recorded so far (plus ``extra`` events, for checks)."""
    if enrollment.start_on is None:
        raise Conflict(
            f"enrollment {enrollment.id} has not started treatment; it has no calendar yet"
        )
    protocol = protocol_of(session, enrollment.protocol_id)
    patient = load(session, Patient, enrollment.patient_id, kind="patient")
    closures = session.execute(
        sa.select(SiteClosure.closed_on).where(SiteClosure.site_id == patient.site_id)
    ).scalars()
    plan = plan_schedule(protocol, enrollment.start_on, closures=closures)
    rows = session.execute(
        sa.select(ScheduleEvent)
        .where(ScheduleEvent.enrollment_id == enrollment.id)
        .order_by(ScheduleEvent.id)
    ).scalars()
    events = [as_event(row) for row in rows]
    return reschedule(plan, [*events, *extra])


def refresh_schedule(session: Session, enrollment: Enrollment) -> Plan:
    """Rewrite the enrollment's dated rows from its calendar (no commit: the caller commits)."""
    plan = plan_for(session, enrollment)
    session.execute(
        sa.delete(ScheduledActivityRow).where(ScheduledActivityRow.enrollment_id == enrollment.id)
    )
    for item in plan.items:
        session.add(ScheduledActivityRow(
            enrollment_id=enrollment.id, activity_id=item.activity_id, occurrence=item.occurrence, name=item.name,
            kind=item.kind.value, planned_on=item.planned_on, earliest_on=item.earliest_on, latest_on=item.latest_on,
            status=item.status, actual_on=item.actual_on, note=item.note,
        ))  # fmt: skip
    session.flush()
    return plan


def record_schedule_event(
    session: Session, enrollment: Enrollment, event: Done | Skipped, *, by: User, now: datetime,
    administration_id: int | None = None,
) -> ScheduleEvent:  # fmt: skip
    """Store an event after checking it applies to the calendar, and refresh the calendar (no commit)."""
    plan_for(session, enrollment, extra=(event,))  # InvalidInput naming what does not apply
    row = ScheduleEvent(
        enrollment_id=enrollment.id, activity_id=event.activity_id, occurrence=event.occurrence,
        kind="done" if isinstance(event, Done) else "skipped", on=event.on if isinstance(event, Done) else None,
        reason=event.reason if isinstance(event, Skipped) else None, administration_id=administration_id,
        recorded_by_id=by.id,
    )  # fmt: skip
    add_record(session, row, by=by, action=f"calendar.{row.kind}", now=now)
    refresh_schedule(session, enrollment)
    return row


def _record_event(
    session: Session, enrollment: Enrollment, event: Done | Skipped, *, by: User, now: datetime
) -> ScheduleEvent:
    row = record_schedule_event(session, enrollment, event, by=by, now=now)
    commit(session)
    return row


class MarkedActivity(typing.Protocol):
    """A calendar activity marked done or skipped, as stored or as imported."""

    @property
    def activity_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def on(self) -> date | None: ...
    @property
    def occurrence(self) -> int | None: ...
    @property
    def reason(self) -> str | None: ...


def as_event(row: MarkedActivity) -> Done | Skipped:
    """The scheduling event of a stored or imported mark (what :func:`reschedule` applies)."""
    if row.kind == "done" and row.on is not None:
        return Done(row.activity_id, row.on, row.occurrence)
    return Skipped(row.activity_id, row.occurrence or 0, row.reason or "")


def _enrollment(
    session: Session, enrollment_id: int, by: User, action: Action
) -> tuple[Enrollment, Patient]:
    enrollment = load(session, Enrollment, enrollment_id, kind="enrollment")
    patient = load(session, Patient, enrollment.patient_id, kind="patient")
    access.require(by, action, site_id=patient.site_id, resource=f"patient {patient.study_code}")
    return enrollment, patient


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def list_screenings(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[Screening], int]:
    """The patient's screenings, newest first; and the total."""
    patient = get_patient(session, patient_id, by=by)
    statement = sa.select(Screening).where(Screening.patient_id == patient.id)
    order = (Screening.screened_on.desc(), Screening.id.desc())
    return page(session, statement, *order, limit=limit, offset=offset)


def get_enrollment(session: Session, enrollment_id: int, *, by: User) -> Enrollment:
    """The enrollment, if ``by`` may see its patient."""
    enrollment, _ = _enrollment(session, enrollment_id, by, Action.VIEW_PATIENT)
    return enrollment


def list_enrollments(
    session: Session, patient_id: int, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[Enrollment], int]:
    """The patient's enrollments, newest first; and the total."""
    patient = get_patient(session, patient_id, by=by)
    statement = sa.select(Enrollment).where(Enrollment.patient_id == patient.id)
    order = (Enrollment.enrolled_on.desc(), Enrollment.id.desc())
    return page(session, statement, *order, limit=limit, offset=offset)


def get_schedule(session: Session, enrollment_id: int, *, by: User) -> Plan:
    """The enrollment's calendar with what happened so far (:class:`Conflict` before the start)."""
    return plan_for(session, get_enrollment(session, enrollment_id, by=by))


def list_deviations(
    session: Session, enrollment_id: int, *, by: User, as_of: date
) -> tuple[Deviation, ...]:
    """Every departure from the protocol so far; occurrences whose window closed before ``as_of`` count."""
    return find_deviations(get_schedule(session, enrollment_id, by=by), as_of=as_of)


def get_screening(session: Session, screening_id: int, *, by: User) -> Screening:
    """A screening with its criteria, if ``by`` may see its patient."""
    screening = load(session, Screening, screening_id, kind="screening")
    get_patient(session, screening.patient_id, by=by)  # PermissionDenied outside the user's site
    return screening
