"""Administration and the audit trail over the API (web/api/admin.py, web/api/audit.py)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from alscell.domain.access import Role
from alscell.services import audit
from alscell.storage.models import Site, User

PASSWORD = "correct horse battery"


@pytest.fixture
def boss(caller):
    """An administrator (besides the installation's first one)."""
    return caller(Role.ADMIN)


def new_user(site: int | None, **changes: Any) -> dict[str, Any]:
    return {"username": "nina", "full_name": "Nina Nurse", "role": "nurse", "site_id": site,
            "password": PASSWORD} | changes  # fmt: skip


def locations(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {error["location"] for error in response.json()["errors"]}


# ---------------------------------------------------------------- sites


def test_sites_are_added_and_listed(boss):
    created = boss.post("/api/v1/sites", json={"code": "ROM", "name": "Rome"})
    listed = boss.get("/api/v1/sites")

    assert created.status_code == 201, created.text
    assert (created.json()["code"], created.json()["name"]) == ("ROM", "Rome")
    assert created.json() in listed.json()


def test_sites_are_checked(caller, site, boss):
    lower = boss.post("/api/v1/sites", json={"code": "rom", "name": "Rome"})
    strict = boss.post("/api/v1/sites", json={"code": 7, "name": "Seven", "country": "IT"})

    assert (lower.status_code, locations(lower)) == (422, {"code"})
    assert locations(strict) == {"code", "country"}
    assert boss.post("/api/v1/sites", json={"code": "AMS", "name": "Again"}).status_code == 409
    assert (
        caller(Role.PHYSICIAN, site)
        .post("/api/v1/sites", json={"code": "X", "name": "X"})
        .status_code
        == 403
    )
    assert caller(Role.MONITOR).get("/api/v1/sites").status_code == 403


# ---------------------------------------------------------------- users


def test_a_new_user_signs_in_with_the_password_set(client, session, site, boss):
    created = boss.post("/api/v1/users", json=new_user(site.id))
    signed_in = client.post("/api/v1/auth/login", json={"username": "nina", "password": PASSWORD})
    listed = boss.get("/api/v1/users", params={"limit": 200})

    assert created.status_code == 201, created.text
    assert (created.json()["role"], created.json()["site_id"], created.json()["active"]) == (
        "nurse",
        site.id,
        True,
    )
    assert "password" not in created.json()
    assert signed_in.status_code == 200, signed_in.text
    assert "nina" in [user["username"] for user in listed.json()["items"]]
    assert listed.json()["total"] == session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"password": "too short"}, "password"),
        ({"password": "nina-is-my-password"}, "password"),
        ({"role": "wizard"}, "role"),
        ({"username": "Nina Nurse"}, "username"),
        ({"site_id": None}, "site_id"),
    ],
    ids=["short password", "password with username", "unknown role", "bad username", "no site"],
)
def test_a_refused_user_names_the_field_and_leaves_no_user(session, site, boss, changes, location):
    response = boss.post("/api/v1/users", json=new_user(site.id, **changes))

    assert (response.status_code, locations(response)) == (422, {location})
    assert session.scalar(sa.select(User).where(User.full_name == "Nina Nurse")) is None


def test_users_are_unique_at_known_sites_and_made_by_administrators(caller, site, boss):
    boss.post("/api/v1/users", json=new_user(site.id))

    assert boss.post("/api/v1/users", json=new_user(site.id)).status_code == 409
    assert boss.post("/api/v1/users", json=new_user(999, username="otto")).status_code == 404
    assert (
        caller(Role.PHYSICIAN, site)
        .post("/api/v1/users", json=new_user(site.id, username="otto"))
        .status_code
        == 403
    )
    assert caller(Role.MONITOR).get("/api/v1/users").status_code == 403


def test_a_disabled_user_is_locked_out(caller, site, boss):
    nurse = caller(Role.NURSE, site)

    disabled = boss.post(f"/api/v1/users/{nurse.user.id}/disable")
    again = boss.post(f"/api/v1/users/{nurse.user.id}/disable")

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["active"] is False
    assert nurse.get("/api/v1/auth/me").status_code == 401
    assert again.status_code == 409


