"""Cell doses and their safety blocks (services/dosing.py; DESIGN.md "Safety rules that block").

Each block is tested on its own, with the error type, the rule id a physician's override names,
and what is left behind (nothing). Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.errors import (
    Conflict,
    ContraindicationFound,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProductNotReleased,
    ProtocolViolation,
    SafetyCheckFailed,
)
from alscell.services import dosing, products, safety
from alscell.services.audit import verify_trail
from alscell.services.dosing import Override
from alscell.services.enrollment import plan_for
from alscell.storage.base import Base
from alscell.storage.models import Administration, AuditEvent, CustodyEvent, Enrollment
from alscell.storage.models.product import UnitStatus
from tests.factories import make_site, make_user
from tests.services.scenario import (
    UNIT_IDS,
    Clinic,
    clear_bedside,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)

CELLS = 5_000_000  # the seed protocol's dose, ± 10 %


@pytest.fixture
def ready(session):
    """A patient in treatment with four released units, the first dispensed to them for day 10."""
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c)
    dispensed(c, units[0], patient, day(10))
    return c, patient, enrollment, units


def give(
    c: Clinic, enrollment: Enrollment, unit_id: str = UNIT_IDS[0], *, on: date | None = None,
    cells: float = CELLS, **kwargs: Any,
) -> Administration:  # fmt: skip
    on = on or day(10)
    fields: dict[str, Any] = {
        "bedside": clear_bedside(),
        "by": c.physician,
        "now": c.at(on),
    } | kwargs
    return dosing.record_cell_dose(
        c.session,
        enrollment_id=enrollment.id,
        unit_id=unit_id,
        dose_cells=cells,
        given_on=on,
        **fields,
    )


def count(session: Session, model: type[Base]) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def blocked(call: Callable[[], object]) -> SafetyCheckFailed:
    with pytest.raises(SafetyCheckFailed) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------- the happy path


def test_a_dose_is_recorded_with_its_unit_custody_and_calendar(ready):
    c, _, enrollment, units = ready

    dose = give(c, enrollment)

    assert (dose.occurrence, dose.product_unit_id, dose.dose_cells) == (1, units[0].id, CELLS)
    assert dose.overridden_rules is None
    assert units[0].status is UnitStatus.ADMINISTERED
    custody = [
        e.kind.value
        for e in c.session.query(CustodyEvent)
        .filter_by(unit_id=units[0].id)
        .order_by(CustodyEvent.id)
    ]
    assert custody == ["received", "dispensed", "administered"]
    first = plan_for(c.session, enrollment).occurrences("implantation")[0]
    assert (first.status.value, first.actual_on) == ("done", day(10))
    assert verify_trail(c.session) == []


def test_the_unit_id_may_be_typed_with_spaces_and_lower_case(ready):
    c, _, enrollment, _ = ready

    assert give(c, enrollment, "g1234 98 654321 h").occurrence == 1


# ---------------------------------------------------------------- each block


def test_a_unit_not_dispensed_to_anyone_is_refused(ready):
    c, _, enrollment, _ = ready

    error = blocked(lambda: give(c, enrollment, UNIT_IDS[1]))

    assert isinstance(error, ProductNotReleased)
    assert error.rules == ("unit.not_dispensed",)
    assert error.overridable


def test_a_quarantined_unit_is_refused(session):
    c = clinic(session)
    _, enrollment = enrolled_in_treatment(c)
    products.register_lot(session, lot_code="LOT-Q", site_id=c.site.id, product_name="NSC", source="xenogeneic",
                          cell_type="neural stem cells", manufactured_on=date(2025, 12, 30), received_on=date(2026, 1, 2),
                          units=[products.UnitInput(unit_id=UNIT_IDS[4], cells=5e6, expires_on=date(2026, 6, 30))],
                          by=c.lab, now=c.at(date(2026, 1, 2)))  # fmt: skip

    error = blocked(lambda: give(c, enrollment, UNIT_IDS[4]))

    assert set(error.rules) == {"unit.not_released", "unit.not_dispensed"}


def test_an_expired_unit_is_refused(session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c, 1, expires_on=date(2026, 1, 16))
    dispensed(c, units[0], patient, day(10))

    # dispensed on day 10 (2026-01-15), given the day after the unit expired
    error = blocked(lambda: give(c, enrollment, on=date(2026, 1, 17)))

    assert error.rules == ("unit.expired",)


def test_another_patients_unit_is_refused_even_with_an_override(ready):
    c, _, enrollment, units = ready
    other, _ = enrolled_in_treatment(c, code="AMS-002")
    dispensed(c, units[1], other, day(10))

    error = blocked(
        lambda: give(
            c, enrollment, UNIT_IDS[1], override=Override(("unit.other_patient",), "urgent")
        )
    )

    assert error.rules == ("unit.other_patient",)
    assert not error.overridable


def test_the_wrong_patient_at_the_bedside_is_refused_and_never_overridden(ready):
    c, _, enrollment, _ = ready
    bedside = clear_bedside(birth_on=date(1964, 5, 18))

    error = blocked(
        lambda: give(
            c, enrollment, bedside=bedside, override=Override(("identity.mismatch",), "sure")
        )
    )

    assert error.rules == ("identity.mismatch",)
    assert not error.overridable


@pytest.mark.parametrize("cells", [4_490_000, 5_510_000, 1_000_000])
def test_a_dose_outside_the_tolerance_is_refused(ready, cells):
    c, _, enrollment, _ = ready

    error = blocked(lambda: give(c, enrollment, cells=cells))

    assert isinstance(error, ProtocolViolation)
    assert error.rules == ("dose.out_of_range",)


@pytest.mark.parametrize("cells", [4_500_000, 5_500_000])
def test_a_dose_at_either_end_of_the_tolerance_is_given(ready, cells):
    c, _, enrollment, _ = ready

    assert give(c, enrollment, cells=cells).dose_cells == cells


@pytest.mark.parametrize(
    ("pre_puncture", "rule"),
    [
        ({"platelets_10e9_per_l": 45.0}, "pre_puncture.platelets"),
        ({"inr": 1.6}, "pre_puncture.inr"),
        ({"hours_since_last_dose": {"apixaban": 24.0}}, "pre_puncture.hold:apixaban"),
        ({"anticoagulants_reviewed": False}, "pre_puncture.anticoagulants"),
        ({"findings": {"local_infection": True}}, "pre_puncture.local_infection"),
    ],
)
def test_a_failed_pre_puncture_check_is_refused(ready, pre_puncture, rule):
    c, _, enrollment, _ = ready
    base = clear_bedside().pre_puncture
    changes = dict(
        pre_puncture
    )  # parameters are shared between the two engines' runs: never mutate
    findings = {**base.findings, **changes.pop("findings", {})}
    bedside = clear_bedside(pre_puncture=replace(base, findings=findings, **changes))

    error = blocked(lambda: give(c, enrollment, bedside=bedside))

    assert isinstance(error, ContraindicationFound)
    assert error.rules == (rule,)


def test_a_relative_contraindication_needs_a_physicians_override(ready):
    c, _, enrollment, _ = ready
    base = clear_bedside().pre_puncture
    bedside = clear_bedside(
        pre_puncture=replace(
            base, findings={**base.findings, "cardiorespiratory_insufficiency": True}
        )
    )
    rule = "pre_puncture.relative:cardiorespiratory_insufficiency"

    assert blocked(lambda: give(c, enrollment, bedside=bedside)).rules == (rule,)
    dose = give(
        c, enrollment, bedside=bedside, override=Override((rule,), "positioned sitting; VC 62 %")
    )
    assert dose.overridden_rules == [rule]


def test_platelets_come_from_the_records_when_not_given_at_the_bedside(ready):
    c, patient, enrollment, _ = ready
    from alscell.services import assessments

    assessments.record_lab_result(
        c.session,
        patient_id=patient.id,
        collected_on=day(9),
        analyte="platelets",
        value=30.0,
        by=c.nurse,
        now=c.at(day(9)),
    )

    assert blocked(lambda: give(c, enrollment)).rules == ("pre_puncture.platelets",)


def test_a_dose_too_soon_after_the_previous_one_is_refused(ready):
    c, patient, enrollment, units = ready
    give(c, enrollment)
    dispensed(c, units[1], patient, day(15))

    # day 10 then day 15: 5 days, the seed's minimum interval is 6
    error = blocked(lambda: give(c, enrollment, UNIT_IDS[1], on=day(15)))

    assert error.rules == ("dose.interval",)


def test_a_dose_exactly_the_minimum_interval_later_is_given(ready):
    c, patient, enrollment, units = ready
    give(c, enrollment)
    dispensed(c, units[1], patient, day(16))

    assert give(c, enrollment, UNIT_IDS[1], on=day(16)).occurrence == 2


def test_a_fifth_dose_is_beyond_the_protocol(session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c, 5)
    for n, unit in enumerate(units[:4]):
        dispensed(c, unit, patient, day(10 + 7 * n))
        give(c, enrollment, UNIT_IDS[n], on=day(10 + 7 * n))
    dispensed(c, units[4], patient, day(38))

    error = blocked(lambda: give(c, enrollment, UNIT_IDS[4], on=day(38)))

    assert error.rules == ("dose.beyond_count",)


def test_an_endotoxin_load_over_the_limit_is_refused(session):
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c, 1, endotoxin_eu=13.0)
    dispensed(c, units[0], patient, day(10))

    # USP <85> intrathecal: K 0.2 EU/kg × 62 kg = 12.4 EU per dose (clinical.md §10)
    error = blocked(lambda: give(c, enrollment))

    assert error.rules == ("unit.endotoxin",)
    assert "12.4 EU limit" in str(error)


def test_an_active_stopping_rule_halts_doses_until_a_physician_decides(ready):
    c, patient, enrollment, _ = ready
    safety.record_adverse_event(c.session, patient_id=patient.id, term="meningitis", onset_on=day(8), ctcae_grade=4,
                                serious=True, seriousness=["life_threatening"], expected=False,
                                causality_procedure=Causality.PROBABLE, causality_product=Causality.POSSIBLE,
                                causality_drug=Causality.UNRELATED, aware_on=day(8), by=c.physician, now=c.at(day(8)))  # fmt: skip

    error = blocked(
        lambda: give(
            c, enrollment, override=Override(("stopping_rule.related-grade-4",), "benefit")
        )
    )
    assert error.rules == ("stopping_rule.related-grade-4",)
    assert not error.overridable

    safety.decide_stopping_rule(c.session, protocol_id=c.protocol.id, rule_id="related-grade-4", decision="resume",
                                reason="DSMB reviewed; meningitis treated", decided_on=day(9), by=c.physician, now=c.at(day(9)))  # fmt: skip
    assert give(c, enrollment).occurrence == 1


def test_every_broken_rule_is_listed_at_once(ready):
    c, _, enrollment, _ = ready
    base = clear_bedside().pre_puncture
    bedside = clear_bedside(pre_puncture=replace(base, platelets_10e9_per_l=10.0))

    error = blocked(lambda: give(c, enrollment, UNIT_IDS[1], cells=1_000, bedside=bedside))

    assert set(error.rules) == {"unit.not_dispensed", "dose.out_of_range", "pre_puncture.platelets"}
    assert isinstance(error, ProductNotReleased)  # the unit comes first


# ---------------------------------------------------------------- overrides


def test_an_override_records_the_rules_reason_and_physician(ready):
    c, _, enrollment, _ = ready

    dose = give(
        c,
        enrollment,
        cells=4_000_000,
        override=Override(("dose.out_of_range",), "short culture yield; benefit outweighs"),
    )

    assert dose.overridden_rules == ["dose.out_of_range"]
    assert (dose.override_reason, dose.override_by_id) == (
        "short culture yield; benefit outweighs",
        c.physician.id,
    )
    event = c.session.query(AuditEvent).filter_by(action="dose.recorded_with_override").one()
    assert event.reason == "short culture yield; benefit outweighs"
    assert verify_trail(c.session) == []


def test_an_override_must_cover_every_rule_broken(ready):
    c, _, enrollment, _ = ready
    bedside = clear_bedside(pre_puncture=replace(clear_bedside().pre_puncture, inr=2.0))

    error = blocked(
        lambda: give(
            c,
            enrollment,
            cells=4_000_000,
            bedside=bedside,
            override=Override(("dose.out_of_range",), "yield"),
        )
    )

    assert error.rules == ("pre_puncture.inr",)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (Override(("dose.out_of_range",), "  "), "override.reason: required"),
        (
            Override(("dose.out_of_range", "dose.interval"), "yield"),
            "these rules did not fail: dose.interval",
        ),
    ],
)
def test_a_malformed_override_is_refused(ready, override, message):
    c, _, enrollment, _ = ready

    with pytest.raises(InvalidInput, match=message):
        give(c, enrollment, cells=4_000_000, override=override)


def test_an_override_with_nothing_to_override_is_refused(ready):
    c, _, enrollment, _ = ready

    with pytest.raises(InvalidInput, match="nothing to override"):
        give(c, enrollment, override=Override(("dose.out_of_range",), "just in case"))


# ---------------------------------------------------------------- refusals leave nothing behind


def test_a_refused_dose_leaves_nothing_behind(ready):
    c, _, enrollment, units = ready
    before = (
        count(c.session, Administration),
        count(c.session, CustodyEvent),
        count(c.session, AuditEvent),
    )

    blocked(lambda: give(c, enrollment, cells=1_000))

    assert (
        count(c.session, Administration),
        count(c.session, CustodyEvent),
        count(c.session, AuditEvent),
    ) == before
    c.session.refresh(units[0])
    assert units[0].status is UnitStatus.DISPENSED


def test_only_physicians_record_punctures(ready):
    c, _, enrollment, _ = ready

    with pytest.raises(PermissionDenied):
        give(c, enrollment, by=c.nurse)


def test_a_physician_of_another_site_is_refused(ready):
    c, _, enrollment, _ = ready
    elsewhere = make_user(c.session, Role.PHYSICIAN, site=make_site(c.session, code="ROM"))

    with pytest.raises(PermissionDenied, match="at another site"):
        give(c, enrollment, by=elsewhere)


def test_a_unit_id_with_a_wrong_check_character_is_refused(ready):
    c, _, enrollment, _ = ready

    with pytest.raises(InvalidInput, match="unit_id: check character 'X' does not match"):
        give(c, enrollment, "G123498654321X")


def test_an_unknown_unit_is_not_found(ready):
    c, _, enrollment, _ = ready

    # A999914123456N is a valid DIN (ICCBBA IN-015) that this clinic never registered
    with pytest.raises(NotFound, match="product unit 'A999914123456' was not found"):
        give(c, enrollment, UNIT_IDS[4])


def test_a_patient_not_in_treatment_gets_no_dose(ready):
    c, patient, enrollment, _ = ready
    from alscell.domain.lifecycle import PatientStatus
    from alscell.services import patients

    patients.close_participation(c.session, patient_id=patient.id, status=PatientStatus.WITHDRAWN, on=day(9),
                                 reason="moved abroad", by=c.coordinator, now=c.at(day(9)))  # fmt: skip

    with pytest.raises(Conflict, match="is withdrawn, not in treatment"):
        give(c, enrollment)


# ---------------------------------------------------------------- daily care


def test_an_infusion_is_recorded_on_the_calendar(ready):
    c, _, enrollment, _ = ready

    record = dosing.record_care(c.session, enrollment_id=enrollment.id, activity_id="iv-neurotrophic", given_on=day(7),
                                drug="neurotrophic factors", by=c.nurse, now=c.at(day(7)))  # fmt: skip

    assert record.kind == "iv_infusion"
    assert plan_for(c.session, enrollment).occurrences("iv-neurotrophic")[0].status.value == "done"


def test_care_must_name_a_care_activity(ready):
    c, _, enrollment, _ = ready

    with pytest.raises(
        InvalidInput, match="activity_id: must be an infusion, medication or rehabilitation"
    ):
        dosing.record_care(
            c.session,
            enrollment_id=enrollment.id,
            activity_id="implantation",
            given_on=day(7),
            by=c.nurse,
            now=c.at(day(7)),
        )


def test_unit_rows_are_unchanged_by_a_refused_override(ready):
    c, _, enrollment, units = ready

    with pytest.raises(InvalidInput):
        give(c, enrollment, cells=4_000_000, override=Override(("dose.out_of_range",), ""))

    c.session.refresh(units[0])
    assert units[0].status is UnitStatus.DISPENSED
