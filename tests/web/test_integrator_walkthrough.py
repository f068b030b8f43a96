"""The API as a new integrator meets it: from a token to a recorded dose and an adverse event.

Only the first administrator is made outside the API (as `alscell user add --role admin` does); every
other step is an HTTP call, and the dates follow the seed program (protocols/als-nsc-4lp.yaml).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.services import admin
from alscell.storage.protocol_files import builtin_protocol_path
from tests.factories import NOW
from tests.web.conftest import set_clock

API = "/api/v1"
PASSWORD = "a long and private passphrase"
ITEMS = {
    "q1": 4,
    "q2": 4,
    "q3": 4,
    "q4": 3,
    "q5a": 4,
    "q6": 4,
    "q7": 4,
    "q8": 3,
    "q9": 4,
    "q10": 4,
    "q11": 4,
    "q12": 4,
}


def signed_in(app: FastAPI, username: str) -> TestClient:
    """Sign in with a password, create a personal API token, and use it from then on."""
    browser = TestClient(app)
    login = browser.post(f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = browser.post(
        f"{API}/auth/tokens",
        json={"name": "integration"},
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
    )
    assert token.status_code == 201, token.text
    return TestClient(app, headers={"Authorization": f"Bearer {token.json()['token']}"})


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_an_integrator_walks_the_program_through_the_api(app: FastAPI, session: Session) -> None:
    admin.create_first_admin(
        session, username="ada", full_name="Ada Admin", now=NOW, password=PASSWORD
    )
    boss = signed_in(app, "ada")

    site = ok(boss.post(f"{API}/sites", json={"code": "AMS", "name": "Amsterdam"}), 201)
    for username, role in (
        ("dr-lee", "physician"),
        ("nina", "nurse"),
        ("coco", "coordinator"),
        ("lab", "cell_lab"),
    ):
        ok(boss.post(f"{API}/users", json={"username": username, "full_name": username.title(), "role": role,
                                           "site_id": site["id"], "password": PASSWORD}), 201)  # fmt: skip
    ok(
        boss.post(
            f"{API}/users",
            json={"username": "ana", "full_name": "Ana", "role": "analyst", "password": PASSWORD},
        ),
        201,
    )
    physician, nurse, coordinator, lab = (
        signed_in(app, name) for name in ("dr-lee", "nina", "coco", "lab")
    )

    protocol = ok(
        boss.post(
            f"{API}/protocols",
            json={
                "text": builtin_protocol_path().read_text(encoding="utf-8"),
                "source": "als-nsc-4lp.yaml",
            },
        ),
        201,
    )
    ok(signed_in(app, "ana").post(f"{API}/protocols/{protocol['id']}/analysis-plan/lock"))

    # register, diagnose, consent, assess
    patient = ok(coordinator.post(f"{API}/patients", json={"study_code": "AMS-001", "site_id": site["id"], "given_name": "Alex",
                                                           "family_name": "Doe", "birth_on": "1964-05-17"}), 201)  # fmt: skip
    pid = patient["id"]
    ok(physician.put(f"{API}/patients/{pid}/diagnosis", json={"onset_on": "2025-03-10", "onset_site": "spinal",
                                                              "diagnosis_on": "2025-11-20", "familial": False,
                                                              "el_escorial": "probable"}))  # fmt: skip
    ok(
        coordinator.post(
            f"{API}/patients/{pid}/consents",
            json={"form_version": "v2", "consented_on": "2025-12-20"},
        ),
        201,
    )
    rating = ok(
        nurse.post(
            f"{API}/patients/{pid}/alsfrs-ratings", json={"rated_on": "2025-12-20", "items": ITEMS}
        ),
        201,
    )
    ok(
        nurse.post(
            f"{API}/patients/{pid}/vital-capacities",
            json={"measured_on": "2025-12-20", "percent_predicted": 85},
        ),
        201,
    )
    ok(
        nurse.post(
            f"{API}/patients/{pid}/weights", json={"measured_on": "2025-12-20", "weight_kg": 62}
        ),
        201,
    )
    for analyte, value in (("platelets", 210), ("inr", 1.0)):
        ok(
            nurse.post(
                f"{API}/patients/{pid}/lab-results",
                json={"collected_on": "2025-12-20", "analyte": analyte, "value": value},
            ),
            201,
        )
    assert rating["total"] == 46  # 48 minus one point each on handwriting and walking

    # screen, enroll, start
    clear = dict.fromkeys(["raised_intracranial_pressure", "local_infection", "spinal_cord_compression",
                           "chiari_malformation", "tethered_cord", "cardiorespiratory_insufficiency"], False)  # fmt: skip
    exclusions = dict.fromkeys(
        [
            "pregnancy",
            "tracheostomy",
            "active_infection",
            "malignancy",
            "other_neurological_disease",
        ],
        False,
    )
    screening = ok(physician.post(f"{API}/patients/{pid}/screenings", json={
        "protocol_id": protocol["id"], "screened_on": "2025-12-20", "exclusions": exclusions,
        "pre_puncture": {"anticoagulants_reviewed": True, "findings": clear}}), 201)  # fmt: skip
    assert screening["outcome"] == "met", screening
    enrollment = ok(
        physician.post(
            f"{API}/enrollments",
            json={"patient_id": pid, "protocol_id": protocol["id"], "enrolled_on": "2025-12-22"},
        ),
        201,
    )
    ok(
        physician.post(
            f"{API}/enrollments/{enrollment['id']}/start", json={"start_on": "2026-01-05"}
        )
    )
    schedule = ok(physician.get(f"{API}/enrollments/{enrollment['id']}/schedule"))
    doses = [
        item["planned_on"] for item in schedule["items"] if item["activity_id"] == "implantation"
    ]
    assert doses == ["2026-01-15", "2026-01-22", "2026-01-29", "2026-02-05"]

    # the cell lab registers and releases a unit (ISBT 128 DIN with its check character)
    lot = ok(lab.post(f"{API}/product-lots", json={
        "lot_code": "LOT-1", "site_id": site["id"], "product_name": "NSC", "source": "xenogeneic",
        "cell_type": "neural stem cells", "manufactured_on": "2025-12-30", "received_on": "2026-01-02",
        "units": [{"unit_id": "G123498654321H", "cells": 5e6, "volume_ml": 2.0, "endotoxin_eu": 2.0, "expires_on": "2026-06-30"}]}), 201)  # fmt: skip
    unit_id = lot["units"][0]["id"]
    tests: tuple[tuple[str, float | None], ...] = (
        ("sterility", None),
        ("gram_stain", None),
        ("mycoplasma", None),
        ("endotoxin", 2.0),
        ("viability", 92.0),
    )
    for test, measured in tests:
        ok(
            lab.post(
                f"{API}/product-units/{unit_id}/release-tests",
                json={"test": test, "result": "pass", "value": measured, "tested_on": "2026-01-02"},
            ),
            201,
        )
    ok(lab.post(f"{API}/product-units/{unit_id}/release", json={"protocol_id": protocol["id"]}))

    # day 10 of the program: a lumbar puncture with a unit not dispensed to the patient is refused
    set_clock(app, NOW.replace(day=15))
    dose = {"unit_id": "G123498654321H", "dose_cells": 5e6, "given_on": "2026-01-15",
            "bedside": {"study_code": "AMS-001", "birth_on": "1964-05-17",
                        "pre_puncture": {"anticoagulants_reviewed": True, "findings": clear}}}  # fmt: skip
    refused = physician.post(f"{API}/enrollments/{enrollment['id']}/cell-doses", json=dose)
    assert refused.status_code == 409, refused.text
    assert refused.json()["rules"] == ["unit.not_dispensed"]
    assert refused.headers["content-type"] == "application/problem+json"

    ok(lab.post(f"{API}/product-units/{unit_id}/dispense", json={"patient_id": pid}))
    given = ok(physician.post(f"{API}/enrollments/{enrollment['id']}/cell-doses", json=dose), 201)
    assert given["occurrence"] == 1

    # the next day, a post-puncture headache, recorded by the nurse
    set_clock(app, NOW.replace(day=16))
    event = ok(nurse.post(f"{API}/adverse-events", json={
        "patient_id": pid, "enrollment_id": enrollment["id"], "term": "post-dural-puncture headache",
        "onset_on": "2026-01-16", "ctcae_grade": 2, "serious": False, "seriousness": [], "expected": True,
        "causality_procedure": "probable", "causality_product": "unlikely", "causality_drug": "unrelated",
        "aware_on": "2026-01-16"}), 201)  # fmt: skip
    assert event["ctcae_grade"] == 2

    audit = ok(boss.get(f"{API}/audit/verify"))
    assert audit["intact"] is True
