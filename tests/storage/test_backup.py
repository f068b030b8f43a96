"""Backup and restore (storage/backup.py, `alscell backup`, `alscell restore`) on both engines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alscell.cli import app
from alscell.errors import AlscellError, InvalidInput
from alscell.services.audit import verify_trail
from alscell.storage import backup as backups
from alscell.storage.session import make_engine, make_session_factory
from tests.factories import make_patient

TABLES = ("sites", "users", "patients", "patient_identities", "audit_events", "audit_head")


def contents(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the factories write, in a stable order."""
    with engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in TABLES
        }  # fmt: skip


def trail_breaks(engine: sa.Engine) -> list[str]:
    with make_session_factory(engine)() as session:
        return [str(found) for found in verify_trail(session)]


def tamper(engine: sa.Engine) -> None:
    """Change, delete and insert rows behind alscell's back."""
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE patient_identities SET family_name = 'Smith'"))
        connection.execute(sa.text("DELETE FROM audit_events WHERE id = 3"))
        connection.execute(sa.text("INSERT INTO sites (code, name, version) VALUES ('X9', 'X', 1)"))


@pytest.fixture
def clinic(fresh_engine: sa.Engine) -> sa.Engine:
    """A database with two patients, registered through the services."""
    with make_session_factory(fresh_engine)() as session:
        make_patient(session)
        make_patient(session, family_name="Roe")
    return fresh_engine


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder for backups (a SQLite test database lives in ``tmp_path`` itself)."""
    path = tmp_path / "backups"
    path.mkdir()
    return path


@pytest.fixture
def cli_database(clinic: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """The clinic's database is the one the command line works on."""
    monkeypatch.setenv("ALSCELL_DATABASE_URL", clinic.url.render_as_string(hide_password=False))
    return clinic


def test_restore_brings_back_data_and_trail_as_they_were(clinic, folder):
    before = contents(clinic)
    out = backups.backup(clinic, folder / "alscell.backup")
    tamper(clinic)
    with make_session_factory(clinic)() as session:
        make_patient(session, family_name="Later")  # a legitimate change after the backup
    assert trail_breaks(clinic) != []

    backups.restore(clinic, out)

    assert contents(clinic) == before
    assert trail_breaks(clinic) == []


def test_a_backup_is_the_only_file_written(clinic, folder):
    out = backups.backup(clinic, folder / "alscell.backup")

    assert list(folder.iterdir()) == [out]


def test_the_backup_file_has_the_engines_format(clinic, folder):
    out = backups.backup(clinic, folder / "alscell.backup")

    magic = backups.SQLITE_HEADER if clinic.dialect.name == "sqlite" else backups.PG_DUMP_MAGIC
    assert out.read_bytes().startswith(magic)


def test_a_restored_database_takes_new_records(clinic, folder):
    out = backups.backup(clinic, folder / "alscell.backup")
    backups.restore(clinic, out)

    with make_session_factory(clinic)() as session:
        make_patient(session, family_name="After")

    assert trail_breaks(clinic) == []


def test_an_existing_file_is_never_overwritten(clinic, folder):
    out = folder / "alscell.backup"
    out.write_bytes(b"precious")

    with pytest.raises(InvalidInput, match=f"{out}: already exists"):
        backups.backup(clinic, out)
    assert out.read_bytes() == b"precious"
    assert list(folder.iterdir()) == [out]


def test_a_missing_folder_is_refused(clinic, folder):
    out = folder / "nowhere" / "alscell.backup"

    with pytest.raises(InvalidInput, match=f"{out}: folder .* does not exist"):
        backups.backup(clinic, out)


def test_a_crash_while_writing_leaves_no_file_behind(clinic, folder, monkeypatch):
    def crash(path: Path) -> None:
        assert path.stat().st_size > 0  # the copy was written, under its temporary name
        raise OSError("disk full")

    monkeypatch.setattr(backups, "_sync", crash)

    with pytest.raises(OSError, match="disk full"):
        backups.backup(clinic, folder / "alscell.backup")
    assert list(folder.iterdir()) == []


def test_a_missing_source_is_refused(clinic, folder):
    source = folder / "missing.backup"

    with pytest.raises(InvalidInput, match=f"{source}: does not exist"):
        backups.restore(clinic, source)


