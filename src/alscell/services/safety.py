"""Safety: adverse events with their reporting clocks, and the protocol's stopping rules.

A serious adverse event starts expedited-reporting clocks on Day 0, the day the sponsor knew of it
(clinical.md §9.4); the due dates are stored on the event and recomputed whenever its grade,
seriousness, expectedness or causality changes. Each report (sponsor, regulator, complete) is marked
sent on its own, so sending one never stops another's clock. A protocol's stopping rules halt new
doses program-wide until a physician records a decision (DESIGN.md, "Safety rules that block"); they
count events by the instant each was recorded or last changed, so an event entered late, or
regraded, after a decision still counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import adverse_events
from alscell.domain.access import Action
from alscell.domain.adverse_events import SUSPECTED, AdverseEventFacts, Causality
from alscell.domain.protocol import Protocol, Relatedness, StoppingRule
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.paging import page
from alscell.services.records import add_record, change_record, commit, load
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    Enrollment,
    Patient,
    ProtocolVersion,
    StoppingRuleDecision,
    User,
)
from alscell.storage.protocol_files import load_protocol

__all__ = [
    "DECISIONS",
    "SERIOUSNESS",
    "Report",
    "ReportingDue",
    "active_stopping_rules",
    "decide_stopping_rule",
    "get_adverse_event",
    "list_active_stopping_rules",
    "list_adverse_events",
    "mark_reported",
    "open_reporting_clocks",
    "record_adverse_event",
    "update_adverse_event",
]

SERIOUSNESS: Final = (
    "death",
    "life_threatening",
    "hospitalization",
    "disability",
    "congenital_anomaly",
    "other_important",
)
"""The seriousness criteria (ICH E2A); an event meeting any of them is serious."""

DECISIONS: Final = ("resume", "halt")
_FATAL: Final = frozenset({"death", "life_threatening"})
_MAX_TERM: Final = 200
_DUE_COLUMNS: Final = ("sponsor_due_on", "regulator_due_on", "complete_report_due_on")
_SENT_COLUMNS: Final = ("sponsor_reported_on", "regulator_reported_on", "complete_report_sent_on")


class Report(StrEnum):
    """An expedited report a serious adverse event may owe (clinical.md §9.4)."""

    SPONSOR = "sponsor"
    REGULATOR = "regulator"
    COMPLETE = "complete"


_REPORT_COLUMNS: Final = dict(
    zip(Report, zip(_DUE_COLUMNS, _SENT_COLUMNS, strict=True), strict=True)
)
"""Each report's (due date, sent date) columns."""
_REPORTS: Final = {report.value: report for report in Report}


@dataclass(frozen=True, slots=True)
class ReportingDue:
    """One report still owed for a serious adverse event; ``days_left`` < 0 means overdue."""

    adverse_event_id: int
    patient_id: int
    study_code: str
    term: str
    report: Report
    due_on: date
    days_left: int

    @property
    def overdue(self) -> bool:
        """Whether the due date has passed."""
        return self.days_left < 0


