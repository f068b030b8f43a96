"""``alscell demo``: a fresh demo database, the users' passwords, the reports; never another file replaced."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from alscell.cli import app

pytestmark = (
    pytest.mark.slow
)  # a few seconds per synthetic patient: the services re-read the protocol


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--db", str(folder / "demo.sqlite3"), "--out",
                                      str(folder / "out"), "--patients", "5", "--no-daily-care", "--seed", "7"])  # fmt: skip
    return folder, result


def test_the_demo_writes_both_reports_and_prints_the_users(ran):
    folder, result = ran

    assert result.exit_code == 0, result.output
    assert (
        (folder / "out" / "report.html")
        .read_text(encoding="utf-8")
        .lstrip()
        .lower()
        .startswith("<!doctype html")
    )
    assert (folder / "out" / "report.pdf").read_bytes().startswith(b"%PDF")
    for username in (
        "admin-demo",
        "dr-demo",
        "nurse-demo",
        "coord-demo",
        "lab-demo",
        "analyst-demo",
    ):
        assert username in result.output
    assert "5 synthetic patients (3 treated, 2 ineligible)" in result.output


def test_a_second_run_replaces_its_own_database(ran):
    folder, _ = ran
    db = folder / "demo.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE patients SET sex = 'unknown'"
        )  # marks this database as the old one

    again = CliRunner().invoke(app, ["demo", "--no-serve", "--db", str(db), "--out", str(folder / "out"),
                                     "--patients", "5", "--no-daily-care", "--seed", "7"])  # fmt: skip

    assert again.exit_code == 0, again.output
    with sqlite3.connect(db) as connection:
        assert connection.execute(
            "SELECT count(*), count(DISTINCT sex) FROM patients"
        ).fetchone() == (5, 2)


def test_another_file_is_never_replaced(tmp_path):
    precious = tmp_path / "clinic.sqlite3"
    precious.write_bytes(b"the clinic's real data")

    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--db", str(precious), "--out", str(tmp_path)]
    )

    assert result.exit_code == 1
    assert "demo failed while creating the database" in result.output
    assert "is not an alscell demo database" in result.output
    assert precious.read_bytes() == b"the clinic's real data"
