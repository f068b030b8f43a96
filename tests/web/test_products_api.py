"""Cell product over the API (web/api/products.py): status, permission, shape and problem details.

The rules themselves (release criteria, chain of identity, custody) are tested in
tests/services/test_products.py; here each route's happy path, refusals and error shapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from alscell.domain.access import Role
from tests.factories import make_patient, make_site
from tests.services.scenario import UNIT_IDS, clinic, enrolled_in_treatment, released_units

LOT: dict[str, Any] = {"lot_code": "LOT-API", "product_name": "NSC", "source": "xenogeneic",
                       "cell_type": "neural stem cells", "manufactured_on": "2025-12-30",
                       "received_on": "2026-01-02"}  # fmt: skip
PASSING = {"sterility": None, "gram_stain": None, "mycoplasma": None, "endotoxin": 2.0,
           "viability": 92.0}  # fmt: skip


def unit(unit_id: str = UNIT_IDS[4], **changes: Any) -> dict[str, Any]:
    return {"unit_id": unit_id, "cells": 5e6, "volume_ml": 2.0, "endotoxin_eu": 2.0,
            "expires_on": "2026-06-30"} | changes  # fmt: skip


@pytest.fixture
def c(session):
    return clinic(session)


@pytest.fixture
def lab(caller, c):
    return caller(Role.CELL_LAB, c.site)


@pytest.fixture
def elsewhere(caller, session):
    """The cell lab of another site."""
    return caller(Role.CELL_LAB, make_site(session, code="ROM"))


def register(lab, c, *units: dict[str, Any], **changes: Any):  # type: ignore[no-untyped-def]
    body = LOT | {"site_id": c.site.id, "units": list(units) or [unit()]} | changes
    return lab.post("/api/v1/product-lots", json=body)


def quarantined(lab, c) -> int:  # type: ignore[no-untyped-def]
    response = register(lab, c)
    assert response.status_code == 201, response.text
    return int(response.json()["units"][0]["id"])


def locations(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {error["location"] for error in response.json()["errors"]}


# ---------------------------------------------------------------- lots and units


def test_register_a_lot_then_list_and_read_it(lab, c):
    created = register(lab, c, unit(UNIT_IDS[4]), unit(UNIT_IDS[3]))
    lot_id = created.json()["id"]

    listed = lab.get("/api/v1/product-lots")
    one = lab.get(f"/api/v1/product-lots/{lot_id}")
    unit_id = one.json()["units"][0]["id"]

    assert created.status_code == 201, created.text
    assert created.json() == one.json()
    assert {u["unit_id"] for u in one.json()["units"]} == {UNIT_IDS[4], UNIT_IDS[3]}
    assert {u["status"] for u in one.json()["units"]} == {"quarantine"}
    assert (listed.json()["total"], listed.json()["items"][0]["lot_code"]) == (1, "LOT-API")
    assert lab.get(f"/api/v1/product-units/{unit_id}").json() == one.json()["units"][0]


def test_a_unit_is_found_by_its_typed_or_scanned_id(lab, c):
    register(lab, c)

    typed = lab.get("/api/v1/product-units", params={"din": "a9999 14 123456 n"})
    din_only = lab.get("/api/v1/product-units", params={"din": UNIT_IDS[4][:-1]})
    wrong_check = lab.get("/api/v1/product-units", params={"din": UNIT_IDS[4][:-1] + "A"})
    unknown = lab.get("/api/v1/product-units", params={"din": UNIT_IDS[0]})

    assert typed.status_code == 200, typed.text
    assert typed.json()["unit_id"] == UNIT_IDS[4]
    assert din_only.json() == typed.json()
    assert (wrong_check.status_code, locations(wrong_check)) == (422, {"din"})
    assert unknown.status_code == 404


def test_only_the_cell_lab_of_the_site_registers_lots(caller, lab, c, elsewhere):
    assert register(caller(Role.PHYSICIAN, c.site), c).status_code == 403
    assert register(elsewhere, c).status_code == 403
    assert lab.get("/api/v1/product-lots").json()["total"] == 0


def test_another_sites_lots_and_units_are_out_of_reach(caller, lab, c, elsewhere):
    lot = register(lab, c).json()
    unit_id = lot["units"][0]["id"]

    assert elsewhere.get(f"/api/v1/product-lots/{lot['id']}").status_code == 403
    assert elsewhere.get(f"/api/v1/product-units/{unit_id}").status_code == 403
    assert elsewhere.get("/api/v1/product-units", params={"din": UNIT_IDS[4]}).status_code == 403
    assert elsewhere.get("/api/v1/product-lots").json()["total"] == 0
    assert caller(Role.ANALYST).get("/api/v1/product-lots").status_code == 403
    assert caller(Role.MONITOR).get(f"/api/v1/product-lots/{lot['id']}").status_code == 200


def test_a_lot_names_every_problem(lab, c):
    response = register(lab, c, unit(UNIT_IDS[4][:-1] + "A"), unit(UNIT_IDS[3], cells=-1.0),
                        received_on="2025-12-01")  # fmt: skip

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert locations(response) == {"units[0].unit_id", "units[1].cells", "received_on"}


def test_lot_bodies_are_strict(lab, c):
    response = register(lab, c, unit(cells="5e6"), source="pig", units_count=1)

    assert response.status_code == 422
    assert locations(response) == {"units.0.cells", "source", "units_count"}


def test_a_lot_code_is_registered_once(lab, c):
    register(lab, c)

    again = register(lab, c, unit(UNIT_IDS[3]))

    assert again.status_code == 409
    assert again.json()["code"] == "Conflict"


def test_unknown_lots_and_units_are_404(lab):
    assert lab.get("/api/v1/product-lots/999").status_code == 404
    assert lab.get("/api/v1/product-units/999").status_code == 404
    assert lab.get("/api/v1/product-units/999/custody").status_code == 404


# ---------------------------------------------------------------- release tests and release


def test_tests_then_release_against_the_protocols_criteria(lab, c):
    unit_id = quarantined(lab, c)

    for test, value in PASSING.items():
        recorded = lab.post(f"/api/v1/product-units/{unit_id}/release-tests",
                            json={"test": test, "result": "pass", "value": value, "tested_on": "2026-01-02"})  # fmt: skip
        assert recorded.status_code == 201, recorded.text
    released = lab.post(
        f"/api/v1/product-units/{unit_id}/release", json={"protocol_id": c.protocol.id}
    )
    again = lab.post(
        f"/api/v1/product-units/{unit_id}/release", json={"protocol_id": c.protocol.id}
    )

    assert recorded.json()["test"] == "viability"
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert again.status_code == 409


def test_a_unit_without_its_tests_is_not_released_and_never_overridable(lab, c):
    unit_id = quarantined(lab, c)

    response = lab.post(
        f"/api/v1/product-units/{unit_id}/release", json={"protocol_id": c.protocol.id}
    )

    body = response.json()
    assert response.status_code == 409
    assert body["code"] == "ProductNotReleased"
    assert "release.sterility" in body["rules"]
    assert body["overridable"] is False
    assert "how_to_override" not in body


def test_release_needs_a_known_protocol_and_the_lab(caller, lab, c):
    unit_id = quarantined(lab, c)
    url = f"/api/v1/product-units/{unit_id}/release"

    assert lab.post(url, json={"protocol_id": 999}).status_code == 404
    assert locations(lab.post(url, json={"protocol_id": "1"})) == {"protocol_id"}
    assert (
        lab.post(
            "/api/v1/product-units/999/release", json={"protocol_id": c.protocol.id}
        ).status_code
        == 404
    )
    assert (
        caller(Role.PHYSICIAN, c.site).post(url, json={"protocol_id": c.protocol.id}).status_code
        == 403
    )


def test_release_tests_are_checked(caller, lab, c, elsewhere):
    unit_id = quarantined(lab, c)
    url = f"/api/v1/product-units/{unit_id}/release-tests"
    body = {"test": "sterility", "result": "pass", "tested_on": "2026-01-02"}

    unknown_test = lab.post(url, json=body | {"test": "smell"})
    unknown_result = lab.post(url, json=body | {"result": "maybe"})
    lab.post(f"/api/v1/product-units/{unit_id}/discard", json={"reason": "dropped"})

    assert locations(unknown_test) == {"test"}
    assert locations(unknown_result) == {"result"}
    assert lab.post(url, json=body).status_code == 409  # discarded
    assert elsewhere.post(url, json=body).status_code == 403
    assert caller(Role.NURSE, c.site).post(url, json=body).status_code == 403
    assert lab.post("/api/v1/product-units/999/release-tests", json=body).status_code == 404


# ---------------------------------------------------------------- reject, discard, dispense, return


def test_reject_then_discard_a_unit(caller, lab, c):
    unit_id = quarantined(lab, c)
    base = f"/api/v1/product-units/{unit_id}"

    no_reason = lab.post(f"{base}/reject", json={"reason": ""})
    rejected = lab.post(f"{base}/reject", json={"reason": "viability 40 %"})
    rejected_again = lab.post(f"{base}/reject", json={"reason": "again"})
    nurse = caller(Role.NURSE, c.site).post(f"{base}/discard", json={"reason": "x"})
    discarded = lab.post(f"{base}/discard", json={"reason": "rejected"})
    discarded_again = lab.post(f"{base}/discard", json={"reason": "again"})

    assert (no_reason.status_code, locations(no_reason)) == (422, {"reason"})
    assert rejected.json()["status"] == "rejected"
    assert rejected_again.status_code == 409
    assert nurse.status_code == 403
    assert discarded.json()["status"] == "discarded"
    assert discarded_again.status_code == 409
    assert lab.post("/api/v1/product-units/999/reject", json={"reason": "x"}).status_code == 404


def test_dispense_to_a_patient_then_take_the_unit_back(lab, c):
    patient, _ = enrolled_in_treatment(c)
    unit = released_units(c, 1)[0]
    base = f"/api/v1/product-units/{unit.id}"

    dispensed = lab.post(f"{base}/dispense", json={"patient_id": patient.id})
    twice = lab.post(f"{base}/dispense", json={"patient_id": patient.id})
    returned = lab.post(f"{base}/return", json={"reason": "procedure postponed"})
    returned_again = lab.post(f"{base}/return", json={"reason": "again"})

    assert dispensed.status_code == 200, dispensed.text
    assert (dispensed.json()["status"], dispensed.json()["assigned_patient_id"]) == (
        "dispensed",
        patient.id,
    )
    assert (twice.status_code, twice.json()["rules"], twice.json()["overridable"]) == (
        409, ["unit.already_dispensed"], False,
    )  # fmt: skip
    assert (returned.json()["status"], returned.json()["assigned_patient_id"]) == ("released", None)
    assert returned_again.status_code == 409


def test_dispensing_is_refused_across_sites_roles_and_to_unknown_patients(
    caller, session, lab, c, elsewhere
):
    unit = released_units(c, 1)[0]
    url = f"/api/v1/product-units/{unit.id}/dispense"
    stranger = make_patient(session, site=make_site(session, code="ROM2"))

    assert locations(lab.post(url, json={"patient_id": stranger.id})) == {"patient_id"}
    assert lab.post(url, json={"patient_id": 999}).status_code == 404
    assert lab.post(url, json={"patient_id": True}).status_code == 422
    assert elsewhere.post(url, json={"patient_id": stranger.id}).status_code == 403
    assert caller(Role.PHYSICIAN, c.site).post(url, json={"patient_id": 1}).status_code == 403


# ---------------------------------------------------------------- custody and late cultures


def test_custody_steps_are_recorded_and_listed(caller, lab, c, elsewhere):
    unit_id = quarantined(lab, c)
    url = f"/api/v1/product-units/{unit_id}/custody"

    stored = lab.post(url, json={"kind": "stored", "location": "LN2 tank 2, rack B"})
    received = lab.post(url, json={"kind": "received", "location": "bench"})
    frozen = lab.post(url, json={"kind": "frozen", "location": "bench", "temperature": -196})
    listed = caller(Role.PHYSICIAN, c.site).get(url)

    assert stored.status_code == 201, stored.text
    assert (stored.json()["kind"], stored.json()["location"]) == ("stored", "LN2 tank 2, rack B")
    assert locations(received) == {"kind"}
    assert locations(frozen) == {"kind", "temperature"}
    assert [event["kind"] for event in listed.json()] == ["received", "stored"]
    assert elsewhere.post(url, json={"kind": "thawed", "location": "bench"}).status_code == 403
    assert elsewhere.get(url).status_code == 403
    assert (
        lab.post(
            "/api/v1/product-units/999/custody", json={"kind": "stored", "location": "x"}
        ).status_code
        == 404
    )


def test_custody_closes_when_the_unit_is_discarded(lab, c):
    unit_id = quarantined(lab, c)
    lab.post(f"/api/v1/product-units/{unit_id}/discard", json={"reason": "dropped"})

    response = lab.post(
        f"/api/v1/product-units/{unit_id}/custody", json={"kind": "thawed", "location": "bench"}
    )

    assert response.status_code == 409


def test_a_late_positive_culture_names_the_patient_to_follow_up(caller, lab, c, elsewhere):
    patient, _ = enrolled_in_treatment(c)
    unit = released_units(c, 1)[0]
    lab.post(f"/api/v1/product-units/{unit.id}/dispense", json={"patient_id": patient.id})
    lab.post(f"/api/v1/product-units/{unit.id}/release-tests",
             json={"test": "sterility", "result": "fail", "tested_on": "2026-01-05"})  # fmt: skip

    found = caller(Role.PHYSICIAN, c.site).get("/api/v1/late-positive-cultures")

    assert found.status_code == 200, found.text
    assert found.json() == [
        {"din": unit.din, "lot_code": "LOT-1", "patient_id": patient.id, "tested_on": "2026-01-05"}
    ]
    assert elsewhere.get("/api/v1/late-positive-cultures").json() == []
    assert caller(Role.ANALYST).get("/api/v1/late-positive-cultures").status_code == 403
