"""Shared test set-up.

- Hypothesis runs derandomized, so every run of the suite tests the same cases.
- Database tests run twice, on SQLite and on a real PostgreSQL server that the suite starts on
  127.0.0.1 and stops at the end. Each test works inside a transaction rolled back afterwards; tests
  that must really commit use ``fresh_engine``, a database of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from alscell.storage import migrate
from alscell.storage.session import make_engine
from tests.figures import BOOK_KEY, FigureBook, Figures
from tests.postgres import PostgresServer

# "ci" (the default) is deterministic: no flaky runs, no reruns. Set HYPOTHESIS_PROFILE=explore to
# search with fresh random cases locally; pin anything it finds with @example.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,  # no examples replayed from earlier runs: every run tries the same inputs
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ENGINES = ("sqlite", "postgresql")

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
TODAY = date(2026, 1, 5)


@pytest.fixture
def now() -> datetime:
    """The instant services are told it is (tests never read the clock)."""
    return NOW


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


def _database_url(kind: str, request: pytest.FixtureRequest, folder: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(name)


@pytest.fixture(scope="session", params=ENGINES)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """A database built by the migrations, shared by the session's tests (each rolls back)."""
    url = _database_url(request.param, request, tmp_path_factory.mktemp("db"), "alscell_test")
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine_kind(migrated_engine: sa.Engine) -> str:
    return migrated_engine.dialect.name


@pytest.fixture
def session(migrated_engine: sa.Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test.

    Services' commits release savepoints (``join_transaction_mode="create_savepoint"``), so a failed
    service call can still be checked to have left nothing behind.
    """
    connection = migrated_engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield db
    db.close()
    outer.rollback()
    connection.close()


@pytest.fixture(params=ENGINES)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty, migrated database of the test's own, for tests that commit for real."""
    name = f"alscell_{uuid.uuid4().hex[:12]}"
    url = _database_url(request.param, request, tmp_path, name)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--e2e", action="store_true", help="also run the browser tests (tests/e2e)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[BOOK_KEY] = FigureBook()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """Where a test records the figures it reports (printed at the end of the run)."""
    return request.config.stash[BOOK_KEY].open(request.node.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.config.stash[BOOK_KEY].report(terminalreporter)
