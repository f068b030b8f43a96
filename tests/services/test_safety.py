"""Adverse events, reporting clocks and stopping rules (services/safety.py; clinical.md §9.3, §9.4)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from hashlib import sha256
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alscell.services import records, safety
from alscell.services.audit import verify_trail
from alscell.services.safety import Report
from alscell.storage.base import Base
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AuditEvent,
    Enrollment,
    Patient,
    ProtocolVersion,
    Site,
    StoppingRuleDecision,
    User,
)
from alscell.storage.protocol_files import builtin_protocol_path
from tests.factories import make_admin, make_patient, make_site, make_user

C = Causality
LATER = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)  # after the worked examples' Day 0 (2026-01-10)


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def site_of(session: Session, patient: Patient) -> Site:
    site = session.get(Site, patient.site_id)
    assert site is not None
    return site


def add_protocol(session: Session, now: datetime, *, version: str = "1.0") -> ProtocolVersion:
    """The built-in seed protocol as a stored version (the loading service is not this module's)."""
    text = builtin_protocol_path().read_text(encoding="utf-8")
    admin = make_admin(session)
    row = ProtocolVersion(
        key="als-nsc-4lp", version=version, title="ALS NSC 4 LP", content=text,
        content_sha256=sha256(text.encode()).hexdigest(), loaded_at=now, loaded_by_id=admin.id,
    )  # fmt: skip
    records.add_record(session, row, by=admin, action="protocol.loaded", now=now)
    records.commit(session)
    return row


def enroll(
    session: Session, patient: Patient, protocol: ProtocolVersion, now: datetime
) -> Enrollment:
    row = Enrollment(patient_id=patient.id, protocol_id=protocol.id, enrolled_on=date(2026, 1, 2))
    records.add_record(session, row, by=make_admin(session), action="enrollment.created", now=now)
    records.commit(session)
    return row


def record(
    session: Session, patient: Patient, by: User, now: datetime, **changes: Any
) -> AdverseEvent:
    """A mild, expected post-puncture headache unless ``changes`` say otherwise."""
    fields: dict[str, Any] = {
        "term": "Post lumbar puncture headache", "onset_on": date(2026, 1, 3), "ctcae_grade": 2,
        "serious": False, "seriousness": (), "expected": True, "causality_procedure": C.PROBABLE,
        "causality_product": C.UNLIKELY, "causality_drug": C.UNRELATED, "aware_on": date(2026, 1, 4),
    } | changes  # fmt: skip
    return safety.record_adverse_event(session, patient_id=patient.id, by=by, now=now, **fields)


@pytest.fixture(autouse=True)
def trail_stays_intact(session):
    """After every test, successful or refused calls alike, the audit trail explains every row."""
    yield
    assert verify_trail(session) == []


@pytest.fixture
def site(session):
    return make_site(session)


@pytest.fixture
def doctor(session, site):
    return make_user(session, Role.PHYSICIAN, site=site)


@pytest.fixture
def patient(session, site):
    return make_patient(session, site=site)


# ---------------------------------------------------------------- recording


def test_a_mild_event_is_recorded_without_a_clock(session, now, doctor, patient):
    event = record(session, patient, doctor, now, term="  Headache ")

    assert (event.term, event.ctcae_grade, event.serious, event.seriousness) == (
        "Headache",
        2,
        False,
        [],
    )
    assert (event.sponsor_due_on, event.regulator_due_on, event.complete_report_due_on) == (
        None,
        None,
        None,
    )
    assert (event.recorded_by_id, event.recorded_at) == (doctor.id, now)
    assert (event.sponsor_reported_on, event.regulator_reported_on) == (None, None)
    assert event.complete_report_sent_on is None
    assert verify_trail(session) == []


def test_nurses_record_adverse_events_too(session, now, site, patient):
    nurse = make_user(session, Role.NURSE, site=site)

    assert record(session, patient, nurse, now).recorded_by_id == nurse.id
    assert verify_trail(session) == []


# Day 0 = 2026-01-10 throughout; due dates worked by hand from clinical.md §9.4.
SUSPECTED_PRODUCT = {"causality_product": C.POSSIBLE}
CLOCKS = {
    "fatal unexpected suspected: 7 days, complete report 7 + 8": (
        {"ctcae_grade": 5, "seriousness": ["death"], "expected": False} | SUSPECTED_PRODUCT,
        (date(2026, 1, 11), date(2026, 1, 17), date(2026, 1, 25)),
    ),
    "life-threatening unexpected suspected: as fatal": (
        {
            "ctcae_grade": 4,
            "seriousness": ["life_threatening", "hospitalization"],
            "expected": False,
        },
        (date(2026, 1, 11), date(2026, 1, 17), date(2026, 1, 25)),
    ),
    "non-fatal SUSAR: 15 days": (
        {"ctcae_grade": 3, "seriousness": ["hospitalization"], "expected": False},
        (date(2026, 1, 11), date(2026, 1, 25), None),
    ),
    "SUSAR suspected of the drug only": (
        {
            "ctcae_grade": 3,
            "seriousness": ["other_important"],
            "expected": False,
            "causality_procedure": C.UNLIKELY,
            "causality_drug": C.DEFINITE,
        },
        (date(2026, 1, 11), date(2026, 1, 25), None),
    ),
    "serious but expected: sponsor only": (
        {"ctcae_grade": 5, "seriousness": ["death"], "expected": True},
        (date(2026, 1, 11), None, None),
    ),
    "serious, unexpected, not suspected: sponsor only": (
        {
            "ctcae_grade": 4,
            "seriousness": ["life_threatening"],
            "expected": False,
            "causality_procedure": C.UNLIKELY,
        },
        (date(2026, 1, 11), None, None),
    ),
}


@pytest.mark.parametrize(("changes", "due"), CLOCKS.values(), ids=CLOCKS.keys())
def test_serious_events_get_their_reporting_clock(session, doctor, patient, changes, due):
    event = record(
        session, patient, doctor, LATER, serious=True, onset_on=date(2026, 1, 9),
        aware_on=date(2026, 1, 10), **changes,
    )  # fmt: skip

    assert (event.sponsor_due_on, event.regulator_due_on, event.complete_report_due_on) == due
    assert verify_trail(session) == []


def test_the_sponsor_deadline_is_an_argument(session, doctor, patient):
    event = record(
        session, patient, doctor, LATER, serious=True, ctcae_grade=3, seriousness=["hospitalization"],
        aware_on=date(2026, 1, 10), sponsor_days=0,
    )  # fmt: skip

    assert event.sponsor_due_on == date(2026, 1, 10)


def test_seriousness_is_stored_once_each_in_a_fixed_order(session, now, doctor, patient):
    event = record(
        session, patient, doctor, now, serious=True, ctcae_grade=4,
        seriousness=["hospitalization", "life_threatening", "hospitalization"],
    )  # fmt: skip

    assert event.seriousness == ["life_threatening", "hospitalization"]


INVALID = {
    "grade 0": ({"ctcae_grade": 0}, "ctcae_grade"),
    "grade 6": ({"ctcae_grade": 6}, "ctcae_grade"),
    "serious without criteria": ({"serious": True}, "serious"),
    "criteria but not serious": ({"seriousness": ["hospitalization"]}, "serious"),
    "unknown criterion": ({"serious": True, "seriousness": ["scary"]}, "seriousness"),
    "grade 5 without death": (
        {"ctcae_grade": 5, "serious": True, "seriousness": ["hospitalization"]},
        "seriousness",
    ),
    "death below grade 5": (
        {"ctcae_grade": 4, "serious": True, "seriousness": ["death"]},
        "ctcae_grade",
    ),
    "aware before onset": ({"aware_on": date(2026, 1, 2)}, "aware_on"),
    "aware in the future": ({"aware_on": date(2026, 1, 6)}, "aware_on"),
    "onset in the future": (
        {"onset_on": date(2026, 1, 6), "aware_on": date(2026, 1, 6)},
        "onset_on",
    ),
    "empty term": ({"term": "  "}, "term"),
    "negative sponsor days": ({"sponsor_days": -1}, "sponsor_days"),
}


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_events_name_the_field_and_leave_nothing_behind(
    session, now, doctor, patient, changes, field
):
    before = (count(session, AdverseEvent), count(session, AuditEvent))

    with pytest.raises(InvalidInput) as caught:
        record(session, patient, doctor, now, **changes)

    assert field in [problem.location for problem in caught.value.problems]
    assert (count(session, AdverseEvent), count(session, AuditEvent)) == before


def test_every_problem_is_listed_at_once(session, now, doctor, patient):
    with pytest.raises(InvalidInput) as caught:
        record(
            session,
            patient,
            doctor,
            now,
            ctcae_grade=7,
            onset_on=date(2026, 2, 1),
            aware_on=date(2026, 1, 1),
            term="",
        )

    locations = sorted(problem.location for problem in caught.value.problems)
    assert locations == ["aware_on", "ctcae_grade", "onset_on", "term"]


def test_links_must_be_the_patients_own(session, now, doctor, patient, site):
    protocol = add_protocol(session, now)
    other = enroll(session, make_patient(session, site=site), protocol, now)

    with pytest.raises(InvalidInput, match="enrollment_id: is another patient's enrollment"):
        record(session, patient, doctor, now, enrollment_id=other.id)
    with pytest.raises(NotFound, match="administration 999"):
        record(session, patient, doctor, now, administration_id=999)


def administer(session: Session, enrollment: Enrollment, by: User, now: datetime) -> Administration:
    """A stored dose (the dosing service is not this module's)."""
    row = Administration(
        enrollment_id=enrollment.id, patient_id=enrollment.patient_id, activity_id="implantation",
        occurrence=1, kind="implantation", given_on=date(2026, 1, 3), performed_by_id=by.id,
    )  # fmt: skip
    records.add_record(session, row, by=by, action="implantation.recorded", now=now)
    records.commit(session)
    return row


def test_an_event_after_a_dose_takes_the_doses_enrollment(session, now, doctor, patient, site):
    protocol = add_protocol(session, now)
    enrollment = enroll(session, patient, protocol, now)
    dose = administer(session, enrollment, doctor, now)
    others = administer(
        session, enroll(session, make_patient(session, site=site), protocol, now), doctor, now
    )
    second = enroll(session, patient, add_protocol(session, now, version="2.0"), now)

    event = record(session, patient, doctor, now, administration_id=dose.id)

    assert (event.administration_id, event.enrollment_id) == (dose.id, enrollment.id)
    both = record(
        session, patient, doctor, now, administration_id=dose.id, enrollment_id=enrollment.id
    )
    assert both.enrollment_id == enrollment.id
    with pytest.raises(InvalidInput, match="administration_id: was given to another patient"):
        record(session, patient, doctor, now, administration_id=others.id)
    with pytest.raises(InvalidInput, match="administration_id: belongs to another enrollment"):
        record(session, patient, doctor, now, administration_id=dose.id, enrollment_id=second.id)
    assert count(session, AdverseEvent) == 2


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.CELL_LAB, Role.MONITOR])
def test_only_physicians_and_nurses_record_events(session, now, site, patient, role):
    user = make_user(session, role, site=site if role is not Role.MONITOR else None)

    with pytest.raises(PermissionDenied):
        record(session, patient, user, now)
    assert count(session, AdverseEvent) == 0


