"""What the clinic team sees at a glance: the Today list, and one patient's overview.

Read-only views over the records, site-scoped like every other read: what is due today and this week,
what is overdue, open reporting clocks, units waiting for release or about to expire, active stopping
rules; and for a patient, the summary (diagnosis, ΔFS, stages, the ENCALS prediction), the calendar
with its deviations, the ALSFRS-R series, administrations, adverse events and the record's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import alsfrs, encals, staging
from alscell.domain.access import Action
from alscell.domain.calendar import ItemStatus
from alscell.domain.deviations import Deviation, DeviationKind, Severity, find_deviations
from alscell.domain.months import months_between
from alscell.domain.protocol import StoppingRule
from alscell.domain.scheduling import Plan
from alscell.services import access, safety
from alscell.services.enrollment import plan_for
from alscell.services.facts import PatientFacts, gather_facts
from alscell.services.records import load
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    AuditEvent,
    Enrollment,
    Patient,
    ProductLot,
    ProductUnit,
    ProtocolVersion,
    ScheduledActivityRow,
    User,
)
from alscell.storage.models.product import UnitStatus

__all__ = ["DueItem", "PatientOverview", "Summary", "TodayView", "patient_overview", "today_view"]

EXPIRY_WARNING_DAYS = 14
M = TypeVar("M", AlsfrsRating, Administration, AdverseEvent)


@dataclass(frozen=True, slots=True)
class DueItem:
    """One planned occurrence on someone's calendar."""

    patient_id: int
    study_code: str
    enrollment_id: int
    row: ScheduledActivityRow


@dataclass(frozen=True, slots=True)
class TodayView:
    """The Today page: what is due, late, waiting or halted at the user's site(s)."""

    today: date
    due_today: list[DueItem]
    due_this_week: list[DueItem]
    overdue: list[DueItem]
    reporting: list[safety.ReportingDue]
    units_waiting: list[ProductUnit]
    units_expiring: list[ProductUnit]
    halted: list[tuple[ProtocolVersion, StoppingRule]]


def today_view(session: Session, *, by: User, today: date) -> TodayView:
    """Everything the Today page shows, for the sites ``by`` may see."""
    access.require(by, Action.VIEW_PATIENT)
    rows = _planned_rows(session, by, until=today + timedelta(days=7))
    return TodayView(
        today=today,
        due_today=[item for item in rows if item.row.planned_on == today],
        due_this_week=[
            item for item in rows if today < item.row.planned_on <= today + timedelta(days=7)
        ],
        overdue=[item for item in rows if max(item.row.latest_on, item.row.planned_on) < today],
        reporting=safety.open_reporting_clocks(session, today=today, by=by),
        units_waiting=_units(session, by, sa.and_(ProductUnit.status == UnitStatus.QUARANTINE)),
        units_expiring=_units(
            session,
            by,
            sa.and_(
                ProductUnit.status.in_([UnitStatus.RELEASED, UnitStatus.DISPENSED]),
                ProductUnit.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS),
            ),
        ),
        halted=_halted(session, by),
    )


def _planned_rows(session: Session, by: User, *, until: date) -> list[DueItem]:
    statement = (
        sa.select(ScheduledActivityRow, Enrollment, Patient)
        .join(Enrollment, ScheduledActivityRow.enrollment_id == Enrollment.id)
        .join(Patient, Enrollment.patient_id == Patient.id)
        .where(
            ScheduledActivityRow.status == ItemStatus.PLANNED,
            ScheduledActivityRow.planned_on <= until,
            Enrollment.ended_on.is_(None),
        )
        .order_by(
            ScheduledActivityRow.planned_on, Patient.study_code, ScheduledActivityRow.activity_id
        )
    )
    if not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    return [DueItem(p.id, p.study_code, e.id, row) for row, e, p in session.execute(statement)]


def _units(session: Session, by: User, condition: sa.ColumnElement[bool]) -> list[ProductUnit]:
    statement = (
        sa.select(ProductUnit)
        .join(ProductLot)
        .where(condition)
        .order_by(ProductUnit.expires_on, ProductUnit.din)
    )
    if not access.sees_all_sites(by):
        statement = statement.where(ProductLot.site_id == by.site_id)
    return list(session.execute(statement).scalars())


def _halted(session: Session, by: User) -> list[tuple[ProtocolVersion, StoppingRule]]:
    in_use = sa.select(Enrollment.protocol_id).join(Patient).where(Enrollment.ended_on.is_(None))
    if not access.sees_all_sites(by):
        in_use = in_use.where(Patient.site_id == by.site_id)
    protocols = session.execute(
        sa.select(ProtocolVersion).where(ProtocolVersion.id.in_(in_use))
    ).scalars()
    return [
        (p, rule)
        for p in protocols
        for rule in safety.active_stopping_rules(session, protocol_id=p.id)
    ]


