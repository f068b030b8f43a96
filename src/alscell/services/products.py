"""Cell product: lots and units, release tests, release, dispensing and the chain of custody.

Every unit is known by its ISBT 128 DIN, checked against its MOD 37-2 check character when typed or
scanned; every hand-off is a custody event saying who and when, and dispensing names the patient
(clinical.md §10, chain of identity). An autologous lot names its donor, the only patient its units
may be dispensed to. A unit is released only when its tests meet the protocol's release criteria
(clinical.md §10, :func:`alscell.domain.dosing.release_problems`); release is never overridden.

Unit states: ``quarantine`` on receipt, then ``released`` or ``rejected``; a released unit is
``dispensed`` to one enrolled or in-treatment patient (and may be returned to ``released`` unless it
was thawed since); any unit not yet administered may be ``discarded``.

A fresh product released on "no growth to date" gets its final sterility culture after it left the
lab: that late result is still recorded, a positive one audited as
``release_test.late_positive_culture`` and listed by :func:`late_positive_cultures` so the clinician
is told and the patient followed up (clinical.md §10, release logic).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import isbt128
from alscell.domain.access import Action
from alscell.domain.dosing import TestResult, release_problems
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.product import ProductSource, ReleaseCriteria
from alscell.errors import Conflict, InvalidInput, NotFound, Problem, ProductNotReleased
from alscell.services import access
from alscell.services.paging import page
from alscell.services.protocols import protocol_of
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import (
    CustodyEvent,
    Patient,
    ProductLot,
    ProductUnit,
    ReleaseTest,
    Site,
    User,
)
from alscell.storage.models.product import CustodyKind, UnitStatus

__all__ = [
    "RELEASE_TESTS",
    "LatePositiveCulture",
    "UnitInput",
    "discard_unit",
    "dispense_unit",
    "find_unit_by_din",
    "get_lot",
    "get_unit",
    "get_unit_by_din",
    "late_positive_cultures",
    "list_custody",
    "list_lots",
    "record_custody",
    "record_release_test",
    "register_lot",
    "reject_unit",
    "release_criteria",
    "release_unit",
    "return_unit",
]

RELEASE_TESTS: Final = (
    "sterility",
    "gram_stain",
    "mycoplasma",
    "endotoxin",
    "viability",
    "identity",
)
"""The release tests a unit can carry (clinical.md §10)."""

_PERCENT_TESTS: Final = frozenset({"viability", "identity"})
_NO_MORE_TESTS: Final = frozenset(
    {UnitStatus.DISPENSED, UnitStatus.ADMINISTERED, UnitStatus.DISCARDED}
)
_LATE_STATUSES: Final = frozenset({UnitStatus.DISPENSED, UnitStatus.ADMINISTERED})
"""A unit that left the lab: only its final sterility culture may still be recorded."""
_LATE_TEST: Final = "sterility"
_NO_MORE_CUSTODY: Final = frozenset({UnitStatus.ADMINISTERED, UnitStatus.DISCARDED})
_TREATABLE: Final = frozenset({PatientStatus.ENROLLED, PatientStatus.IN_TREATMENT})
_MANUAL_CUSTODY: Final = frozenset({CustodyKind.STORED, CustodyKind.THAWED})
_TYPED_LENGTH: Final = 14  # a 13-character DIN and its check character


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitInput:
    """One unit of a lot as the cell lab registers it.

    ``unit_id`` is the DIN followed by its check character, as typed or scanned (clinical.md §10).
    """

    unit_id: str
    cells: float
    volume_ml: float | None = None
    endotoxin_eu: float | None = None
    expires_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class LatePositiveCulture:
    """A unit whose final sterility culture failed after it was dispensed or given.

    ``patient_id`` is the patient the unit was last dispensed to or given to: tell their physician
    and follow them up (clinical.md §10, release logic).
    """

    din: str
    lot_code: str
    patient_id: int
    tested_on: date


# ---------------------------------------------------------------- registering a lot


def register_lot(
    session: Session, *, lot_code: str, site_id: int, product_name: str, source: str,
    cell_type: str, manufactured_on: date, received_on: date, units: Sequence[UnitInput], by: User,
    now: datetime, donor_patient_id: int | None = None,
) -> ProductLot:  # fmt: skip
    """Register a received lot and its units, each in quarantine with a ``received`` custody event.

    Everything is checked before anything is written: each unit id against its ISBT 128 check
    character (problems named ``units[i].unit_id``), cell counts, expiry after manufacture, DINs
    unique within the lot and among stored units, and the donor: an autologous lot names the patient
    of the lot's site its cells came from, any other lot names none (clinical.md §10, chain of
    identity).

    Raises
    ------
    PermissionDenied
        Unless ``by`` is the cell lab of ``site_id``.
    InvalidInput
        Listing every problem with the lot and its units.
    Conflict
        If the lot code or a DIN is already registered.
    """
    access.require(by, Action.MANAGE_PRODUCT, site_id=site_id, resource="a product lot")
    load(session, Site, site_id, kind="site")
    problems = list(_lot_problems(lot_code, product_name, source, cell_type, manufactured_on,
                                  received_on, today=now.date()))  # fmt: skip
    problems.extend(_donor_problems(session, source, donor_patient_id, site_id=site_id))
    dins, unit_problems = _check_units(units, manufactured_on)
    problems.extend(unit_problems)
    if problems:
        raise InvalidInput(problems, subject="product lot")
    _refuse_registered(session, lot_code.strip(), dins)
    lot = ProductLot(lot_code=lot_code.strip(), site_id=site_id, product_name=product_name.strip(),
                     source=source, cell_type=cell_type.strip(), manufactured_on=manufactured_on,
                     received_on=received_on, donor_patient_id=donor_patient_id,
                     registered_by_id=by.id)  # fmt: skip
    add_record(session, lot, by=by, action="product_lot.registered", now=now)
    for din, unit in zip(dins, units, strict=True):
        _add_unit(session, lot, din, unit, by=by, now=now)
    commit(session)
    return lot


def _lot_problems(
    lot_code: str, product_name: str, source: str, cell_type: str, manufactured_on: date,
    received_on: date, *, today: date,
) -> Iterator[Problem]:  # fmt: skip
    for field, value, longest in (
        ("lot_code", lot_code, 60),
        ("product_name", product_name, 200),
        ("cell_type", cell_type, 200),
    ):
        if not value.strip() or len(value.strip()) > longest:
            yield Problem(field, f"must be 1-{longest} characters, got {value!r}")
    if source not in set(ProductSource):
        yield Problem("source", f"must be one of {', '.join(ProductSource)}, got {source!r}")
    if manufactured_on > today:
        yield Problem("manufactured_on", f"{manufactured_on} is in the future")
    if received_on < manufactured_on:
        yield Problem("received_on", f"{received_on} is before manufacture ({manufactured_on})")
    if received_on > today:
        yield Problem("received_on", f"{received_on} is in the future")


def _donor_problems(
    session: Session, source: str, donor_patient_id: int | None, *, site_id: int
) -> Iterator[Problem]:
    """The chain of identity starts at registration: an autologous lot names its donor."""
    if source == ProductSource.AUTOLOGOUS:
        if donor_patient_id is None:
            yield Problem(
                "donor_patient_id",
                "required for an autologous lot: name the patient the cells were collected from",
            )
            return
        donor = session.get(Patient, donor_patient_id)
        if donor is None or donor.site_id != site_id:
            rule = f"patient {donor_patient_id} is not a patient of the lot's site; check the donor"
            yield Problem("donor_patient_id", rule)
    elif donor_patient_id is not None and source in set(ProductSource):
        rule = f"only an autologous lot has a donor patient; leave it empty for a {source} lot"
        yield Problem("donor_patient_id", rule)


def _check_units(
    units: Sequence[UnitInput], manufactured_on: date
) -> tuple[list[str], list[Problem]]:
    """The units' DINs, and every problem with the units (empty when all are good)."""
    if not units:
        return [], [Problem("units", "list at least one unit of the lot")]
    dins: list[str] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for index, unit in enumerate(units):
        where = f"units[{index}]"
        try:
            din = isbt128.parse_unit_id(unit.unit_id, field=f"{where}.unit_id")
        except InvalidInput as error:
            problems.extend(error.problems)
            din = ""
        if din in first_seen:
            rule = f"DIN {din} is also units[{first_seen[din]}]; each unit has its own DIN"
            problems.append(Problem(f"{where}.unit_id", rule))
        elif din:
            first_seen[din] = index
        dins.append(din)
        problems.extend(_unit_value_problems(where, unit, manufactured_on))
    return dins, problems