@dataclass(frozen=True, slots=True)
class _Assessment:
    """What a clinician states about an adverse event, validated as a whole."""

    term: str
    onset_on: date
    ctcae_grade: int
    serious: bool
    seriousness: tuple[str, ...]
    expected: bool
    causality_procedure: Causality
    causality_product: Causality
    causality_drug: Causality
    aware_on: date
    resolved_on: date | None = None

    @classmethod
    def of(cls, event: AdverseEvent) -> _Assessment:
        names = cls.__dataclass_fields__
        values = {name: getattr(event, name) for name in names if name != "seriousness"}
        return cls(seriousness=tuple(event.seriousness), **values)

    def problems(self, today: date) -> list[Problem]:
        found = list(self._grade_problems())
        found.extend(self._date_problems(today))
        if not self.term.strip() or len(self.term.strip()) > _MAX_TERM:
            found.append(Problem("term", f"must be 1-{_MAX_TERM} characters (a MedDRA term)"))
        return found

    def _grade_problems(self) -> Iterator[Problem]:
        if not 1 <= self.ctcae_grade <= 5:
            yield Problem("ctcae_grade", f"must be a CTCAE grade 1-5, got {self.ctcae_grade}")
        unknown = sorted(set(self.seriousness) - set(SERIOUSNESS))
        if unknown:
            known = ", ".join(SERIOUSNESS)
            yield Problem("seriousness", f"unknown {', '.join(unknown)}; choose from {known}")
        if self.serious != bool(self.seriousness):
            yield Problem(
                "serious",
                "must be true exactly when seriousness names a criterion; "
                "name the criteria met or mark the event not serious",
            )
        if self.ctcae_grade == 5 and "death" not in self.seriousness:
            yield Problem("seriousness", "a grade 5 event is a death: include 'death'")
        if "death" in self.seriousness and self.ctcae_grade != 5:
            yield Problem("ctcae_grade", "an event with 'death' in seriousness is grade 5")

    def _date_problems(self, today: date) -> Iterator[Problem]:
        if self.onset_on > today:
            yield Problem("onset_on", f"{self.onset_on} is in the future")
        if self.aware_on < self.onset_on:
            yield Problem("aware_on", f"{self.aware_on} is before the onset ({self.onset_on})")
        if self.aware_on > today:
            yield Problem("aware_on", f"{self.aware_on} is in the future")
        if self.resolved_on is not None and self.resolved_on < self.onset_on:
            yield Problem(
                "resolved_on", f"{self.resolved_on} is before the onset ({self.onset_on})"
            )
        if self.resolved_on is not None and self.resolved_on > today:
            yield Problem("resolved_on", f"{self.resolved_on} is in the future")

    def columns(self, *, sponsor_days: int) -> dict[str, Any]:
        """The event's columns, with the reporting clock's due dates (None when not serious)."""
        values: dict[str, Any] = {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name != "term"
        }
        values["term"] = self.term.strip()
        values["seriousness"] = [name for name in SERIOUSNESS if name in self.seriousness]
        values.update(dict.fromkeys(_DUE_COLUMNS))
        if self.serious:
            clock = adverse_events.reporting_clock(
                aware_on=self.aware_on,
                fatal_or_life_threatening=bool(_FATAL & set(self.seriousness)),
                unexpected=not self.expected,
                suspected=self.suspected,
                sponsor_days=sponsor_days,
            )
            values.update(
                sponsor_due_on=clock.sponsor_due_on,
                regulator_due_on=clock.regulator_due_on,
                complete_report_due_on=clock.complete_report_due_on,
            )
        return values

    @property
    def suspected(self) -> bool:
        causalities = (self.causality_procedure, self.causality_product, self.causality_drug)
        return any(causality in SUSPECTED for causality in causalities)


def record_adverse_event(
    session: Session, *, patient_id: int, term: str, onset_on: date, ctcae_grade: int,
    serious: bool, seriousness: Sequence[str], expected: bool, causality_procedure: Causality,
    causality_product: Causality, causality_drug: Causality, aware_on: date,
    enrollment_id: int | None = None, administration_id: int | None = None, by: User, now: datetime,
    sponsor_days: int = 1,
) -> AdverseEvent:  # fmt: skip
    """Record an adverse event; a serious one gets its reporting clock (clinical.md §9.4).

    ``aware_on`` is Day 0, the day the sponsor knew; the sponsor report is due ``sponsor_days``
    later.
    """
    patient = load(session, Patient, patient_id, kind="patient")
    _require_site(by, patient)
    assessment = _Assessment(
        term=term,
        onset_on=onset_on,
        ctcae_grade=ctcae_grade,
        serious=serious,
        seriousness=tuple(seriousness),
        expected=expected,
        causality_procedure=causality_procedure,
        causality_product=causality_product,
        causality_drug=causality_drug,
        aware_on=aware_on,
    )
    problems = assessment.problems(now.date())
    if sponsor_days < 0:
        problems.append(Problem("sponsor_days", f"must be 0 or more, got {sponsor_days}"))
    enrollment_id, link_problems = _links(session, patient, enrollment_id, administration_id)
    problems.extend(link_problems)
    if problems:
        raise InvalidInput(problems, subject="adverse event")
    event = AdverseEvent(
        patient_id=patient.id,
        enrollment_id=enrollment_id,
        administration_id=administration_id,
        recorded_by_id=by.id,
        recorded_at=now,
        **assessment.columns(sponsor_days=sponsor_days),
    )
    add_record(session, event, by=by, action="adverse_event.recorded", now=now)
    commit(session)
    return event


