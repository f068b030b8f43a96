"""Engines and sessions: SQLite (the embedded default) and PostgreSQL, configured for safety.

SQLite runs in WAL mode with foreign keys on, a busy timeout and full synchronous writes (no committed
transaction is lost on a crash). SQLAlchemy's pysqlite recipe hands transaction control to SQLAlchemy
and each transaction starts with ``BEGIN IMMEDIATE``, so writers queue instead of failing on upgrade
and savepoints work.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["BUSY_TIMEOUT_MS", "make_engine", "make_session_factory"]

BUSY_TIMEOUT_MS: Final = 10_000


def make_engine(url: str, **options: Any) -> sa.Engine:
    """An engine for ``url`` with alscell's connection settings."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **options)
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **options)


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (services return what they wrote)."""
    return sessionmaker(engine, expire_on_commit=False)


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", f"busy_timeout = {BUSY_TIMEOUT_MS}",
                       "synchronous = FULL"):  # fmt: skip
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
