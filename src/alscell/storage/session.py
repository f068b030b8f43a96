"""Engines and sessions: SQLite (the embedded default) and PostgreSQL, configured for safety.

SQLite runs in WAL mode with foreign keys on, a busy timeout and full synchronous writes (no committed
transaction is lost on a crash). SQLAlchemy's pysqlite recipe hands transaction control to SQLAlchemy
and each transaction starts with ``BEGIN IMMEDIATE``, so writers queue instead of failing on upgrade
and savepoints work. A session made with ``execution_options=READ_ONLY`` (the web app's, for GET
requests) begins ``DEFERRED`` instead: in WAL mode it reads a snapshot and never waits for the write
lock, so readers queue neither behind writers nor behind each other.

Writers of one engine also wait their turn in a :class:`_WriterLine` before ``BEGIN IMMEDIATE``.
SQLite's own busy handler makes a waiting writer sleep and try again (after 1, 2, 5 … up to 100 ms),
so under many writers some go straight through while others lose every try: with 16 web writers the
slowest waited 3.7 s of the 10 s timeout (``benchmarks/bench_api.py``). A lock wakes the next writer
as soon as the last one ends instead. SQLite's lock stays the authority, for other processes too.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "BUSY_TIMEOUT_MS",
    "READ_ONLY",
    "database_busy",
    "make_engine",
    "make_session_factory",
]

BUSY_TIMEOUT_MS: Final = 10_000
"""How long a SQLite writer waits for the write lock before it gives up "database is locked"."""

_BUSY_SQLITE: Final = ("SQLITE_BUSY", "SQLITE_LOCKED")
_BUSY_POSTGRES: Final = frozenset({"40001", "40P01", "55P03", "57014"})
"""serialization failure, deadlock detected, lock not available, statement cancelled (a timeout)."""
_READS_ONLY: Final = "alscell_read_only"
READ_ONLY: Final = MappingProxyType({_READS_ONLY: True})
"""Execution options of a session that only reads: on SQLite its transactions take no write lock."""


def make_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **options: Any) -> sa.Engine:
    """An engine for ``url`` with alscell's connection settings.

    ``busy_timeout_ms`` bounds how long a SQLite writer waits for the write lock (SQLite retries
    within it); after that the statement fails and :func:`database_busy` says so.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **options)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **options)


def database_busy(error: BaseException) -> bool:
    """Whether ``error`` means the database was too busy to do the work now (worth retrying later).

    SQLite: the write lock was not free within the busy timeout. PostgreSQL: a serialization failure,
    a deadlock, a lock or statement timeout. Both roll the whole transaction back: nothing was written.
    """
    if not isinstance(error, sa.exc.OperationalError):
        return False
    sqlite_name = getattr(error.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name).startswith(_BUSY_SQLITE)  # extended codes too (SQLITE_BUSY_TIMEOUT)
    return getattr(error.orig, "sqlstate", None) in _BUSY_POSTGRES


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (services return what they wrote)."""
    return sessionmaker(engine, expire_on_commit=False)


class _WriterLine:
    """This engine's writers, one at a time, in the order a lock wakes them; SQLite still decides.

    The turn is marked in the connection's ``info`` and given back when its transaction ends (just
    before the COMMIT itself, so the next writer may still wait on SQLite for that moment), or when
    the connection goes back to the pool or is dropped. A writer that has waited the whole busy
    timeout goes on to SQLite anyway, as it would without the line: a turn never given back would
    slow writers down, never stop them.
    """

    def __init__(self, timeout_ms: int) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout_ms / 1000

    def enter(self, info: dict[Any, Any]) -> None:
        if self._lock.acquire(timeout=self._timeout):
            info[_HOLDS_TURN] = True

    def leave(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_TURN, False):
            self._lock.release()


_HOLDS_TURN: Final = "alscell_holds_writer_turn"


def _configure_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    line = _WriterLine(busy_timeout_ms)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", f"busy_timeout = {busy_timeout_ms}",
                       "synchronous = FULL"):  # fmt: skip
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(_READS_ONLY, False):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        line.enter(connection.info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            line.leave(connection.info)
            raise

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _on_end(connection: sa.Connection) -> None:
        if not connection.invalidated:  # an invalidated one gave its turn back when dropped
            line.leave(connection.info)

    @sa.event.listens_for(engine.pool, "checkin")
    @sa.event.listens_for(engine.pool, "invalidate")
    def _on_release(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record is not None:  # a connection returned or dropped mid-transaction
            line.leave(record.info)