def test_a_physician_of_another_site_is_refused(session, now, patient):
    stranger = make_user(session, Role.PHYSICIAN)  # at a new site

    with pytest.raises(PermissionDenied, match="at another site"):
        record(session, patient, stranger, now)
    assert count(session, AdverseEvent) == 0


# ---------------------------------------------------------------- changes and reports


def test_an_upgrade_recomputes_the_clock(session, doctor, patient):
    event = record(
        session, patient, doctor, LATER, aware_on=date(2026, 1, 10), onset_on=date(2026, 1, 10)
    )
    later_still = datetime(2026, 1, 21, 14, 0, tzinfo=UTC)

    changed = safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=event.version, by=doctor, now=later_still,
        ctcae_grade=3, serious=True, seriousness=["hospitalization"], expected=False,
        resolved_on=date(2026, 1, 15),
    )  # fmt: skip

    assert (changed.ctcae_grade, changed.version, changed.resolved_on) == (3, 2, date(2026, 1, 15))
    assert changed.recorded_at == later_still  # stopping rules count it from its last change
    assert (changed.sponsor_due_on, changed.regulator_due_on) == (
        date(2026, 1, 11),
        date(2026, 1, 25),
    )
    assert verify_trail(session) == []


def test_a_downgrade_to_not_suspected_drops_the_regulator_clock(session, doctor, patient):
    event = record(
        session, patient, doctor, LATER, serious=True, ctcae_grade=3, seriousness=["hospitalization"],
        expected=False, aware_on=date(2026, 1, 10), sponsor_days=2,
    )  # fmt: skip

    changed = safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=1, by=doctor, now=LATER,
        causality_procedure=C.UNRELATED,
    )  # fmt: skip

    assert (changed.sponsor_due_on, changed.regulator_due_on) == (date(2026, 1, 12), None)


