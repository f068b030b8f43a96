"""Patients over the API (web/api/patients.py): shape, permissions, strictness and problem details."""

from __future__ import annotations

from httpx2 import Response

from alscell.domain.access import Role
from alscell.storage.models import Site
from tests.factories import make_site
from tests.web.conftest import Caller

BODY = {
    "study_code": "AMS-001",
    "given_name": "Alex",
    "family_name": "Doe",
    "birth_on": "1964-05-17",
    "sex": "female",
}
DIAGNOSIS = {"onset_on": "2025-03-10", "onset_site": "spinal", "diagnosis_on": "2025-11-20", "familial": False,
             "el_escorial": "probable"}  # fmt: skip


def register(coordinator: Caller, site: Site, **changes: object) -> Response:
    return coordinator.post("/api/v1/patients", json={**BODY, "site_id": site.id, **changes})


def test_register_list_and_read_a_patient(caller, site):
    coordinator = caller(Role.COORDINATOR, site)

    created = register(coordinator, site)
    listed = coordinator.get("/api/v1/patients", params={"status": "referred", "search": "ams"})
    one = coordinator.get(f"/api/v1/patients/{created.json()['id']}")

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "referred"
    assert "family_name" not in created.json()  # identifying data is apart
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["study_code"] == "AMS-001"
    assert one.json() == created.json()


def test_identity_only_for_clinical_roles(caller, site):
    coordinator, lab = caller(Role.COORDINATOR, site), caller(Role.CELL_LAB, site)
    patient_id = register(coordinator, site).json()["id"]

    assert coordinator.get(f"/api/v1/patients/{patient_id}/identity").json()["family_name"] == "Doe"
    assert lab.get(f"/api/v1/patients/{patient_id}/identity").status_code == 403


def test_another_sites_patients_are_out_of_reach(caller, session, site):
    patient_id = register(caller(Role.COORDINATOR, site), site).json()["id"]
    elsewhere = caller(Role.COORDINATOR, make_site(session, code="ROM"))

    assert elsewhere.get(f"/api/v1/patients/{patient_id}").status_code == 403
    assert elsewhere.get("/api/v1/patients").json()["total"] == 0
    assert caller(Role.MONITOR).get(f"/api/v1/patients/{patient_id}").status_code == 200


def test_problem_details_name_every_field(caller, site):
    response = register(
        caller(Role.COORDINATOR, site), site, study_code="a b", birth_on="1964/05/17", extra=1
    )

    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "code", "errors"} <= body.keys()
    assert {e["location"] for e in body["errors"]} == {"birth_on", "extra"}


def test_service_rules_are_problem_details_too(caller, site):
    response = register(caller(Role.COORDINATOR, site), site, study_code="a b")

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "location": "study_code",
            "message": "must be 3-40 capital letters, digits or hyphens, got 'a b'",
        }
    ]


def test_requests_are_strict(caller, site):
    physician = caller(Role.PHYSICIAN, site)
    patient_id = register(caller(Role.COORDINATOR, site), site).json()["id"]

    as_number = physician.put(
        f"/api/v1/patients/{patient_id}/diagnosis", json={**DIAGNOSIS, "familial": 0}
    )
    site_as_text = register(
        caller(Role.COORDINATOR, site), site, study_code="AMS-002", site_id=str(site.id)
    )

    assert as_number.status_code == 422
    assert [e["location"] for e in as_number.json()["errors"]] == ["familial"]
    assert site_as_text.status_code == 422


def test_malformed_json_is_400(caller, site):
    response = caller(Role.COORDINATOR, site).post(
        "/api/v1/patients", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "MalformedJson"


def test_diagnosis_versions_make_lost_updates_impossible(caller, site):
    physician = caller(Role.PHYSICIAN, site)
    patient_id = register(caller(Role.COORDINATOR, site), site).json()["id"]
    url = f"/api/v1/patients/{patient_id}/diagnosis"

    first = physician.put(url, json=DIAGNOSIS)
    second = physician.put(url, json={**DIAGNOSIS, "el_escorial": "definite", "version": 1})
    stale = physician.put(url, json={**DIAGNOSIS, "el_escorial": "possible", "version": 1})

    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert stale.status_code == 409
    assert "changed since it was read" in stale.json()["detail"]


def test_consents_and_status_changes(caller, site):
    coordinator = caller(Role.COORDINATOR, site)
    patient_id = register(coordinator, site).json()["id"]

    consent = coordinator.post(
        f"/api/v1/patients/{patient_id}/consents",
        json={"form_version": "v2", "consented_on": "2025-12-20"},
    )
    consents = coordinator.get(f"/api/v1/patients/{patient_id}/consents")
    completed = coordinator.post(
        f"/api/v1/patients/{patient_id}/status",
        json={"status": "completed", "on": "2026-01-05", "reason": "x"},
    )
    withdrawn = coordinator.post(
        f"/api/v1/patients/{patient_id}/status",
        json={"status": "withdrawn", "on": "2026-01-05", "reason": "moved"},
    )

    assert consent.status_code == 201
    assert [c["form_version"] for c in consents.json()] == ["v2"]
    assert completed.status_code == 409  # a referred patient cannot complete
    assert withdrawn.json()["status"] == "withdrawn"


def test_unknown_patient_is_404(caller, site):
    response = caller(Role.COORDINATOR, site).get("/api/v1/patients/999999")

    assert response.status_code == 404
    assert response.json()["detail"] == "patient 999999 was not found"


def test_the_wrong_role_is_refused_before_the_body_is_read(caller, site):
    response = caller(Role.NURSE, site).post("/api/v1/patients", json={"nonsense": True})

    assert response.status_code == 403
