"""Back up a live database to one file, and restore it: SQLite and PostgreSQL alike.

- SQLite: the sqlite3 online backup API copies a consistent snapshot while others keep working; the
  copy is a plain single-file database (rollback journal, not WAL), so it can be moved on its own.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot) and ``pg_restore --clean
  --if-exists --no-owner --single-transaction`` (all or nothing). The tools come from the newest
  ``/usr/lib/postgresql/*/bin`` or the ``PATH``; a password travels in ``PGPASSWORD``, never on the
  command line.

A backup is written under a temporary name in the destination folder, flushed to disk, and only
then given its final name, so a crash never leaves half a backup that looks whole. An existing file
is never overwritten, and a restore refuses a file of the wrong kind before touching the database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from alscell.errors import AlscellError, InvalidInput, Problem

__all__ = ["PG_DUMP_MAGIC", "SQLITE_HEADER", "backup", "postgres_tool", "restore"]

SQLITE_HEADER: Final = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

PG_DUMP_MAGIC: Final = b"PGDMP"
"""The first 5 bytes of a ``pg_dump --format=custom`` archive."""

POSTGRES_ROOT: Final = Path("/usr/lib/postgresql")


def backup(engine: sa.Engine, out: Path) -> Path:
    """Copy the database behind ``engine`` into the new file ``out``, consistently and online.

    Raises
    ------
    InvalidInput
        If ``out`` already exists, its folder does not, or the database kind is not supported.
    AlscellError
        If ``pg_dump`` is missing or fails (its error message is included).
    """
    out = Path(out)
    if out.exists():
        raise _refused(
            out, "already exists; choose a new file name (backups are never overwritten)"
        )
    if not out.parent.is_dir():
        raise _refused(out, f"folder {out.parent} does not exist")
    dialect = _dialect(engine)
    with _partial_file(out) as partial:
        if dialect == "sqlite":
            _backup_sqlite(engine, partial)
        else:
            _run_tool("pg_dump", engine, "--format=custom", f"--file={partial}")
        _sync(partial)
        _publish(partial, out)
    return out


def restore(engine: sa.Engine, source: Path) -> None:
    """Replace the whole content of the database behind ``engine`` with the backup ``source``.

    Raises
    ------
    InvalidInput
        If ``source`` is missing, is not a file, or is a backup of the other database kind.
    AlscellError
        If ``pg_restore`` is missing or fails (the database is left as it was).
    """
    source = Path(source)
    dialect = _dialect(engine)
    _check_source(source, dialect)
    if dialect == "sqlite":
        _restore_sqlite(engine, source)
    else:
        options = ("--clean", "--if-exists", "--no-owner", "--single-transaction")
        _run_tool("pg_restore", engine, *options, str(source))
    engine.dispose()  # pooled connections may cache plans of the tables just replaced


def postgres_tool(name: str) -> Path:
    """The PostgreSQL client program ``name``: the newest installed server's, else from the PATH.

    Raises
    ------
    AlscellError
        If the program is not installed.
    """
    candidates = sorted(POSTGRES_ROOT.glob(f"*/bin/{name}"), key=_major_version)
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise AlscellError(f"{name} not found; install the PostgreSQL client programs")
    return Path(found)


def _major_version(program: Path) -> tuple[int, str]:
    folder = program.parts[-3]
    return (int(folder), folder) if folder.isdigit() else (-1, folder)


def _dialect(engine: sa.Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        message = f"{name} is not supported; alscell backs up SQLite and PostgreSQL"
        raise InvalidInput([Problem("database", message)], subject="backup")
    return name


def _refused(path: Path, message: str) -> InvalidInput:
    return InvalidInput([Problem(str(path), message)], subject="backup file")


def _check_source(source: Path, dialect: str) -> None:
    if not source.is_file():
        raise _refused(source, "does not exist or is not a file")
    with source.open("rb") as file:
        start = file.read(len(SQLITE_HEADER))
    if dialect == "sqlite" and not start.startswith(SQLITE_HEADER):
        kind = "a PostgreSQL dump" if start.startswith(PG_DUMP_MAGIC) else "not a backup"
        raise _refused(source, f"is not a SQLite database ({kind}); the target is SQLite")
    if dialect == "postgresql" and not start.startswith(PG_DUMP_MAGIC):
        kind = "a SQLite database" if start.startswith(SQLITE_HEADER) else "not a backup"
        raise _refused(
            source, f"is not a pg_dump custom-format archive ({kind}); the target is PostgreSQL"
        )


@contextlib.contextmanager
def _partial_file(out: Path) -> Iterator[Path]:
    """A temporary file next to ``out``, removed afterwards whatever happens."""
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _publish(partial: Path, out: Path) -> None:
    """Give the finished backup its final name; a file that appeared meanwhile is not replaced."""
    try:
        os.link(partial, out)  # atomic, and refuses an existing name
    except FileExistsError:
        raise _refused(out, "already exists; choose a new file name") from None
    except OSError:  # a file system without hard links (FAT, some network shares)
        if out.exists():
            raise _refused(out, "already exists; choose a new file name") from None
        partial.replace(out)
    _sync_folder(out.parent)


def _sync(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _backup_sqlite(engine: sa.Engine, partial: Path) -> None:
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            _sqlite_connection(raw.dbapi_connection).backup(target)
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        raw.close()


def _restore_sqlite(engine: sa.Engine, source: Path) -> None:
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        origin.backup(_sqlite_connection(raw.dbapi_connection))
    finally:
        raw.close()
        origin.close()


def _sqlite_connection(connection: object) -> sqlite3.Connection:
    if not isinstance(connection, sqlite3.Connection):
        kind = type(connection).__name__
        raise InvalidInput(
            [Problem("database", f"driver connection {kind} has no backup API; use pysqlite")],
            subject="backup",
        )
    return connection


def _run_tool(name: str, engine: sa.Engine, *args: str) -> None:
    """Run a PostgreSQL client program against the engine's database; it never prompts."""
    url = engine.url
    command = [str(postgres_tool(name)), "--no-password", *_connection_options(url), *args]
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        first_error = next((line for line in lines if "error:" in line), lines[-1])
        raise AlscellError(f"{name} failed on {url.render_as_string()}: {first_error}")


def _connection_options(url: sa.URL) -> list[str]:
    """Host, port, user and database of ``url`` as options (a socket folder may be ``?host=``)."""
    host = url.host or url.query.get("host")
    options = {"--host": host, "--port": url.port, "--username": url.username}
    listed = [f"{option}={value}" for option, value in options.items() if value is not None]
    return [*listed, f"--dbname={url.database}"]