def _require_site(by: User, patient: Patient) -> None:
    """Adverse events are recorded by physicians and nurses at the patient's site."""
    resource = f"adverse events of patient {patient.study_code}"
    access.require(by, Action.RECORD_ADVERSE_EVENT, site_id=patient.site_id, resource=resource)


def _links(
    session: Session, patient: Patient, enrollment_id: int | None, administration_id: int | None
) -> tuple[int | None, list[Problem]]:
    """The event's enrollment (an administration's own when none is given), and any mismatch."""
    problems = []
    if administration_id is not None:
        administration = load(session, Administration, administration_id, kind="administration")
        if administration.patient_id != patient.id:
            problems.append(Problem("administration_id", "was given to another patient"))
        elif enrollment_id is None:
            enrollment_id = administration.enrollment_id
        elif administration.enrollment_id != enrollment_id:
            problems.append(Problem("administration_id", "belongs to another enrollment"))
    if enrollment_id is not None:
        enrollment = load(session, Enrollment, enrollment_id, kind="enrollment")
        if enrollment.patient_id != patient.id:
            problems.append(Problem("enrollment_id", "is another patient's enrollment"))
    return enrollment_id, problems


def update_adverse_event(
    session: Session, *, adverse_event_id: int, expected_version: int, by: User, now: datetime,
    reason: str | None = None, ctcae_grade: int | None = None, serious: bool | None = None,
    seriousness: Sequence[str] | None = None, expected: bool | None = None,
    causality_procedure: Causality | None = None, causality_product: Causality | None = None,
    causality_drug: Causality | None = None, aware_on: date | None = None,
    resolved_on: date | None = None, sponsor_days: int | None = None,
) -> AdverseEvent:  # fmt: skip
    """Change an event's grade, seriousness, expectedness, causality, Day 0 or resolution.

    Arguments left as None keep their value. The reporting clock is recomputed (``sponsor_days``
    defaults to the event's own); a change that makes a report due that the old clock did not owe
    reopens that report alone, and leaves the others' sent dates. A change to what stopping rules
    read (grade, seriousness, causality) moves the event's ``recorded_at`` to ``now``, so the rules
    count it again after their last decision; recording its resolution does not. A signed event
    changes only with a ``reason``.
    """
    event = load(session, AdverseEvent, adverse_event_id, kind="adverse event")
    _require_site(by, load(session, Patient, event.patient_id, kind="patient"))
    given: dict[str, Any] = {
        "ctcae_grade": ctcae_grade,
        "serious": serious,
        "expected": expected,
        "seriousness": None if seriousness is None else tuple(seriousness),
        "causality_procedure": causality_procedure,
        "causality_product": causality_product,
        "causality_drug": causality_drug,
        "aware_on": aware_on,
        "resolved_on": resolved_on,
    }
    changes = {name: value for name, value in given.items() if value is not None}
    if not changes:
        problem = Problem("changes", "name at least one field to change")
        raise InvalidInput([problem], subject="adverse event change")
    assessment = replace(_Assessment.of(event), **changes)
    problems = assessment.problems(now.date())
    if sponsor_days is not None and sponsor_days < 0:
        problems.append(Problem("sponsor_days", f"must be 0 or more, got {sponsor_days}"))
    if problems:
        raise InvalidInput(problems, subject="adverse event")
    columns = assessment.columns(sponsor_days=_sponsor_days(event, sponsor_days))
    columns.update(dict.fromkeys(_newly_due_sent_columns(event, columns)))
    if _rule_relevant(event, columns):
        columns["recorded_at"] = now  # stopping rules count the event again after their decision
    change_record(
        session,
        event,
        columns,
        by=by,
        action="adverse_event.changed",
        now=now,
        expected_version=expected_version,
        reason=reason,
    )
    commit(session)
    return event


_RULE_COLUMNS = (
    "ctcae_grade",
    "serious",
    "causality_procedure",
    "causality_product",
    "causality_drug",
)


