"""Cell product (services/products.py): lots, ISBT 128 identity, release, dispensing and custody.

The unit ids are published DINs with their check characters worked by hand with ISO/IEC 7064
MOD 37-2 (UK Red Book Annexe 2: G123498654321H; ICCBBA IN-015: the A9999 examples). Release uses
clinical.md §10's default criteria: viability >= 70 %, sterility no growth, Gram stain, mycoplasma
and endotoxin; a fresh unit is released on "no growth to date" and its final culture comes later.
Units are dispensed to enrolled patients (moved along the lifecycle by the patients service).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.product import ReleaseCriteria, SterilityRelease
from alscell.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ProductNotReleased
from alscell.services import patients, products
from alscell.services.audit import verify_trail
from alscell.services.products import LatePositiveCulture, UnitInput
from alscell.services.records import add_record, change_record, commit
from alscell.storage.base import Base
from alscell.storage.models import (
    AuditEvent,
    CustodyEvent,
    Patient,
    ProductLot,
    ProductUnit,
    ReleaseTest,
    Site,
    User,
)
from alscell.storage.models.product import CustodyKind, UnitStatus
from tests.factories import NOW, make_patient, make_site, make_user

UNIT_IDS = (
    "G123498654321H",
    "A999916123456Q",
    "A999922654321S",
    "A999922123458J",
    "A999914123456N",
)
MADE_ON = date(2025, 12, 20)
EXPIRES_ON = date(2026, 3, 1)
TESTED_ON = date(2026, 1, 4)
PASS, FAIL = TestResult.PASS, TestResult.FAIL
PASSING: dict[str, tuple[TestResult, float | None]] = {
    "sterility": (PASS, None),
    "gram_stain": (PASS, None),
    "mycoplasma": (PASS, None),
    "endotoxin": (PASS, 0.12),
    "viability": (PASS, 91.0),
}
COUNTED: tuple[type[Base], ...] = (ProductLot, ProductUnit, CustodyEvent, ReleaseTest, AuditEvent)
LIFECYCLE = (
    PatientStatus.REFERRED,
    PatientStatus.SCREENING,
    PatientStatus.ELIGIBLE,
    PatientStatus.ENROLLED,
    PatientStatus.IN_TREATMENT,
    PatientStatus.FOLLOW_UP,
    PatientStatus.COMPLETED,
)
FRESH = ReleaseCriteria(sterility=SterilityRelease.NO_GROWTH_TO_DATE)
NO_GROWTH_YET = PASSING | {"sterility": (TestResult.NO_GROWTH_TO_DATE, None)}


@pytest.fixture
def site(session: Session) -> Site:
    return make_site(session)


@pytest.fixture
def lab(session: Session, site: Site) -> User:
    return make_user(session, Role.CELL_LAB, site=site)


def unit_input(unit_id: str, *, cells: float = 5e6, expires_on: date = EXPIRES_ON) -> UnitInput:
    return UnitInput(
        unit_id=unit_id, cells=cells, volume_ml=2.0, endotoxin_eu=0.1, expires_on=expires_on
    )


def register(
    session: Session, by: User, now: datetime, *unit_ids: str, **changes: Any
) -> ProductLot:
    fields: dict[str, Any] = {
        "lot_code": "LOT-2025-017",
        "site_id": by.site_id,
        "product_name": "Neural stem cells",
        "source": "allogeneic",
        "cell_type": "neural stem cells",
        "manufactured_on": MADE_ON,
        "received_on": date(2025, 12, 22),
        "units": [unit_input(unit_id) for unit_id in unit_ids or UNIT_IDS[:2]],
    } | changes
    return products.register_lot(session, by=by, now=now, **fields)


def units_of(session: Session, lot: ProductLot) -> list[ProductUnit]:
    statement = sa.select(ProductUnit).where(ProductUnit.lot_id == lot.id).order_by(ProductUnit.id)
    return list(session.scalars(statement))


def one_unit(session: Session, lab: User, now: datetime, **changes: Any) -> ProductUnit:
    return units_of(session, register(session, lab, now, UNIT_IDS[0], **changes))[0]


def record(
    session: Session,
    unit: ProductUnit,
    lab: User,
    now: datetime,
    results: dict[str, tuple[TestResult, float | None]],
) -> None:
    for test, (result, value) in results.items():
        products.record_release_test(session, unit_id=unit.id, test=test, result=result,
                                     value=value, tested_on=TESTED_ON, by=lab, now=now)  # fmt: skip


def released(session: Session, lab: User, now: datetime, **changes: Any) -> ProductUnit:
    unit = one_unit(session, lab, now, **changes)
    record(session, unit, lab, now, PASSING)
    return products.release_unit(
        session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now
    )


def fresh(session: Session, lab: User, now: datetime, **changes: Any) -> ProductUnit:
    """A unit released on "no growth to date": its final sterility culture is still running."""
    unit = one_unit(session, lab, now, **changes)
    record(session, unit, lab, now, NO_GROWTH_YET)
    return products.release_unit(session, unit_id=unit.id, criteria=FRESH, by=lab, now=now)


def patient_in(
    session: Session, site: Site, status: PatientStatus = PatientStatus.ENROLLED
) -> Patient:
    """A patient at ``site`` moved along the lifecycle to ``status`` (an exit is taken once enrolled)."""
    patient = make_patient(session, site=site)
    by = make_user(session, Role.PHYSICIAN, site=site)
    if status in LIFECYCLE:
        steps = LIFECYCLE[1 : LIFECYCLE.index(status) + 1]
    else:
        steps = (*LIFECYCLE[1:4], status)
    for step in steps:
        patients.move_patient(session, patient, step, by=by, now=NOW)
    session.commit()
    return patient


def administer(
    session: Session, unit: ProductUnit, patient: Patient, by: User, now: datetime
) -> None:
    """Record a unit as given, as services/dosing.py does after its bedside checks."""
    change_record(session, unit, {"status": UnitStatus.ADMINISTERED}, by=by,
                  action="unit.administered", now=now)  # fmt: skip
    event = CustodyEvent(unit_id=unit.id, kind=CustodyKind.ADMINISTERED, at=now, by_id=by.id,
                         patient_id=patient.id)  # fmt: skip
    add_record(session, event, by=by, action="custody.administered", now=now)
    commit(session)


def sterility(
    session: Session, unit: ProductUnit, lab: User, result: TestResult, *, on: date
) -> ReleaseTest:
    """The final sterility culture, read on day ``on``."""
    return products.record_release_test(session, unit_id=unit.id, test="sterility", result=result,
                                        value=None, tested_on=on, by=lab, now=NOW)  # fmt: skip


def counts(session: Session) -> tuple[int | None, ...]:
    return tuple(session.scalar(sa.select(sa.func.count()).select_from(m)) for m in COUNTED)


def trail(session: Session, unit: ProductUnit) -> list[tuple[CustodyKind, int | None]]:
    statement = sa.select(CustodyEvent).where(CustodyEvent.unit_id == unit.id)
    events = session.scalars(statement.order_by(CustodyEvent.id))
    return [(event.kind, event.patient_id) for event in events]


def last_audit(session: Session) -> AuditEvent:
    return session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


def locations(error: InvalidInput) -> set[str]:
    return {problem.location for problem in error.problems}


# ---------------------------------------------------------------- registering a lot


def test_a_registered_lot_has_every_unit_in_quarantine_with_a_received_event(session, lab, now):
    lot = register(session, lab, now, *UNIT_IDS)

    units = units_of(session, lot)
    assert [unit.din for unit in units] == [unit_id[:13] for unit_id in UNIT_IDS]
    assert {unit.status for unit in units} == {UnitStatus.QUARANTINE}
    assert all(trail(session, unit) == [(CustodyKind.RECEIVED, None)] for unit in units)
    assert (lot.site_id, lot.registered_by_id) == (lab.site_id, lab.id)
    assert verify_trail(session) == []


def test_unit_ids_may_be_typed_with_spaces_and_in_lower_case(session, lab, now):
    lot = register(session, lab, now, "g1234 98 654321 h")

    assert [unit.din for unit in units_of(session, lot)] == ["G123498654321"]
    assert verify_trail(session) == []


def test_a_wrong_check_character_names_its_unit_and_nothing_is_written(session, lab, now):
    before = counts(session)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, UNIT_IDS[0], "A999916123456R", UNIT_IDS[2])

    assert [problem.location for problem in caught.value.problems] == ["units[1].unit_id"]
    assert "expected 'Q'" in caught.value.problems[0].message
    assert counts(session) == before
    assert verify_trail(session) == []


def test_every_problem_with_a_lot_is_listed_at_once(session, lab, now):
    bad_units = [
        unit_input("12345"),
        unit_input(UNIT_IDS[1], cells=0),
        unit_input(UNIT_IDS[2], expires_on=date(2025, 12, 1)),
    ]
    before = counts(session)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, lot_code=" ", source="stem", received_on=date(2025, 12, 19),
                 units=bad_units)  # fmt: skip

    assert locations(caught.value) == {
        "lot_code", "source", "received_on", "units[0].unit_id", "units[1].cells",
        "units[2].expires_on",
    }  # fmt: skip
    assert counts(session) == before


def test_dates_in_the_future_and_impossible_amounts_are_refused(session, lab, now):
    odd = UnitInput(unit_id=UNIT_IDS[0], cells=float("nan"), volume_ml=0.0, endotoxin_eu=-0.5,
                    expires_on=EXPIRES_ON)  # fmt: skip

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, manufactured_on=date(2026, 1, 6),
                 received_on=date(2026, 1, 7), units=[odd])  # fmt: skip

    assert locations(caught.value) == {
        "manufactured_on", "received_on", "units[0].cells", "units[0].volume_ml",
        "units[0].endotoxin_eu",
    }  # fmt: skip


def test_a_lot_needs_units(session, lab, now):
    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, units=[])

    assert locations(caught.value) == {"units"}


def test_a_din_twice_in_one_lot_is_refused(session, lab, now):
    before = counts(session)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, UNIT_IDS[0], UNIT_IDS[1], UNIT_IDS[0])

    assert [problem.location for problem in caught.value.problems] == ["units[2].unit_id"]
    assert "also units[0]" in caught.value.problems[0].message
    assert counts(session) == before


def test_a_din_already_stored_is_a_conflict_and_nothing_is_written(session, lab, now):
    register(session, lab, now, UNIT_IDS[0])
    before = counts(session)

    with pytest.raises(Conflict, match="DIN G123498654321 is already registered"):
        register(session, lab, now, UNIT_IDS[1], UNIT_IDS[0], lot_code="LOT-2025-018")

    assert counts(session) == before
    assert products.find_unit_by_din(session, UNIT_IDS[1][:13]) is None


def test_a_lot_code_already_used_is_a_conflict(session, lab, now):
    register(session, lab, now, UNIT_IDS[0])

    with pytest.raises(Conflict, match="lot LOT-2025-017 is already registered"):
        register(session, lab, now, UNIT_IDS[1])


# ---------------------------------------------------------------- who may do it

USE_CASES = (
    "register_lot",
    "record_release_test",
    "release_unit",
    "reject_unit",
    "discard_unit",
    "dispense_unit",
    "return_unit",
    "record_custody",
)


def use_case(
    name: str, session: Session, unit: ProductUnit, patient_id: int, site: Site, now: datetime
) -> Callable[[User], object]:
    u, t = unit.id, now
    calls: dict[str, Callable[[User], object]] = {
        "register_lot": lambda by: register(
            session, by, t, UNIT_IDS[1], lot_code="LOT-X", site_id=site.id
        ),
        "record_release_test": lambda by: products.record_release_test(
            session, unit_id=u, test="sterility", result=PASS, value=None, tested_on=TESTED_ON,
            by=by, now=t,
        ),
        "release_unit": lambda by: products.release_unit(
            session, unit_id=u, criteria=ReleaseCriteria(), by=by, now=t
        ),
        "reject_unit": lambda by: products.reject_unit(
            session, unit_id=u, reason="failed", by=by, now=t
        ),
        "discard_unit": lambda by: products.discard_unit(
            session, unit_id=u, reason="broken", by=by, now=t
        ),
        "dispense_unit": lambda by: products.dispense_unit(
            session, unit_id=u, patient_id=patient_id, by=by, now=t
        ),
        "return_unit": lambda by: products.return_unit(
            session, unit_id=u, reason="not used", by=by, now=t
        ),
        "record_custody": lambda by: products.record_custody(
            session, unit_id=u, kind=CustodyKind.STORED, location="freezer 2", by=by, now=t
        ),
    }  # fmt: skip
    return calls[name]


@pytest.mark.parametrize("outsider", ["nurse", "physician", "cell_lab of another site"])
@pytest.mark.parametrize("name", USE_CASES)
def test_only_the_sites_cell_lab_handles_its_product(session, site, lab, now, outsider, name):
    unit = released(session, lab, now)
    patient = make_patient(session, site=site)
    if outsider == "cell_lab of another site":
        by = make_user(session, Role.CELL_LAB)
    else:
        by = make_user(session, Role(outsider), site=site)
    before = counts(session)

    with pytest.raises(PermissionDenied):
        use_case(name, session, unit, patient.id, site, now)(by)

    assert counts(session) == before


def test_an_unknown_unit_is_not_found(session, lab, now):
    with pytest.raises(NotFound, match="product unit 999999"):
        products.release_unit(session, unit_id=999999, criteria=ReleaseCriteria(), by=lab, now=now)


# ---------------------------------------------------------------- release tests


def test_a_release_test_is_recorded_then_replaced_with_a_new_version(session, lab, now):
    unit = one_unit(session, lab, now)

    first = products.record_release_test(session, unit_id=unit.id, test="viability", result=PASS,
                                         value=91.0, tested_on=TESTED_ON, by=lab, now=now)  # fmt: skip
    assert verify_trail(session) == []
    again = products.record_release_test(session, unit_id=unit.id, test="viability", result=FAIL,
                                         value=55.0, tested_on=TESTED_ON, by=lab, now=now)  # fmt: skip

    rows = session.scalars(sa.select(ReleaseTest).where(ReleaseTest.unit_id == unit.id)).all()
    assert again is first
    assert [(row.result, row.value, row.version) for row in rows] == [(FAIL, 55.0, 2)]
    assert last_audit(session).action == "release_test.changed"
    assert verify_trail(session) == []


def test_every_problem_with_a_release_test_is_listed(session, lab, now):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput) as caught:
        products.record_release_test(session, unit_id=unit.id, test="potency",
                                     result=TestResult.NO_GROWTH_TO_DATE, value=-1.0,
                                     tested_on=date(2026, 1, 6), by=lab, now=now)  # fmt: skip

    assert locations(caught.value) == {"test", "result", "value", "tested_on"}


@pytest.mark.parametrize(
    ("test", "result", "value"),
    [("viability", PASS, None), ("viability", PASS, 120.0), ("identity", FAIL, -3.0)],
)
def test_percentages_are_checked(session, lab, now, test, result, value):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput) as caught:
        products.record_release_test(session, unit_id=unit.id, test=test, result=result,
                                     value=value, tested_on=TESTED_ON, by=lab, now=now)  # fmt: skip

    assert locations(caught.value) == {"value"}


def test_a_value_must_be_a_number(session, lab, now):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput, match="value: must be a finite number"):
        record(session, unit, lab, now, {"endotoxin": (PASS, float("inf"))})


def test_a_new_result_withdraws_a_release(session, lab, now):
    unit = released(session, lab, now)

    products.record_release_test(session, unit_id=unit.id, test="sterility", result=FAIL,
                                 value=None, tested_on=TESTED_ON, by=lab, now=now)  # fmt: skip

    assert (unit.status, unit.released_at, unit.released_by_id) == (
        UnitStatus.QUARANTINE,
        None,
        None,
    )
    assert last_audit(session).action == "product_unit.release_withdrawn"
    assert verify_trail(session) == []


@pytest.mark.parametrize("gone", ["dispensed", "administered", "discarded"])
def test_release_tests_of_a_unit_that_left_the_lab_cannot_change(session, site, lab, now, gone):
    unit = released(session, lab, now)
    patient = patient_in(session, site)
    if gone == "discarded":
        products.discard_unit(session, unit_id=unit.id, reason="bag leaked", by=lab, now=now)
    else:
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    if gone == "administered":
        administer(session, unit, patient, lab, now)
    before = counts(session)

    with pytest.raises(Conflict, match=f"is {gone}: its release tests can no longer change"):
        record(session, unit, lab, now, {"mycoplasma": (FAIL, None)})

    assert counts(session) == before


def test_a_discarded_unit_takes_no_late_culture_either(session, lab, now):
    unit = fresh(session, lab, now)
    products.discard_unit(session, unit_id=unit.id, reason="bag leaked", by=lab, now=now)
    before = counts(session)

    with pytest.raises(Conflict, match="is discarded"):
        record(session, unit, lab, now, {"sterility": (FAIL, None)})

    assert counts(session) == before


# ---------------------------------------------------------------- release


def test_a_unit_passing_every_test_is_released(session, lab, now):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, PASSING)

    products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)

    assert (unit.status, unit.released_at, unit.released_by_id) == (
        UnitStatus.RELEASED,
        now,
        lab.id,
    )
    assert "viability >= 70 %" in (last_audit(session).reason or "")
    assert verify_trail(session) == []


@pytest.mark.parametrize(
    ("test", "result", "value"),
    [
        ("sterility", FAIL, None),
        ("sterility", TestResult.PENDING, None),
        ("gram_stain", FAIL, None),
        ("mycoplasma", FAIL, None),
        ("endotoxin", FAIL, 5.0),
        ("viability", FAIL, 40.0),
        ("viability", PASS, 69.9),
    ],
)
def test_a_unit_failing_any_test_is_not_released(session, lab, now, test, result, value):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, PASSING | {test: (result, value)})

    with pytest.raises(ProductNotReleased) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)

    assert caught.value.rules == (f"release.{test}",)
    assert not caught.value.overridable
    assert unit.status is UnitStatus.QUARANTINE
    assert verify_trail(session) == []


def test_viability_at_the_threshold_passes(session, lab, now):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, PASSING | {"viability": (PASS, 70.0)})

    products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)

    assert unit.status is UnitStatus.RELEASED


def test_missing_tests_are_each_a_finding(session, lab, now):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, {"viability": (PASS, 80.0)})

    with pytest.raises(ProductNotReleased) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)

    assert set(caught.value.rules) == {
        "release.sterility", "release.gram_stain", "release.mycoplasma", "release.endotoxin",
    }  # fmt: skip


def test_an_identity_marker_is_required_when_the_criteria_name_one(session, lab, now):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, PASSING | {"identity": (PASS, 85.0)})
    criteria = ReleaseCriteria(identity_marker="CD271", identity_marker_min_percent=90.0)

    with pytest.raises(ProductNotReleased) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=criteria, by=lab, now=now)
    assert caught.value.rules == ("release.identity",)

    record(session, unit, lab, now, {"identity": (PASS, 94.0)})
    products.release_unit(session, unit_id=unit.id, criteria=criteria, by=lab, now=now)
    assert unit.status is UnitStatus.RELEASED
    assert "CD271 >= 90 %" in (last_audit(session).reason or "")


def test_no_growth_to_date_releases_only_when_the_criteria_allow_it(session, lab, now):
    unit = one_unit(session, lab, now)
    record(session, unit, lab, now, PASSING | {"sterility": (TestResult.NO_GROWTH_TO_DATE, None)})

    with pytest.raises(ProductNotReleased) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)
    assert caught.value.rules == ("release.sterility",)

    fresh = ReleaseCriteria(sterility=SterilityRelease.NO_GROWTH_TO_DATE)
    products.release_unit(session, unit_id=unit.id, criteria=fresh, by=lab, now=now)
    assert unit.status is UnitStatus.RELEASED
    assert verify_trail(session) == []


def test_contradictory_criteria_are_refused(session, lab, now):
    unit = one_unit(session, lab, now)
    criteria = ReleaseCriteria(
        sterility=SterilityRelease.NO_GROWTH_TO_DATE, gram_stain_negative=False
    )

    with pytest.raises(InvalidInput) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=criteria, by=lab, now=now)

    assert locations(caught.value) == {"criteria.gram_stain_negative"}


def test_only_a_quarantined_unit_is_released(session, lab, now):
    unit = released(session, lab, now)

    with pytest.raises(Conflict, match="only a unit in quarantine can be released"):
        products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)


def test_an_expired_unit_is_not_released(session, lab, now):
    unit = one_unit(session, lab, now, units=[unit_input(UNIT_IDS[0], expires_on=date(2026, 1, 4))])
    record(session, unit, lab, now, PASSING)

    with pytest.raises(ProductNotReleased) as caught:
        products.release_unit(session, unit_id=unit.id, criteria=ReleaseCriteria(), by=lab, now=now)

    assert caught.value.rules == ("release.expired",)


# ---------------------------------------------------------------- rejecting and discarding


def test_a_failed_unit_is_rejected_with_a_reason(session, lab, now):
    unit = one_unit(session, lab, now)

    products.reject_unit(session, unit_id=unit.id, reason="viability 55 %", by=lab, now=now)

    assert unit.status is UnitStatus.REJECTED
    assert (last_audit(session).action, last_audit(session).reason) == (
        "product_unit.rejected", "viability 55 %",
    )  # fmt: skip
    assert verify_trail(session) == []


def test_a_rejection_needs_a_reason(session, lab, now):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput, match="reason: required"):
        products.reject_unit(session, unit_id=unit.id, reason="  ", by=lab, now=now)


def test_only_a_quarantined_unit_is_rejected(session, lab, now):
    unit = released(session, lab, now)

    with pytest.raises(Conflict, match="is released"):
        products.reject_unit(session, unit_id=unit.id, reason="late doubt", by=lab, now=now)


def test_a_discarded_unit_ends_its_custody(session, lab, now):
    unit = one_unit(session, lab, now)
    products.reject_unit(session, unit_id=unit.id, reason="mycoplasma positive", by=lab, now=now)

    products.discard_unit(session, unit_id=unit.id, reason="incinerated", by=lab, now=now)

    assert unit.status is UnitStatus.DISCARDED
    assert trail(session, unit) == [(CustodyKind.RECEIVED, None), (CustodyKind.DISCARDED, None)]
    assert verify_trail(session) == []
    with pytest.raises(Conflict, match="cannot be discarded"):
        products.discard_unit(session, unit_id=unit.id, reason="again", by=lab, now=now)


def test_a_discard_needs_a_reason(session, lab, now):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput, match="reason: required"):
        products.discard_unit(session, unit_id=unit.id, reason="", by=lab, now=now)


# ---------------------------------------------------------------- dispensing and returning


def test_a_released_unit_is_dispensed_to_a_named_patient(session, site, lab, now):
    unit = released(session, lab, now)
    patient = patient_in(session, site)

    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, patient.id)
    assert trail(session, unit)[-1] == (CustodyKind.DISPENSED, patient.id)
    assert verify_trail(session) == []


def test_an_unreleased_unit_is_not_dispensed(session, site, lab, now):
    unit = one_unit(session, lab, now)
    patient = patient_in(session, site)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    assert caught.value.rules == ("unit.not_released",)
    assert not caught.value.overridable
    assert unit.assigned_patient_id is None


def test_an_expired_unit_is_not_dispensed(session, site, lab, now):
    unit = released(session, lab, now, units=[unit_input(UNIT_IDS[0], expires_on=date(2026, 1, 9))])
    patient = patient_in(session, site)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab,
                               now=now + timedelta(days=5))  # fmt: skip

    assert caught.value.rules == ("unit.expired",)


def test_a_unit_is_dispensed_to_one_patient_only(session, site, lab, now):
    unit = released(session, lab, now)
    first, second = patient_in(session, site), patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=first.id, by=lab, now=now)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=second.id, by=lab, now=now)

    assert caught.value.rules == ("unit.already_dispensed",)
    assert unit.assigned_patient_id == first.id


def test_a_patient_of_another_site_is_refused(session, lab, now):
    unit = released(session, lab, now)
    elsewhere = make_patient(session)

    with pytest.raises(InvalidInput) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=elsewhere.id, by=lab, now=now)

    assert locations(caught.value) == {"patient_id"}


def test_the_custody_trail_keeps_every_hand_off_in_order(session, site, lab, now):
    unit = released(session, lab, now)
    first, second = patient_in(session, site), patient_in(session, site)
    steps: list[Callable[[], object]] = [
        lambda: products.record_custody(session, unit_id=unit.id, kind=CustodyKind.STORED,
                                        location="LN2 tank 3", by=lab, now=now),
        lambda: products.dispense_unit(session, unit_id=unit.id, patient_id=first.id, by=lab,
                                       now=now),
        lambda: products.return_unit(session, unit_id=unit.id, reason="procedure postponed",
                                     by=lab, now=now),
        lambda: products.dispense_unit(session, unit_id=unit.id, patient_id=second.id, by=lab,
                                       now=now),
        lambda: products.record_custody(session, unit_id=unit.id, kind=CustodyKind.THAWED,
                                        location="bedside", notes="37 °C bath", by=lab, now=now),
    ]  # fmt: skip
    for step in steps:
        step()
        assert verify_trail(session) == []

    assert trail(session, unit) == [
        (CustodyKind.RECEIVED, None),
        (CustodyKind.STORED, None),
        (CustodyKind.DISPENSED, first.id),
        (CustodyKind.RETURNED, first.id),
        (CustodyKind.DISPENSED, second.id),
        (CustodyKind.THAWED, None),
    ]
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, second.id)


def test_a_returned_unit_is_released_and_unassigned(session, site, lab, now):
    unit = released(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    products.return_unit(session, unit_id=unit.id, reason="patient unwell", by=lab, now=now)

    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.RELEASED, None)
    assert last_audit(session).action == "custody.returned"
    assert verify_trail(session) == []


def test_a_returned_unit_with_a_late_positive_culture_is_never_dispensed_again(
    session, site, lab, now
):
    unit = released(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    products.record_release_test(session, unit_id=unit.id, test="sterility", result=TestResult.FAIL,
                                 value=None, tested_on=now.date(), by=lab, now=now)  # fmt: skip
    products.return_unit(session, unit_id=unit.id, reason="culture positive", by=lab, now=now)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    assert "unit.failed_test" in caught.value.rules
    assert not caught.value.overridable


def test_only_a_dispensed_unit_is_returned_and_with_a_reason(session, lab, now):
    unit = released(session, lab, now)

    with pytest.raises(Conflict, match="only a unit in dispensed can be returned"):
        products.return_unit(session, unit_id=unit.id, reason="not used", by=lab, now=now)
    with pytest.raises(InvalidInput, match="reason: required"):
        products.return_unit(session, unit_id=unit.id, reason=" ", by=lab, now=now)


# ---------------------------------------------------------------- custody steps and look-up


def test_other_custody_steps_have_their_own_use_cases(session, lab, now):
    unit = one_unit(session, lab, now)

    with pytest.raises(InvalidInput) as caught:
        products.record_custody(session, unit_id=unit.id, kind=CustodyKind.DISPENSED,
                                location=" ", by=lab, now=now)  # fmt: skip

    assert locations(caught.value) == {"kind", "location"}


def test_a_discarded_unit_has_no_more_custody_steps(session, lab, now):
    unit = one_unit(session, lab, now)
    products.discard_unit(session, unit_id=unit.id, reason="dropped", by=lab, now=now)

    with pytest.raises(Conflict, match="chain of custody is closed"):
        products.record_custody(session, unit_id=unit.id, kind=CustodyKind.STORED,
                                location="freezer 1", by=lab, now=now)  # fmt: skip


def test_units_are_found_by_din(session, lab, now):
    unit = one_unit(session, lab, now)

    assert products.find_unit_by_din(session, "G123498654321") is unit
    assert products.find_unit_by_din(session, "g12349-8654321-h") is unit
    assert products.find_unit_by_din(session, "A999922654321") is None
    with pytest.raises(InvalidInput, match="din: check character"):
        products.find_unit_by_din(session, "G123498654321J")


# ---------------------------------------------------------------- chain of identity: the donor


def test_an_autologous_lot_names_its_donor(session, site, lab, now):
    donor = make_patient(session, site=site)

    lot = register(session, lab, now, source="autologous", donor_patient_id=donor.id)

    assert (lot.source, lot.donor_patient_id) == ("autologous", donor.id)
    assert verify_trail(session) == []


def test_an_autologous_lot_without_its_donor_is_refused(session, lab, now):
    before = counts(session)

    with pytest.raises(InvalidInput, match="donor_patient_id: required for an autologous lot"):
        register(session, lab, now, source="autologous")

    assert counts(session) == before


@pytest.mark.parametrize("source", ["allogeneic", "xenogeneic"])
def test_only_an_autologous_lot_names_a_donor(session, site, lab, now, source):
    donor = make_patient(session, site=site)
    before = counts(session)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, source=source, donor_patient_id=donor.id)

    assert locations(caught.value) == {"donor_patient_id"}
    assert f"leave it empty for a {source} lot" in caught.value.problems[0].message
    assert counts(session) == before


@pytest.mark.parametrize("where", ["another site", "nowhere"])
def test_the_donor_is_a_patient_of_the_lots_site(session, lab, now, where):
    donor_id = make_patient(session).id if where == "another site" else 999999
    before = counts(session)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, source="autologous", donor_patient_id=donor_id)

    # The same words either way: the cell lab learns nothing about other sites' patients.
    assert [str(problem) for problem in caught.value.problems] == [
        f"donor_patient_id: patient {donor_id} is not a patient of the lot's site; check the donor"
    ]
    assert counts(session) == before


def test_a_mistyped_source_is_named_without_a_donor_problem(session, site, lab, now):
    donor = make_patient(session, site=site)

    with pytest.raises(InvalidInput) as caught:
        register(session, lab, now, source="autologus", donor_patient_id=donor.id)

    assert locations(caught.value) == {"source"}


def test_an_autologous_unit_is_dispensed_to_its_donor(session, site, lab, now):
    donor = patient_in(session, site)
    unit = released(session, lab, now, source="autologous", donor_patient_id=donor.id)

    products.dispense_unit(session, unit_id=unit.id, patient_id=donor.id, by=lab, now=now)

    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, donor.id)
    assert trail(session, unit)[-1] == (CustodyKind.DISPENSED, donor.id)
    assert verify_trail(session) == []


def test_an_autologous_unit_is_refused_for_anyone_but_its_donor(session, site, lab, now):
    donor, other = patient_in(session, site), patient_in(session, site)
    unit = released(session, lab, now, source="autologous", donor_patient_id=donor.id)
    before = counts(session)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=other.id, by=lab, now=now)

    assert caught.value.rules == ("unit.other_donor",)
    assert not caught.value.overridable
    assert "LOT-2025-017" in caught.value.findings[0].message
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.RELEASED, None)
    assert counts(session) == before


# ---------------------------------------------------------------- dispensing: who may be treated


@pytest.mark.parametrize("status", [PatientStatus.ENROLLED, PatientStatus.IN_TREATMENT])
def test_an_enrolled_or_treated_patient_is_dispensed_a_unit(session, site, lab, now, status):
    unit = released(session, lab, now)
    patient = patient_in(session, site, status)

    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, patient.id)
    assert verify_trail(session) == []


@pytest.mark.parametrize(
    "status",
    [
        PatientStatus.REFERRED,
        PatientStatus.SCREENING,
        PatientStatus.ELIGIBLE,
        PatientStatus.FOLLOW_UP,
        PatientStatus.COMPLETED,
        PatientStatus.WITHDRAWN,
        PatientStatus.DIED,
    ],
)
def test_a_patient_who_cannot_be_treated_is_not_dispensed_a_unit(session, site, lab, now, status):
    unit = released(session, lab, now)
    patient = patient_in(session, site, status)
    before = counts(session)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    assert caught.value.rules == ("patient.not_in_treatment",)
    assert not caught.value.overridable
    assert f"is {status}" in caught.value.findings[0].message
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.RELEASED, None)
    assert counts(session) == before


def test_every_dispensing_finding_is_listed_at_once(session, site, lab, now):
    donor, other = patient_in(session, site), patient_in(session, site, PatientStatus.REFERRED)
    unit = one_unit(session, lab, now, source="autologous", donor_patient_id=donor.id)
    before = counts(session)

    with pytest.raises(ProductNotReleased) as caught:
        products.dispense_unit(session, unit_id=unit.id, patient_id=other.id, by=lab,
                               now=now + timedelta(days=60))  # fmt: skip

    assert caught.value.rules == (
        "unit.not_released", "unit.expired", "unit.other_donor", "patient.not_in_treatment",
    )  # fmt: skip
    assert counts(session) == before


# ---------------------------------------------------------------- late sterility results


def test_a_late_positive_culture_on_a_dispensed_unit_is_recorded_and_listed(
    session, site, lab, now
):
    unit = fresh(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    result = sterility(session, unit, lab, FAIL, on=date(2026, 1, 5))

    assert (result.result, result.tested_on, result.version) == (FAIL, date(2026, 1, 5), 2)
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, patient.id)
    audit = last_audit(session)
    assert audit.action == "release_test.late_positive_culture"
    assert "notify the treating physician" in (audit.reason or "")
    assert products.late_positive_cultures(session, by=lab) == [
        LatePositiveCulture(din=unit.din, lot_code="LOT-2025-017", patient_id=patient.id,
                            tested_on=date(2026, 1, 5)),
    ]  # fmt: skip
    assert verify_trail(session) == []


def test_a_late_positive_culture_on_a_given_unit_names_its_patient(session, site, lab, now):
    unit = fresh(session, lab, now)
    patient = patient_in(session, site, PatientStatus.IN_TREATMENT)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    administer(session, unit, patient, lab, now)

    sterility(session, unit, lab, FAIL, on=date(2026, 1, 5))

    assert unit.status is UnitStatus.ADMINISTERED
    assert last_audit(session).action == "release_test.late_positive_culture"
    assert [c.patient_id for c in products.late_positive_cultures(session, by=lab)] == [patient.id]
    assert verify_trail(session) == []


def test_a_unit_given_without_dispensing_names_the_patient_it_was_given_to(session, site, lab, now):
    # An overridden unit.not_dispensed finding at the bedside leaves the unit unassigned.
    unit = fresh(session, lab, now)
    patient = patient_in(session, site, PatientStatus.IN_TREATMENT)
    administer(session, unit, patient, lab, now)

    sterility(session, unit, lab, FAIL, on=date(2026, 1, 5))

    assert unit.assigned_patient_id is None
    assert [c.patient_id for c in products.late_positive_cultures(session, by=lab)] == [patient.id]


def test_a_late_negative_culture_is_recorded_as_a_plain_change(session, site, lab, now):
    unit = fresh(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    administer(session, unit, patient, lab, now)

    sterility(session, unit, lab, PASS, on=date(2026, 1, 5))

    assert unit.status is UnitStatus.ADMINISTERED
    assert last_audit(session).action == "release_test.changed"
    assert products.late_positive_cultures(session, by=lab) == []
    assert verify_trail(session) == []


def test_only_failing_cultures_of_units_that_left_the_lab_are_listed(session, site, lab, now):
    lot = register(session, lab, now, *UNIT_IDS[:3])
    kept, returned, given = units_of(session, lot)
    patient = patient_in(session, site)
    for unit in (kept, returned, given):
        record(session, unit, lab, now, NO_GROWTH_YET)
        products.release_unit(session, unit_id=unit.id, criteria=FRESH, by=lab, now=now)
    for unit in (returned, given):
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    products.return_unit(session, unit_id=returned.id, reason="postponed", by=lab, now=now)
    for unit in (kept, returned):
        sterility(session, unit, lab, FAIL, on=date(2026, 1, 5))  # release withdrawn instead
    sterility(session, given, lab, PASS, on=date(2026, 1, 5))

    assert products.late_positive_cultures(session, by=lab) == []
    assert (kept.status, returned.status) == (UnitStatus.QUARANTINE, UnitStatus.QUARANTINE)


def test_late_positive_cultures_are_listed_oldest_first(session, site, lab, now):
    lot = register(session, lab, now, *UNIT_IDS[:2])
    first, second = patient_in(session, site), patient_in(session, site)
    units = units_of(session, lot)
    for unit, patient in zip(units, (first, second), strict=True):
        record(session, unit, lab, now, NO_GROWTH_YET)
        products.release_unit(session, unit_id=unit.id, criteria=FRESH, by=lab, now=now)
        products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)

    sterility(session, units[0], lab, FAIL, on=date(2026, 1, 5))
    sterility(session, units[1], lab, FAIL, on=date(2026, 1, 4))

    listed = products.late_positive_cultures(session, by=lab)
    assert [(c.din, c.patient_id, c.tested_on) for c in listed] == [
        (units[1].din, second.id, date(2026, 1, 4)),
        (units[0].din, first.id, date(2026, 1, 5)),
    ]


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("nurse here", True), ("monitor", True), ("cell_lab of another site", False)],
)
def test_late_positive_cultures_are_seen_at_their_site(session, site, lab, now, viewer, sees):
    unit = fresh(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    sterility(session, unit, lab, FAIL, on=date(2026, 1, 5))
    by = {
        "nurse here": lambda: make_user(session, Role.NURSE, site=site),
        "monitor": lambda: make_user(session, Role.MONITOR),
        "cell_lab of another site": lambda: make_user(session, Role.CELL_LAB),
    }[viewer]()

    listed = products.late_positive_cultures(session, by=by)

    assert [c.din for c in listed] == ([unit.din] if sees else [])


def test_an_analyst_does_not_see_late_positive_cultures(session):
    with pytest.raises(PermissionDenied):
        products.late_positive_cultures(session, by=make_user(session, Role.ANALYST))


# ---------------------------------------------------------------- thawed cells stay out of stock


def test_a_unit_thawed_after_dispensing_is_not_returned_but_discarded(session, site, lab, now):
    unit = released(session, lab, now)
    patient = patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=patient.id, by=lab, now=now)
    products.record_custody(session, unit_id=unit.id, kind=CustodyKind.THAWED, location="bedside",
                            by=lab, now=now)  # fmt: skip
    before = counts(session)

    with pytest.raises(Conflict, match=r"thawed after it was dispensed.*discard the unit"):
        products.return_unit(session, unit_id=unit.id, reason="procedure postponed", by=lab,
                             now=now)  # fmt: skip

    assert counts(session) == before
    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.DISPENSED, patient.id)
    products.discard_unit(session, unit_id=unit.id, reason="thawed, not given", by=lab, now=now)
    assert unit.status is UnitStatus.DISCARDED
    assert verify_trail(session) == []


def test_only_a_thaw_since_the_last_dispensing_blocks_a_return(session, site, lab, now):
    unit = released(session, lab, now)
    first, second = patient_in(session, site), patient_in(session, site)
    products.dispense_unit(session, unit_id=unit.id, patient_id=first.id, by=lab, now=now)
    products.return_unit(session, unit_id=unit.id, reason="postponed", by=lab, now=now)
    products.record_custody(session, unit_id=unit.id, kind=CustodyKind.THAWED, location="lab",
                            by=lab, now=now)  # fmt: skip
    products.dispense_unit(session, unit_id=unit.id, patient_id=second.id, by=lab, now=now)

    products.return_unit(session, unit_id=unit.id, reason="patient unwell", by=lab, now=now)

    assert (unit.status, unit.assigned_patient_id) == (UnitStatus.RELEASED, None)
    assert verify_trail(session) == []