def test_a_stale_update_is_a_conflict(session, now, doctor, patient):
    event = record(session, patient, doctor, now)
    safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=1, by=doctor, now=now, ctcae_grade=1
    )

    with pytest.raises(Conflict, match="changed since it was read"):
        safety.update_adverse_event(
            session,
            adverse_event_id=event.id,
            expected_version=1,
            by=doctor,
            now=now,
            ctcae_grade=3,
        )
    assert event.ctcae_grade == 1


def test_an_update_is_validated_as_a_whole(session, now, doctor, patient):
    event = record(session, patient, doctor, now)

    with pytest.raises(InvalidInput) as caught:
        safety.update_adverse_event(
            session, adverse_event_id=event.id, expected_version=1, by=doctor, now=now,
            ctcae_grade=5, resolved_on=date(2026, 1, 1),
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="changes: name at least one field"):
        safety.update_adverse_event(
            session, adverse_event_id=event.id, expected_version=1, by=doctor, now=now
        )

    assert sorted(p.location for p in caught.value.problems) == ["resolved_on", "seriousness"]
    with pytest.raises(InvalidInput) as caught:
        safety.update_adverse_event(
            session, adverse_event_id=event.id, expected_version=1, by=doctor, now=now,
            resolved_on=date(2026, 1, 6), sponsor_days=-1,
        )  # fmt: skip
    assert sorted(p.location for p in caught.value.problems) == ["resolved_on", "sponsor_days"]
    assert (event.version, event.ctcae_grade, event.recorded_at) == (1, 2, now)