def test_a_backup_of_the_other_engine_is_refused_and_nothing_changes(clinic, folder):
    before = contents(clinic)
    if clinic.dialect.name == "sqlite":
        source, expected = folder / "dump.backup", "is not a SQLite database (a PostgreSQL dump)"
        source.write_bytes(backups.PG_DUMP_MAGIC + b"\x01\x0e\x00")
    else:
        source, expected = folder / "db.sqlite3", "is not a pg_dump custom-format archive (a SQLite"
        source.write_bytes(backups.SQLITE_HEADER + bytes(100))

    with pytest.raises(InvalidInput, match=rf"{source}: {re.escape(expected)}"):
        backups.restore(clinic, source)
    assert contents(clinic) == before


def test_a_file_that_is_no_backup_is_refused(clinic, folder):
    source = folder / "notes.txt"
    source.write_text("not a database", encoding="utf-8")

    with pytest.raises(InvalidInput, match=r"notes.txt: is not a .* \(not a backup\)"):
        backups.restore(clinic, source)


def test_pg_dump_failing_is_an_alscell_error_and_leaves_no_file(postgres_server, tmp_path):
    engine = make_engine(postgres_server.url("no_such_database"))

    with pytest.raises(
        AlscellError, match=r'pg_dump failed on .*: .*"no_such_database" does not exist'
    ):
        backups.backup(engine, tmp_path / "alscell.backup")
    assert list(tmp_path.iterdir()) == []


def test_the_password_goes_in_the_environment_never_on_the_command_line(tmp_path, monkeypatch):
    calls: list[tuple[list[str], dict[str, str]]] = []

    def run(
        command: list[str], *, env: dict[str, str], **options: Any
    ) -> subprocess.CompletedProcess[str]:
        calls.append((command, env))
        Path(command[-1].removeprefix("--file=")).write_bytes(backups.PG_DUMP_MAGIC)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    engine = sa.create_engine("postgresql+psycopg://alice:s3cret@db.example:6543/clinic")

    backups.backup(engine, tmp_path / "alscell.backup")

    [(command, env)] = calls
    assert Path(command[0]).name == "pg_dump"
    assert command[1:7] == [
        "--no-password", "--host=db.example", "--port=6543", "--username=alice", "--dbname=clinic",
        "--format=custom",
    ]  # fmt: skip
    assert not any("s3cret" in argument for argument in command)
    assert env["PGPASSWORD"] == "s3cret"


def test_pg_tools_come_from_the_newest_server(tmp_path, monkeypatch):
    for version in ("9.6", "13", "15"):
        program = tmp_path / version / "bin" / "pg_dump"
        program.parent.mkdir(parents=True)
        program.touch()
    monkeypatch.setattr(backups, "POSTGRES_ROOT", tmp_path)

    assert backups.postgres_tool("pg_dump") == tmp_path / "15" / "bin" / "pg_dump"


def test_the_command_line_backs_up_and_restores(cli_database, folder):
    runner, out = CliRunner(), folder / "alscell.backup"
    before = contents(cli_database)

    made = runner.invoke(app, ["backup", str(out)])
    tamper(cli_database)
    refused = runner.invoke(app, ["restore", str(out)])
    tampered = contents(cli_database)
    restored = runner.invoke(app, ["restore", str(out), "--yes"])
    cli_database.dispose()  # its pooled connections predate the restore

    assert (made.exit_code, made.stdout) == (0, f"backed up {cli_database.url} to {out}\n")
    assert refused.exit_code == 1
    assert "add --yes to confirm" in refused.stderr
    assert tampered != before
    assert (restored.exit_code, restored.stdout) == (0, f"restored {cli_database.url} from {out}\n")
    assert contents(cli_database) == before
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_the_command_line_refuses_to_overwrite_a_backup(cli_database, folder):
    out = folder / "alscell.backup"
    out.write_bytes(b"precious")

    result = CliRunner().invoke(app, ["backup", str(out)])

    assert result.exit_code == 1
    assert result.stderr == (
        f"error: invalid backup file (1 problem): {out}: already exists; choose a new file name"
        " (backups are never overwritten)\n"
    )
