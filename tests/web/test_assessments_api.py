"""Assessments and signatures over HTTP (web/api/assessments.py).

Routes are tested for status, permission and shape; scoring and ranges are tested in
tests/domain/test_alsfrs.py and tests/services/test_assessments.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.services import assessments
from tests.factories import NOW, make_patient
from tests.services.scenario import NORMAL_ITEMS, Clinic, clinic

API = "/api/v1"
ITEMS = {**NORMAL_ITEMS, "q4": 3, "q8": 3}  # handwriting (fine motor) and walking (gross motor)


def locations(response: Any) -> list[str]:
    return [error["location"] for error in response.json()["errors"]]


@pytest.fixture
def c(session: Session) -> Clinic:
    return clinic(session)


@pytest.fixture
def patient_id(session: Session, c: Clinic) -> int:
    return make_patient(session, site=c.site, study_code="AMS-010").id


@pytest.fixture
def nurse(caller, c):
    return caller(Role.NURSE, c.site)


@pytest.fixture
def doctor(caller, c):
    return caller(Role.PHYSICIAN, c.site)


# ---------------------------------------------------------------- ALSFRS-R


def test_a_rating_is_scored_with_its_domain_subscores(nurse, patient_id):
    response = nurse.post(
        f"{API}/patients/{patient_id}/alsfrs-ratings",
        json={"rated_on": "2026-01-05", "items": ITEMS},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    # worked by hand: q1-q3 = 12; q4 3 + q5a 4 + q6 4 = 11; q7 4 + q8 3 + q9 4 = 11; q10-q12 = 12
    assert (body["bulbar"], body["fine_motor"], body["gross_motor"], body["respiratory"]) == (
        12, 11, 11, 12,
    )  # fmt: skip
    assert body["total"] == 46
    assert body["items"] == ITEMS
    assert (body["form"], body["version"], body["signed_at"]) == ("clinician", 1, None)
    assert body["scale_version"].startswith("ALSFRS-R")


def test_ratings_are_listed_newest_first_and_paged(session, c, nurse, patient_id):
    for day, q1 in ((date(2025, 11, 1), 4), (date(2025, 12, 1), 2)):
        assessments.record_alsfrs_rating(session, patient_id=patient_id, rated_on=day,
                                         items={**ITEMS, "q1": q1}, by=c.nurse, now=NOW)  # fmt: skip

    first = nurse.get(f"{API}/patients/{patient_id}/alsfrs-ratings", params={"limit": 1}).json()
    second = nurse.get(
        f"{API}/patients/{patient_id}/alsfrs-ratings", params={"limit": 1, "offset": 1}
    ).json()

    assert (first["total"], first["limit"], first["offset"]) == (2, 1, 0)
    assert [(r["rated_on"], r["total"], r["bulbar"]) for r in first["items"]] == [
        ("2025-12-01", 44, 10)
    ]
    assert [r["rated_on"] for r in second["items"]] == ["2025-11-01"]


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"items": {**ITEMS, "q1": "3"}}, "items.q1"),  # strict: a string is not an int
        ({"items": {**ITEMS, "q1": 3.0}}, "items.q1"),
        ({"items": {**ITEMS, "q13": 4}}, "items.q13"),
        ({"items": {k: v for k, v in ITEMS.items() if k != "q7"}}, "items.q7"),
        ({"items": {**ITEMS, "q1": 5}}, "q1"),  # the domain's range check
        ({"items": {**ITEMS, "q5b": 2}}, "q5a/q5b"),  # item 5 is scored once
        ({"rated_on": "2026-02-01"}, "rated_on"),  # in the future
        ({"form": "proxy"}, "form"),
        ({"rater": "x"}, "rater"),
    ],
)
def test_a_bad_rating_is_422_naming_the_field(nurse, patient_id, change, location):
    body = {"rated_on": "2026-01-05", "items": ITEMS} | change

    response = nurse.post(f"{API}/patients/{patient_id}/alsfrs-ratings", json=body)

    assert response.status_code == 422, response.text
    assert location in locations(response)


def test_ratings_are_refused_to_other_roles_sites_and_unknown_patients(
    caller, c, nurse, patient_id
):
    body = {"rated_on": "2026-01-05", "items": ITEMS}
    url = f"{API}/patients/{patient_id}/alsfrs-ratings"

    assert caller(Role.COORDINATOR, c.site).post(url, json=body).status_code == 403
    assert caller(Role.NURSE).post(url, json=body).status_code == 403
    assert caller(Role.NURSE).get(url).status_code == 403
    assert caller(Role.ANALYST).get(url).status_code == 403
    assert nurse.post(f"{API}/patients/999999/alsfrs-ratings", json=body).status_code == 404
    assert nurse.get(f"{API}/patients/999999/alsfrs-ratings").status_code == 404


# ---------------------------------------------------------------- measurements

MEASUREMENTS = [
    pytest.param(
        "vital-capacities",
        {"measured_on": "2026-01-04", "percent_predicted": 85.5, "method": "svc"},
        "percent_predicted",
        id="vital-capacity",
    ),
    pytest.param(
        "weights", {"measured_on": "2026-01-04", "weight_kg": 62.5}, "weight_kg", id="weight"
    ),
    pytest.param(
        "lab-results",
        {"collected_on": "2026-01-04", "analyte": "platelets", "value": 210.0},
        "value",
        id="lab-result",
    ),
    pytest.param(
        "vital-signs",
        {"measured_at": "2026-01-05T08:15:00Z", "systolic_mmhg": 128, "temperature_c": 36.8},
        "temperature_c",
        id="vital-signs",
    ),
]


@pytest.mark.parametrize(("path", "body", "number"), MEASUREMENTS)
def test_a_measurement_is_recorded_and_listed(nurse, patient_id, path, body, number):
    url = f"{API}/patients/{patient_id}/{path}"

    created = nurse.post(url, json=body)
    listed = nurse.get(url)

    assert created.status_code == 201, created.text
    assert created.json().items() >= body.items()
    assert created.json()["version"] == 1
    assert (listed.json()["total"], listed.json()["items"]) == (1, [created.json()])


@pytest.mark.parametrize(("path", "body", "number"), MEASUREMENTS)
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda field: {field: False}, id="false-for-a-number"),
        pytest.param(lambda field: {field: "36.8"}, id="string-for-a-number"),
        pytest.param(lambda field: {"surprise": 1}, id="unknown-field"),
    ],
)
def test_a_bad_measurement_is_422_naming_the_field(nurse, patient_id, path, body, number, bad):
    change = bad(number)

    response = nurse.post(f"{API}/patients/{patient_id}/{path}", json=body | change)

    assert response.status_code == 422, response.text
    assert locations(response) == [next(iter(change))]


@pytest.mark.parametrize(("path", "body", "number"), MEASUREMENTS)
def test_measurements_are_refused_to_other_roles_sites_and_unknown_patients(
    caller, c, nurse, patient_id, path, body, number
):
    url = f"{API}/patients/{patient_id}/{path}"

    assert caller(Role.CELL_LAB, c.site).post(url, json=body).status_code == 403
    assert caller(Role.NURSE).post(url, json=body).status_code == 403
    assert caller(Role.NURSE).get(url).status_code == 403
    assert nurse.post(f"{API}/patients/999999/{path}", json=body).status_code == 404
    assert nurse.get(f"{API}/patients/999999/{path}").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("vital-capacities", {"measured_on": "2026-01-04", "percent_predicted": 250}, "percent_predicted"),
        ("vital-capacities", {"measured_on": "2026-01-04", "percent_predicted": 80, "method": "x"}, "method"),
        ("weights", {"measured_on": "2026-01-06", "weight_kg": 62}, "measured_on"),
        ("lab-results", {"collected_on": "2026-01-04", "analyte": "glucose", "value": 5}, "analyte"),
        ("vital-signs", {"measured_at": "2026-01-05T08:15:00", "heart_rate_bpm": 70}, "measured_at"),
        ("vital-signs", {"measured_at": "2026-01-05T10:00:00+00:00"}, "measured_at"),  # future
        ("vital-signs", {"measured_at": "2026-01-05T08:15:00Z", "heart_rate_bpm": 300}, "heart_rate_bpm"),
        ("vital-signs", {"measured_at": "2026-01-05T08:15:00Z", "heart_rate_bpm": "80"}, "heart_rate_bpm"),
    ],
)  # fmt: skip
def test_measurements_out_of_their_rules_are_422(nurse, patient_id, path, body, location):
    response = nurse.post(f"{API}/patients/{patient_id}/{path}", json=body)

    assert response.status_code == 422, response.text
    assert locations(response) == [location]


def test_a_lab_result_carries_alscells_unit(nurse, patient_id):
    response = nurse.post(
        f"{API}/patients/{patient_id}/lab-results",
        json={"collected_on": "2026-01-04", "analyte": "inr", "value": 1.1},
    )

    assert response.json()["unit"] == "ratio"


# ---------------------------------------------------------------- signatures


def rating(c: Clinic, patient_id: int) -> int:
    row = assessments.record_alsfrs_rating(c.session, patient_id=patient_id, rated_on=date(2026, 1, 5),
                                           items=ITEMS, by=c.nurse, now=NOW)  # fmt: skip
    return row.id


def test_a_physician_signs_a_rating_once(c, doctor, nurse, patient_id):
    rating_id = rating(c, patient_id)
    body = {"kind": "alsfrs_rating", "record_id": rating_id}

    signed = doctor.post(f"{API}/signatures", json=body)
    listed = nurse.get(f"{API}/patients/{patient_id}/alsfrs-ratings").json()["items"]
    again = doctor.post(f"{API}/signatures", json=body)

    assert signed.status_code == 201, signed.text
    assert signed.json() == {
        "kind": "alsfrs_rating", "record_id": rating_id, "signed_at": "2026-01-05T09:30:00Z",
        "signed_by_id": doctor.user.id, "version": 2,
    }  # fmt: skip
    assert (listed[0]["signed_at"], listed[0]["version"]) == ("2026-01-05T09:30:00Z", 2)
    assert again.status_code == 409


def test_signing_is_for_physicians_of_the_patients_site(c, nurse, caller, patient_id):
    body = {"kind": "alsfrs_rating", "record_id": rating(c, patient_id)}

    assert nurse.post(f"{API}/signatures", json=body).status_code == 403
    assert caller(Role.PHYSICIAN).post(f"{API}/signatures", json=body).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "location"),
    [
        ({"kind": "weight", "record_id": 1}, 422, "kind"),  # not a signable record
        ({"kind": "alsfrs_rating", "record_id": "1"}, 422, "record_id"),
        ({"kind": "alsfrs_rating"}, 422, "record_id"),
        ({"kind": "alsfrs_rating", "record_id": 1, "reason": "x"}, 422, "reason"),
        ({"kind": "alsfrs_rating", "record_id": 999999}, 404, None),
    ],
)
def test_bad_or_unknown_signatures_are_refused(doctor, body, status, location):
    response = doctor.post(f"{API}/signatures", json=body)

    assert response.status_code == status, response.text
    if location:
        assert locations(response) == [location]
