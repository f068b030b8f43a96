"""Migrations (storage/migrate.py): build the schema, match the models, go down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import alscell.storage.models  # noqa: F401 - registers every table on the metadata
from alscell.errors import DatabaseNotReady
from alscell.storage import migrate
from alscell.storage.base import Base
from alscell.storage.session import make_engine

ALSCELL_TABLES = frozenset(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A new database with nothing in it, on each engine."""
    name = f"alscell_empty_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(name)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("postgres_server").drop_database(name)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def audit_head(engine: sa.Engine) -> tuple[int, int, str]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT id, last_event_id, last_hash FROM audit_head")
        ).one()
    return (row.id, row.last_event_id, row.last_hash)


def test_upgrade_builds_every_table_of_the_models(empty_engine):
    assert migrate.current_revision(empty_engine) is None

    migrate.upgrade(empty_engine)

    assert table_names(empty_engine) == {*ALSCELL_TABLES, "alembic_version"}


def test_upgrade_twice_changes_nothing(empty_engine):
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)

    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_the_database_is_at_the_head_revision(fresh_engine):
    head = migrate.head_revision()

    assert head is not None
    assert migrate.current_revision(fresh_engine) == head


def drift(engine: sa.Engine, metadata: sa.MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_do_not_drift(fresh_engine):
    assert drift(fresh_engine, Base.metadata) == []


def test_the_drift_check_sees_a_column_the_migrations_lack(fresh_engine):
    models = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(models)
    models.tables["patients"].append_column(sa.Column("nickname", sa.String(40)))

    [(operation, _schema, table, column)] = drift(fresh_engine, models)

    assert (operation, table, column.name) == ("add_column", "patients", "nickname")


def test_upgrade_starts_the_audit_chain_at_genesis(fresh_engine):
    assert audit_head(fresh_engine) == (1, 0, "0" * 64)


def test_downgrade_to_base_removes_every_table_and_upgrade_rebuilds_them(fresh_engine):
    migrate.downgrade(fresh_engine, "base")

    assert table_names(fresh_engine) & ALSCELL_TABLES == set()
    assert migrate.current_revision(fresh_engine) is None

    migrate.upgrade(fresh_engine)

    assert table_names(fresh_engine) == {*ALSCELL_TABLES, "alembic_version"}
    assert audit_head(fresh_engine) == (1, 0, "0" * 64)
    assert migrate.current_revision(fresh_engine) == migrate.head_revision()


def test_only_the_head_revision_is_ready(empty_engine: sa.Engine) -> None:
    with pytest.raises(DatabaseNotReady, match=r"the database is empty \(no alscell tables\)"):
        migrate.require_current(empty_engine)

    migrate.upgrade(empty_engine)
    migrate.require_current(empty_engine)  # at head: nothing to say

    with empty_engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'an-older-one'"))
    with pytest.raises(
        DatabaseNotReady, match="at revision an-older-one; this alscell needs revision"
    ):
        migrate.require_current(empty_engine)
