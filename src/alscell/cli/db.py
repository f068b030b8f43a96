"""Database commands: migrate the schema, verify the audit trail, back up and restore.

Every command reads ``ALSCELL_DATABASE_URL`` (or ``.env``) through ``load_settings()`` and works on
that database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer

from alscell.cli.console import EXIT_FAILURE, reported_errors
from alscell.config import load_settings
from alscell.errors import InvalidInput, Problem
from alscell.services.audit import verify_trail
from alscell.storage import backup as backups
from alscell.storage import migrate
from alscell.storage.models import AuditEvent, AuditHead
from alscell.storage.session import make_engine, make_session_factory

__all__ = ["audit_app", "backup_app", "db_app"]

db_app = typer.Typer(
    help="The schema of the database in ALSCELL_DATABASE_URL: upgrade, downgrade, show the revision."
)
audit_app = typer.Typer(help="The audit trail: check that it is intact and explains every record.")
backup_app = typer.Typer()  # added without a name: 'backup' and 'restore' are top-level commands


@contextmanager
def _database() -> Iterator[sa.Engine]:
    """The engine of the configured database, disposed afterwards."""
    engine = make_engine(load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _shown(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _revision_checked(option: str) -> Iterator[None]:
    """Alembic's refusal of an unknown or unreachable revision becomes :class:`InvalidInput`."""
    from alembic.util import CommandError  # imported when run, not for --help

    try:
        yield
    except CommandError as error:
        raise InvalidInput([Problem(option, str(error))], subject="revision") from error


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[
        str, typer.Option(help="The revision to reach: 'head' (the latest) or a revision id.")
    ] = "head",
) -> None:
    """Migrate the database forward; builds the whole schema on an empty database."""
    with reported_errors(), _database() as engine, _revision_checked("--revision"):
        migrate.upgrade(engine, revision)
        typer.echo(f"{_shown(engine)} is at revision {migrate.current_revision(engine)}")


@db_app.command("downgrade")
def downgrade(
    revision: Annotated[
        str,
        typer.Option(
            help="The revision to go back to; 'base' removes every alscell table and its data."
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: a downgrade can delete tables and their data.")
    ] = False,
) -> None:
    """Migrate the database back to an earlier revision (take a backup first)."""
    if not yes:
        typer.echo(
            "error: a downgrade can delete records; take a backup, then pass --yes", err=True
        )
        raise typer.Exit(EXIT_FAILURE)
    with reported_errors(), _database() as engine, _revision_checked("--revision"):
        migrate.downgrade(engine, revision)
        current = migrate.current_revision(engine) or "base (empty)"
        typer.echo(f"{_shown(engine)} is at revision {current}")


@db_app.command("current")
def current() -> None:
    """Print the database's revision and the latest revision alscell ships."""
    with reported_errors(), _database() as engine:
        typer.echo(f"current: {migrate.current_revision(engine) or 'base (empty)'}")
        typer.echo(f"head: {migrate.head_revision()}")


@audit_app.command("verify")
def verify() -> None:
    """Check the hash chain and compare every audited record with its last audited state.

    Exits with status 1 when anything was changed, inserted or deleted outside alscell. Prints the
    chain's head hash: kept with the backups, it shows later whether the trail itself was rewritten.
    """
    with reported_errors(), _database() as engine, make_session_factory(engine)() as session:
        breaks = verify_trail(session)
        events = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        head = session.scalar(sa.select(AuditHead.last_hash).where(AuditHead.id == 1))
    if breaks:
        noun = "break" if len(breaks) == 1 else "breaks"
        typer.echo(f"audit trail broken: {len(breaks)} {noun}; first: {breaks[0]}", err=True)
        raise typer.Exit(EXIT_FAILURE)
    typer.echo(f"audit trail intact: {events} events")
    typer.echo(f"head hash: {head} (keep it with your backups)")


@backup_app.command("backup")
def backup(
    out: Annotated[
        Path,
        typer.Argument(
            help="The backup file to write; it must not exist yet (SQLite: a database file, "
            "PostgreSQL: a pg_dump custom-format archive)."
        ),
    ],
) -> None:
    """Write a consistent copy of the database in ALSCELL_DATABASE_URL while it stays in use."""
    with reported_errors(), _database() as engine:
        written = backups.backup(engine, out)
        typer.echo(f"backed up {_shown(engine)} to {written}")


@backup_app.command("restore")
def restore(
    source: Annotated[
        Path, typer.Argument(help="A backup written by 'alscell backup' for this kind of database.")
    ],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", help="Confirm that every record in the database is replaced by the backup's."
        ),
    ] = False,
) -> None:
    """Replace the whole database with a backup; stop the web app first, run 'audit verify' after."""
    with reported_errors():
        if not yes:
            message = "restore replaces every record in the database; add --yes to confirm"
            raise InvalidInput([Problem("--yes", message)], subject="restore")
        with _database() as engine:
            backups.restore(engine, source)
            typer.echo(f"restored {_shown(engine)} from {source}")