def _unit_value_problems(where: str, unit: UnitInput, manufactured_on: date) -> Iterator[Problem]:
    if not (math.isfinite(unit.cells) and unit.cells > 0):
        yield Problem(f"{where}.cells", f"must be a number of cells > 0, got {unit.cells!r}")
    if unit.volume_ml is not None and not (math.isfinite(unit.volume_ml) and unit.volume_ml > 0):
        yield Problem(f"{where}.volume_ml", f"must be > 0 mL when given, got {unit.volume_ml!r}")
    if unit.endotoxin_eu is not None and not (
        math.isfinite(unit.endotoxin_eu) and unit.endotoxin_eu >= 0
    ):
        yield Problem(f"{where}.endotoxin_eu", f"must be >= 0 EU, got {unit.endotoxin_eu!r}")
    if unit.expires_on <= manufactured_on:
        rule = f"{unit.expires_on} is not after manufacture ({manufactured_on}); check the label"
        yield Problem(f"{where}.expires_on", rule)


def _refuse_registered(session: Session, lot_code: str, dins: Sequence[str]) -> None:
    if exists(session, sa.select(ProductLot).where(ProductLot.lot_code == lot_code)):
        raise Conflict(f"lot {lot_code} is already registered; check the lot code on the label")
    stored = session.scalars(sa.select(ProductUnit.din).where(ProductUnit.din.in_(dins))).all()
    if stored:
        raise Conflict(
            f"DIN {', '.join(sorted(stored))} is already registered: a DIN names one unit only; "
            "check the labels and quarantine the lot until the manufacturer explains"
        )