def test_an_update_may_set_a_new_sponsor_deadline(session, doctor, patient):
    event = record(session, patient, doctor, LATER, **SAE_3)

    safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=1, by=doctor, now=LATER,
        sponsor_days=3, resolved_on=date(2026, 1, 18),
    )  # fmt: skip

    assert (event.sponsor_due_on, event.resolved_on) == (date(2026, 1, 13), date(2026, 1, 18))


def test_a_signed_event_changes_only_with_a_reason(session, now, doctor, patient):
    event = record(session, patient, doctor, now)
    records.change_record(
        session,
        event,
        {"signed_by_id": doctor.id, "signed_at": now},
        by=doctor,
        action="adverse_event.signed",
        now=now,
    )
    records.commit(session)

    with pytest.raises(InvalidInput, match="reason: required"):
        safety.update_adverse_event(
            session,
            adverse_event_id=event.id,
            expected_version=2,
            by=doctor,
            now=now,
            ctcae_grade=3,
        )
    changed = safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=2, by=doctor, now=now, ctcae_grade=3,
        reason="pain needed an epidural blood patch",
    )  # fmt: skip

    assert changed.ctcae_grade == 3
    assert verify_trail(session) == []


def mark(
    session: Session, event: AdverseEvent, report: str, reported_on: date, by: User, now: datetime
) -> AdverseEvent:
    return safety.mark_reported(
        session, adverse_event_id=event.id, report=report, reported_on=reported_on, by=by, now=now
    )


def sent(event: AdverseEvent) -> tuple[date | None, date | None, date | None]:
    return (event.sponsor_reported_on, event.regulator_reported_on, event.complete_report_sent_on)


FATAL_SUSAR = {
    "serious": True, "ctcae_grade": 5, "seriousness": ["death"], "expected": False,
    "onset_on": date(2026, 1, 9), "aware_on": date(2026, 1, 10),
}  # fmt: skip
SAE_3 = {
    "serious": True,
    "ctcae_grade": 3,
    "seriousness": ["hospitalization"],
    "aware_on": date(2026, 1, 10),
}


def test_marking_a_report_stops_its_own_clock_once(session, doctor, patient):
    event = record(session, patient, doctor, LATER, **SAE_3)

    mark(session, event, "sponsor", date(2026, 1, 11), doctor, LATER)

    assert sent(event) == (date(2026, 1, 11), None, None)
    assert verify_trail(session) == []
    with pytest.raises(
        Conflict,
        match=f"sponsor report of adverse event {event.id} was already reported on 2026-01-11",
    ):
        mark(session, event, "sponsor", date(2026, 1, 12), doctor, LATER)
    assert sent(event) == (date(2026, 1, 11), None, None)


def test_a_fatal_susars_complete_report_stays_due_after_the_7_day_report(session, doctor, patient):
    # Day 0 = 2026-01-10: sponsor by 01-11, regulator by 01-17, complete report by 01-25.
    event = record(session, patient, doctor, LATER, **FATAL_SUSAR)

    mark(session, event, Report.REGULATOR, date(2026, 1, 16), doctor, LATER)

    assert sent(event) == (None, date(2026, 1, 16), None)
    dues = safety.open_reporting_clocks(session, today=date(2026, 1, 18), by=doctor)
    assert [(d.report, d.due_on, d.days_left) for d in dues] == [
        (Report.SPONSOR, date(2026, 1, 11), -7),
        (Report.COMPLETE, date(2026, 1, 25), 7),
    ]

    mark(session, event, "sponsor", date(2026, 1, 10), doctor, LATER)
    assert [
        d.report for d in safety.open_reporting_clocks(session, today=LATER.date(), by=doctor)
    ] == [Report.COMPLETE]
    mark(session, event, "complete", date(2026, 1, 20), doctor, LATER)

    assert sent(event) == (date(2026, 1, 10), date(2026, 1, 16), date(2026, 1, 20))
    assert safety.open_reporting_clocks(session, today=LATER.date(), by=doctor) == []
    assert verify_trail(session) == []


