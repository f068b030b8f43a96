"""``alscell db``: build, inspect and remove the schema of the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.storage import migrate
from alscell.storage.session import make_engine


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of an empty SQLite file that the command line is pointed at."""
    url = f"sqlite:///{tmp_path / 'alscell.sqlite3'}"
    monkeypatch.setenv("ALSCELL_DATABASE_URL", url)
    return url


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_the_schema_on_an_empty_file(database):
    result = run("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{database} is at revision {migrate.head_revision()}\n"
    assert {"patients", "patient_identities", "audit_events", "audit_head"} <= tables(database)


def test_current_prints_the_database_and_head_revisions(database):
    empty = run("db", "current")
    run("db", "upgrade")
    upgraded = run("db", "current")

    head = migrate.head_revision()
    assert (empty.exit_code, empty.stdout) == (0, f"current: base (empty)\nhead: {head}\n")
    assert (upgraded.exit_code, upgraded.stdout) == (0, f"current: {head}\nhead: {head}\n")


def test_downgrade_to_base_empties_the_database(database):
    run("db", "upgrade")

    result = run("db", "downgrade", "--revision", "base", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{database} is at revision base (empty)\n"
    assert tables(database) <= {"alembic_version"}


def test_downgrade_needs_confirmation(database):
    run("db", "upgrade")

    result = run("db", "downgrade", "--revision", "base")

    assert result.exit_code == 1
    assert "take a backup, then pass --yes" in result.stderr
    assert "patients" in tables(database)


def test_downgrade_needs_a_revision(database):
    result = run("db", "downgrade")

    assert result.exit_code == 2
    assert "Missing option '--revision'" in result.stderr


def test_an_unknown_revision_is_one_line_on_stderr(database):
    result = run("db", "upgrade", "--revision", "9999")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid revision (1 problem): --revision: ")
    assert "9999" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_upgraded_database_verifies_as_intact(database):
    run("db", "upgrade")

    result = run("audit", "verify")

    assert (result.exit_code, result.stdout) == (
        0,
        f"audit trail intact: 0 events\nhead hash: {'0' * 64} (keep it with your backups)\n",
    )


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path, monkeypatch):
    """Better one clear message at start-up than a 500 for every request."""
    monkeypatch.setenv("ALSCELL_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")

    result = CliRunner().invoke(app, ["serve", "--port", "8999"])

    assert result.exit_code == 1
    assert "alscell db upgrade" in result.output
