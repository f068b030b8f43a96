"""Tampering with raw SQL, outside the services, is found by verify_trail and `alscell audit verify`.

Each test builds a small clinic through the services on a database of its own (real commits), changes
it behind alscell's back, and checks the exact breaks reported. The trail then holds nine events:
admin 1; first patient's site 2, coordinator 3, patient 4, identity 5; second patient's site 6,
coordinator 7, patient 8, identity 9.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alscell.cli import app
from alscell.services.audit import Break, event_hash, verify_trail
from alscell.storage.base import UTCDateTime, snapshot
from alscell.storage.models import AuditEvent, AuditHead, Patient
from alscell.storage.session import make_session_factory
from tests.factories import make_patient

CHANGED = "differs from its last audited state (changed outside alscell)"
UNAUDITED = "has no audit event (inserted outside alscell)"
HEAD_BEHIND = "does not point at the last event (events deleted at the end?)"


@dataclass(frozen=True)
class Clinic:
    engine: sa.Engine
    first: int  # patient ids; a patient's identity row has the same key
    second: int
    events: int


@pytest.fixture
def clinic(fresh_engine: sa.Engine) -> Clinic:
    with make_session_factory(fresh_engine)() as session:
        first, second = make_patient(session).id, make_patient(session).id
    return Clinic(fresh_engine, first, second, events=9)


def tamper(engine: sa.Engine, statement: str | sa.TextClause, **params: Any) -> None:
    """Change the database directly, as someone with database access could."""
    clause = sa.text(statement) if isinstance(statement, str) else statement
    with engine.begin() as connection:
        connection.execute(clause, params)


def breaks(engine: sa.Engine) -> list[Break]:
    with make_session_factory(engine)() as session:
        return verify_trail(session)


def test_a_trail_written_by_the_services_is_intact(clinic):
    assert breaks(clinic.engine) == []


def test_a_changed_patient_status_is_found(clinic):
    tamper(
        clinic.engine, "UPDATE patients SET status = 'withdrawn' WHERE id = :id", id=clinic.first
    )

    assert breaks(clinic.engine) == [Break(f"patients {clinic.first}", CHANGED)]


def test_a_changed_family_name_is_found(clinic):
    tamper(
        clinic.engine,
        "UPDATE patient_identities SET family_name = 'Smith' WHERE patient_id = :id",
        id=clinic.second,
    )

    assert breaks(clinic.engine) == [Break(f"patient_identities {clinic.second}", CHANGED)]


def test_a_deleted_identity_is_found(clinic):
    tamper(clinic.engine, "DELETE FROM patient_identities WHERE patient_id = :id", id=clinic.first)

    assert breaks(clinic.engine) == [
        Break(f"patient_identities {clinic.first}", "is missing (deleted outside alscell)")
    ]


def test_an_inserted_site_is_found(clinic):
    with clinic.engine.begin() as connection:
        site_id = connection.execute(
            sa.text(
                "INSERT INTO sites (code, name, version) VALUES ('X9', 'Shadow', 1) RETURNING id"
            )
        ).scalar_one()

    assert breaks(clinic.engine) == [Break(f"sites {site_id}", UNAUDITED)]


def test_an_edited_reason_is_found(clinic):
    tamper(clinic.engine, "UPDATE audit_events SET reason = 'routine' WHERE id = 5")

    assert breaks(clinic.engine) == [
        Break("audit event 5", "its content does not match its hash (edited)")
    ]


def test_a_deleted_last_event_is_found(clinic):
    tamper(clinic.engine, "DELETE FROM audit_events WHERE id = :id", id=clinic.events)

    assert breaks(clinic.engine) == [
        Break("audit head", HEAD_BEHIND),
        Break(f"patient_identities {clinic.second}", UNAUDITED),
    ]


def test_a_deleted_middle_event_is_found(clinic):
    tamper(clinic.engine, "DELETE FROM audit_events WHERE id = 5")

    # ids may skip (a rolled-back transaction uses up a sequence number); the hashes may not
    assert breaks(clinic.engine) == [
        Break("audit event 6", "does not link to the event before it"),
        Break(f"patient_identities {clinic.first}", UNAUDITED),
    ]


def forge_withdrawal(clinic: Clinic) -> AuditEvent:
    """A well-formed event, chained to the last one with a correct hash, that never happened."""
    with make_session_factory(clinic.engine)() as session:
        head = session.get_one(AuditHead, 1)
        before = snapshot(session.get_one(Patient, clinic.first))
    event = AuditEvent(
        id=head.last_event_id + 1, at=datetime(2026, 1, 6, tzinfo=UTC), actor_id=1,
        action="patient.withdrawn", entity_type="patients", entity_id=str(clinic.first),
        before=before, after=before | {"status": "withdrawn", "version": 2}, reason=None,
        prev_hash=head.last_hash,
    )  # fmt: skip
    event.hash = event_hash(event)
    insert = sa.text(
        "INSERT INTO audit_events (id, at, actor_id, action, entity_type, entity_id, before, after,"
        " reason, prev_hash, hash) VALUES (:id, :at, :actor_id, :action, :entity_type, :entity_id,"
        " :before, :after, :reason, :prev_hash, :hash)"
    ).bindparams(
        sa.bindparam("at", type_=UTCDateTime()),
        sa.bindparam("before", type_=sa.JSON()),
        sa.bindparam("after", type_=sa.JSON()),
    )
    columns = ("id", "at", "actor_id", "action", "entity_type", "entity_id", "before", "after",
               "reason", "prev_hash", "hash")  # fmt: skip
    tamper(clinic.engine, insert, **{column: getattr(event, column) for column in columns})
    return event


def test_a_forged_event_is_found_by_the_head(clinic):
    forge_withdrawal(clinic)

    assert breaks(clinic.engine) == [
        Break("audit head", HEAD_BEHIND),
        Break(f"patients {clinic.first}", CHANGED),
    ]


def test_a_forged_event_with_a_moved_head_is_found_by_the_data(clinic):
    forged = forge_withdrawal(clinic)
    tamper(
        clinic.engine,
        "UPDATE audit_head SET last_event_id = :id, last_hash = :hash",
        id=forged.id,
        hash=forged.hash,
    )

    assert breaks(clinic.engine) == [Break(f"patients {clinic.first}", CHANGED)]


def test_the_command_line_exits_1_after_tampering_and_0_before(clinic, monkeypatch):
    monkeypatch.setenv(
        "ALSCELL_DATABASE_URL", clinic.engine.url.render_as_string(hide_password=False)
    )
    runner = CliRunner()

    intact = runner.invoke(app, ["audit", "verify"])
    tamper(
        clinic.engine,
        "UPDATE patient_identities SET family_name = 'Smith' WHERE patient_id = :id",
        id=clinic.first,
    )
    tamper(clinic.engine, "UPDATE audit_events SET reason = 'routine' WHERE id = 2")
    broken = runner.invoke(app, ["audit", "verify"])

    assert (intact.exit_code, intact.stderr) == (0, "")
    first_line, head_line = intact.stdout.splitlines()
    assert first_line == f"audit trail intact: {clinic.events} events"
    assert re.fullmatch(r"head hash: [0-9a-f]{64} \(keep it with your backups\)", head_line)
    assert (broken.exit_code, broken.stdout) == (1, "")
    assert broken.stderr == (
        "audit trail broken: 2 breaks; first: audit event 2: its content does not match its hash"
        " (edited)\n"
    )
