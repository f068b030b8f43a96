"""Administration pages (web/pages/admin.py): users, sites, protocol versions and their analysis plans.

Every form: the happy path (303 and the record saved), bad input (422, the error next to its field,
what was typed kept, never the password) and the wrong role (403).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.services import protocols
from alscell.storage.models import ProtocolVersion, Site, User
from alscell.storage.protocol_files import builtin_protocols
from tests.factories import NOW, make_admin, make_user
from tests.services.scenario import Clinic, clinic
from tests.web.pages import browser, csrf
from tests.web.test_lab_pages import field_error, form_csrf, selected


@pytest.fixture
def c(session: Session) -> Clinic:
    return clinic(session)


@pytest.fixture
def admin(app, session, c):
    return browser(app, session, c.admin)


@pytest.fixture
def coordinator(app, session, c):
    return browser(app, session, c.coordinator)


def user_named(session: Session, username: str) -> User | None:
    return session.scalars(sa.select(User).where(User.username == username)).first()


# ---------------------------------------------------------------- users and sites


def test_the_admin_page_lists_users_and_sites(admin):
    page = admin.get("/admin")

    assert page.status_code == 200, page.text
    assert "dr-house" in page.text
    assert "nurse-joy" in page.text
    assert "AMS" in page.text
    assert '<label for="f-role">' in page.text
    assert '<label for="f-site_code">' in page.text


def test_only_administrators_open_the_admin_pages(coordinator, c):
    assert coordinator.get("/admin").status_code == 403
    assert coordinator.get("/admin/protocols").status_code == 403
    assert coordinator.get(f"/admin/protocols/{c.protocol.id}").status_code == 403


USER = {"username": "nurse-ray", "full_name": "Ray Nurse", "role": "nurse",
        "password": "a long and private passphrase"}  # fmt: skip


def test_adding_a_user(admin, c, session):
    data = {
        **USER,
        "site_id": str(c.site.id),
        "csrf_token": form_csrf(admin, "/admin", "/admin/users"),
    }

    response = admin.post("/admin/users", data=data)

    assert response.status_code == 303, response.text
    added = user_named(session, "nurse-ray")
    assert added is not None
    assert (added.role, added.site_id, added.full_name) == (Role.NURSE, c.site.id, "Ray Nurse")
    assert added.password_hash is not None


def test_a_bad_user_is_shown_next_to_its_fields_without_the_password(admin, c, session):
    data = {
        **USER,
        "username": "Ray Nurse!",
        "site_id": "",
        "password": "short",
        "csrf_token": form_csrf(admin, "/admin", "/admin/users"),
    }

    response = admin.post("/admin/users", data=data)

    assert response.status_code == 422
    assert "lower-case letters" in field_error(response.text, "username")
    assert "a nurse works at one site" in field_error(response.text, "site_id")
    assert field_error(response.text, "password")
    assert 'value="Ray Nurse!"' in response.text
    assert 'value="Ray Nurse"' in response.text
    assert selected(response.text, "nurse")
    assert 'value="short"' not in response.text
    assert user_named(session, "ray nurse!") is None


def test_only_administrators_add_users(coordinator, c, session):
    data = {**USER, "site_id": str(c.site.id), "csrf_token": csrf(coordinator)}

    response = coordinator.post("/admin/users", data=data)

    assert response.status_code == 403
    assert user_named(session, "nurse-ray") is None


def test_disabling_a_user(admin, c, session):
    token = form_csrf(admin, "/admin", f"/admin/users/{c.nurse.id}/disable")

    response = admin.post(f"/admin/users/{c.nurse.id}/disable", data={"csrf_token": token})

    assert response.status_code == 303, response.text
    session.refresh(c.nurse)
    assert not c.nurse.active


def test_an_administrator_cannot_disable_themself(admin, c, session):
    response = admin.post(f"/admin/users/{c.admin.id}/disable", data={"csrf_token": csrf(admin)})

    assert response.status_code == 409
    assert "you cannot disable yourself" in response.text
    session.refresh(c.admin)
    assert c.admin.active


def test_only_administrators_disable_users(coordinator, c, session):
    response = coordinator.post(
        f"/admin/users/{c.nurse.id}/disable", data={"csrf_token": csrf(coordinator)}
    )

    assert response.status_code == 403
    session.refresh(c.nurse)
    assert c.nurse.active


def test_adding_a_site(admin, session):
    data = {
        "site_code": "ROM",
        "site_name": "Rome clinic",
        "csrf_token": form_csrf(admin, "/admin", "/admin/sites"),
    }

    response = admin.post("/admin/sites", data=data)

    assert response.status_code == 303, response.text
    assert session.scalars(sa.select(Site.name).where(Site.code == "ROM")).one() == "Rome clinic"


def test_a_bad_site_code_is_shown_next_to_the_code(admin, session):
    data = {
        "site_code": "rom!",
        "site_name": "Rome clinic",
        "csrf_token": form_csrf(admin, "/admin", "/admin/sites"),
    }

    response = admin.post("/admin/sites", data=data)

    assert response.status_code == 422
    assert "capital letters" in field_error(response.text, "site_code")
    assert 'value="rom!"' in response.text
    assert 'value="Rome clinic"' in response.text
    assert session.scalars(sa.select(Site).where(Site.name == "Rome clinic")).first() is None


def test_a_site_code_already_taken_keeps_the_form(admin):
    data = {
        "site_code": "AMS",
        "site_name": "Amsterdam again",
        "csrf_token": form_csrf(admin, "/admin", "/admin/sites"),
    }

    response = admin.post("/admin/sites", data=data)

    assert response.status_code == 409
    assert "site AMS already exists" in response.text
    assert 'value="Amsterdam again"' in response.text


def test_only_administrators_add_sites(coordinator, session):
    data = {"site_code": "ROM", "site_name": "Rome clinic", "csrf_token": csrf(coordinator)}

    response = coordinator.post("/admin/sites", data=data)

    assert response.status_code == 403
    assert session.scalars(sa.select(Site).where(Site.code == "ROM")).first() is None


# ---------------------------------------------------------------- protocols


def test_the_protocols_page_lists_loaded_versions_and_built_in_files(admin):
    page = admin.get("/admin/protocols")

    assert page.status_code == 200, page.text
    assert "als-nsc-4lp" in page.text
    assert "locked" in page.text
    for name in builtin_protocols():
        assert f'<option value="{name}"' in page.text


def test_loading_a_built_in_protocol(admin, session):
    token = form_csrf(admin, "/admin/protocols", "/admin/protocols")
    data = {"builtin": "nurown-phase3", "content": "", "csrf_token": token}

    response = admin.post("/admin/protocols", data=data)

    assert response.status_code == 303, response.text
    row = session.scalars(
        sa.select(ProtocolVersion).where(ProtocolVersion.key == "nurown-phase3")
    ).one()
    assert response.headers["location"].startswith(f"/admin/protocols/{row.id}?done=")


def test_loading_pasted_yaml(admin, session):
    text = builtin_protocols()["nsi-566-phase1"].read_text(encoding="utf-8")

    response = admin.post(
        "/admin/protocols",
        data={
            "content": text,
            "csrf_token": form_csrf(admin, "/admin/protocols", "/admin/protocols"),
        },
    )

    assert response.status_code == 303, response.text
    assert session.scalars(
        sa.select(ProtocolVersion).where(ProtocolVersion.key == "nsi-566-phase1")
    ).one()


def test_bad_yaml_is_shown_next_to_the_pasted_text_and_kept(admin, session):
    text = "id: broken\nversion: 1\n  title: [unclosed"

    response = admin.post(
        "/admin/protocols",
        data={
            "content": text,
            "csrf_token": form_csrf(admin, "/admin/protocols", "/admin/protocols"),
        },
    )

    assert response.status_code == 422
    assert "line" in field_error(response.text, "content")
    assert ">id: broken\nversion: 1\n  title: [unclosed</textarea>" in response.text
    assert (
        session.scalars(sa.select(ProtocolVersion).where(ProtocolVersion.key == "broken")).first()
        is None
    )


def test_a_protocol_needs_a_file_or_pasted_yaml(admin):
    response = admin.post(
        "/admin/protocols",
        data={
            "builtin": "",
            "content": " ",
            "csrf_token": form_csrf(admin, "/admin/protocols", "/admin/protocols"),
        },
    )

    assert response.status_code == 422
    assert "choose a built-in file or paste" in field_error(response.text, "content")


def test_a_version_loaded_twice_is_a_conflict_with_the_form_kept(admin):
    response = admin.post(
        "/admin/protocols",
        data={
            "builtin": "als-nsc-4lp",
            "csrf_token": form_csrf(admin, "/admin/protocols", "/admin/protocols"),
        },
    )

    assert response.status_code == 409
    assert "already loaded" in response.text
    assert selected(response.text, "als-nsc-4lp")


def test_only_administrators_load_protocols(coordinator, session):
    data = {"builtin": "nurown-phase3", "csrf_token": csrf(coordinator)}

    response = coordinator.post("/admin/protocols", data=data)

    assert response.status_code == 403
    assert (
        session.scalars(
            sa.select(ProtocolVersion).where(ProtocolVersion.key == "nurown-phase3")
        ).first()
        is None
    )


def test_a_protocols_page_shows_its_program_product_eligibility_follow_up_and_plan(
    admin, c, session
):
    protocols.amend_analysis_plan(
        session,
        protocol_id=c.protocol.id,
        changes={"version": "1.1"},
        reason="typo in the plan's version",
        by=c.admin,
        now=NOW,
    )

    page = admin.get(f"/admin/protocols/{c.protocol.id}")

    assert page.status_code == 200, page.text
    for text in ("Examination week", "Intrathecal neural stem cell implantation", "every 7 days",
                 "Xenogeneic neural stem cells", "5,000,000 cells", "viability percent min",
                 "revised_el_escorial", "Follow-up month 6", "Analysis plan 1.1",
                 "improved min change", "typo in the plan&#39;s version", "version: 1.0 → 1.1"):  # fmt: skip
        assert text in page.text, text


# ---------------------------------------------------------------- locking the analysis plan


@pytest.fixture
def unlocked(session: Session) -> Clinic:
    return clinic(session, lock_plan=False)


def test_an_administrator_locks_the_analysis_plan(app, session, unlocked):
    client = browser(app, session, make_admin(session))
    path = f"/admin/protocols/{unlocked.protocol.id}"
    token = form_csrf(client, path, f"{path}/lock")

    response = client.post(f"{path}/lock", data={"csrf_token": token})

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/admin/protocols/{unlocked.protocol.id}?done=")
    assert protocols.analysis_plan_for(session, unlocked.protocol.id).locked_at == NOW


def test_an_analyst_locks_it_from_the_results_page(app, session, unlocked):
    client = browser(app, session, make_user(session, Role.ANALYST))
    lock = f"/admin/protocols/{unlocked.protocol.id}/lock"
    data = {
        "back": "results",
        "csrf_token": form_csrf(client, f"/results/{unlocked.protocol.id}", lock),
    }

    response = client.post(f"/admin/protocols/{unlocked.protocol.id}/lock", data=data)

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith(f"/results/{unlocked.protocol.id}?done=")
    assert protocols.analysis_plan_for(session, unlocked.protocol.id).locked_at is not None


def test_a_locked_plan_is_not_locked_again(admin, c):
    response = admin.post(
        f"/admin/protocols/{c.protocol.id}/lock", data={"csrf_token": csrf(admin)}
    )

    assert response.status_code == 409
    assert "amend it instead" in response.text


def test_clinical_roles_do_not_lock_analysis_plans(app, session, unlocked):
    client = browser(app, session, unlocked.physician)

    response = client.post(
        f"/admin/protocols/{unlocked.protocol.id}/lock", data={"csrf_token": csrf(client)}
    )

    assert response.status_code == 403
    assert protocols.analysis_plan_for(session, unlocked.protocol.id).locked_at is None