def _add_unit(
    session: Session, lot: ProductLot, din: str, unit: UnitInput, *, by: User, now: datetime
) -> ProductUnit:
    record = ProductUnit(lot_id=lot.id, din=din, cells=unit.cells, volume_ml=unit.volume_ml,
                         endotoxin_eu=unit.endotoxin_eu, expires_on=unit.expires_on,
                         status=UnitStatus.QUARANTINE)  # fmt: skip
    add_record(session, record, by=by, action="product_unit.registered", now=now)
    _add_custody(session, record, CustodyKind.RECEIVED, by=by, now=now, notes=f"lot {lot.lot_code}")
    return record


# ---------------------------------------------------------------- release tests and release


def record_release_test(
    session: Session, *, unit_id: int, test: str, result: TestResult, value: float | None,
    tested_on: date, by: User, now: datetime,
) -> ReleaseTest:  # fmt: skip
    """Record a unit's release test, or replace its earlier result (one row per unit and test).

    A new result for a released unit withdraws the release: the unit goes back to quarantine and
    must be released again against the criteria (clinical.md §10).

    A dispensed or administered unit still takes its final sterility culture (a fresh product
    released on "no growth to date"); its status does not change. A failing culture is audited as
    ``release_test.late_positive_culture`` and listed by :func:`late_positive_cultures`.

    Raises
    ------
    InvalidInput
        For an unknown test, a value out of range, a passing percentage without its value, or
        ``no_growth_to_date`` for anything but sterility.
    Conflict
        If the unit is discarded, or is dispensed or administered and ``test`` is not sterility.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.MANAGE_PRODUCT)
    problems = list(_test_problems(test, result, value, tested_on, today=now.date()))
    if problems:
        raise InvalidInput(problems, subject="release test")
    late = unit.status in _LATE_STATUSES and test == _LATE_TEST
    if unit.status in _NO_MORE_TESTS and not late:
        raise Conflict(
            f"unit {unit.din} is {unit.status}: its release tests can no longer change; "
            "report a late result to the treating physician instead"
        )
    fields = {"result": result, "value": value, "tested_on": tested_on, "recorded_by_id": by.id}
    if late and result is TestResult.FAIL:
        reason = (
            f"final sterility culture positive after unit {unit.din} was {unit.status}: "
            "notify the treating physician and follow up the patient"
        )
        record = _store_test(session, unit, test, fields, by=by, now=now, reason=reason,
                             action="release_test.late_positive_culture")  # fmt: skip
    else:
        record = _store_test(session, unit, test, fields, by=by, now=now)
    if unit.status is UnitStatus.RELEASED:
        withdrawn = {"status": UnitStatus.QUARANTINE, "released_at": None, "released_by_id": None}
        reason = f"{test} result recorded after release; release the unit again"
        change_record(session, unit, withdrawn, by=by, action="product_unit.release_withdrawn",
                      now=now, reason=reason)  # fmt: skip
    commit(session)
    return record


def _store_test(
    session: Session, unit: ProductUnit, test: str, fields: Mapping[str, object], *, by: User,
    now: datetime, action: str | None = None, reason: str | None = None,
) -> ReleaseTest:  # fmt: skip
    """Add the unit's result for ``test``, or change the one stored (its version grows).

    ``action`` replaces the usual audit action (``release_test.recorded`` or ``.changed``).
    """
    current = session.scalars(
        sa.select(ReleaseTest).where(ReleaseTest.unit_id == unit.id, ReleaseTest.test == test)
    ).one_or_none()
    if current is not None:
        return change_record(session, current, fields, by=by, now=now, reason=reason,
                             action=action or "release_test.changed")  # fmt: skip
    record = ReleaseTest(unit_id=unit.id, test=test, **fields)
    return add_record(session, record, by=by, now=now, reason=reason,
                      action=action or "release_test.recorded")  # fmt: skip


def late_positive_cultures(session: Session, *, by: User) -> list[LatePositiveCulture]:
    """Units whose sterility culture failed while dispensed or administered, oldest result first.

    Each names the patient the unit was last dispensed or given to, who must be followed up
    (clinical.md §10, release logic). Only lots at sites ``by`` may see are listed.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may see patients.
    """
    access.require(by, Action.VIEW_PATIENT, resource="late positive cultures")
    handed = (
        sa.select(sa.func.max(CustodyEvent.id))
        .where(
            CustodyEvent.unit_id == ProductUnit.id,
            CustodyEvent.kind.in_([CustodyKind.DISPENSED, CustodyKind.ADMINISTERED]),
        )
        .correlate(ProductUnit)
        .scalar_subquery()
    )
    # Dispensing and administering always name the patient; the filter below makes it certain.
    patient = sa.type_coerce(CustodyEvent.patient_id, sa.Integer)
    statement = (
        sa.select(ProductUnit.din, ProductLot.lot_code, patient, ReleaseTest.tested_on)
        .join(ProductLot, ProductLot.id == ProductUnit.lot_id)
        .join(ReleaseTest, ReleaseTest.unit_id == ProductUnit.id)
        .join(CustodyEvent, CustodyEvent.id == handed)
        .where(
            ProductUnit.status.in_(_LATE_STATUSES),
            ReleaseTest.test == _LATE_TEST,
            ReleaseTest.result == TestResult.FAIL,
            CustodyEvent.patient_id.is_not(None),
        )
        .order_by(ReleaseTest.tested_on, ProductUnit.din)
    )
    if not access.sees_all_sites(by):
        statement = statement.where(ProductLot.site_id == by.site_id)
    return [
        LatePositiveCulture(din=din, lot_code=lot_code, patient_id=patient_id, tested_on=tested_on)
        for din, lot_code, patient_id, tested_on in session.execute(statement)
    ]


def _test_problems(
    test: str, result: TestResult, value: float | None, tested_on: date, *, today: date
) -> Iterator[Problem]:
    if test not in RELEASE_TESTS:
        yield Problem("test", f"must be one of {', '.join(RELEASE_TESTS)}, got {test!r}")
    if result is TestResult.NO_GROWTH_TO_DATE and test != "sterility":
        yield Problem("result", "no_growth_to_date applies to sterility cultures only")
    yield from _value_problems(test, result, value)
    if tested_on > today:
        yield Problem("tested_on", f"{tested_on} is in the future")


def _value_problems(test: str, result: TestResult, value: float | None) -> Iterator[Problem]:
    if value is None:
        if test in _PERCENT_TESTS and result is TestResult.PASS:
            yield Problem("value", f"required: a passing {test} result needs the measured %")
    elif not math.isfinite(value):
        yield Problem("value", f"must be a finite number, got {value!r}")
    elif test in _PERCENT_TESTS and not 0 <= value <= 100:
        yield Problem("value", f"{test} is a percentage, 0-100, got {value:g}")
    elif value < 0:
        yield Problem("value", f"must be >= 0, got {value:g}")


def release_unit(
    session: Session, *, unit_id: int, criteria: ReleaseCriteria, by: User, now: datetime
) -> ProductUnit:
    """Release a quarantined unit whose tests meet ``criteria`` (clinical.md §10).

    Raises
    ------
    InvalidInput
        If the criteria contradict themselves.
    Conflict
        Unless the unit is in quarantine.
    ProductNotReleased
        With a finding per unmet criterion (``release.viability``, ``release.sterility``, ...,
        ``release.expired``); never overridable.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.MANAGE_PRODUCT)
    criteria_problems = [Problem(f"criteria.{field}", rule) for field, rule in criteria.problems()]
    if criteria_problems:
        raise InvalidInput(criteria_problems, subject="release criteria")
    _require_status(unit, UnitStatus.QUARANTINE, doing="released")
    findings = _release_findings(session, unit, criteria, today=now.date())
    if findings:
        raise ProductNotReleased(findings, overridable=False)
    changes = {"status": UnitStatus.RELEASED, "released_at": now, "released_by_id": by.id}
    change_record(session, unit, changes, by=by, action="product_unit.released", now=now,
                  reason=f"release criteria met: {_describe(criteria)}")  # fmt: skip
    commit(session)
    return unit