@dataclass(frozen=True, slots=True)
class Summary:
    """The patient's clinical summary from the latest records (None where not recorded)."""

    facts: PatientFacts
    total: int | None
    kings: str | None
    mitos: int | None
    encals_lp: float | None
    encals_median_months: float | None
    months_since_onset: float | None


@dataclass
class DeviationGroup:
    """Deviations of one kind for one activity (e.g. 27 daily IV sessions not recorded)."""

    severity: Severity
    kind: DeviationKind
    activity: str
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def dates(self) -> tuple[date | None, date | None]:
        """The first and last dates concerned."""
        days = [deviation.on for deviation in self.deviations if deviation.on is not None]
        return (min(days), max(days)) if days else (None, None)


@dataclass
class SessionCount:
    """How many sessions of one repeated activity are done, skipped, closed or still planned."""

    name: str
    by_status: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        """Every session in the calendar, whatever its status."""
        return sum(self.by_status.values())


@dataclass
class PatientOverview:
    """Everything on a patient's page."""

    patient: Patient
    summary: Summary
    ratings: list[AlsfrsRating]
    enrollment: Enrollment | None
    plan: Plan | None
    deviations: tuple[Deviation, ...]
    administrations: list[Administration]
    adverse_events: list[AdverseEvent]
    history: list[AuditEvent] = field(default_factory=list)

    @property
    def session_counts(self) -> list[SessionCount]:
        """Repeated sessions of the program (IV, rehabilitation, medication) counted by status."""
        if self.plan is None:
            return []
        counts: dict[str, SessionCount] = {}
        for item in self.plan.items:
            if not item.in_treatment or item.cell_dose or item.of in (None, 1):
                continue
            count = counts.setdefault(item.activity_id, SessionCount(item.name))
            count.by_status[item.status.value] = count.by_status.get(item.status.value, 0) + 1
        return list(counts.values())

    @property
    def deviation_groups(self) -> list[DeviationGroup]:
        """Deviations of one kind for one activity together, critical ones first, then by date."""
        names = {item.activity_id: item.name for item in self.plan.items} if self.plan else {}
        groups: dict[tuple[Severity, DeviationKind, str | None], DeviationGroup] = {}
        for deviation in self.deviations:
            key = (deviation.severity, deviation.kind, deviation.activity_id)
            name = names.get(deviation.activity_id or "", "the program")
            groups.setdefault(
                key, DeviationGroup(deviation.severity, deviation.kind, name)
            ).deviations.append(deviation)
        critical_first = sorted(
            groups.values(), key=lambda group: group.severity is not Severity.CRITICAL
        )
        return critical_first

    @property
    def treatment_period(self) -> tuple[date, date] | None:
        """First to last day of the treatment program, for shading charts."""
        if self.plan is None:
            return None
        return self.plan.start_on, self.plan.treatment_end_on


def patient_overview(
    session: Session, patient_id: int, *, by: User, today: date
) -> PatientOverview:
    """The patient's page, if ``by`` may see the patient."""
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    enrollment = session.execute(
        sa.select(Enrollment)
        .where(Enrollment.patient_id == patient.id)
        .order_by(Enrollment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    plan = plan_for(session, enrollment) if enrollment is not None and enrollment.start_on else None
    return PatientOverview(
        patient=patient,
        summary=_summary(gather_facts(session, patient, on=today)),
        ratings=_all(session, AlsfrsRating, patient.id, AlsfrsRating.rated_on),
        enrollment=enrollment,
        plan=plan,
        deviations=find_deviations(plan, as_of=today) if plan else (),
        administrations=_all(session, Administration, patient.id, Administration.given_on),
        adverse_events=_all(session, AdverseEvent, patient.id, AdverseEvent.onset_on),
        history=_history(session, patient),
    )


def _summary(facts: PatientFacts) -> Summary:
    rating = facts.rating
    lp = facts.encals_lp
    items = rating.items() if rating else None
    return Summary(
        facts=facts,
        total=alsfrs.score(items).total if items else None,
        kings=str(staging.kings_stage(items)) if items else None,
        mitos=staging.mitos_stage(items) if items else None,
        encals_lp=lp,
        encals_median_months=encals.median_survival_months(lp) if lp is not None else None,
        months_since_onset=months_between(facts.diagnosis.onset_on, facts.on)
        if facts.diagnosis
        else None,
    )


def _all(
    session: Session, model: type[M], patient_id: int, column: sa.orm.InstrumentedAttribute[date]
) -> list[M]:
    statement = sa.select(model).where(model.patient_id == patient_id).order_by(column, model.id)
    return list(session.execute(statement).scalars())


def _history(session: Session, patient: Patient) -> list[AuditEvent]:
    """The patient's audit events, newest first: the patient row and every record naming the patient."""
    statement = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2000)
    mine = []
    for event in session.execute(statement).scalars():
        state = event.after or event.before or {}
        ours = (
            event.entity_type == "patients" and event.entity_id == str(patient.id)
        ) or state.get("patient_id") == patient.id
        if ours:
            mine.append(event)
    return mine[:200]