def test_marking_a_report_does_not_move_when_the_event_was_recorded(session, now, doctor, patient):
    event = record(session, patient, doctor, now, **SAE_3 | {"aware_on": date(2026, 1, 4)})

    mark(session, event, "sponsor", date(2026, 1, 5), doctor, LATER)

    assert event.recorded_at == now  # the clinical content did not change


def test_a_report_must_be_known_due_and_dated_sensibly(session, doctor, patient):
    mild = record(session, patient, doctor, LATER)
    serious = record(session, patient, doctor, LATER, **SAE_3)  # expected: no regulator report

    with pytest.raises(InvalidInput) as caught:
        mark(session, mild, "sponsor", date(2026, 1, 11), doctor, LATER)
    assert [(p.location, p.message) for p in caught.value.problems] == [
        ("adverse_event_id", "is not serious: no expedited report is due")
    ]
    with pytest.raises(
        InvalidInput,
        match="report: must be one of sponsor, regulator, complete, got 'complete_report'",
    ):
        mark(session, serious, "complete_report", date(2026, 1, 11), doctor, LATER)
    with pytest.raises(InvalidInput, match="report: no regulator report is due for this event"):
        mark(session, serious, "regulator", date(2026, 1, 11), doctor, LATER)
    with pytest.raises(InvalidInput, match="report: no complete report is due for this event"):
        mark(session, serious, "complete", date(2026, 1, 11), doctor, LATER)
    with pytest.raises(InvalidInput, match="reported_on: 2026-01-09 is before Day 0"):
        mark(session, serious, "sponsor", date(2026, 1, 9), doctor, LATER)
    with pytest.raises(InvalidInput, match="reported_on: 2026-01-21 is in the future"):
        mark(session, serious, "sponsor", date(2026, 1, 21), doctor, LATER)
    with pytest.raises(InvalidInput) as caught:
        mark(session, serious, "dsmb", date(2026, 1, 9), doctor, LATER)

    assert sorted(p.location for p in caught.value.problems) == ["report", "reported_on"]
    assert sent(serious) == (None, None, None)
    assert (mild.version, serious.version) == (1, 1)


def test_a_change_that_makes_a_new_report_due_reopens_only_that_report(session, doctor, patient):
    event = record(session, patient, doctor, LATER, **SAE_3)
    mark(session, event, "sponsor", date(2026, 1, 11), doctor, LATER)

    safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=2, by=doctor, now=LATER, expected=False
    )

    assert (event.regulator_due_on, sent(event)) == (
        date(2026, 1, 25),
        (date(2026, 1, 11), None, None),
    )
    assert [
        d.report for d in safety.open_reporting_clocks(session, today=LATER.date(), by=doctor)
    ] == [Report.REGULATOR]


def test_a_report_due_again_is_reopened_and_the_others_stay_sent(session, doctor, patient):
    event = record(session, patient, doctor, LATER, **SAE_3, expected=False)  # a 15-day SUSAR
    mark(session, event, "sponsor", date(2026, 1, 11), doctor, LATER)
    mark(session, event, "regulator", date(2026, 1, 20), doctor, LATER)

    update = {"adverse_event_id": event.id, "by": doctor, "now": LATER}
    safety.update_adverse_event(
        session, expected_version=3, **update, causality_procedure=C.UNLIKELY
    )
    assert (event.regulator_due_on, sent(event)) == (
        None,
        (date(2026, 1, 11), date(2026, 1, 20), None),
    )
    safety.update_adverse_event(
        session, expected_version=4, **update, causality_procedure=C.PROBABLE
    )

    assert (event.regulator_due_on, sent(event)) == (
        date(2026, 1, 25),
        (date(2026, 1, 11), None, None),
    )
    assert verify_trail(session) == []


def test_becoming_life_threatening_adds_a_complete_report_and_keeps_the_sent_ones(
    session, doctor, patient
):
    event = record(session, patient, doctor, LATER, **SAE_3, expected=False)
    mark(session, event, "sponsor", date(2026, 1, 11), doctor, LATER)
    mark(session, event, "regulator", date(2026, 1, 15), doctor, LATER)

    safety.update_adverse_event(
        session, adverse_event_id=event.id, expected_version=3, by=doctor, now=LATER,
        ctcae_grade=4, seriousness=["life_threatening", "hospitalization"],
    )  # fmt: skip

    assert (event.regulator_due_on, event.complete_report_due_on) == (
        date(2026, 1, 17),
        date(2026, 1, 25),
    )
    assert sent(event) == (date(2026, 1, 11), date(2026, 1, 15), None)
    dues = safety.open_reporting_clocks(session, today=LATER.date(), by=doctor)
    assert [(d.report, d.due_on) for d in dues] == [(Report.COMPLETE, date(2026, 1, 25))]