def _release_findings(
    session: Session, unit: ProductUnit, criteria: ReleaseCriteria, *, today: date
) -> list[Problem]:
    tests = session.scalars(sa.select(ReleaseTest).where(ReleaseTest.unit_id == unit.id))
    results = {test.test: (test.result, test.value) for test in tests}
    findings = [
        Problem(
            f"release.{problem.location}",
            f"{problem.message}; record the final result or reject unit {unit.din}",
        )
        for problem in release_problems(criteria, results)
    ]
    if unit.expires_on < today:
        findings.append(
            Problem("release.expired", f"{unit.din} expired on {unit.expires_on}; discard it")
        )
    return findings


def _describe(criteria: ReleaseCriteria) -> str:
    parts = [
        f"viability >= {criteria.viability_percent_min:g} %",
        f"sterility {criteria.sterility}",
    ]
    parts += ["gram stain negative"] if criteria.gram_stain_negative else []
    parts += ["mycoplasma negative"] if criteria.mycoplasma_negative else []
    if criteria.identity_marker is not None:
        parts.append(f"{criteria.identity_marker} >= {criteria.identity_marker_min_percent:g} %")
    return ", ".join(parts)


def reject_unit(
    session: Session, *, unit_id: int, reason: str, by: User, now: datetime
) -> ProductUnit:
    """Reject a quarantined unit that failed release; it stays on record until discarded.

    Raises
    ------
    InvalidInput
        Without a reason.
    Conflict
        Unless the unit is in quarantine.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.MANAGE_PRODUCT)
    _require_reason(reason, subject="rejection")
    _require_status(unit, UnitStatus.QUARANTINE, doing="rejected")
    change_record(session, unit, {"status": UnitStatus.REJECTED}, by=by,
                  action="product_unit.rejected", now=now, reason=reason.strip())  # fmt: skip
    commit(session)
    return unit


def discard_unit(
    session: Session, *, unit_id: int, reason: str, by: User, now: datetime
) -> ProductUnit:
    """Discard any unit not yet administered, with a reason and a ``discarded`` custody event.

    Raises
    ------
    InvalidInput
        Without a reason.
    Conflict
        If the unit was administered or is already discarded.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.MANAGE_PRODUCT)
    _require_reason(reason, subject="discard")
    if unit.status in _NO_MORE_CUSTODY:
        raise Conflict(f"unit {unit.din} is {unit.status}, so it cannot be discarded")
    change_record(session, unit, {"status": UnitStatus.DISCARDED}, by=by,
                  action="product_unit.discarded", now=now, reason=reason.strip())  # fmt: skip
    _add_custody(session, unit, CustodyKind.DISCARDED, by=by, now=now, notes=reason.strip())
    commit(session)
    return unit


