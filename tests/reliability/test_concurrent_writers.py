"""Many writers changing the same patients at once through the API: no lost update, no server error.

Two server processes run the real app on one database (SQLite or PostgreSQL); writer threads send
their requests to both. Each writer reads a patient's diagnosis, then writes it back with the
version it read and a marker of its own (in ``other_genetics``). Optimistic locking (DESIGN.md,
"Records") says every write is either applied or refused with 409; SQLite's busy timeout adds 503
with Retry-After once its bounded wait is over. Never 500.

What "no lost update" means, checked from the answers alone and then against the database:

- each version of a diagnosis was produced by exactly one accepted write (two accepted writes from
  the same version read would be a lost update);
- the stored diagnosis is the accepted write with the highest version, and its version is the
  number of accepted writes plus one;
- the audit trail holds one change per accepted write, with that write's marker, and verifies.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import sqlalchemy as sa

from alscell.domain.access import Role
from alscell.services import auth
from alscell.services.audit import verify_trail
from alscell.storage.models import AuditEvent, Diagnosis
from alscell.storage.session import make_session_factory
from tests.factories import NOW, make_site, make_user
from tests.figures import scaled
from tests.server import GUARD_SECONDS, serve

SERVERS: Final = 2
WRITERS: Final = 8
WRITES_EACH: Final = scaled(12)
PATIENTS: Final = 2
DIAGNOSIS: Final = {"onset_on": "2025-03-10", "onset_site": "spinal", "diagnosis_on": "2025-11-20",
                    "familial": False, "el_escorial": "probable"}  # fmt: skip


@dataclass
class Outcome:
    """Every answer the writers got, as (patient, version read, status, version written, marker)."""

    answers: list[tuple[int, int, int, int | None, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, patient: int, read: int, status: int, written: int | None, marker: str) -> None:
        with self.lock:
            self.answers.append((patient, read, status, written, marker))

    def accepted(self, patient: int) -> list[tuple[int, int, str]]:
        """(version read, version written, marker) of the writes applied to ``patient``."""
        return [(read, written or 0, marker) for p, read, status, written, marker in self.answers
                if p == patient and status == 200]  # fmt: skip


def test_concurrent_writers_lose_no_update(fresh_engine: sa.Engine, figures: Any) -> None:
    token, patient_ids = _clinic(fresh_engine)
    outcome = Outcome()
    with serve(fresh_engine) as first, serve(fresh_engine) as second:
        bases = [first, second]
        threads = [
            threading.Thread(
                target=_writer, args=(number, bases[number % SERVERS], token, patient_ids, outcome)
            )
            for number in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GUARD_SECONDS)

    statuses = Counter(status for *_, status, _written, _marker in outcome.answers)
    assert outcome.problems == []
    assert len(outcome.answers) == WRITERS * WRITES_EACH
    assert set(statuses) <= {200, 409, 503}, statuses  # never a server error
    assert statuses[200] >= PATIENTS  # some writes did go through
    assert statuses[409] > 0  # and the writers did collide: the test tested something
    with make_session_factory(fresh_engine)() as session:
        for patient_id in patient_ids:
            _check_patient(session, patient_id, outcome.accepted(patient_id))
        assert verify_trail(session) == []
    figures.add("server processes", SERVERS)
    figures.add("writer threads", WRITERS)
    figures.add("writes sent", len(outcome.answers))
    figures.add("applied", statuses[200])
    figures.add("refused 409", statuses[409])
    figures.add("busy 503", statuses[503])
    figures.add(
        "server errors", sum(n for status, n in statuses.items() if status >= 500 and status != 503)
    )
    figures.add("lost updates", 0)


def _check_patient(session: Any, patient_id: int, accepted: list[tuple[int, int, str]]) -> None:
    versions_read = Counter(read for read, _written, _marker in accepted)
    assert max(versions_read.values()) == 1, f"two writes applied from one read: {versions_read}"
    assert sorted(written for _read, written, _marker in accepted) == list(
        range(2, len(accepted) + 2)
    )  # every version from 2 up was made by exactly one accepted write
    assert all(written == read + 1 for read, written, _marker in accepted)
    stored = session.execute(
        sa.select(Diagnosis).where(Diagnosis.patient_id == patient_id)
    ).scalar_one()
    last = max(accepted, key=lambda write: write[1])
    assert (stored.version, stored.other_genetics) == (last[1], last[2])
    changes = session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "diagnosis.changed")
    ).scalars()
    markers = Counter(str((event.after or {}).get("other_genetics")) for event in changes)
    for _read, _written, marker in accepted:
        assert markers[marker] == 1, f"the accepted write {marker} is not audited exactly once"


def _clinic(engine: sa.Engine) -> tuple[str, list[int]]:
    """A site, a physician with an API token, and patients whose diagnosis is recorded (version 1)."""
    with make_session_factory(engine)() as session:
        site = make_site(session, code="CON")
        physician = make_user(session, Role.PHYSICIAN, site=site, username="dr-many")
        coordinator = make_user(session, Role.COORDINATOR, site=site, username="coord-many")
        token = auth.create_api_token(
            session, user=physician, name="load", by=physician, now=NOW
        ).secret
        desk = auth.create_api_token(
            session, user=coordinator, name="desk", by=coordinator, now=NOW
        ).secret
        site_id = site.id
    ids = []
    with serve(engine) as base, httpx.Client(base_url=base, timeout=GUARD_SECONDS) as client:
        for number in range(1, PATIENTS + 1):
            patient = client.post("/api/v1/patients", headers={"Authorization": f"Bearer {desk}"},
                                  json={"study_code": f"CON-{number:03d}", "site_id": site_id,
                                        "given_name": "Sam", "family_name": "Lee",
                                        "birth_on": "1960-01-01"})  # fmt: skip
            patient.raise_for_status()
            ids.append(patient.json()["id"])
            recorded = client.put(f"/api/v1/patients/{ids[-1]}/diagnosis", json=DIAGNOSIS,
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert recorded.json()["version"] == 1, recorded.text
    return token, ids


def _writer(number: int, base: str, token: str, patient_ids: list[int], outcome: Outcome) -> None:
    choose = random.Random(1_000 + number)  # seeded: each writer picks its patients the same way
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=GUARD_SECONDS) as client:
            for attempt in range(WRITES_EACH):
                patient = choose.choice(patient_ids)
                url = f"/api/v1/patients/{patient}/diagnosis"
                read = client.get(url)
                read.raise_for_status()
                version = int(read.json()["version"])
                marker = f"writer {number} write {attempt} at {datetime.now(UTC):%H:%M:%S.%f}"
                answer = client.put(
                    url, json={**DIAGNOSIS, "version": version, "other_genetics": marker}
                )
                written = answer.json().get("version") if answer.status_code == 200 else None
                if answer.status_code == 503 and "retry-after" not in answer.headers:
                    outcome.problems.append(f"503 without Retry-After: {answer.text}")
                outcome.add(patient, version, answer.status_code, written, marker)
    except Exception as error:  # a writer that died must fail the test, not hang it
        outcome.problems.append(f"writer {number}: {error!r}")
