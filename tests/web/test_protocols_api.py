"""Protocol versions and analysis plans over HTTP (web/api/protocols.py).

Routes are tested for status, permission and shape; loading, locking and amending are tested in
tests/services/test_protocols.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from alscell.domain.access import Role
from alscell.storage.protocol_files import builtin_protocol_path
from tests.web.conftest import Caller

API = "/api/v1"
SEED = builtin_protocol_path().read_text(encoding="utf-8")  # protocols/als-nsc-4lp.yaml
AMENDMENT = {"version": "1.1", "time_point_months": 12}


def locations(response: Any) -> list[str]:
    return [error["location"] for error in response.json()["errors"]]


@pytest.fixture
def admin(caller):
    return caller(Role.ADMIN)


@pytest.fixture
def analyst(caller):
    return caller(Role.ANALYST)


@pytest.fixture
def doctor(caller, site):
    return caller(Role.PHYSICIAN, site)


@pytest.fixture
def protocol_id(admin: Caller) -> int:
    response = admin.post(f"{API}/protocols", json={"text": SEED, "source": "als-nsc-4lp.yaml"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def locked(analyst: Caller, protocol_id: int) -> int:
    """Lock the plan; the version to send with an amendment."""
    response = analyst.post(f"{API}/protocols/{protocol_id}/analysis-plan/lock")
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


# ---------------------------------------------------------------- protocol versions


def test_a_protocol_file_is_loaded_once_with_its_hash(admin):
    body = {"text": SEED, "source": "als-nsc-4lp.yaml"}

    loaded = admin.post(f"{API}/protocols", json=body)
    again = admin.post(f"{API}/protocols", json=body)

    assert loaded.status_code == 201, loaded.text
    assert loaded.json() | {"id": 0, "title": ""} == {
        "id": 0, "key": "als-nsc-4lp", "version": loaded.json()["version"], "title": "",
        "content_sha256": hashlib.sha256(SEED.encode("utf-8")).hexdigest(),
        "loaded_at": "2026-01-05T09:30:00Z",
    }  # fmt: skip
    assert again.status_code == 409
    assert "give the file a new version" in again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"text": "", "source": "x.yaml"}, "text"),
        ({"text": 12, "source": "x.yaml"}, "text"),
        ({"text": SEED}, "source"),
        ({"text": SEED, "source": "x.yaml", "sha256": "0"}, "sha256"),
        ({"text": "id: [unclosed", "source": "broken.yaml"}, "broken.yaml, line 1, column 14"),
        ({"text": "id: thin\n", "source": "thin.yaml"}, "title"),  # the schema's problems
    ],
)
def test_a_bad_protocol_file_is_422_naming_the_place(admin, body, location):
    response = admin.post(f"{API}/protocols", json=body)

    assert response.status_code == 422, response.text
    assert location in locations(response)


def test_only_administrators_load_protocols(doctor, analyst):
    body = {"text": SEED, "source": "als-nsc-4lp.yaml"}

    assert doctor.post(f"{API}/protocols", json=body).status_code == 403
    assert analyst.post(f"{API}/protocols", json=body).status_code == 403


def test_protocols_are_listed_and_summarised(doctor, protocol_id):
    listed = doctor.get(f"{API}/protocols")
    detail = doctor.get(f"{API}/protocols/{protocol_id}")

    assert listed.status_code == 200, listed.text
    assert (listed.json()["total"], [p["id"] for p in listed.json()["items"]]) == (1, [protocol_id])
    body = detail.json()
    assert body["key"] == "als-nsc-4lp"
    assert [p["id"] for p in body["phases"]] == ["screening", "treatment"]
    treatment = body["phases"][1]["activity_ids"]
    assert treatment[-3:] == ["pre-puncture-labs", "implantation", "discharge-exam"]
    assert body["follow_up_visit_ids"][:3] == ["month-1", "month-3", "month-6"]
    assert body["analysis_plan"] == {
        "version": "1.0", "primary_outcome": "alsfrs_r_total_change", "time_point_months": 6.0,
        "anchor_activity": "implantation", "improved_min_change": 1.0, "worsened_max_change": -1.0,
        "comparator": "natural_history", "control": "none", "responder_slope_improvement": 1.25,
        "rater_blinded": False,
    }  # fmt: skip


def test_protocols_are_not_for_analysts_and_unknown_ones_are_404(doctor, analyst, protocol_id):
    assert analyst.get(f"{API}/protocols").status_code == 403
    assert analyst.get(f"{API}/protocols/{protocol_id}").status_code == 403
    assert doctor.get(f"{API}/protocols/999999").status_code == 404
    bad_paging = doctor.get(f"{API}/protocols", params={"limit": 0})
    assert (bad_paging.status_code, locations(bad_paging)) == (422, ["limit"])


# ---------------------------------------------------------------- analysis plan


def test_the_plan_is_read_then_locked_once(doctor, analyst, protocol_id):
    url = f"{API}/protocols/{protocol_id}/analysis-plan"

    before = doctor.get(url)
    lock = analyst.post(f"{url}/lock")
    after = analyst.get(url)  # the analyst who manages the plan reads it too
    again = analyst.post(f"{url}/lock")

    assert before.status_code == 200, before.text
    assert (before.json()["locked_at"], before.json()["plan_version"]) == (None, "1.0")
    assert before.json()["content"]["time_point_months"] == 6
    assert lock.status_code == 200, lock.text
    assert lock.json()["locked_at"] == "2026-01-05T09:30:00Z"
    assert lock.json()["locked_by_id"] == analyst.user.id
    assert lock.json()["version"] == before.json()["version"] + 1
    assert after.json() == lock.json()
    assert again.status_code == 409
    assert "amend it instead" in again.json()["detail"]


def test_locking_is_for_analysts_and_administrators_of_known_plans(doctor, admin, protocol_id):
    url = f"{API}/protocols/{protocol_id}/analysis-plan"

    assert doctor.post(f"{url}/lock").status_code == 403
    assert doctor.get(f"{API}/protocols/999999/analysis-plan").status_code == 404
    assert admin.post(f"{API}/protocols/999999/analysis-plan/lock").status_code == 404
    assert admin.post(f"{url}/lock").status_code == 200


def test_an_amendment_changes_the_locked_plan_and_is_listed(doctor, analyst, protocol_id):
    version = locked(analyst, protocol_id)
    url = f"{API}/protocols/{protocol_id}/analysis-plan"
    body = {
        "changes": AMENDMENT,
        "reason": "ethics committee asked for 12 months",
        "version": version,
    }

    amended = analyst.post(f"{url}/amendments", json=body)
    listed = doctor.get(f"{url}/amendments")
    plan = doctor.get(url).json()
    detail = doctor.get(f"{API}/protocols/{protocol_id}").json()

    assert amended.status_code == 201, amended.text
    change = amended.json()
    assert change["reason"] == "ethics committee asked for 12 months"
    assert (change["before"]["time_point_months"], change["after"]["time_point_months"]) == (6, 12)
    assert (change["amended_at"], change["amended_by_id"]) == (
        "2026-01-05T09:30:00Z",
        analyst.user.id,
    )
    assert listed.json() == [change]
    assert (plan["plan_version"], plan["version"]) == ("1.1", version + 1)
    assert detail["analysis_plan"]["time_point_months"] == 12


def test_a_stale_amendment_is_409(analyst, protocol_id):
    version = locked(analyst, protocol_id)
    url = f"{API}/protocols/{protocol_id}/analysis-plan/amendments"
    first = {"changes": AMENDMENT, "reason": "first", "version": version}
    stale = {
        "changes": {"version": "1.2"},
        "reason": "second, from the old page",
        "version": version,
    }

    assert analyst.post(url, json=first).status_code == 201
    response = analyst.post(url, json=stale)

    assert response.status_code == 409
    assert "changed since it was read" in response.json()["detail"]


def test_an_unlocked_plan_is_not_amended(analyst, protocol_id):
    body = {"changes": AMENDMENT, "reason": "too early", "version": 1}

    response = analyst.post(f"{API}/protocols/{protocol_id}/analysis-plan/amendments", json=body)

    assert response.status_code == 409
    assert "not locked yet" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"version": "2"}, "version"),  # strict: the record version is an int
        ({"version": 0}, "version"),
        ({"reason": ""}, "reason"),
        ({"reason": "  "}, "reason"),  # refused by the service: an amendment must say why
        ({"changes": ["version"]}, "changes"),
        ({"changes": {"version": "1.0"}}, "version"),  # an amendment needs a new plan version
        ({"changes": {"version": "2", "time_point_months": -1}}, "time_point_months"),
        ({"plan": {}}, "plan"),
    ],
)
def test_a_bad_amendment_is_422_naming_the_field(analyst, protocol_id, change, location):
    body = {"changes": AMENDMENT, "reason": "why", "version": locked(analyst, protocol_id)} | change

    response = analyst.post(f"{API}/protocols/{protocol_id}/analysis-plan/amendments", json=body)

    assert response.status_code == 422, response.text
    assert location in locations(response)


def test_amending_is_for_analysts_and_administrators_of_known_plans(doctor, analyst, protocol_id):
    version = locked(analyst, protocol_id)
    body = {"changes": AMENDMENT, "reason": "why", "version": version}

    refused = doctor.post(f"{API}/protocols/{protocol_id}/analysis-plan/amendments", json=body)
    unknown = analyst.post(f"{API}/protocols/999999/analysis-plan/amendments", json=body)

    assert refused.status_code == 403
    assert unknown.status_code == 404
    assert doctor.get(f"{API}/protocols/999999/analysis-plan/amendments").status_code == 404