# ---------------------------------------------------------------- dispensing and custody


def dispense_unit(
    session: Session, *, unit_id: int, patient_id: int, by: User, now: datetime
) -> ProductUnit:
    """Dispense a released, unexpired, unassigned unit to a named patient at the lot's site.

    The patient must be enrolled or in treatment, and an autologous unit goes to its donor only. The
    custody event names the patient: from here the unit is that patient's only (clinical.md §10,
    chain of identity).

    Raises
    ------
    InvalidInput
        If the patient is at another site than the lot.
    ProductNotReleased
        With ``unit.not_released``, ``unit.expired``, ``unit.already_dispensed``,
        ``unit.other_donor``, ``unit.failed_test`` or ``patient.not_in_treatment``; never
        overridable.
    """
    unit, lot = _unit_for(session, unit_id, by=by, action=Action.DISPENSE_UNIT)
    patient = load(session, Patient, patient_id, kind="patient")
    if patient.site_id != lot.site_id:
        rule = f"patient {patient_id} is not at lot {lot.lot_code}'s site; dispense from their site"
        raise InvalidInput([Problem("patient_id", rule)], subject="dispensing")
    findings = list(_dispense_findings(unit, lot, patient, today=now.date()))
    failed = session.scalars(
        sa.select(ReleaseTest.test).where(
            ReleaseTest.unit_id == unit.id, ReleaseTest.result == TestResult.FAIL
        )
    ).all()  # e.g. a late positive culture on a unit since returned
    findings += [
        Problem("unit.failed_test", f"{unit.din} failed its {test} test; discard it")
        for test in failed
    ]
    if findings:
        raise ProductNotReleased(findings, overridable=False)
    changes = {"status": UnitStatus.DISPENSED, "assigned_patient_id": patient.id}
    change_record(session, unit, changes, by=by, action="product_unit.dispensed", now=now)
    _add_custody(session, unit, CustodyKind.DISPENSED, by=by, now=now, patient_id=patient.id,
                 notes=f"for patient {patient.study_code}")  # fmt: skip
    commit(session)
    return unit


