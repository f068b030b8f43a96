"""The program: ResearchStudy (protocol version), ResearchSubject (enrollment), screening, the
calendar's events (Task) and the planned calendar (CarePlan, exported only: it is derived)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.researchstudy import ResearchStudy
from fhir.resources.R4B.researchsubject import ResearchSubject
from fhir.resources.R4B.task import Task

from alscell.domain.dataset import (
    EnrollmentRecord,
    PlannedActivityRecord,
    ScheduleEventRecord,
    ScreeningRecord,
)
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, Links
from alscell.interop.fhir.extensions import Spec, from_extensions, to_extensions

VERSION: Final = Spec("protocol_version", "protocol-version", "string", required=True)
SCREENING: Final = (Spec("criteria_json", "screening-criteria", "string", required=True),)
ENROLLMENT: Final = (
    Spec("start_on", "treatment-start-on", "date"),
    Spec("end_reason", "end-reason", "string"),
)
EVENT: Final = (Spec("occurrence", "occurrence", "integer"),)
PLANNED: Final = (
    Spec("occurrence", "occurrence", "integer"),
    Spec("kind", "activity-kind", "code"),
    Spec("planned_on", "planned-on", "date"),
    Spec("status", "planned-status", "code"),
    Spec("actual_on", "actual-on", "date"),
)
CARE_PLAN_STATUS: Final = {"done": "completed", "skipped": "cancelled", "cancelled": "cancelled",
                           "closed": "cancelled", "planned": "scheduled"}  # fmt: skip
"""Planned activity status -> CarePlan activity status (others: unknown)."""


# ---------------------------------------------------------------- export


def to_research_study(protocol_key: str, protocol_version: str) -> ResearchStudy:
    """A protocol version as a ResearchStudy: the key as identifier, the version as an extension."""
    return ResearchStudy(
        extension=[Extension(url=VERSION.url, valueString=protocol_version)],
        identifier=[Identifier(system=codes.PROTOCOL, value=protocol_key)],
        title=f"{protocol_key} {protocol_version}",
        status="active",
    )


def to_screening(screening: ScreeningRecord, links: Links) -> Observation:
    """A screening: outcome as the value, each criterion's finding (JSON) as an extension."""
    return Observation(
        extension=to_extensions(screening, SCREENING),
        status="final",
        code=codes.concept(codes.OBSERVATION, codes.SCREENING),
        subject=links.subject(screening.study_code),
        focus=[links.study(screening.protocol_key, screening.protocol_version)],
        effectiveDateTime=screening.screened_on,
        valueCodeableConcept=codes.concept(codes.SCREENING_OUTCOME, screening.outcome),
    )


def to_research_subject(enrollment: EnrollmentRecord, links: Links) -> ResearchSubject:
    """An enrollment: period from enrollment to end; status off-study once ended (derived)."""
    return ResearchSubject(
        extension=to_extensions(enrollment, ENROLLMENT),
        status="on-study" if enrollment.ended_on is None else "off-study",
        period=Period(start=enrollment.enrolled_on, end=enrollment.ended_on),
        study=links.study(enrollment.protocol_key, enrollment.protocol_version),
        individual=links.subject(enrollment.study_code),
    )


def to_task(event: ScheduleEventRecord, links: Links) -> Task:
    """A calendar event: the activity, done or skipped (business status) on a date, with a reason."""
    return Task(
        extension=to_extensions(event, EVENT),
        status="cancelled" if event.kind == "skipped" else "completed",
        intent="plan",
        businessStatus=codes.concept(codes.SCHEDULE_EVENT_KIND, event.kind),
        statusReason=None if event.reason is None else CodeableConcept(text=event.reason),
        code=codes.concept(codes.ACTIVITY, event.activity_id),
        focus=links.study(event.protocol_key, event.protocol_version),
        for_fhir=links.subject(event.study_code),
        executionPeriod=None if event.on is None else Period(start=event.on),
    )