def test_a_nurse_elsewhere_cannot_mark_a_report(session, doctor, patient):
    event = record(session, patient, doctor, LATER, **SAE_3)
    stranger = make_user(session, Role.NURSE)

    with pytest.raises(PermissionDenied):
        mark(session, event, "sponsor", date(2026, 1, 11), stranger, LATER)
    with pytest.raises(PermissionDenied):
        safety.update_adverse_event(
            session,
            adverse_event_id=event.id,
            expected_version=1,
            by=stranger,
            now=LATER,
            ctcae_grade=4,
        )
    assert (sent(event), event.version) == ((None, None, None), 1)


# ---------------------------------------------------------------- open clocks


def test_open_clocks_are_sorted_by_due_date_with_days_left(session, doctor, patient):
    sae = {"serious": True, "ctcae_grade": 3, "seriousness": ["hospitalization"]}
    susar = record(
        session, patient, doctor, LATER, **sae, expected=False, aware_on=date(2026, 1, 10)
    )
    fatal = record(
        session, patient, doctor, LATER, serious=True, ctcae_grade=5, seriousness=["death"], expected=False,
        onset_on=date(2026, 1, 14), aware_on=date(2026, 1, 14),
    )  # fmt: skip
    reported = record(session, patient, doctor, LATER, **sae, aware_on=date(2026, 1, 12))
    mark(session, reported, "sponsor", date(2026, 1, 12), doctor, LATER)
    record(session, patient, doctor, LATER)  # not serious: no clock
    elsewhere = make_patient(session)
    there = make_user(session, Role.PHYSICIAN, site=site_of(session, elsewhere))
    record(session, elsewhere, there, LATER, **sae, aware_on=date(2026, 1, 11))

    dues = safety.open_reporting_clocks(session, today=date(2026, 1, 16), by=doctor)

    assert [(d.adverse_event_id, d.report, d.due_on, d.days_left) for d in dues] == [
        (susar.id, Report.SPONSOR, date(2026, 1, 11), -5),
        (fatal.id, Report.SPONSOR, date(2026, 1, 15), -1),
        (fatal.id, Report.REGULATOR, date(2026, 1, 21), 5),
        (susar.id, Report.REGULATOR, date(2026, 1, 25), 9),
        (fatal.id, Report.COMPLETE, date(2026, 1, 29), 13),
    ]
    assert dues[0].overdue
    assert not dues[2].overdue
    assert {d.study_code for d in dues} == {patient.study_code}


def test_monitors_see_clocks_at_every_site_and_analysts_none(session, doctor, patient):
    record(
        session,
        patient,
        doctor,
        LATER,
        serious=True,
        ctcae_grade=3,
        seriousness=["hospitalization"],
        aware_on=date(2026, 1, 10),
    )
    elsewhere = make_patient(session)
    there = make_user(session, Role.PHYSICIAN, site=site_of(session, elsewhere))
    record(
        session,
        elsewhere,
        there,
        LATER,
        serious=True,
        ctcae_grade=3,
        seriousness=["hospitalization"],
        aware_on=date(2026, 1, 10),
    )

    monitor = make_user(session, Role.MONITOR)
    dues = safety.open_reporting_clocks(session, today=date(2026, 1, 16), by=monitor)

    assert {d.patient_id for d in dues} == {patient.id, elsewhere.id}
    assert {
        d.patient_id
        for d in safety.open_reporting_clocks(session, today=date(2026, 1, 16), by=there)
    } == {elsewhere.id}
    with pytest.raises(PermissionDenied):
        safety.open_reporting_clocks(
            session, today=date(2026, 1, 16), by=make_user(session, Role.ANALYST)
        )


# ---------------------------------------------------------------- stopping rules

GRADE_4 = {
    "ctcae_grade": 4,
    "serious": True,
    "seriousness": ["life_threatening"],
    "expected": False,
}
SERIOUS_3 = {"ctcae_grade": 3, "serious": True, "seriousness": ["hospitalization"]}
UNRELATED = {
    "causality_procedure": C.UNRELATED,
    "causality_product": C.UNLIKELY,
    "causality_drug": C.DEFINITE,
}
DAY_AFTER = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def program(session, now, patient):
    protocol = add_protocol(session, now)
    return protocol, enroll(session, patient, protocol, now)


def active(session: Session, protocol: ProtocolVersion) -> list[str]:
    return [rule.id for rule in safety.active_stopping_rules(session, protocol_id=protocol.id)]


def decide(
    session: Session,
    protocol: ProtocolVersion,
    by: User,
    now: datetime,
    decision: str = "resume",
    **changes: Any,
) -> StoppingRuleDecision:
    fields: dict[str, Any] = {
        "rule_id": "related-grade-4",
        "reason": "reviewed by the safety board",
        "decided_on": now.date(),
    } | changes
    return safety.decide_stopping_rule(
        session, protocol_id=protocol.id, decision=decision, by=by, now=now, **fields
    )