def _dispense_findings(
    unit: ProductUnit, lot: ProductLot, patient: Patient, *, today: date
) -> Iterator[Problem]:
    if unit.assigned_patient_id is not None:
        yield Problem(
            "unit.already_dispensed",
            f"{unit.din} is already dispensed to a patient; it must be returned first",
        )
    elif unit.status is not UnitStatus.RELEASED:
        yield Problem(
            "unit.not_released", f"{unit.din} is {unit.status}; the cell lab must release it first"
        )
    if unit.expires_on < today:
        yield Problem("unit.expired", f"{unit.din} expired on {unit.expires_on}; discard it")
    if lot.source == ProductSource.AUTOLOGOUS and lot.donor_patient_id != patient.id:
        yield Problem(
            "unit.other_donor",
            f"{unit.din} is autologous (lot {lot.lot_code}): it may be dispensed to its donor only",
        )
    if patient.status not in _TREATABLE:
        yield Problem(
            "patient.not_in_treatment",
            f"patient {patient.study_code} is {patient.status}; only an enrolled or in-treatment "
            "patient may be dispensed a unit",
        )


def return_unit(
    session: Session, *, unit_id: int, reason: str, by: User, now: datetime
) -> ProductUnit:
    """Take back a dispensed unit: released again, no longer assigned, custody ``returned``.

    Thawed cells do not go back to stock: a unit thawed since it was last dispensed is discarded
    instead.

    Raises
    ------
    InvalidInput
        Without a reason.
    Conflict
        Unless the unit is dispensed, or if it was thawed since it was last dispensed.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.DISPENSE_UNIT)
    _require_reason(reason, subject="return")
    _require_status(unit, UnitStatus.DISPENSED, doing="returned")
    if _thawed_since_dispensed(session, unit):
        raise Conflict(
            f"unit {unit.din} was thawed after it was dispensed: thawed cells do not go back to "
            "stock; discard the unit instead"
        )
    patient_id = unit.assigned_patient_id
    changes = {"status": UnitStatus.RELEASED, "assigned_patient_id": None}
    change_record(session, unit, changes, by=by, action="product_unit.returned", now=now,
                  reason=reason.strip())  # fmt: skip
    _add_custody(session, unit, CustodyKind.RETURNED, by=by, now=now, patient_id=patient_id,
                 notes=reason.strip())  # fmt: skip
    commit(session)
    return unit


def _thawed_since_dispensed(session: Session, unit: ProductUnit) -> bool:
    """Whether the unit's custody trail has a ``thawed`` event after its last ``dispensed`` one."""
    dispensed = (
        sa.select(sa.func.max(CustodyEvent.id))
        .where(CustodyEvent.unit_id == unit.id, CustodyEvent.kind == CustodyKind.DISPENSED)
        .scalar_subquery()
    )
    thawed = sa.select(CustodyEvent.id).where(
        CustodyEvent.unit_id == unit.id,
        CustodyEvent.kind == CustodyKind.THAWED,
        CustodyEvent.id > dispensed,
    )
    return exists(session, thawed)