def test_disabling_is_for_administrators_and_never_oneself(caller, site, boss):
    nurse = caller(Role.NURSE, site)

    assert boss.post(f"/api/v1/users/{boss.user.id}/disable").status_code == 409
    assert boss.post("/api/v1/users/999/disable").status_code == 404
    assert (
        caller(Role.PHYSICIAN, site).post(f"/api/v1/users/{nurse.user.id}/disable").status_code
        == 403
    )
    assert nurse.get("/api/v1/auth/me").status_code == 200


# ---------------------------------------------------------------- the audit trail


def test_audit_events_are_listed_newest_first_and_filtered(caller, session, site, boss):
    monitor = caller(Role.MONITOR)
    boss.post("/api/v1/sites", json={"code": "ROM", "name": "Rome"})
    rome = session.scalar(sa.select(Site).where(Site.code == "ROM"))
    assert rome is not None

    everything = monitor.get("/api/v1/audit-events", params={"limit": 5})
    sites = monitor.get(
        "/api/v1/audit-events", params={"entity_type": "sites", "entity_id": str(rome.id)}
    )
    by_boss = monitor.get("/api/v1/audit-events", params={"actor_id": boss.user.id})

    assert everything.status_code == 200, everything.text
    ids = [item["id"] for item in everything.json()["items"]]
    assert ids == sorted(ids, reverse=True)
    assert [(e["action"], e["after"]["name"]) for e in sites.json()["items"]] == [
        ("site.created", "Rome")
    ]
    assert {item["actor_id"] for item in by_boss.json()["items"]} == {boss.user.id}


def test_audit_queries_are_checked(caller, site):
    monitor = caller(Role.MONITOR)

    assert locations(monitor.get("/api/v1/audit-events", params={"actor_id": "boss"})) == {
        "actor_id"
    }
    assert locations(monitor.get("/api/v1/audit-events", params={"limit": 0})) == {"limit"}
    assert caller(Role.PHYSICIAN, site).get("/api/v1/audit-events").status_code == 403
    assert caller(Role.ANALYST).get("/api/v1/audit-events").status_code == 403


def test_the_trail_verifies_and_reports_tampering(caller, session, site):
    monitor = caller(Role.MONITOR)

    intact = monitor.get("/api/v1/audit/verify")
    session.execute(sa.update(Site).where(Site.id == site.id).values(name="Tampered"))
    broken = monitor.get("/api/v1/audit/verify")

    assert intact.status_code == 200, intact.text
    assert (intact.json()["intact"], intact.json()["breaks"]) == (True, [])
    assert intact.json()["events"] > 0
    assert broken.json()["intact"] is False
    assert broken.json()["breaks"][0]["where"] == f"sites {site.id}"
    assert caller(Role.NURSE, site).get("/api/v1/audit/verify").status_code == 403


def test_a_monitor_reads_the_trail_without_identities_an_administrator_with(
    caller, session, site, boss
):
    """Monitors may not view identities (domain/access.py), so the trail must not show them either."""
    coordinator = caller(Role.COORDINATOR, site)
    registered = coordinator.post("/api/v1/patients", json={
        "study_code": "AMS-077", "site_id": site.id, "given_name": "Quirinus", "family_name": "Zebedee",
        "birth_on": "1961-02-03", "mrn": "MRN-55501"})  # fmt: skip
    assert registered.status_code == 201, registered.text
    query = {"entity_type": "patient_identities"}

    monitor = caller(Role.MONITOR).get("/api/v1/audit-events", params=query).json()["items"]
    admin = boss.get("/api/v1/audit-events", params=query).json()["items"]

    assert len(monitor) == len(admin) == 1
    assert "Quirinus" not in str(monitor)
    assert "MRN-55501" not in str(monitor)
    assert "1961" not in str(monitor)
    assert monitor[0]["after"]["patient_id"] == registered.json()["id"]
    assert set(monitor[0]["after"].values()) == {registered.json()["id"], audit.HIDDEN}
    assert admin[0]["after"]["given_name"] == "Quirinus"
    assert audit.verify_trail(session) == []  # hiding never touched the stored events
