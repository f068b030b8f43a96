"""``alscell export`` / ``alscell import``: a clinic's records moved to a new installation from the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.services import admin, assessments, dosing, protocols
from alscell.storage import migrate
from alscell.storage.models import AlsfrsRating, Patient, PatientIdentity, ProtocolVersion
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

Invoke = Callable[..., Result]


def _database(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def source(tmp_path: Path) -> str:
    """A clinic with one patient dosed on day 10 and rated again later."""
    url = _database(tmp_path, "source.sqlite3")
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        c = clinic(session)
        [unit] = released_units(c, count=1)
        patient, enrollment = enrolled_in_treatment(c, code="AMS-001")
        dispensed(c, unit, patient, day(10))
        dosing.record_cell_dose(session, enrollment_id=enrollment.id, unit_id=UNIT_IDS[0], dose_cells=5e6,
                                given_on=day(10), bedside=clear_bedside(study_code="AMS-001"), by=c.physician,
                                now=c.at(day(10)))  # fmt: skip
        assessments.record_alsfrs_rating(session, patient_id=patient.id, rated_on=date(2026, 7, 17),
                                         items={**NORMAL_ITEMS, "q1": 3}, by=c.nurse,
                                         now=c.at(date(2026, 7, 17)))  # fmt: skip
    engine.dispose()
    return url


@pytest.fixture
def target(tmp_path: Path) -> str:
    """A new installation: its administrator, the same site code and protocol version."""
    url = _database(tmp_path, "target.sqlite3")
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        boss = admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
        admin.create_site(session, code="AMS", name="Clinic", by=boss, now=NOW)
        text = builtin_protocol_path().read_text(encoding="utf-8")
        protocols.load_protocol_version(session, text=text, source="seed", by=boss, now=NOW)
    engine.dispose()
    return url


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    def invoke(url: str, *args: str) -> Result:
        monkeypatch.setenv("ALSCELL_DATABASE_URL", url)
        return CliRunner().invoke(app, list(args))

    return invoke


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(model))
    engine.dispose()
    return int(count or 0)


def test_csv_export_then_import_moves_the_records(run, source, target, tmp_path):
    out = tmp_path / "csv"
    exported = run(source, "export", "csv", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert (out / "alsfrs_ratings.csv").exists()
    assert not (out / "identities.csv").exists()  # de-identified unless asked
    imported = run(target, "import", "csv", str(out), "--by", "boss")
    assert imported.exit_code == 0, imported.output
    assert "patients" in imported.stdout
    assert _count(target, Patient) == 1
    assert _count(target, AlsfrsRating) == _count(source, AlsfrsRating)
    assert _count(target, PatientIdentity) == 0


def test_identified_export_needs_a_user_allowed_to_see_identities(run, source, tmp_path):
    refused = run(source, "export", "csv", "--out", str(tmp_path / "a"), "--identified")
    assert refused.exit_code == 1
    assert "identifying data" in refused.stderr
    allowed = run(
        source, "export", "csv", "--out", str(tmp_path / "b"), "--identified", "--by", "admin"
    )
    assert allowed.exit_code == 0, allowed.output
    assert "Doe" in (tmp_path / "b" / "identities.csv").read_text(encoding="utf-8")


def test_a_bad_file_is_refused_whole_with_file_row_and_column(run, source, target, tmp_path):
    out = tmp_path / "csv"
    assert run(source, "export", "csv", "--out", str(out)).exit_code == 0
    ratings = out / "alsfrs_ratings.csv"
    ratings.write_text(
        ratings.read_text(encoding="utf-8").replace(",clinician", ",nurse", 1), encoding="utf-8"
    )
    result = run(target, "import", "csv", str(out), "--by", "boss")
    assert result.exit_code == 1
    assert "alsfrs_ratings.csv row 2 column form: must be one of clinician, self" in result.stderr
    assert _count(target, Patient) == 0


def test_only_an_administrator_imports(run, source, target, tmp_path):
    out = tmp_path / "csv"
    assert run(source, "export", "csv", "--out", str(out)).exit_code == 0
    result = run(target, "import", "csv", str(out), "--by", "nobody")
    assert result.exit_code == 1
    assert "nobody" in result.stderr


def test_protocol_load_stores_a_version_once(run, tmp_path):
    url = _database(tmp_path, "fresh.sqlite3")
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
    engine.dispose()
    loaded = run(url, "protocol", "load", "als-nsc-4lp", "--by", "boss")
    assert loaded.exit_code == 0, loaded.output
    assert "Loaded als-nsc-4lp" in loaded.stdout
    assert _count(url, ProtocolVersion) == 1
    again = run(url, "protocol", "load", "als-nsc-4lp", "--by", "boss")
    assert again.exit_code == 1
    assert _count(url, ProtocolVersion) == 1


def test_fhir_and_redcap_exports_import_into_a_new_installation(run, source, tmp_path):
    for fmt in ("fhir", "redcap"):
        target_url = _database(tmp_path, f"{fmt}.sqlite3")
        engine = make_engine(target_url)
        with make_session_factory(engine)() as session:
            boss = admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
            admin.create_site(session, code="AMS", name="Clinic", by=boss, now=NOW)
        engine.dispose()
        assert run(target_url, "protocol", "load", "als-nsc-4lp", "--by", "boss").exit_code == 0
        out = tmp_path / fmt
        exported = run(source, "export", fmt, "--out", str(out))
        assert exported.exit_code == 0, exported.output
        if fmt == "fhir":
            imported = run(target_url, "import", "fhir", str(out), "--by", "boss")
        else:
            imported = run(target_url, "import", "redcap", str(out / "records.csv"), "--dictionary",
                           str(out / "data_dictionary.csv"), "--mapping", str(out / "mapping.yaml"), "--by", "boss")  # fmt: skip
        assert imported.exit_code == 0, imported.output
        assert _count(target_url, AlsfrsRating) == _count(source, AlsfrsRating)


def test_sdtm_and_odm_exports(run, source, tmp_path):
    result = run(source, "export", "sdtm", "--out", str(tmp_path / "sdtm"), "--study-id", "AMS-NSC")
    assert result.exit_code == 0, result.output
    dm = (tmp_path / "sdtm" / "dm.csv").read_text(encoding="utf-8").splitlines()
    assert dm[0].startswith("STUDYID,DOMAIN,USUBJID")
    assert dm[1].startswith("AMS-NSC,DM,AMS-NSC-AMS-001")
    assert (tmp_path / "sdtm" / "qs.xpt").exists()
    result = run(
        source, "export", "odm", "--out", str(tmp_path / "study.xml"), "--study-id", "AMS-NSC"
    )
    assert result.exit_code == 0, result.output
    xml = (tmp_path / "study.xml").read_text(encoding="utf-8")
    assert 'ODMVersion="1.3.2"' in xml
    assert "Doe" not in xml  # de-identified