def _rule_relevant(event: AdverseEvent, columns: dict[str, Any]) -> bool:
    """Whether the change touches what stopping rules read."""
    return any(name in columns and columns[name] != getattr(event, name) for name in _RULE_COLUMNS)


def _sponsor_days(event: AdverseEvent, given: int | None) -> int:
    if given is not None:
        return given
    if event.sponsor_due_on is not None:
        return (event.sponsor_due_on - event.aware_on).days
    return 1


def _newly_due_sent_columns(event: AdverseEvent, columns: dict[str, Any]) -> list[str]:
    """The sent columns to clear: reports the recomputed clock owes that the old clock did not."""
    return [
        sent
        for due, sent in _REPORT_COLUMNS.values()
        if getattr(event, due) is None
        and columns[due] is not None
        and getattr(event, sent) is not None
    ]


def mark_reported(
    session: Session, *, adverse_event_id: int, report: str, reported_on: date, by: User,
    now: datetime,
) -> AdverseEvent:  # fmt: skip
    """Mark one of a serious event's expedited reports as sent on ``reported_on``.

    ``report`` is "sponsor", "regulator" or "complete" (the complete report of a fatal or
    life-threatening SUSAR); only that report's clock stops, and only a report the event's clock
    owes can be marked, once. Marking changes no clinical content: the event's ``recorded_at`` stays,
    so stopping rules do not count it again.
    """
    event = load(session, AdverseEvent, adverse_event_id, kind="adverse event")
    _require_site(by, load(session, Patient, event.patient_id, kind="patient"))
    kind, problems = _report_problems(event, report, reported_on, now.date())
    if kind is None or problems:
        raise InvalidInput(problems, subject="report")
    sent_column = _REPORT_COLUMNS[kind][1]
    sent_on: date | None = getattr(event, sent_column)
    if sent_on is not None:
        raise Conflict(
            f"the {kind} report of adverse event {event.id} was already reported on {sent_on}; "
            "change the event if a follow-up report is due"
        )
    # Sending a report changes no clinical content, so a signed event needs no extra reason.
    change_record(
        session,
        event,
        {sent_column: reported_on},
        by=by,
        now=now,
        action="adverse_event.reported",
        reason=f"expedited {kind} report sent {reported_on}",
    )
    commit(session)
    return event


def _report_problems(
    event: AdverseEvent, report: str, reported_on: date, today: date
) -> tuple[Report | None, list[Problem]]:
    """The report named (None when unknown) and what is wrong with marking it sent."""
    problems = []
    kind = _REPORTS.get(report)
    if not event.serious:
        problems.append(Problem("adverse_event_id", "is not serious: no expedited report is due"))
    if kind is None:
        known = ", ".join(_REPORTS)
        problems.append(Problem("report", f"must be one of {known}, got {report!r}"))
    elif event.serious and getattr(event, _REPORT_COLUMNS[kind][0]) is None:
        problems.append(Problem("report", f"no {kind} report is due for this event"))
    if reported_on < event.aware_on:
        problems.append(Problem("reported_on", f"{reported_on} is before Day 0 ({event.aware_on})"))
    if reported_on > today:
        problems.append(Problem("reported_on", f"{reported_on} is in the future"))
    return kind, problems


def open_reporting_clocks(session: Session, *, today: date, by: User) -> list[ReportingDue]:
    """Reports still owed for serious events, each by its own sent date, soonest due first.

    Only events at sites ``by`` may see are listed.
    """
    access.require(by, Action.VIEW_PATIENT, resource="adverse event reporting clocks")
    statement = (
        sa.select(AdverseEvent, Patient.study_code)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(
            AdverseEvent.serious.is_(True),
            sa.or_(
                *(
                    sa.and_(
                        getattr(AdverseEvent, due).is_not(None),
                        getattr(AdverseEvent, sent).is_(None),
                    )
                    for due, sent in _REPORT_COLUMNS.values()
                )
            ),
        )
    )
    if not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    dues = [
        due
        for event, study_code in session.execute(statement)
        for due in _dues(event, study_code, today)
    ]
    order = list(Report)
    return sorted(dues, key=lambda due: (due.due_on, due.adverse_event_id, order.index(due.report)))


