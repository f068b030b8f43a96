"""Plain factory functions for tests: deterministic defaults, keyword overrides, through the services."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.services import admin, patients
from alscell.storage.models import Patient, Site, User

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
_counter = itertools.count(1)


def make_admin(session: Session) -> User:
    """The installation's administrator (created once per test database)."""
    existing = session.query(User).filter(User.role == Role.ADMIN).first()
    return existing or admin.create_first_admin(
        session, username="admin", full_name="Ada Admin", now=NOW
    )


def make_site(session: Session, *, code: str | None = None, name: str = "Clinic") -> Site:
    code = code or f"S{next(_counter)}"
    return admin.create_site(session, code=code, name=name, by=make_admin(session), now=NOW)


def make_user(
    session: Session, role: Role, *, site: Site | None = None, username: str | None = None
) -> User:
    """A user with ``role`` at ``site`` (a new site for clinical roles when none is given)."""
    if site is None and role not in (Role.ADMIN, Role.MONITOR, Role.ANALYST):
        site = make_site(session)
    name = username or f"{role.value}{next(_counter)}"
    return admin.create_user(
        session, username=name, full_name=name.title(), role=role, site_id=site.id if site else None,
        by=make_admin(session), now=NOW,
    )  # fmt: skip


def make_patient(
    session: Session, *, site: Site | None = None, by: User | None = None, **changes: object
) -> Patient:
    """A referred patient at ``site`` (a new site when none is given), registered by a coordinator."""
    site = site or make_site(session)
    by = by or make_user(session, Role.COORDINATOR, site=site)
    fields: dict[str, object] = {
        "study_code": f"P-{next(_counter):04d}",
        "given_name": "Alex",
        "family_name": "Doe",
        "birth_on": date(1964, 5, 17),
        "sex": "female",
    } | changes
    return patients.register_patient(session, site_id=site.id, by=by, now=NOW, **fields)  # type: ignore[arg-type]
