"""Records out and back in: the demo program's database → data set → format → a new database.

The source is the demo program (real services, daily care included) on SQLite; each target is an
empty database of its own on SQLite and on PostgreSQL holding only the site, the protocol version and
an administrator. What comes back out of the target must equal what went in, record for record,
including the calendar the target rebuilt from the protocol.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.dataset import ClinicalDataset, IdentityRecord
from alscell.errors import InvalidImport, PermissionDenied
from alscell.interop.csv import read_csv_dir, write_csv_dir
from alscell.interop.fhir import read_fhir, write_fhir
from alscell.interop.redcap import read_redcap, write_redcap
from alscell.services import admin, demo, protocols
from alscell.services.audit import verify_trail
from alscell.services.data_export import export_dataset
from alscell.services.data_import import import_dataset
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.models import AlsfrsRating, AuditEvent, Patient, User
from alscell.storage.protocol_files import builtin_protocol_path
from alscell.storage.session import make_engine, make_session_factory
from tests.factories import make_user

pytestmark = pytest.mark.slow  # the demo program runs once per module, about 20 s

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


@dataclasses.dataclass
class Source:
    session: Session
    boss: User
    dataset: ClinicalDataset  # identified, exported by the administrator


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('source') / 'demo.sqlite3'}")
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    demo.run_demo(session, model=builtin_natural_history(), seed=5, count=6, daily_care=True)
    boss = session.execute(sa.select(User).where(User.role == Role.ADMIN)).scalar_one()
    dataset = export_dataset(session, by=boss, now=NOW, purpose="test", identified=True)
    yield Source(session, boss, dataset)
    session.close()
    engine.dispose()


def _target(engine: sa.Engine) -> tuple[Session, User]:
    """An empty installation with the demo's site code and protocol version, and its administrator."""
    session = make_session_factory(engine)()
    boss = admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
    admin.create_site(session, code="DEMO", name="Clinic moving in", by=boss, now=NOW)
    text = builtin_protocol_path().read_text(encoding="utf-8")
    protocols.load_protocol_version(session, text=text, source="seed", by=boss, now=NOW)
    return session, boss


def _round_trip(
    source: Source, engine: sa.Engine, through: Callable[[ClinicalDataset], ClinicalDataset]
) -> None:
    session, boss = _target(engine)
    try:
        summary = import_dataset(session, through(source.dataset), by=boss, now=NOW, source="test")
        back = export_dataset(session, by=boss, now=NOW, purpose="test", identified=True)
        assert back.sorted() == source.dataset.sorted()
        assert summary.counts["patients"] == 6
        assert summary.calendars_rebuilt == sum(1 for e in source.dataset.enrollments if e.start_on)
        assert verify_trail(session) == []
    finally:
        session.close()


def test_the_demo_data_set_holds_every_kind_of_record(source):
    counts = source.dataset.counts()
    empty = {name for name, count in counts.items() if count == 0}
    # The demo records no vital signs and uses no product lot assigned to no one; everything else is there.
    assert empty <= {"vital_signs"}
    assert counts["patients"] == 6
    assert counts["identities"] == 6
    assert (
        counts["administrations"] > 4 * 4
    )  # four punctures each for four treated patients, plus daily care
    kinds = {dose.kind for dose in source.dataset.administrations}
    assert {"lumbar_puncture_implantation", "iv_infusion", "rehabilitation"} <= kinds


def test_database_to_data_set_to_database_preserves_every_record(source, fresh_engine):
    _round_trip(source, fresh_engine, lambda dataset: dataset)


def test_through_alscell_csv_files_preserves_every_record(source, fresh_engine, tmp_path):
    def through_csv(dataset: ClinicalDataset) -> ClinicalDataset:
        write_csv_dir(dataset, tmp_path / "csv")
        return read_csv_dir(tmp_path / "csv")

    _round_trip(source, fresh_engine, through_csv)