def _dues(event: AdverseEvent, study_code: str, today: date) -> Iterator[ReportingDue]:
    for report, (due, sent) in _REPORT_COLUMNS.items():
        due_on: date | None = getattr(event, due)
        if due_on is not None and getattr(event, sent) is None:
            yield ReportingDue(
                adverse_event_id=event.id,
                patient_id=event.patient_id,
                study_code=study_code,
                term=event.term,
                report=report,
                due_on=due_on,
                days_left=(due_on - today).days,
            )


def active_stopping_rules(session: Session, *, protocol_id: int) -> list[StoppingRule]:
    """The protocol's stopping rules now halting new doses, in the protocol's order.

    A rule counts the adverse events of the protocol's enrollments recorded (or last changed) after
    the instant the physician's last 'resume' decision on it was recorded, whatever their clinical
    dates; a rule whose latest decision is 'halt' stays active.
    """
    protocol = _protocol(session, protocol_id)
    events = [_facts(event) for event in _protocol_events(session, protocol_id)]
    latest = _latest_decisions(session, protocol_id)
    resumed = {
        rule_id: decision.decided_at
        for rule_id, decision in _latest_decisions(session, protocol_id, "resume").items()
    }
    triggered = adverse_events.active_stopping_rules(
        protocol.stopping_rules, events, decided_at=resumed
    )
    return [
        rule
        for rule in protocol.stopping_rules
        if rule in triggered or (rule.id in latest and latest[rule.id].decision == "halt")
    ]


def _protocol(session: Session, protocol_id: int) -> Protocol:
    version = load(session, ProtocolVersion, protocol_id, kind="protocol")
    return load_protocol(version.content, source=f"{version.key} {version.version}")


def _protocol_events(session: Session, protocol_id: int) -> Iterable[AdverseEvent]:
    """Events of the protocol's enrollments, and unlinked events of its enrolled patients."""
    enrollments = sa.select(Enrollment.id).where(Enrollment.protocol_id == protocol_id)
    patients = sa.select(Enrollment.patient_id).where(Enrollment.protocol_id == protocol_id)
    statement = sa.select(AdverseEvent).where(
        sa.or_(
            AdverseEvent.enrollment_id.in_(enrollments),
            sa.and_(AdverseEvent.enrollment_id.is_(None), AdverseEvent.patient_id.in_(patients)),
        )
    )
    return session.execute(statement).scalars()


def _facts(event: AdverseEvent) -> AdverseEventFacts:
    causality = {
        Relatedness.PROCEDURE: event.causality_procedure,
        Relatedness.PRODUCT: event.causality_product,
        Relatedness.DRUG: event.causality_drug,
    }
    return AdverseEventFacts(event.recorded_at, event.ctcae_grade, event.serious, causality)


def _latest_decisions(
    session: Session, protocol_id: int, decision: str | None = None
) -> dict[str, StoppingRuleDecision]:
    """The latest decision per rule (of one kind when ``decision`` is given).

    Ordered as recorded: a rule's decisions never go back in ``decided_on``, so a halt is never hidden
    behind a resume stored before it, whatever the clocks said.
    """
    statement = (
        sa.select(StoppingRuleDecision)
        .where(StoppingRuleDecision.protocol_id == protocol_id)
        .order_by(StoppingRuleDecision.decided_on, StoppingRuleDecision.id)
    )
    if decision is not None:
        statement = statement.where(StoppingRuleDecision.decision == decision)
    return {row.rule_id: row for row in session.execute(statement).scalars()}