def to_care_plan(planned: Sequence[PlannedActivityRecord], links: Links) -> CarePlan:
    """The planned calendar of one enrollment (all records share study code and protocol)."""
    first = planned[0]
    return CarePlan(
        extension=[
            Extension(
                url=codes.extension_url("protocol"),
                valueReference=links.study(first.protocol_key, first.protocol_version),
            )
        ],
        status="active",
        intent="plan",
        title=f"{first.protocol_key} {first.protocol_version} calendar",
        subject=links.subject(first.study_code),
        activity=[CarePlanActivity(detail=_activity(record)) for record in planned],
    )


def _activity(record: PlannedActivityRecord) -> CarePlanActivityDetail:
    return CarePlanActivityDetail(
        extension=to_extensions(record, PLANNED),
        code=codes.concept(codes.ACTIVITY, record.activity_id),
        status=CARE_PLAN_STATUS.get(record.status, "unknown"),
        scheduledPeriod=Period(start=record.earliest_on, end=record.latest_on),
        description=record.name,
    )


# ---------------------------------------------------------------- import


def study_key(resource: ResearchStudy, entry: Entry) -> tuple[str, str] | None:
    """Protocol key and version of a ResearchStudy."""
    keys = [i.value for i in resource.identifier or [] if i.system == codes.PROTOCOL and i.value]
    if not keys:
        entry.problem("identifier", f"needs an identifier of {codes.PROTOCOL}")
    values = from_extensions(resource.extension, (VERSION,), entry, path="extension")
    if not entry.ok:
        return None
    return str(keys[0]), str(values["protocol_version"])


def from_screening(resource: Observation, entry: Entry) -> ScreeningRecord | None:
    """The screening record of a screening Observation."""
    code = entry.study_code(resource.subject, "subject")
    study = entry.study(resource.focus[0] if resource.focus else None, "focus[0]")
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    outcome = codes.code_in(resource.valueCodeableConcept, codes.SCREENING_OUTCOME)
    if outcome is None:
        entry.problem("valueCodeableConcept", f"needs a code of {codes.SCREENING_OUTCOME}")
    values = from_extensions(resource.extension, SCREENING, entry, path="extension")
    if not entry.ok or code is None or study is None or on is None or outcome is None:
        return None
    return ScreeningRecord(
        study_code=code, protocol_key=study[0], protocol_version=study[1], screened_on=on,
        outcome=outcome, origin=entry.place, **values,
    )  # fmt: skip


def from_research_subject(resource: ResearchSubject, entry: Entry) -> EnrollmentRecord | None:
    """The enrollment record of a ResearchSubject."""
    code = entry.study_code(resource.individual, "individual")
    study = entry.study(resource.study, "study")
    period = resource.period
    enrolled = entry.date(period.start if period else None, "period.start")
    ended = entry.date(period.end if period else None, "period.end", required=False)
    values = from_extensions(resource.extension, ENROLLMENT, entry, path="extension")
    if not entry.ok or code is None or study is None or enrolled is None:
        return None
    return EnrollmentRecord(
        study_code=code, protocol_key=study[0], protocol_version=study[1], enrolled_on=enrolled,
        ended_on=ended, origin=entry.place, **values,
    )  # fmt: skip


def from_task(resource: Task, entry: Entry) -> ScheduleEventRecord | None:
    """The schedule event of a Task."""
    code = entry.study_code(resource.for_fhir, "for")
    study = entry.study(resource.focus, "focus")
    kind = codes.code_in(resource.businessStatus, codes.SCHEDULE_EVENT_KIND)
    if kind is None:
        entry.problem("businessStatus", f"needs a code of {codes.SCHEDULE_EVENT_KIND}")
    activity = codes.code_in(resource.code, codes.ACTIVITY)
    if activity is None:
        entry.problem("code", f"needs a code of {codes.ACTIVITY}")
    period = resource.executionPeriod
    on = entry.date(period.start if period else None, "executionPeriod.start", required=False)
    reason = resource.statusReason.text if resource.statusReason else None
    values = from_extensions(resource.extension, EVENT, entry, path="extension")
    if not entry.ok or code is None or study is None or kind is None or activity is None:
        return None
    return ScheduleEventRecord(
        study_code=code, protocol_key=study[0], protocol_version=study[1], activity_id=activity,
        kind=kind, on=on, reason=reason, origin=entry.place, **values,
    )  # fmt: skip
