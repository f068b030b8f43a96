"""Alembic environment: a composition root; it reads settings only when no URL was handed to it."""

from __future__ import annotations

from alembic import context

from alscell.storage import models  # noqa: F401 - registers every table on the metadata
from alscell.storage.base import Base
from alscell.storage.session import make_engine

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from alscell.config import load_settings

    return load_settings().database_url


def run_migrations() -> None:
    """Run migrations online on the configured database; batch mode lets SQLite alter tables."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