def decide_stopping_rule(
    session: Session, *, protocol_id: int, rule_id: str, decision: str, reason: str,
    decided_on: date, by: User, now: datetime,
) -> StoppingRuleDecision:  # fmt: skip
    """A physician's decision on a stopping rule: 'resume' new doses, or 'halt' them.

    'resume' needs the rule to be halting doses now, and ``decided_on`` (the clinical date) on or
    after the Day 0 of the events that trigger it; the rule then counts only events recorded, or
    changed, after ``now``, the instant the decision is stored as ``decided_at``.
    """
    access.require(
        by, Action.DECIDE_STOPPING_RULE, resource=f"stopping rules of protocol {protocol_id}"
    )
    protocol = _protocol(session, protocol_id)
    latest = _latest_decisions(session, protocol_id).get(rule_id)
    problems = _decision_problems(protocol, rule_id, decision, reason, decided_on, now.date())
    if latest is not None and decided_on < latest.decided_on:
        problems.append(Problem("decided_on", f"is before the last decision ({latest.decided_on})"))
    if problems:
        raise InvalidInput(problems, subject="stopping-rule decision")
    if decision == "resume":
        _check_resume(session, protocol_id, rule_id, decided_on)
    record = StoppingRuleDecision(
        protocol_id=protocol_id,
        rule_id=rule_id,
        decided_on=decided_on,
        decided_at=now,
        decision=decision,
        reason=reason.strip(),
        decided_by_id=by.id,
    )
    add_record(
        session, record, by=by, action=f"stopping_rule.{decision}", now=now, reason=reason.strip()
    )
    commit(session)
    return record


def _check_resume(session: Session, protocol_id: int, rule_id: str, decided_on: date) -> None:
    """A resume must lift a rule that halts doses now, dated once its events were known.

    The date check is clinical: the events whose Day 0 (``aware_on``) falls after ``decided_on``
    must not trigger the rule by themselves.
    """
    halting = {rule.id: rule for rule in active_stopping_rules(session, protocol_id=protocol_id)}
    if rule_id not in halting:
        raise Conflict(f"stopping rule {rule_id} is not halting doses; there is nothing to resume")
    by_day_zero = [
        replace(_facts(event), known_at=_start_of(event.aware_on))
        for event in _protocol_events(session, protocol_id)
    ]
    if adverse_events.active_stopping_rules(
        [halting[rule_id]], by_day_zero, decided_at={rule_id: _start_of(decided_on)}
    ):
        rule = "is before events that trigger the rule were known; date the decision after them"
        raise InvalidInput([Problem("decided_on", rule)], subject="stopping-rule decision")


def _start_of(day: date) -> datetime:
    """Midnight UTC on ``day``: compares days as instants, so later days are later instants."""
    return datetime.combine(day, time(), tzinfo=UTC)


def _decision_problems(
    protocol: Protocol, rule_id: str, decision: str, reason: str, decided_on: date, today: date
) -> list[Problem]:
    problems = []
    rule_ids = [rule.id for rule in protocol.stopping_rules]
    if rule_id not in rule_ids:
        known = ", ".join(rule_ids) or "none"
        problems.append(
            Problem("rule_id", f"no rule {rule_id!r} in {protocol.id}; its rules: {known}")
        )
    if decision not in DECISIONS:
        problems.append(Problem("decision", f"must be resume or halt, got {decision!r}"))
    if not reason.strip():
        problems.append(Problem("reason", "required: say why doses resume or stay halted"))
    if decided_on > today:
        problems.append(Problem("decided_on", f"{decided_on} is in the future"))
    return problems


def get_adverse_event(session: Session, adverse_event_id: int, *, by: User) -> AdverseEvent:
    """An adverse event, if ``by`` may see patients at the patient's site."""
    event = load(session, AdverseEvent, adverse_event_id, kind="adverse event")
    patient = load(session, Patient, event.patient_id, kind="patient")
    resource = f"adverse events of patient {patient.study_code}"
    access.require(by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=resource)
    return event


def list_adverse_events(
    session: Session, *, patient_id: int, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[AdverseEvent], int]:
    """A patient's adverse events by onset, if ``by`` may see the patient; and their total."""
    patient = load(session, Patient, patient_id, kind="patient")
    resource = f"adverse events of patient {patient.study_code}"
    access.require(by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=resource)
    statement = sa.select(AdverseEvent).where(AdverseEvent.patient_id == patient.id)
    return page(
        session, statement, AdverseEvent.onset_on, AdverseEvent.id, limit=limit, offset=offset
    )


def list_active_stopping_rules(
    session: Session, *, protocol_id: int, by: User
) -> list[StoppingRule]:
    """The protocol's stopping rules now halting new doses (see :func:`active_stopping_rules`).

    Stopping rules act program-wide, so anyone who may see patients may see them.
    """
    access.require(by, Action.VIEW_PATIENT, resource=f"stopping rules of protocol {protocol_id}")
    return active_stopping_rules(session, protocol_id=protocol_id)
