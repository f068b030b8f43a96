"""``alscell import proact`` (cli/import_proact.py), called through a local Typer app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from alscell.cli.import_proact import proact
from alscell.storage import migrate
from alscell.storage.models import ComparatorCohort, ComparatorRating
from alscell.storage.session import make_engine

SAMPLES = Path(__file__).parents[1] / "interop" / "proact" / "samples" / "download"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    monkeypatch.setenv("ALSCELL_DATABASE_URL", url)
    return engine


def invoke(*args: str):  # type: ignore[no-untyped-def]
    local = typer.Typer()
    local.command("proact")(proact)
    local.command("unused")(lambda: None)  # two commands: the first is called by name
    return CliRunner().invoke(local, ["proact", *args])


def count(engine: sa.Engine, table: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_an_import_prints_the_counts(database):
    result = invoke(str(SAMPLES), "--name", "PRO-ACT sample", "--source", "samples")

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Comparator cohort PRO-ACT sample" in text
    assert "3 subjects, 7 ALSFRS ratings, 3 FVC records, 1 death records; 0 rows skipped." in text
    assert count(database, ComparatorRating) == 7


def test_bad_rows_are_listed_and_nothing_is_imported_unless_skipped(database, tmp_path):
    folder = tmp_path / "proact"
    shutil.copytree(SAMPLES, folder)
    path = folder / "PROACT_ALSFRS.csv"
    path.write_bytes(path.read_bytes().replace(b"103,3,4,4", b"103,3,4,7"))

    refused = invoke(str(folder), "--name", "A")
    skipped = invoke(str(folder), "--name", "A", "--skip-bad-rows")

    assert refused.exit_code == 1
    assert "nothing was imported" in refused.stderr
    assert (
        "PROACT_ALSFRS.csv row 8 column Q3_Swallowing: must be an item score from 0 to 4, got '7'"
        in refused.stderr
    )
    assert skipped.exit_code == 0, skipped.output
    assert "6 ALSFRS ratings" in skipped.stdout
    assert "skipped: PROACT_ALSFRS.csv row 8 column Q3_Swallowing" in " ".join(
        skipped.stdout.split()
    )
    assert count(database, ComparatorCohort) == 1


def test_a_name_in_use_is_refused(database):
    assert invoke(str(SAMPLES), "--name", "B").exit_code == 0
    again = invoke(str(SAMPLES), "--name", "B")
    assert again.exit_code == 1
    assert "'B' was already imported" in again.stderr