def record_custody(
    session: Session, *, unit_id: int, kind: CustodyKind, location: str, notes: str | None = None,
    by: User, now: datetime,
) -> CustodyEvent:  # fmt: skip
    """Record a handling step (``stored`` or ``thawed``) in a unit's chain of custody.

    Receiving, dispensing, returning and discarding are recorded by their own use cases.

    Raises
    ------
    InvalidInput
        For another kind of step, or without a location.
    Conflict
        If the unit was administered or discarded.
    """
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.MANAGE_PRODUCT)
    problems = []
    if kind not in _MANUAL_CUSTODY:
        rule = f"must be stored or thawed, got {kind}: that step is recorded by its own use case"
        problems.append(Problem("kind", rule))
    if not location.strip():
        problems.append(Problem("location", "required: say where the unit is"))
    if problems:
        raise InvalidInput(problems, subject="custody event")
    if unit.status in _NO_MORE_CUSTODY:
        raise Conflict(f"unit {unit.din} is {unit.status}; its chain of custody is closed")
    event = _add_custody(session, unit, kind, by=by, now=now, location=location.strip(),
                         notes=notes.strip() if notes and notes.strip() else None)  # fmt: skip
    commit(session)
    return event


def find_unit_by_din(session: Session, din: str) -> ProductUnit | None:
    """The unit with this DIN, or None. Spaces, hyphens and case are ignored.

    A 14-character entry is taken as the DIN and its check character, which must match.

    Raises
    ------
    InvalidInput
        If a 14-character entry's check character is wrong.
    """
    entry = isbt128.normalize_unit_id(din)
    if len(entry) == _TYPED_LENGTH:
        entry = isbt128.parse_unit_id(entry, field="din")
    return session.scalars(sa.select(ProductUnit).where(ProductUnit.din == entry)).one_or_none()


# ---------------------------------------------------------------- shared steps


def _unit_for(
    session: Session, unit_id: int, *, by: User, action: Action
) -> tuple[ProductUnit, ProductLot]:
    """The unit and its lot, if ``by`` may do ``action`` at the lot's site."""
    unit = load(session, ProductUnit, unit_id, kind="product unit")
    lot = load(session, ProductLot, unit.lot_id, kind="product lot")
    access.require(by, action, site_id=lot.site_id, resource=f"product unit {unit.din}")
    return unit, lot


def _require_status(unit: ProductUnit, status: UnitStatus, *, doing: str) -> None:
    if unit.status is not status:
        raise Conflict(f"unit {unit.din} is {unit.status}; only a unit in {status} can be {doing}")


def _require_reason(reason: str, *, subject: str) -> None:
    if not reason.strip():
        raise InvalidInput([Problem("reason", "required: say why")], subject=subject)


def _add_custody(
    session: Session, unit: ProductUnit, kind: CustodyKind, *, by: User, now: datetime,
    patient_id: int | None = None, location: str | None = None, notes: str | None = None,
) -> CustodyEvent:  # fmt: skip
    event = CustodyEvent(unit_id=unit.id, kind=kind, at=now, by_id=by.id, patient_id=patient_id,
                         location=location, notes=notes)  # fmt: skip
    return add_record(session, event, by=by, action=f"custody.{kind.value}", now=now)


# ---------------------------------------------------------------- reading


def list_lots(
    session: Session, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[ProductLot], int]:
    """Lots at the sites ``by`` may see, most recently received first; and their total.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may see patients.
    """
    access.require(by, Action.VIEW_PATIENT, resource="product lots")
    statement = sa.select(ProductLot)
    if not access.sees_all_sites(by):
        statement = statement.where(ProductLot.site_id == by.site_id)
    return page(
        session,
        statement,
        ProductLot.received_on.desc(),
        ProductLot.id.desc(),
        limit=limit,
        offset=offset,
    )


