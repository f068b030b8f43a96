"""Sites and users (services/admin.py): the first administrator, then everything by administrators."""

from __future__ import annotations

import pytest

from alscell.domain.access import Role
from alscell.errors import Conflict, InvalidInput, PermissionDenied
from alscell.services import admin
from alscell.services.audit import verify_trail
from tests.factories import make_admin, make_site, make_user


def test_first_admin_then_sites_and_users_are_audited(session, now):
    boss = make_admin(session)
    site = admin.create_site(session, code="AMS", name="Amsterdam", by=boss, now=now)
    nurse = admin.create_user(
        session,
        username="nina",
        full_name="Nina",
        role=Role.NURSE,
        site_id=site.id,
        by=boss,
        now=now,
    )

    assert (boss.role, nurse.site_id) == (Role.ADMIN, site.id)
    assert verify_trail(session) == []


def test_a_second_first_admin_is_refused(session, now):
    make_admin(session)

    with pytest.raises(Conflict, match="users already exist"):
        admin.create_first_admin(session, username="eve", full_name="Eve", now=now)


def test_only_administrators_create_users(session, now):
    nurse = make_user(session, Role.NURSE)

    with pytest.raises(PermissionDenied):
        admin.create_site(session, code="X1", name="X", by=nurse, now=now)


def test_clinical_roles_need_a_site(session, now):
    with pytest.raises(InvalidInput, match="site_id: required: a nurse works at one site"):
        admin.create_user(
            session,
            username="nobody",
            full_name="N",
            role=Role.NURSE,
            site_id=None,
            by=make_admin(session),
            now=now,
        )


def test_duplicates_are_conflicts(session, now):
    make_site(session, code="DUP")

    with pytest.raises(Conflict, match="site DUP already exists"):
        make_site(session, code="DUP")
