"""Giving the program's treatments: cell doses with every safety block, and daily care.

Recording a cell dose is refused, with every rule broken listed, when: the two patient identifiers
checked at the bedside do not match; the unit is not released, expired, not dispensed to this
patient, or over its endotoxin limit (clinical.md §10); the dose is outside the protocol's
tolerance; a pre-puncture check is not met (clinical.md §9.1); the protocol's count of doses is
reached or the minimum interval since the last dose is not met; or a stopping rule is active.
A physician may override a block with a written reason, naming each rule overridden; the override is
kept on the record and audited. A wrong patient, another patient's unit and an active stopping rule
are never overridden here (a stopping rule is lifted by a physician's decision on the rule).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import dosing, isbt128
from alscell.domain.access import Action
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.product import CellProduct, endotoxin_limit_eu
from alscell.domain.protocol import Activity, ActivityKind, Protocol
from alscell.domain.safety import PrePunctureFacts, check_pre_puncture
from alscell.domain.scheduling import Done, ItemStatus, Plan
from alscell.errors import (
    Conflict,
    ContraindicationFound,
    InvalidInput,
    NotFound,
    Problem,
    ProductNotReleased,
    ProtocolViolation,
    SafetyCheckFailed,
)
from alscell.services import access, safety
from alscell.services.enrollment import plan_for, record_schedule_event
from alscell.services.facts import gather_facts, latest_lab
from alscell.services.paging import page
from alscell.services.protocols import protocol_of
from alscell.services.records import add_record, change_record, commit, load
from alscell.storage.models import (
    Administration,
    CustodyEvent,
    Enrollment,
    Patient,
    PatientIdentity,
    ProductUnit,
    User,
)
from alscell.storage.models.product import CustodyKind, UnitStatus

__all__ = ["Bedside", "Override", "list_administrations", "record_care", "record_cell_dose"]

NEVER_OVERRIDDEN = (
    "identity.mismatch",
    "unit.other_patient",
    "unit.administered",
    "stopping_rule.",
)
CARE_KINDS = (ActivityKind.IV_INFUSION, ActivityKind.MEDICATION, ActivityKind.REHABILITATION)


@dataclass(frozen=True, slots=True)
class Override:
    """A physician's written override of named safety rules for one dose."""

    rules: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Bedside:
    """What is checked at the bedside: two patient identifiers and the pre-puncture findings."""

    study_code: str
    birth_on: date
    pre_puncture: PrePunctureFacts


def record_cell_dose(
    session: Session, *, enrollment_id: int, unit_id: str, dose_cells: float, given_on: date, bedside: Bedside,
    activity_id: str | None = None, volume_ml: float | None = None, notes: str | None = None,
    override: Override | None = None, by: User, now: datetime,
) -> Administration:  # fmt: skip
    """Record a cell dose (lumbar puncture or other implantation) from a typed or scanned unit id.

    Raises
    ------
    ProductNotReleased, ContraindicationFound, ProtocolViolation
        Listing every rule broken (see the module docstring), unless a valid override covers them.
    InvalidInput
        For a malformed unit id (wrong check character) or an override without a reason.
    """
    enrollment, patient = _enrollment(session, enrollment_id, by, Action.RECORD_PUNCTURE)
    if override is not None:
        access.require(
            by, Action.OVERRIDE_SAFETY, site_id=patient.site_id, resource="a safety block"
        )
    if given_on > now.date():
        raise InvalidInput([Problem("given_on", f"{given_on} is in the future")], subject="dose")
    if patient.status is not PatientStatus.IN_TREATMENT:
        raise Conflict(f"patient {patient.study_code} is {patient.status}, not in treatment")
    protocol = protocol_of(session, enrollment.protocol_id)
    activity = _dose_activity(protocol, activity_id)
    unit = _unit(session, unit_id)
    plan = plan_for(session, enrollment)
    findings = list(
        _findings(
            session,
            protocol,
            enrollment,
            patient,
            unit,
            plan,
            activity,
            dose_cells,
            given_on,
            bedside,
        )
    )
    _enforce(findings, override)
    occurrence = _next_occurrence(plan, activity.id)
    dose = Administration(
        enrollment_id=enrollment.id, patient_id=patient.id, activity_id=activity.id, occurrence=occurrence,
        kind=activity.kind.value, given_on=given_on, product_unit_id=unit.id, dose_cells=dose_cells,
        volume_ml=volume_ml, performed_by_id=by.id, notes=notes,
        overridden_rules=list(override.rules) if override and findings else None,
        override_reason=override.reason if override and findings else None,
        override_by_id=by.id if override and findings else None,
    )  # fmt: skip
    action = "dose.recorded_with_override" if dose.overridden_rules else "dose.recorded"
    add_record(session, dose, by=by, action=action, now=now, reason=dose.override_reason)
    change_record(
        session,
        unit,
        {"status": UnitStatus.ADMINISTERED},
        by=by,
        action="unit.administered",
        now=now,
    )
    custody = CustodyEvent(
        unit_id=unit.id, kind=CustodyKind.ADMINISTERED, at=now, by_id=by.id, patient_id=patient.id
    )
    add_record(session, custody, by=by, action="custody.administered", now=now)
    record_schedule_event(
        session,
        enrollment,
        Done(activity.id, given_on, occurrence),
        by=by,
        now=now,
        administration_id=dose.id,
    )
    commit(session)
    return dose