def get_lot(session: Session, lot_id: int, *, by: User) -> tuple[ProductLot, list[ProductUnit]]:
    """A lot and its units (by DIN), if ``by`` may see the lot's site."""
    lot = load(session, ProductLot, lot_id, kind="product lot")
    access.require(by, Action.VIEW_PATIENT, site_id=lot.site_id, resource=f"lot {lot.lot_code}")
    units = session.scalars(
        sa.select(ProductUnit).where(ProductUnit.lot_id == lot.id).order_by(ProductUnit.din)
    )
    return lot, list(units)


def get_unit(session: Session, unit_id: int, *, by: User) -> ProductUnit:
    """A unit, if ``by`` may see its lot's site."""
    unit, _ = _unit_for(session, unit_id, by=by, action=Action.VIEW_PATIENT)
    return unit


def get_unit_by_din(session: Session, *, din: str, by: User) -> ProductUnit:
    """The unit with this DIN (typed or scanned, see :func:`find_unit_by_din`), or :class:`NotFound`.

    Raises
    ------
    InvalidInput
        If a typed id's check character is wrong.
    PermissionDenied
        Unless ``by`` may see the unit's lot's site.
    """
    unit = find_unit_by_din(session, din)
    if unit is None:
        raise NotFound("product unit", isbt128.normalize_unit_id(din))
    return get_unit(session, unit.id, by=by)


def list_custody(session: Session, unit_id: int, *, by: User) -> list[CustodyEvent]:
    """A unit's chain of custody, oldest step first."""
    unit = get_unit(session, unit_id, by=by)
    statement = (
        sa.select(CustodyEvent).where(CustodyEvent.unit_id == unit.id).order_by(CustodyEvent.id)
    )
    return list(session.scalars(statement))


def release_criteria(session: Session, *, protocol_id: int) -> ReleaseCriteria:
    """The release criteria of a protocol's cell product (clinical.md §10).

    Raises
    ------
    NotFound
        For an unknown protocol.
    InvalidInput
        If the protocol gives no cell product (problem named ``protocol_id``).
    """
    product = protocol_of(session, protocol_id).product
    if product is None:
        rule = f"protocol {protocol_id} gives no cell product; name the protocol the unit is for"
        raise InvalidInput([Problem("protocol_id", rule)], subject="release")
    return product.release


def dispensed_units_for(session: Session, *, patient_id: int, by: User) -> list[ProductUnit]:
    """The units dispensed to the patient and not yet given, by DIN (for choosing a dose's unit).

    Raises
    ------
    PermissionDenied
        Unless ``by`` may see patients at the patient's site.
    """
    patient = load(session, Patient, patient_id, kind="patient")
    access.require(
        by, Action.VIEW_PATIENT, site_id=patient.site_id, resource=f"patient {patient.study_code}"
    )
    statement = (
        sa.select(ProductUnit)
        .where(
            ProductUnit.assigned_patient_id == patient.id,
            ProductUnit.status == UnitStatus.DISPENSED,
        )
        .order_by(ProductUnit.din)
    )
    return list(session.scalars(statement))


# ---------------------------------------------------------------- reading for the cell lab's pages


def list_lots_with_units(
    session: Session, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[ProductLot, list[ProductUnit]]], int]:
    """Lots at the sites ``by`` may see (as :func:`list_lots`), each with its units by DIN."""
    lots, total = list_lots(session, by=by, limit=limit, offset=offset)
    units: dict[int, list[ProductUnit]] = {lot.id: [] for lot in lots}
    statement = (
        sa.select(ProductUnit).where(ProductUnit.lot_id.in_(units)).order_by(ProductUnit.din)
    )
    for unit in session.scalars(statement):
        units[unit.lot_id].append(unit)
    return [(lot, units[lot.id]) for lot in lots], total


def list_release_tests(session: Session, unit_id: int, *, by: User) -> list[ReleaseTest]:
    """A unit's release test results by test name, if ``by`` may see its lot's site."""
    unit = get_unit(session, unit_id, by=by)
    statement = (
        sa.select(ReleaseTest).where(ReleaseTest.unit_id == unit.id).order_by(ReleaseTest.test)
    )
    return list(session.scalars(statement))