def test_through_fhir_bundles_preserves_every_record(source, fresh_engine, tmp_path):
    def through_fhir(dataset: ClinicalDataset) -> ClinicalDataset:
        write_fhir(dataset, tmp_path / "fhir")
        return read_fhir(tmp_path / "fhir")

    _round_trip(source, fresh_engine, through_fhir)


def test_through_a_redcap_project_preserves_every_record(source, fresh_engine, tmp_path):
    def through_redcap(dataset: ClinicalDataset) -> ClinicalDataset:
        return read_redcap(*write_redcap(dataset, tmp_path / "redcap"))

    _round_trip(source, fresh_engine, through_redcap)


def test_an_import_with_problems_writes_nothing_and_names_every_record(source, fresh_engine):
    session, boss = _target(fresh_engine)
    rating = source.dataset.alsfrs_ratings[0]
    broken = dataclasses.replace(
        source.dataset,
        alsfrs_ratings=(
            dataclasses.replace(rating, q3=9, origin="ratings.csv row 7"),
            *source.dataset.alsfrs_ratings[1:],
        ),
        patients=(
            dataclasses.replace(
                source.dataset.patients[0], site_code="ELSEWHERE", origin="patients.csv row 2"
            ),
            *source.dataset.patients[1:],
        ),
    )
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidImport) as caught:
        import_dataset(session, broken, by=boss, now=NOW, source="test")
    places = {problem.location for problem in caught.value.problems}
    assert "ratings.csv row 7 column q3" in places
    assert "patients.csv row 2 column site_code" in places
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(AlsfrsRating)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
    session.close()


def test_a_patient_already_here_is_refused_not_merged(source, fresh_engine):
    session, boss = _target(fresh_engine)
    import_dataset(session, source.dataset, by=boss, now=NOW, source="first")
    with pytest.raises(InvalidImport) as caught:
        import_dataset(session, source.dataset, by=boss, now=NOW, source="again")
    codes = {p.study_code for p in source.dataset.patients}
    messages = [str(problem) for problem in caught.value.problems]
    assert all(
        any(code in message and "already recorded" in message for message in messages)
        for code in codes
    )
    session.close()


def test_only_an_administrator_imports_records(source, session):
    nurse = make_user(session, Role.NURSE)
    with pytest.raises(PermissionDenied):
        import_dataset(session, source.dataset, by=nurse, now=NOW, source="test")


def test_identifying_data_leaves_only_when_asked_by_a_role_that_may_see_it(source):
    session = source.session
    plain = export_dataset(session, by=source.boss, now=NOW, purpose="test")
    assert plain.identities == ()
    console = export_dataset(session, by=None, now=NOW, purpose="test")
    assert console.identities == ()
    with pytest.raises(PermissionDenied):
        export_dataset(session, by=None, now=NOW, purpose="test", identified=True)
    analyst = session.execute(sa.select(User).where(User.role == Role.ANALYST)).scalar_one()
    with pytest.raises(PermissionDenied):
        export_dataset(session, by=analyst, now=NOW, purpose="test", identified=True)
    assert all(isinstance(record, IdentityRecord) for record in source.dataset.identities)


def test_every_export_is_an_audit_event_saying_who_and_what(source):
    session = source.session
    export_dataset(session, by=source.boss, now=NOW, purpose="FHIR R4B")
    event = session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one()
    assert (event.action, event.entity_type, event.entity_id) == (
        "data.exported",
        "export",
        "FHIR R4B",
    )
    assert event.actor_id == source.boss.id
    assert event.reason is not None
    assert "de-identified" in event.reason
    assert "patients 6" in event.reason


def test_clinic_staff_cannot_export(source):
    physician = (
        source.session.execute(sa.select(User).where(User.role == Role.PHYSICIAN)).scalars().first()
    )
    assert physician is not None
    with pytest.raises(PermissionDenied):
        export_dataset(source.session, by=physician, now=NOW, purpose="test")
