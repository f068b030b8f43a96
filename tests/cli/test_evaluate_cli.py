"""``alscell evaluate``: the evaluation on the terminal and as JSON, from a clinic's database file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.services import assessments, dosing, protocols
from alscell.storage import migrate
from alscell.storage.protocol_files import builtin_protocol_path
from alscell.storage.session import make_engine, make_session_factory
from tests.factories import NOW
from tests.services.scenario import (
    NORMAL_ITEMS,
    UNIT_IDS,
    clear_bedside,
    clinic,
    day,
    dispensed,
    enrolled_in_treatment,
    released_units,
)  # fmt: skip

AFTER = date(2026, 8, 15)  # past the 6-month window of a dose on day 10 (2026-07-03 to 2026-07-31)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """A database with two patients of the seed program, each dosed on day 10: one rated 6 months
    later 4 points lower, one never rated again."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as session:
        c = clinic(session)
        for code, unit_id, unit in zip(
            ("AMS-001", "AMS-002"), UNIT_IDS[:2], released_units(c, count=2), strict=True
        ):
            patient, enrollment = enrolled_in_treatment(c, code=code)
            dispensed(c, unit, patient, day(10))
            dosing.record_cell_dose(session, enrollment_id=enrollment.id, unit_id=unit_id, dose_cells=5e6,
                                    given_on=day(10), bedside=clear_bedside(study_code=code), by=c.physician,
                                    now=c.at(day(10)))  # fmt: skip
            if code == "AMS-001":
                assessments.record_alsfrs_rating(session, patient_id=patient.id, rated_on=date(2026, 7, 17),
                                                 items={**NORMAL_ITEMS, "q1": 3, "q4": 2, "q6": 3, "q8": 2},
                                                 by=c.nurse, now=c.at(date(2026, 7, 17)))  # fmt: skip
    engine.dispose()
    monkeypatch.setenv("ALSCELL_DATABASE_URL", url)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(
            app, ["evaluate", "--as-of", AFTER.isoformat(), "--draws", "300", *args]
        )

    return invoke


def test_the_json_holds_every_patient_the_cohort_and_the_statement(run):
    result = run("--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["study_code"], p["change"], p["category"]) for p in data["patients"]] == [
        ("AMS-001", -4, "worsened"), ("AMS-002", None, "missing"),
    ]  # fmt: skip
    assert data["cohort"]["counts"]["worsened"] == 1
    assert data["data_cutoff"] == AFTER.isoformat()
    assert (data["seed"], data["draws"], data["model"]) == (20_260_101, 300, "natural-history 1.0")
    assert data["statement"][0].startswith("This is a single-arm series of 2 patients")
    assert data["software_version"]


def test_the_terminal_shows_the_statement_before_the_numbers(run):
    result = run()

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.index("What these results can and cannot show") < text.index("Cohort (2 enrolled")
    assert "A single-arm series cannot show whether the treatment works" in " ".join(text.split())
    assert "Biases that apply" in text


def test_the_same_database_and_seed_give_the_same_numbers(run):
    first, again = run("--json"), run("--json")

    assert json.loads(first.stdout) == json.loads(again.stdout)


def test_the_only_version_with_patients_is_chosen_unless_another_is_named(run, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    with make_session_factory(engine)() as session:
        from alscell.storage.models import User  # the administrator made by the fixture's clinic

        admin = session.query(User).filter(User.role == "admin").first()
        assert admin is not None
        text = builtin_protocol_path("nsi-566-phase1").read_text(encoding="utf-8")
        protocols.load_protocol_version(
            session, text=text, source="nsi-566-phase1.yaml", by=admin, now=NOW
        )
    engine.dispose()

    unnamed = run("--json")  # only one version has patients: no need to name it
    named = run("--protocol", "als-nsc-4lp", "--json")
    unknown = run("--protocol", "no-such-protocol")

    assert unnamed.exit_code == 0
    assert json.loads(named.stdout)["protocol_id"] == "als-nsc-4lp"
    assert unknown.exit_code == 1
    assert "no-such-protocol" in unknown.stderr


@pytest.mark.parametrize(("args", "message"), [(("--as-of", "15/08/2026"), "--as-of: must be a date YYYY-MM-DD"),
                                                (("--by", "nobody"), "nobody")])  # fmt: skip
def test_bad_options_are_named(run, args, message):
    result = run(*args)

    assert result.exit_code == 1
    assert message in result.stderr


def test_a_database_without_patients_says_what_to_name(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("ALSCELL_DATABASE_URL", url)

    result = CliRunner().invoke(app, ["evaluate"])

    assert result.exit_code == 1
    assert (
        "--protocol: name the protocol version to evaluate; versions with patients: none"
        in result.stderr
    )


@pytest.mark.parametrize("command", [["evaluate"], ["report", "--out", "r.html"], ["user", "list"]])
def test_a_database_never_upgraded_says_to_upgrade_it(tmp_path, monkeypatch, command):
    """A new file (or an old schema) is named with the fix, not a database error from deep inside."""
    monkeypatch.setenv("ALSCELL_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, command)

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the database is empty (no alscell tables); this alscell needs revision "
        f"{migrate.head_revision()}: run 'alscell db upgrade'"
    )
    assert not (tmp_path / "r.html").exists()