def test_no_events_halt_nothing(session, program):
    assert active(session, program[0]) == []


def test_one_related_grade_4_event_halts_doses(session, now, doctor, patient, program):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)

    assert active(session, protocol) == ["related-grade-4"]


@pytest.mark.parametrize(
    "changes",
    [GRADE_4 | UNRELATED, SERIOUS_3, {"ctcae_grade": 3}],
    ids=["unrelated (drug only) grade 4", "one serious related grade 3", "related grade 3"],
)
def test_events_below_a_rule_halt_nothing(session, now, doctor, patient, program, changes):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **changes)

    assert active(session, protocol) == []


def test_two_serious_related_grade_3_events_halt_doses(session, now, doctor, patient, program):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, ctcae_grade=3)  # not serious
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **SERIOUS_3)
    assert active(session, protocol) == []

    record(
        session,
        patient,
        doctor,
        now,
        enrollment_id=enrollment.id,
        **SERIOUS_3 | {"causality_procedure": C.UNLIKELY, "causality_product": C.DEFINITE},
    )

    assert active(session, protocol) == ["related-serious-grade-3"]


def test_resume_clears_a_rule_until_a_new_event_is_known_after_it(
    session, now, doctor, patient, program
):
    protocol, enrollment = program
    grade_4 = GRADE_4 | {"enrollment_id": enrollment.id}
    record(session, patient, doctor, now, **grade_4)

    decision = decide(session, protocol, doctor, now)
    assert (decision.decision, decision.decided_by_id) == ("resume", doctor.id)
    assert (decision.decided_on, decision.decided_at) == (now.date(), now)
    assert active(session, protocol) == []
    record(session, patient, doctor, now, **grade_4, aware_on=now.date())
    # Recorded at the decision's very instant, so covered by it; but the two serious grade 4 events
    # also meet the other rule (serious, grade >= 3, twice), on which no one has decided.
    assert active(session, protocol) == ["related-serious-grade-3"]

    record(session, patient, doctor, DAY_AFTER, **grade_4, aware_on=DAY_AFTER.date())
    assert active(session, protocol) == ["related-grade-4", "related-serious-grade-3"]
    assert verify_trail(session) == []


def test_an_event_entered_late_after_a_resume_halts_doses_again(
    session, now, doctor, patient, program
):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)
    decide(session, protocol, doctor, now)  # decided 2026-01-05

    # Onset 01-03, Day 0 01-04: both before the decision, but entered only the day after it.
    late = record(session, patient, doctor, DAY_AFTER, enrollment_id=enrollment.id, **GRADE_4)

    assert (late.onset_on, late.aware_on) == (date(2026, 1, 3), date(2026, 1, 4))
    assert "related-grade-4" in active(session, protocol)
    decide(session, protocol, doctor, DAY_AFTER, reason="late entry reviewed by the board")
    assert active(session, protocol) == ["related-serious-grade-3"]
    assert verify_trail(session) == []


def test_an_old_event_regraded_to_grade_4_after_a_resume_halts_doses_again(
    session, now, doctor, patient, program
):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)
    grade_3 = record(session, patient, doctor, now, enrollment_id=enrollment.id, ctcae_grade=3)
    decide(session, protocol, doctor, now)
    assert active(session, protocol) == []

    safety.update_adverse_event(
        session, adverse_event_id=grade_3.id, expected_version=1, by=doctor, now=DAY_AFTER,
        ctcae_grade=4,
    )  # fmt: skip

    assert grade_3.aware_on < now.date()
    assert active(session, protocol) == ["related-grade-4"]


def test_recording_a_resolution_after_a_resume_does_not_halt_doses_again(
    session, now, doctor, patient, program
):
    protocol, enrollment = program
    grade_4 = record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)
    decide(session, protocol, doctor, now)

    safety.update_adverse_event(
        session, adverse_event_id=grade_4.id, expected_version=1, by=doctor, now=DAY_AFTER,
        resolved_on=DAY_AFTER.date(),
    )  # fmt: skip

    assert grade_4.recorded_at == now
    assert active(session, protocol) == []


def test_an_event_recorded_before_the_decision_instant_stays_covered(
    session, now, doctor, patient, program
):
    protocol, enrollment = program
    grade_4 = GRADE_4 | {"enrollment_id": enrollment.id}
    record(session, patient, doctor, now, **grade_4)
    # Recorded 2026-01-06 09:00, dated the day before: clinical dates no longer decide what counts.
    decide(session, protocol, doctor, DAY_AFTER, decided_on=now.date())
    an_hour_before = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)

    # Day 0 after the decision's date and stored after the decision row, but recorded (its
    # ``now``) an hour before the decision was.
    record(session, patient, doctor, an_hour_before, **grade_4, aware_on=an_hour_before.date())

    assert "related-grade-4" not in active(session, protocol)


