"""The outcome evaluation from the records (services/evaluation.py; DESIGN.md "Honest evaluation").

A cohort of five patients on the seed program, each given one implantation on day 10 (2026-01-15),
so the 6-month time point is 2026-07-17 (± 14 days, the month-6 visit's window): one declined 4 points,
one unchanged, one improved 1 point, one died on 2026-04-01 and one never rated at the time point. The
statistics themselves are tested in tests/domain/test_evaluation.py; here, that the records reach them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.evaluation import Category, Evaluation, PatientResult
from alscell.errors import PermissionDenied
from alscell.services import assessments, dosing, outcomes, protocols
from alscell.services.dosing import Override
from alscell.services.evaluation import evaluate_program, evaluation_protocols
from alscell.storage.models import Patient, User
from tests.factories import NOW, make_site, make_user
from tests.services.scenario import (
    NORMAL_ITEMS,
    UNIT_IDS,
    Clinic,
    clear_bedside,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)

SIX_MONTHS = date(2026, 7, 17)  # day 10 + round(6 × 30.4375) days
AFTER = date(2026, 8, 15)  # the window (2026-07-03 to 2026-07-31) has closed
DIED_ON = date(2026, 4, 1)
AT_TIME_POINT = {
    "AMS-001": {**NORMAL_ITEMS, "q1": 3, "q4": 2, "q6": 3, "q8": 2},  # 42: from 46, -4
    "AMS-002": {**NORMAL_ITEMS, "q4": 3, "q8": 3},  # 46: unchanged
    "AMS-003": {**NORMAL_ITEMS, "q8": 3},  # 47: +1
}
CODES = ("AMS-001", "AMS-002", "AMS-003", "AMS-004", "AMS-005")


@dataclass
class Cohort:
    c: Clinic
    patients: dict[str, Patient]


@pytest.fixture
def cohort(session: Session) -> Cohort:
    """Five patients, one dose each on day 10 (AMS-005's over a block); ratings at 6 months for three,
    a death for one."""
    c = clinic(session)
    enrolled = {code: enrolled_in_treatment(c, code=code) for code in CODES}
    for unit_id, unit, code in zip(UNIT_IDS, released_units(c, count=5), CODES, strict=True):
        patient, enrollment = enrolled[code]
        if code != "AMS-005":
            dispensed(c, unit, patient, day(10))
        override = (
            Override(("unit.not_dispensed",), "unit hand-carried by the lab")
            if code == "AMS-005"
            else None
        )
        dosing.record_cell_dose(session, enrollment_id=enrollment.id, unit_id=unit_id, dose_cells=5e6,
                                given_on=day(10), bedside=clear_bedside(study_code=code), override=override,
                                by=c.physician, now=c.at(day(10)))  # fmt: skip
    for code, items in AT_TIME_POINT.items():
        assessments.record_alsfrs_rating(session, patient_id=enrolled[code][0].id, rated_on=SIX_MONTHS, items=items,
                                         by=c.nurse, now=c.at(SIX_MONTHS))  # fmt: skip
    outcomes.record_outcome_event(session, patient_id=enrolled["AMS-004"][0].id, kind="death", occurred_on=DIED_ON,
                                  source="family by telephone", by=c.physician, now=c.at(date(2026, 4, 2)))  # fmt: skip
    return Cohort(c, {code: patient for code, (patient, _) in enrolled.items()})


def run(cohort: Cohort, *, today: date = AFTER, by: User | None = None) -> Evaluation:
    return evaluate_program(cohort.c.session, protocol_id=cohort.c.protocol.id, by=by or cohort.c.physician,
                            today=today, draws=500)  # fmt: skip


def by_code(evaluation: Evaluation) -> dict[str, PatientResult]:
    return {patient.study_code: patient for patient in evaluation.patients}


def test_each_patient_is_read_from_the_records(cohort):
    evaluation = run(cohort)
    rows = by_code(evaluation)

    assert {code: row.category for code, row in rows.items()} == {
        "AMS-001": Category.WORSENED, "AMS-002": Category.STABLE, "AMS-003": Category.IMPROVED,
        "AMS-004": Category.DIED, "AMS-005": Category.MISSING,
    }  # fmt: skip
    assert [rows[code].change for code in CODES] == [-4, 0, 1, None, None]
    assert {row.baseline for row in rows.values() if row.baseline} == {rows["AMS-001"].baseline}
    assert rows["AMS-001"].baseline.rated_on == date(2025, 12, 20)  # type: ignore[union-attr]
    assert rows["AMS-001"].anchor_on == day(10)
    assert rows["AMS-001"].window == (date(2026, 7, 3), date(2026, 7, 31))
    assert rows["AMS-004"].event == ("death", DIED_ON)
    assert rows["AMS-001"].delta_fs is not None
    assert rows["AMS-001"].death_probability is not None  # ENCALS: every predictor is on record


def test_the_design_and_plan_come_from_the_protocol_and_its_plan(cohort):
    evaluation = run(cohort)

    assert evaluation.design.single_arm
    assert (evaluation.design.plan_version, evaluation.design.plan_locked_on) == ("1.0", NOW.date())
    assert evaluation.design.first_treatment_on == day(10)
    assert evaluation.design.locked_before_first_treatment
    assert (evaluation.data_cutoff, evaluation.model) == (AFTER, "natural-history 1.0")
    assert "A single-arm series cannot show whether the treatment works" in evaluation.statement[0]


def test_overrides_reach_the_patient_and_the_statement(cohort):
    evaluation = run(cohort)

    [override] = by_code(evaluation)["AMS-005"].overrides
    assert override.startswith("2026-01-15: unit.not_dispensed overridden")
    assert evaluation.cohort.patients_with_overrides == 1
    assert (
        evaluation.cohort.patients_with_deviations == 5
    )  # three implantations never given, each patient


def test_nothing_after_the_cut_off_is_used(cohort):
    evaluation = run(cohort, today=date(2026, 5, 1))

    assert evaluation.cohort.counts[Category.DIED] == 1
    assert evaluation.cohort.counts[Category.PENDING] == 4


def test_tracheostomy_counts_with_death(cohort):
    outcomes.record_outcome_event(cohort.c.session, patient_id=cohort.patients["AMS-005"].id, kind="tracheostomy",
                                  occurred_on=date(2026, 6, 1), by=cohort.c.physician, now=cohort.c.at(date(2026, 6, 2)))  # fmt: skip

    assert by_code(run(cohort))["AMS-005"].category is Category.DIED


def test_an_amendment_after_the_first_dose_is_counted_and_applied(cohort):
    analyst = make_user(cohort.c.session, Role.ANALYST)
    protocols.amend_analysis_plan(cohort.c.session, protocol_id=cohort.c.protocol.id,
                                  changes={"version": "1.1", "improved_min_change": 2},
                                  reason="align with the site's minimal important change",
                                  by=analyst, now=cohort.c.at(date(2026, 8, 1)))  # fmt: skip

    evaluation = run(cohort)

    assert evaluation.design.amendments_after_first_treatment == 1
    assert by_code(evaluation)["AMS-003"].category is Category.STABLE  # +1 is no longer improved
    assert "amended 1 time(s) since" in evaluation.statement[1]


def test_an_unlocked_plan_categorises_nobody(cohort):
    plan = protocols.analysis_plan_for(cohort.c.session, cohort.c.protocol.id)
    plan.locked_at = None  # only behind the services' back: treatment cannot start before locking
    cohort.c.session.flush()

    evaluation = run(cohort)

    assert not evaluation.plan_locked
    assert [by_code(evaluation)[code].category for code in ("AMS-001", "AMS-002", "AMS-003")] == [
        None
    ] * 3
    assert "is not locked" in evaluation.statement[1]


def test_another_sites_physician_sees_none_of_these_patients(cohort):
    stranger = make_user(cohort.c.session, Role.PHYSICIAN, site=make_site(cohort.c.session))

    assert run(cohort, by=stranger).patients == ()


def test_an_analyst_evaluates_every_site_and_a_nurse_may_not(cohort):
    analyst = make_user(cohort.c.session, Role.ANALYST)

    assert len(run(cohort, by=analyst).patients) == 5
    assert [row.key for row in evaluation_protocols(cohort.c.session, by=analyst)] == [
        "als-nsc-4lp"
    ]
    with pytest.raises(PermissionDenied):
        run(cohort, by=cohort.c.nurse)