def record_care(
    session: Session, *, enrollment_id: int, activity_id: str, given_on: date, drug: str | None = None,
    dose_text: str | None = None, duration_minutes: int | None = None, notes: str | None = None,
    by: User, now: datetime,
) -> Administration:  # fmt: skip
    """Record an IV infusion, a medication or a rehabilitation session of the protocol."""
    enrollment, patient = _enrollment(session, enrollment_id, by, Action.RECORD_CARE)
    protocol = protocol_of(session, enrollment.protocol_id)
    activity = next((a for a in protocol.activities() if a.id == activity_id), None)
    if activity is None or activity.kind not in CARE_KINDS:
        rule = f"must be an infusion, medication or rehabilitation activity of {protocol.id}, got {activity_id!r}"
        raise InvalidInput([Problem("activity_id", rule)], subject="care record")
    problems = (
        [Problem("given_on", f"{given_on} is in the future")] if given_on > now.date() else []
    )
    if duration_minutes is not None and not 1 <= duration_minutes <= 24 * 60:
        problems.append(Problem("duration_minutes", f"must be 1-1440, got {duration_minutes}"))
    if problems:
        raise InvalidInput(problems, subject="care record")
    record = Administration(
        enrollment_id=enrollment.id, patient_id=patient.id, activity_id=activity.id, kind=activity.kind.value,
        given_on=given_on, drug=drug, dose_text=dose_text, duration_minutes=duration_minutes,
        performed_by_id=by.id, notes=notes,
    )  # fmt: skip
    add_record(session, record, by=by, action=f"{activity.kind.value}.recorded", now=now)
    record_schedule_event(
        session,
        enrollment,
        Done(activity.id, given_on),
        by=by,
        now=now,
        administration_id=record.id,
    )
    commit(session)
    return record


def _findings(
    session: Session, protocol: Protocol, enrollment: Enrollment, patient: Patient, unit: ProductUnit, plan: Plan,
    activity: Activity, dose_cells: float, given_on: date, bedside: Bedside,
) -> Iterator[Problem]:  # fmt: skip
    identity = session.get(PatientIdentity, patient.id)
    if (
        bedside.study_code != patient.study_code
        or identity is None
        or bedside.birth_on != identity.birth_on
    ):
        yield Problem(
            "identity.mismatch",
            "the study code and birth date checked at the bedside do not match this patient",
        )
    if unit.status is UnitStatus.ADMINISTERED:
        yield Problem("unit.administered", f"{unit.din} has already been given")
    released = unit.status in (UnitStatus.RELEASED, UnitStatus.DISPENSED)
    facts = dosing.UnitFacts(
        unit.din, released, unit.expires_on, unit.assigned_patient_id, unit.cells
    )
    yield from dosing.unit_findings(facts, patient_id=patient.id, on=given_on)
    weight = gather_facts(session, patient, on=given_on).weight_kg
    product = protocol.product
    if product is not None:
        yield from _endotoxin(product, unit, weight)
        yield from dosing.dose_findings(product, cells=dose_cells, weight_kg=weight)
    yield from dosing.pre_procedure_findings(
        check_pre_puncture(protocol.safety, _bedside_facts(session, patient, given_on, bedside))
    )
    yield from _calendar(plan, activity, given_on)
    for rule in safety.active_stopping_rules(session, protocol_id=enrollment.protocol_id):
        yield Problem(
            f"stopping_rule.{rule.id}",
            f"{rule.description}: new doses are halted until a physician decides",
        )


def _endotoxin(product: CellProduct, unit: ProductUnit, weight: float | None) -> Iterator[Problem]:
    if unit.endotoxin_eu is None:
        return
    if weight is None:
        yield Problem(
            "unit.endotoxin_unchecked",
            "no weight on record to check the unit's endotoxin against its limit",
        )
        return
    limit = endotoxin_limit_eu(product.endotoxin_k_eu_per_kg, weight)
    if unit.endotoxin_eu > limit:
        yield Problem(
            "unit.endotoxin",
            f"{unit.endotoxin_eu:g} EU exceeds the {limit:g} EU limit for {weight:g} kg (USP <85>)",
        )


