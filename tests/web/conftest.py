"""API test set-up: the app on the test's transactional session, a fixed clock, and signed-in callers.

Requests run on the ``session`` fixture's connection (so each test still rolls back) on SQLite and
PostgreSQL. ``caller(role, site)`` makes a user of that role with a personal API token and returns a
client whose requests carry it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.config import Settings
from alscell.domain.access import Role
from alscell.services import auth
from alscell.storage.models import Site, User
from alscell.web import deps
from alscell.web.app import create_app
from tests.factories import NOW, make_site, make_user
from tests.services.scenario import clinic, enrolled_in_treatment, released_units

TODAY = NOW.date()


@contextmanager
def app_on(session: Session, folder: Path, now: datetime) -> Iterator[FastAPI]:
    """The app with every request on ``session`` (so the test still rolls back) and its clock at
    ``now`` (tests move it with :func:`set_clock`)."""
    settings = Settings(_env_file=None, database_url=f"sqlite:///{folder / 'unused.sqlite3'}",
                        environment="test", cookie_secure=False)  # fmt: skip
    application = create_app(settings)

    def request_session() -> Iterator[Session]:
        try:
            yield session
        except BaseException:
            session.rollback()  # back to the test's savepoint, as a real request's session would
            raise

    application.dependency_overrides[deps._session] = request_session
    application.dependency_overrides[deps._writing_session] = request_session
    application.dependency_overrides[deps._now] = lambda: application.state.test_now
    application.dependency_overrides[deps._today] = lambda: application.state.test_now.date()
    application.state.test_now = now
    try:
        yield application
    finally:
        application.state.engine.dispose()


@pytest.fixture
def app(session: Session, tmp_path: Path) -> Iterator[FastAPI]:
    with app_on(session, tmp_path, NOW) as application:
        yield application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as anonymous:
        yield anonymous


class Caller(TestClient):
    """A client that sends a signed-in user's API token."""

    def __init__(self, app: FastAPI, user: User, token: str) -> None:
        super().__init__(app, headers={"Authorization": f"Bearer {token}"})
        self.user, self.token = user, token


@pytest.fixture
def caller(app: FastAPI, session: Session) -> Callable[..., Caller]:
    def make(role: Role, site: Site | None = None, *, username: str | None = None) -> Caller:
        user = make_user(session, role, site=site, username=username)
        issued = auth.create_api_token(session, user=user, name="tests", by=user, now=NOW)
        return Caller(app, user, issued.secret)

    return make


@pytest.fixture
def seeded(session: Session) -> dict[Role, User]:
    """A clinic with a patient in treatment and released cell units, by the users of four roles:
    forms of every kind to find."""
    c = clinic(session)
    enrolled_in_treatment(c)
    released_units(c)
    return {Role.PHYSICIAN: c.physician, Role.CELL_LAB: c.lab, Role.COORDINATOR: c.coordinator,
            Role.ADMIN: c.admin}  # fmt: skip


@pytest.fixture
def site(session: Session) -> Site:
    return make_site(session, code="AMS")


def day(text: str) -> date:
    return date.fromisoformat(text)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def set_clock(app: FastAPI, now: datetime) -> None:
    """Move the app's clock (services are told the time; tests never read the real clock)."""
    app.state.test_now = now