def test_a_halt_decision_keeps_a_rule_active_until_resumed(session, now, doctor, patient, program):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)
    decide(session, protocol, doctor, now)

    decide(session, protocol, doctor, now, "halt", reason="second opinion pending")
    assert active(session, protocol) == ["related-grade-4"]
    decide(session, protocol, doctor, DAY_AFTER, reason="cleared by the safety board")
    assert active(session, protocol) == []
    assert verify_trail(session) == []


def test_events_count_for_their_own_protocol_only(session, now, site, doctor, patient, program):
    protocol, _ = program
    other_protocol = add_protocol(session, now, version="2.0")
    other = make_patient(session, site=site)
    other_enrollment = enroll(session, other, other_protocol, now)
    record(session, other, doctor, now, enrollment_id=other_enrollment.id, **GRADE_4)
    assert (active(session, protocol), active(session, other_protocol)) == ([], ["related-grade-4"])

    record(session, patient, doctor, now, **GRADE_4)  # no enrollment given: the patient's protocol

    assert active(session, protocol) == ["related-grade-4"]


def test_a_decision_is_audited_with_its_reason(session, now, doctor, patient, program):
    protocol, enrollment = program
    record(session, patient, doctor, now, enrollment_id=enrollment.id, **GRADE_4)

    decision = decide(
        session, protocol, doctor, now, reason="  headache resolved; LP technique reviewed "
    )

    event = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert (event.action, event.reason) == (
        "stopping_rule.resume",
        "headache resolved; LP technique reviewed",
    )
    assert decision.reason == "headache resolved; LP technique reviewed"
    assert verify_trail(session) == []


DECISION_ERRORS = {
    "unknown rule": ({"rule_id": "any-grade-2"}, "rule_id"),
    "unknown decision": ({"decision": "pause"}, "decision"),
    "no reason": ({"reason": "  "}, "reason"),
    "in the future": ({"decided_on": date(2026, 1, 6)}, "decided_on"),
}


@pytest.mark.parametrize(("changes", "field"), DECISION_ERRORS.values(), ids=DECISION_ERRORS.keys())
def test_invalid_decisions_name_the_field(session, now, doctor, program, changes, field):
    fields = {"decision": "halt"} | changes
    with pytest.raises(InvalidInput) as caught:
        decide(session, program[0], doctor, now, **fields)

    assert [problem.location for problem in caught.value.problems] == [field]
    assert count(session, StoppingRuleDecision) == 0


def test_a_decision_may_not_predate_the_last_one(session, now, doctor, program):
    decide(session, program[0], doctor, DAY_AFTER, "halt")

    with pytest.raises(InvalidInput, match="decided_on: is before the last decision"):
        decide(session, program[0], doctor, DAY_AFTER, "halt", decided_on=date(2026, 1, 5))


def test_a_resume_dated_before_its_events_were_known_is_refused(session, doctor, patient, program):
    protocol, enrollment = program
    record(
        session,
        patient,
        doctor,
        DAY_AFTER,
        enrollment_id=enrollment.id,
        **GRADE_4,
        aware_on=DAY_AFTER.date(),
    )

    with pytest.raises(InvalidInput, match="decided_on: is before events that trigger the rule"):
        decide(session, protocol, doctor, DAY_AFTER, decided_on=date(2026, 1, 5))
    assert active(session, protocol) == ["related-grade-4"]
    assert count(session, StoppingRuleDecision) == 0


def test_resuming_a_rule_that_halts_nothing_is_a_conflict(session, now, doctor, program):
    before = count(session, AuditEvent)

    with pytest.raises(Conflict, match="related-grade-4 is not halting doses"):
        decide(session, program[0], doctor, now)
    assert (count(session, StoppingRuleDecision), count(session, AuditEvent)) == (0, before)


@pytest.mark.parametrize("role", [Role.NURSE, Role.COORDINATOR, Role.MONITOR, Role.ADMIN])
def test_only_physicians_decide_on_stopping_rules(session, now, site, program, role):
    user = make_user(session, role, site=site if role in (Role.NURSE, Role.COORDINATOR) else None)

    with pytest.raises(PermissionDenied):
        decide(session, program[0], user, now, "halt")
    assert count(session, StoppingRuleDecision) == 0


def test_an_unknown_protocol_is_not_found(session, now, doctor):
    with pytest.raises(NotFound, match="protocol 999"):
        safety.active_stopping_rules(session, protocol_id=999)
