"""Assessments (services/assessments.py): validated by the domain, audited, site-scoped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alscell.domain.access import Role
from alscell.errors import InvalidInput, PermissionDenied
from alscell.services import assessments
from alscell.services.audit import verify_trail
from alscell.storage.models import AlsfrsRating, Site
from tests.factories import NOW, make_patient, make_site, make_user

NAIVE = datetime(2026, 1, 5, 9)  # noqa: DTZ001 - a naive datetime, refused on purpose
ITEMS = {
    "q1": 4,
    "q2": 3,
    "q3": 2,
    "q4": 1,
    "q5b": 0,
    "q6": 4,
    "q7": 3,
    "q8": 2,
    "q9": 1,
    "q10": 0,
    "q11": 4,
    "q12": 3,
}


@pytest.fixture
def ward(session):
    site = make_site(session)
    return make_patient(session, site=site), make_user(session, Role.NURSE, site=site), site


def test_a_rating_is_scored_by_the_domain_and_stored_with_its_items(session, ward):
    patient, nurse, _ = ward

    rating = assessments.record_alsfrs_rating(
        session, patient_id=patient.id, rated_on=date(2026, 1, 5), items=ITEMS, by=nurse, now=NOW
    )

    # 9 + (1 + 0 + 4) + 6 + 7 = 27 (clinical.md §1.2), item 5 as 5b (gastrostomy)
    assert (rating.total, rating.q5a, rating.q5b) == (27, None, 0)
    assert rating.items() == ITEMS
    assert verify_trail(session) == []


def test_every_rating_problem_is_listed_and_nothing_stored(session, ward):
    patient, nurse, _ = ward

    with pytest.raises(InvalidInput) as caught:  # item problems and others together
        assessments.record_alsfrs_rating(
            session,
            patient_id=patient.id,
            rated_on=date(2026, 1, 5),
            items={**ITEMS, "q1": 7, "q5a": 2},
            by=nurse,
            now=NOW,
        )

    assert {p.location for p in caught.value.problems} == {"q1", "q5a/q5b"}
    assert session.query(AlsfrsRating).count() == 0


def test_rating_date_and_form_are_checked_with_the_items(session, ward):
    patient, nurse, _ = ward

    with pytest.raises(InvalidInput) as caught:
        assessments.record_alsfrs_rating(
            session,
            patient_id=patient.id,
            rated_on=date(2027, 1, 1),
            items={},
            form="phone",
            by=nurse,
            now=NOW,
        )

    locations = {p.location for p in caught.value.problems}
    assert {"rated_on", "form", "q1", "q5a/q5b"} <= locations


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, p, u: assessments.record_vital_capacity(s, patient_id=p.id, measured_on=date(2026, 1, 5), percent_predicted=0, by=u, now=NOW), "percent_predicted"),
        (lambda s, p, u: assessments.record_vital_capacity(s, patient_id=p.id, measured_on=date(2026, 1, 5), percent_predicted=80, method="peak", by=u, now=NOW), "method"),
        (lambda s, p, u: assessments.record_weight(s, patient_id=p.id, measured_on=date(2026, 1, 5), weight_kg=7, by=u, now=NOW), "weight_kg"),
        (lambda s, p, u: assessments.record_lab_result(s, patient_id=p.id, collected_on=date(2026, 1, 5), analyte="sodium", value=140, by=u, now=NOW), "analyte"),
        (lambda s, p, u: assessments.record_lab_result(s, patient_id=p.id, collected_on=date(2026, 1, 5), analyte="inr", value=-1, by=u, now=NOW), "value"),
        (lambda s, p, u: assessments.record_vital_signs(s, patient_id=p.id, measured_at=NAIVE, by=u, now=NOW), "measured_at"),
        (lambda s, p, u: assessments.record_vital_signs(s, patient_id=p.id, measured_at=datetime(2027, 1, 5, 9, tzinfo=UTC), by=u, now=NOW), "measured_at"),
        (lambda s, p, u: assessments.record_vital_signs(s, patient_id=p.id, measured_at=NOW, spo2_percent=120, by=u, now=NOW), "spo2_percent"),
    ],
)  # fmt: skip
def test_each_measurement_is_validated(session, ward, call, field):
    patient, nurse, _ = ward

    with pytest.raises(InvalidInput) as caught:
        call(session, patient, nurse)

    assert [p.location for p in caught.value.problems] == [field]


def test_measurements_are_stored(session, ward):
    patient, nurse, _ = ward

    vc = assessments.record_vital_capacity(
        session,
        patient_id=patient.id,
        measured_on=date(2026, 1, 5),
        percent_predicted=82.5,
        by=nurse,
        now=NOW,
    )
    weight = assessments.record_weight(
        session,
        patient_id=patient.id,
        measured_on=date(2026, 1, 5),
        weight_kg=61.2,
        by=nurse,
        now=NOW,
    )
    lab = assessments.record_lab_result(
        session,
        patient_id=patient.id,
        collected_on=date(2026, 1, 5),
        analyte="platelets",
        value=180,
        by=nurse,
        now=NOW,
    )
    signs = assessments.record_vital_signs(
        session,
        patient_id=patient.id,
        measured_at=NOW,
        systolic_mmhg=120,
        diastolic_mmhg=80,
        heart_rate_bpm=70,
        temperature_c=36.8,
        spo2_percent=97,
        by=nurse,
        now=NOW,
    )

    assert (vc.method, weight.weight_kg, lab.unit, signs.measured_at) == (
        "fvc",
        61.2,
        "10^9/L",
        NOW,
    )
    assert verify_trail(session) == []


def test_assessments_are_for_physicians_and_nurses_of_the_site(session, ward):
    patient, _, site = ward
    stranger = make_user(session, Role.NURSE)

    with pytest.raises(PermissionDenied):
        assessments.record_weight(
            session,
            patient_id=patient.id,
            measured_on=date(2026, 1, 5),
            weight_kg=60,
            by=make_user(session, Role.CELL_LAB, site=site),
            now=NOW,
        )
    with pytest.raises(PermissionDenied, match="at another site"):
        assessments.record_weight(
            session,
            patient_id=patient.id,
            measured_on=date(2026, 1, 5),
            weight_kg=60,
            by=stranger,
            now=NOW,
        )
    assert isinstance(site, Site)


def test_measurements_of_one_day_are_recorded_together(session, ward):
    patient, nurse, _ = ward

    records = assessments.record_measurements(
        session, patient_id=patient.id, measured_on=date(2026, 1, 5), vital_capacity=(74.0, "svc"),
        weight_kg=58.5, labs={"platelets": 210, "inr": 1.0}, by=nurse, now=NOW,
    )  # fmt: skip

    stored = [(type(r).__name__, getattr(r, "analyte", None)) for r in records]
    assert stored == [
        ("VitalCapacity", None),
        ("Weight", None),
        ("LabResult", "platelets"),
        ("LabResult", "inr"),
    ]
    assert all(r.id is not None for r in records)
    assert verify_trail(session) == []


def test_one_bad_measurement_records_none_and_every_problem_is_named(session, ward):
    patient, nurse, _ = ward

    with pytest.raises(InvalidInput) as caught:
        assessments.record_measurements(
            session, patient_id=patient.id, measured_on=date(2026, 1, 6), vital_capacity=(74.0, "peak"),
            weight_kg=500, labs={"platelets": 210, "sodium": 140}, by=nurse, now=NOW,
        )  # fmt: skip

    assert [p.location for p in caught.value.problems] == [
        "measured_on", "vital_capacity.method", "weight.weight_kg", "labs.sodium.analyte",
    ]  # fmt: skip
    session.rollback()
    assert assessments.list_lab_results(session, patient.id, by=nurse)[1] == 0
    assert assessments.list_vital_capacities(session, patient.id, by=nurse)[1] == 0


def test_measurements_need_at_least_one_value(session, ward):
    patient, nurse, _ = ward

    with pytest.raises(InvalidInput) as caught:
        assessments.record_measurements(
            session, patient_id=patient.id, measured_on=date(2026, 1, 5), by=nurse, now=NOW
        )

    assert [p.location for p in caught.value.problems] == ["measured_on"]
