"""Sites and users: created by an administrator (the very first administrator by the installer)."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import GLOBAL_ROLES, Action, Role
from alscell.errors import Conflict, InvalidInput, Problem
from alscell.services import access, auth
from alscell.services.records import add_record, change_record, commit, exists, load
from alscell.storage.models import Site, User

__all__ = [
    "create_first_admin",
    "create_site",
    "create_user",
    "disable_user",
    "list_sites",
    "list_users",
]

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
    now: datetime, password: str | None = None,
) -> User:  # fmt: skip
    """Add a user (with a password, checked before anything is written). Clinical roles need a site;
    administrators and monitors work across sites.

    ``by`` is None only for the first administrator (see :func:`create_first_admin`).
    """
    if by is not None:
        access.require(by, Action.MANAGE_USERS)
    problems = []
    if not _USERNAME.fullmatch(username):
        problems.append(Problem("username", "must be 2-80 lower-case letters, digits or . _ @ -"))
    if role not in GLOBAL_ROLES and role is not Role.ANALYST and site_id is None:
        problems.append(Problem("site_id", f"required: a {role} works at one site"))
    if password is not None:
        problems += auth.password_problems(username, password)
    if problems:
        raise InvalidInput(problems, subject="user")
    if site_id is not None:
        load(session, Site, site_id)
    if exists(session, sa.select(User).where(User.username == username)):
        raise Conflict(f"user {username} already exists")
    user = User(username=username, full_name=full_name, role=role, site_id=site_id, created_at=now,
                password_hash=auth.hash_password(password) if password is not None else None)  # fmt: skip
    add_record(session, user, by=by, action="user.created", now=now)
    commit(session)
    return user


def create_first_admin(
    session: Session, *, username: str, full_name: str, now: datetime, password: str | None = None
) -> User:
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
        password=password,
    )


def disable_user(session: Session, *, user_id: int, by: User, now: datetime) -> User:
    """Disable a user (administrators only): they can no longer sign in or use their API tokens.

    Raises
    ------
    Conflict
        If the user is already disabled, or is ``by`` (an administrator cannot lock themself out).
    """
    access.require(by, Action.MANAGE_USERS)
    user = load(session, User, user_id, kind="user")
    if user.id == by.id:
        raise Conflict("you cannot disable yourself; ask another administrator")
    if not user.active:
        raise Conflict(f"user {user.username} is already disabled")
    change_record(session, user, {"active": False}, by=by, action="user.disabled", now=now)
    commit(session)
    return user


def list_users(
    session: Session, *, by: User, limit: int = 50, offset: int = 0
) -> tuple[list[User], int]:
    """Every user by username (administrators only); and their total."""
    access.require(by, Action.MANAGE_USERS)
    total = session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
    statement = sa.select(User).order_by(User.username).limit(limit).offset(offset)
    return list(session.scalars(statement)), int(total)


def list_sites(session: Session, *, by: User) -> list[Site]:
    """Every site by code (administrators only)."""
    access.require(by, Action.MANAGE_USERS)
    return list(session.scalars(sa.select(Site).order_by(Site.code)))
