"""Cell doses and care over the API (web/api/doses.py): safety blocks as 409 problems, overrides.

Each block's rule is tested in tests/services/test_dosing.py; here the problem's shape (rules,
overridable, how_to_override), an override round trip, permissions and strictness.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from alscell.domain.access import Role
from alscell.domain.dosing import TestResult
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS
from alscell.services import products
from alscell.web import deps
from tests.factories import make_site
from tests.services.scenario import (
    UNIT_IDS,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)

DOSE_DAY = day(10)
DOSE_AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # the API's clock on day 10
BEDSIDE: dict[str, Any] = {
    "study_code": "AMS-001",
    "birth_on": "1964-05-17",
    "pre_puncture": {
        "anticoagulants_reviewed": True,
        "findings": dict.fromkeys(
            (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False
        ),
    },
}


def dose(**changes: Any) -> dict[str, Any]:
    return {"unit_id": UNIT_IDS[0], "dose_cells": 5_000_000, "given_on": DOSE_DAY.isoformat(),
            "bedside": BEDSIDE} | changes  # fmt: skip


@pytest.fixture
def ready(app, session):
    """Day 10: a patient in treatment, four released units, the first dispensed to them."""
    app.dependency_overrides[deps._now] = lambda: DOSE_AT
    app.dependency_overrides[deps._today] = lambda: DOSE_DAY
    c = clinic(session)
    patient, enrollment = enrolled_in_treatment(c)
    units = released_units(c)
    dispensed(c, units[0], patient, DOSE_DAY)
    return c, enrollment


@pytest.fixture
def physician(caller, ready):
    return caller(Role.PHYSICIAN, ready[0].site)


def give(physician, ready, **changes: Any):  # type: ignore[no-untyped-def]
    return physician.post(f"/api/v1/enrollments/{ready[1].id}/cell-doses", json=dose(**changes))


def locations(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {error["location"] for error in response.json()["errors"]}


# ---------------------------------------------------------------- cell doses


def test_a_dose_is_recorded_and_listed(physician, ready):
    c, enrollment = ready

    given = give(physician, ready, volume_ml=2.0, notes="uneventful")
    listed = physician.get(f"/api/v1/enrollments/{enrollment.id}/administrations")

    assert given.status_code == 201, given.text
    body = given.json()
    assert (body["occurrence"], body["product_unit_id"], body["dose_cells"]) == (
        1,
        c.units[0].id,
        5e6,
    )
    assert (body["kind"], body["overridden_rules"], body["override_reason"]) == (
        "lumbar_puncture_implantation", None, None,
    )  # fmt: skip
    assert listed.json()["total"] == 1
    assert listed.json()["items"] == [body]


def test_an_undispensed_unit_is_a_409_problem_a_physician_may_override(physician, ready):
    response = give(physician, ready, unit_id=UNIT_IDS[1])

    body = response.json()
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert body["code"] == "ProductNotReleased"
    assert body["rules"] == ["unit.not_dispensed"]
    assert body["overridable"] is True
    assert '"override"' in body["how_to_override"]
    assert locations(response) == {"unit.not_dispensed"}


def test_the_same_dose_with_an_override_is_recorded_with_its_rules(physician, ready):
    override = {"rules": ["unit.not_dispensed"], "reason": "dispensing system down; unit checked"}

    response = give(physician, ready, unit_id=UNIT_IDS[1], override=override)

    assert response.status_code == 201, response.text
    assert response.json()["overridden_rules"] == ["unit.not_dispensed"]
    assert response.json()["override_reason"] == override["reason"]
    assert response.json()["override_by_id"] == physician.user.id


def test_a_quarantined_unit_breaks_several_rules(physician, ready, session):
    c, _ = ready
    # a new result withdraws the unit's release: it is back in quarantine
    products.record_release_test(session, unit_id=c.units[2].id, test="viability", result=TestResult.PASS,
                                 value=91.0, tested_on=DOSE_DAY, by=c.lab, now=c.at(DOSE_DAY))  # fmt: skip

    response = give(physician, ready, unit_id=UNIT_IDS[2])

    assert response.status_code == 409
    assert set(response.json()["rules"]) == {"unit.not_released", "unit.not_dispensed"}
    assert response.json()["overridable"] is True


def test_the_wrong_patient_at_the_bedside_is_never_overridable(physician, ready):
    bedside = BEDSIDE | {"birth_on": "1964-05-18"}
    override = {"rules": ["identity.mismatch"], "reason": "sure"}

    response = give(physician, ready, bedside=bedside, override=override)

    body = response.json()
    assert response.status_code == 409
    assert body["rules"] == ["identity.mismatch"]
    assert body["overridable"] is False
    assert "how_to_override" not in body


def test_a_unit_is_given_once(physician, ready):
    give(physician, ready)

    again = give(physician, ready)

    assert again.status_code == 409
    assert "unit.administered" in again.json()["rules"]
    assert again.json()["overridable"] is False


def test_dose_bodies_are_strict(physician, ready):
    as_false = give(physician, ready, dose_cells=False)
    as_text = give(physician, ready, dose_cells="5000000")
    nested = give(physician, ready, bedside=BEDSIDE | {"birth_on": "17/05/1964", "room": 4})
    empty_reason = give(physician, ready, override={"rules": ["unit.expired"], "reason": ""})

    assert (as_false.status_code, locations(as_false)) == (422, {"dose_cells"})
    assert locations(as_text) == {"dose_cells"}
    assert locations(nested) == {"bedside.birth_on", "bedside.room"}
    assert locations(empty_reason) == {"override.reason"}


def test_a_wrong_check_character_names_the_unit_id(physician, ready):
    response = give(physician, ready, unit_id=UNIT_IDS[0][:-1] + "A")

    assert (response.status_code, locations(response)) == (422, {"unit_id"})


def test_unknown_enrollments_and_units_are_404(physician, ready):
    assert give(physician, ready, unit_id=UNIT_IDS[4]).status_code == 404
    unknown = physician.post("/api/v1/enrollments/999/cell-doses", json=dose())
    assert unknown.status_code == 404


def test_only_a_physician_of_the_site_records_a_dose(caller, session, ready):
    c, _ = ready

    assert give(caller(Role.NURSE, c.site), ready).status_code == 403
    assert give(caller(Role.CELL_LAB, c.site), ready).status_code == 403
    elsewhere = caller(Role.PHYSICIAN, make_site(session, code="ROM"))
    assert give(elsewhere, ready).status_code == 403


# ---------------------------------------------------------------- care and the list


def test_care_is_recorded_and_listed_with_the_doses(caller, ready):
    c, enrollment = ready
    nurse = caller(Role.NURSE, c.site)
    session_body = {
        "activity_id": "physiotherapy",
        "given_on": day(7).isoformat(),
        "duration_minutes": 45,
    }

    recorded = nurse.post(f"/api/v1/enrollments/{enrollment.id}/care", json=session_body)
    listed = caller(Role.COORDINATOR, c.site).get(
        f"/api/v1/enrollments/{enrollment.id}/administrations", params={"limit": 1}
    )

    assert recorded.status_code == 201, recorded.text
    assert (recorded.json()["kind"], recorded.json()["duration_minutes"]) == ("rehabilitation", 45)
    assert (listed.json()["total"], listed.json()["limit"]) == (1, 1)


def test_care_is_checked(caller, session, ready):
    c, enrollment = ready
    nurse = caller(Role.NURSE, c.site)
    url = f"/api/v1/enrollments/{enrollment.id}/care"
    body = {"activity_id": "physiotherapy", "given_on": day(7).isoformat()}

    implantation = nurse.post(url, json=body | {"activity_id": "implantation"})
    as_text = nurse.post(url, json=body | {"duration_minutes": "45"})
    too_long = nurse.post(url, json=body | {"duration_minutes": 2000})

    assert locations(implantation) == {"activity_id"}
    assert locations(as_text) == {"duration_minutes"}
    assert locations(too_long) == {"duration_minutes"}
    assert nurse.post("/api/v1/enrollments/999/care", json=body).status_code == 404
    assert caller(Role.COORDINATOR, c.site).post(url, json=body).status_code == 403
    elsewhere = caller(Role.NURSE, make_site(session, code="ROM"))
    assert elsewhere.post(url, json=body).status_code == 403


def test_the_list_is_the_sites_own(caller, session, ready):
    _, enrollment = ready
    url = f"/api/v1/enrollments/{enrollment.id}/administrations"

    assert caller(Role.NURSE, make_site(session, code="ROM")).get(url).status_code == 403
    assert caller(Role.ANALYST).get(url).status_code == 403
    assert caller(Role.MONITOR).get(url).status_code == 200
    assert caller(Role.MONITOR).get("/api/v1/enrollments/999/administrations").status_code == 404
