"""Sites and users: created by an administrator (the very first administrator by the installer)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import GLOBAL_ROLES, Action, Role
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access
from alscell.services.records import add_record, commit, exists, load
from alscell.storage.models import Site, User

__all__ = ["create_first_admin", "create_site", "create_user"]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,79}")


def create_site(session: Session, *, code: str, name: str, by: User, now: datetime) -> Site:
    """Add a site (administrators only)."""
    access.require(by, Action.MANAGE_USERS)
    problems = []
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,19}", code):
        problems.append(
            Problem("code", f"must be 1-20 capital letters, digits or hyphens, got {code!r}")
        )
    if not name.strip():
        problems.append(Problem("name", "must not be empty"))
    if problems:
        raise InvalidInput(problems, subject="site")
    if exists(session, sa.select(Site).where(Site.code == code)):
        raise Conflict(f"site {code} already exists")
    site = add_record(
        session, Site(code=code, name=name.strip()), by=by, action="site.created", now=now
    )
    commit(session)
    return site


def create_user(
    session: Session, *, username: str, full_name: str, role: Role, site_id: int | None, by: User | None,
    now: datetime,
) -> User:  # fmt: skip
    """Add a user. Clinical roles need a site; administrators and monitors work across sites.

    ``by`` is None only for the first administrator (see :func:`create_first_admin`).
    """
    if by is not None:
        access.require(by, Action.MANAGE_USERS)
    problems = []
    if not _USERNAME.fullmatch(username):
        problems.append(Problem("username", "must be 2-80 lower-case letters, digits or . _ @ -"))
    if role not in GLOBAL_ROLES and role is not Role.ANALYST and site_id is None:
        problems.append(Problem("site_id", f"required: a {role} works at one site"))
    if problems:
        raise InvalidInput(problems, subject="user")
    if site_id is not None:
        load(session, Site, site_id)
    if exists(session, sa.select(User).where(User.username == username)):
        raise Conflict(f"user {username} already exists")
    user = User(username=username, full_name=full_name, role=role, site_id=site_id, created_at=now)
    add_record(session, user, by=by, action="user.created", now=now)
    commit(session)
    return user


def create_first_admin(session: Session, *, username: str, full_name: str, now: datetime) -> User:
    """The installation's first administrator; refused once any user exists."""
    if exists(session, sa.select(User)):
        raise Conflict("users already exist; an administrator must create new users")
    return create_user(
        session,
        username=username,
        full_name=full_name,
        role=Role.ADMIN,
        site_id=None,
        by=None,
        now=now,
    )
