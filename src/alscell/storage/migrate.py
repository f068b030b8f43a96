"""Apply and inspect the Alembic migrations that build alscell's schema on SQLite and PostgreSQL.

Alembic is imported by the functions that use it, not with this module: every command imports it, and
``alscell --help`` should not pay for Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from alscell.errors import DatabaseNotReady

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "require_current",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: sa.Engine) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = engine.url.render_as_string(hide_password=False)
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the latest by default)."""
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    """Take the database back to ``revision`` (an empty schema by default)."""
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The latest revision alscell ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(
        alembic_config(sa.create_engine("sqlite://"))
    ).get_current_head()


def require_current(engine: sa.Engine) -> None:
    """Raise :class:`~alscell.errors.DatabaseNotReady` unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotReady(current, head)
