"""``alscell site``, ``alscell user`` and ``alscell token``: the operator's account commands.

The first administrator is created with ``alscell user add --role admin`` on an empty database; later
commands name the administrator acting with ``--by``. Passwords are typed at a hidden prompt (or read
from standard input with ``--password-stdin``); there is no default password anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from alscell.cli.console import make_console, reported_errors
from alscell.config import load_settings
from alscell.domain.access import Role
from alscell.errors import InvalidInput, NotFound, Problem
from alscell.services import admin, auth
from alscell.storage import migrate
from alscell.storage.models import Site, User
from alscell.storage.session import make_engine, make_session_factory

site_app = typer.Typer(help="Sites taking part in the program.")
user_app = typer.Typer(help="Users: add, list, disable.")
token_app = typer.Typer(help="Personal API tokens for scripts.")

ByOption = Annotated[
    str | None,
    typer.Option("--by", help="The administrator doing this (not needed for the first one)."),
]


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(load_settings().database_url)
    try:
        migrate.require_current(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _user(session: Session, username: str | None, *, option: str = "--by") -> User:
    if not username:
        raise InvalidInput(
            [Problem(option, "name an administrator, e.g. --by admin")], subject="command"
        )
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("user", username)
    return user


def _site_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    site = session.execute(sa.select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        raise NotFound("site", code)
    return site.id


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@site_app.command("add")
def add_site(
    code: Annotated[str, typer.Argument(help="Short code, e.g. AMS.")],
    name: Annotated[str, typer.Argument(help="The clinic's name.")],
    by: ByOption = None,
) -> None:
    """Add a site."""
    with reported_errors(), _session() as session:
        site = admin.create_site(
            session, code=code, name=name, by=_user(session, by), now=datetime.now(UTC)
        )
        typer.echo(f"site {site.code} added (id {site.id})")


@user_app.command("add")
def add_user(
    username: Annotated[str, typer.Option(help="Sign-in name (lower case).")],
    full_name: Annotated[str, typer.Option(help="The person's name.")],
    role: Annotated[Role, typer.Option(help="Their role.")],
    site: Annotated[
        str | None, typer.Option(help="Their site's code (not for admin or monitor).")
    ] = None,
    by: ByOption = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add a user and set their password; on an empty database, the first administrator."""
    with reported_errors(), _session() as session:
        now = datetime.now(UTC)
        first = session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == 0
        if first and role is not Role.ADMIN:
            raise InvalidInput(
                [Problem("--role", "the first user must be an administrator")], subject="command"
            )
        password = _password(password_stdin)
        if first:
            user = admin.create_first_admin(
                session, username=username, full_name=full_name, now=now, password=password
            )
        else:
            user = admin.create_user(session, username=username, full_name=full_name, role=role, password=password,
                                     site_id=_site_id(session, site), by=_user(session, by), now=now)  # fmt: skip
        typer.echo(f"user {user.username} added ({user.role})")


@user_app.command("list")
def list_users() -> None:
    """List users with their role, site and whether they are active."""
    with reported_errors(), _session() as session:
        console = make_console()
        for user in session.execute(sa.select(User).order_by(User.username)).scalars():
            state = "active" if user.active else "disabled"
            console.print(f"{user.username}  {user.role}  site {user.site_id or '-'}  {state}")


@token_app.command("create")
def create_token(
    username: Annotated[str, typer.Option(help="Whose token.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'REDCap sync'.")],
    by: ByOption = None,
) -> None:
    """Create a personal API token and print it once (store it now; it is kept only hashed)."""
    with reported_errors(), _session() as session:
        owner = _user(session, username, option="--username")
        acting = _user(session, by) if by else owner
        issued = auth.create_api_token(
            session, user=owner, name=name, by=acting, now=datetime.now(UTC)
        )
        typer.echo(issued.secret)