def _calendar(plan: Plan, activity: Activity, given_on: date) -> Iterator[Problem]:
    occurrences = plan.occurrences(activity.id)
    if not any(item.status is ItemStatus.PLANNED for item in occurrences):
        yield Problem(
            "dose.beyond_count",
            f"the protocol plans {activity.repeat.count} {activity.name}; all are recorded or skipped",
        )
    given = [item.actual_on for item in occurrences if item.actual_on is not None]
    if activity.min_interval_days is not None and given:
        gap = (given_on - max(given)).days
        if gap < activity.min_interval_days:
            yield Problem(
                "dose.interval",
                f"{gap} days since the last dose; the protocol's minimum is {activity.min_interval_days}",
            )


def _enforce(findings: list[Problem], override: Override | None) -> None:
    if not findings:
        if override is not None:
            raise InvalidInput(
                [Problem("override", "nothing to override: every check passed")], subject="override"
            )
        return
    hard = [f for f in findings if f.location.startswith(NEVER_OVERRIDDEN)]
    if override is None or hard:
        raise _error(findings, overridable=not hard)
    if not override.reason.strip():
        raise InvalidInput(
            [Problem("override.reason", "required: an override needs a written reason")],
            subject="override",
        )
    failed = {finding.location for finding in findings}
    missing, extra = failed - set(override.rules), set(override.rules) - failed
    if extra:
        raise InvalidInput(
            [Problem("override.rules", f"these rules did not fail: {', '.join(sorted(extra))}")],
            subject="override",
        )
    if missing:
        raise _error([f for f in findings if f.location in missing], overridable=True)


def _error(findings: list[Problem], *, overridable: bool) -> SafetyCheckFailed:
    kinds = {finding.location.split(".")[0] for finding in findings}
    if kinds & {"identity", "unit"}:
        return ProductNotReleased(findings, overridable=overridable)
    if "pre_puncture" in kinds:
        return ContraindicationFound(findings, overridable=overridable)
    return ProtocolViolation(findings, overridable=overridable)


def _bedside_facts(
    session: Session, patient: Patient, on: date, bedside: Bedside
) -> PrePunctureFacts:
    given = bedside.pre_puncture
    return PrePunctureFacts(
        platelets_10e9_per_l=given.platelets_10e9_per_l
        or latest_lab(session, patient.id, "platelets", on=on),
        inr=given.inr or latest_lab(session, patient.id, "inr", on=on),
        anticoagulants_reviewed=given.anticoagulants_reviewed,
        hours_since_last_dose=given.hours_since_last_dose,
        findings=given.findings,
    )


def _next_occurrence(plan: Plan, activity_id: str) -> int | None:
    planned = [
        item.occurrence
        for item in plan.occurrences(activity_id)
        if item.status is ItemStatus.PLANNED
    ]
    return min(planned) if planned else None


def _dose_activity(protocol: Protocol, activity_id: str | None) -> Activity:
    doses = [activity for activity in protocol.activities() if activity.cell_dose]
    chosen = [a for a in doses if activity_id in (None, a.id)]
    if len(chosen) != 1:
        names = ", ".join(a.id for a in doses) or "none"
        rule = (
            f"name the cell-dose activity of {protocol.id} ({names})"
            if activity_id is None or not chosen
            else ""
        )
        raise InvalidInput(
            [Problem("activity_id", rule or f"{activity_id} is not a cell dose of {protocol.id}")],
            subject="dose",
        )
    return chosen[0]


def _unit(session: Session, unit_id: str) -> ProductUnit:
    din = isbt128.parse_unit_id(unit_id, field="unit_id")
    unit = session.execute(
        sa.select(ProductUnit).where(ProductUnit.din == din)
    ).scalar_one_or_none()
    if unit is None:
        raise NotFound("product unit", din)
    return unit


def _enrollment(
    session: Session, enrollment_id: int, by: User, action: Action
) -> tuple[Enrollment, Patient]:
    enrollment = load(session, Enrollment, enrollment_id, kind="enrollment")
    patient = load(session, Patient, enrollment.patient_id, kind="patient")
    access.require(by, action, site_id=patient.site_id, resource=f"patient {patient.study_code}")
    return enrollment, patient


def list_administrations(
    session: Session, *, enrollment_id: int, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[Administration], int]:
    """An enrollment's cell doses and care, in the order given; and their total.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may see patients at the patient's site.
    """
    enrollment, _ = _enrollment(session, enrollment_id, by, Action.VIEW_PATIENT)
    statement = sa.select(Administration).where(Administration.enrollment_id == enrollment.id)
    return page(
        session, statement, Administration.given_on, Administration.id, limit=limit, offset=offset
    )
