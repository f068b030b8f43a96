"""Backup and restore while the web app is under write load, on SQLite and PostgreSQL.

The real app runs under uvicorn in a process of its own; writer threads register patients and rate
them through the JSON API, each write acknowledged when its 201 answer arrives. Backups
(``storage.backup.backup``) are taken in the middle of the load; each is restored into a new
database, which must hold together (SQLite's integrity check), verify its audit trail, and hold
every write acknowledged before that backup began, and nothing that was never sent. After the load
the live database must hold every write acknowledged at all. Outcomes are counted, never timed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import sqlalchemy as sa

from alscell.domain.access import Role
from alscell.services import auth
from alscell.services.audit import verify_trail
from alscell.storage import backup as backups
from alscell.storage.models import AlsfrsRating, Patient
from alscell.storage.session import make_engine, make_session_factory
from tests.factories import NOW, make_site, make_user
from tests.figures import scaled
from tests.postgres import PostgresServer
from tests.server import GUARD_SECONDS, serve

WRITERS: Final = 4
BACKUPS: Final = scaled(3)
ACKS_BETWEEN: Final = 30
"""Writes acknowledged before the first backup, between backups, and after the last one."""
ITEMS: Final = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
)

Write = tuple[str, str]
"""A write as the checks know it: ("patient", study code) or ("rating", "study code rated_on")."""


def test_backups_taken_under_load_restore_every_acknowledged_write(
    fresh_engine, request, tmp_path, figures
):
    engine, started = fresh_engine, time.perf_counter()
    site_id, token = _clinic(engine)
    taken: list[tuple[Path, set[Write]]] = []
    during = 0

    with serve(engine) as base, _load(base, token, site_id) as load:
        for number in range(BACKUPS):
            load.wait_for_acks((number + 1) * ACKS_BETWEEN)
            before = load.acknowledged()  # every answer here arrived before the backup began
            taken.append((backups.backup(engine, tmp_path / f"backup-{number}"), before))
            during += len(load.acknowledged() - before)
        load.wait_for_acks((BACKUPS + 1) * ACKS_BETWEEN)  # the load goes on after the last one

    assert load.failures == []
    acknowledged = load.acknowledged()
    assert len(acknowledged) >= (BACKUPS + 1) * ACKS_BETWEEN, "the load stalled"
    _check_database(engine, acknowledged, load.sent)
    checked, raced = len(acknowledged), 0
    for number, (out, before) in enumerate(taken):
        with _new_database(engine.dialect.name, request, tmp_path, f"restored{number}") as copy:
            backups.restore(copy, out)
            stored = _check_database(copy, before, load.sent)
        checked += len(stored)
        raced += len(stored - before)
    figures.add("engine", engine.dialect.name)
    figures.add("backups restored", len(taken))
    figures.add("writes acknowledged", len(acknowledged))
    figures.add("writes acknowledged during backups", during)
    figures.add("writes in a copy, unacknowledged when it began", raced)
    figures.add("writes checked", checked)
    figures.add("failures found", len(load.failures))
    figures.add("seconds", round(time.perf_counter() - started, 1))


# ---------------------------------------------------------------- the app and its load


def _clinic(engine: sa.Engine) -> tuple[int, str]:
    """A site and a physician there with a personal API token: the site's id and the token."""
    with make_session_factory(engine)() as session:
        site = make_site(session, code="BKP")
        physician = make_user(session, Role.PHYSICIAN, site=site, username="dr-load")
        issued = auth.create_api_token(session, user=physician, name="load", by=physician, now=NOW)
        return site.id, issued.secret


@dataclass
class Load:
    """Writer threads registering and rating patients through the API until told to stop."""

    base: str
    token: str
    site_id: int
    sent: set[Write] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    _acked: list[Write] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)

    def acknowledged(self) -> set[Write]:
        with self._changed:
            return set(self._acked)

    def wait_for_acks(self, count: int) -> None:
        with self._changed:
            self._changed.wait_for(
                lambda: len(self._acked) >= count or bool(self.failures), GUARD_SECONDS
            )

    def stop(self) -> None:
        self._stop.set()

    def write(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=GUARD_SECONDS) as client:
            patient: tuple[int, str] | None = None
            for step in range(10**6):
                if self._stop.is_set() or self.failures:
                    return
                if patient is None or step % 3 == 0:
                    patient = self._register(client, f"L{number}-{step:05d}")
                else:
                    self._rate(client, patient, date(2000, 1, 1) + timedelta(days=step))

    def _register(self, client: httpx.Client, code: str) -> tuple[int, str] | None:
        body = {"study_code": code, "site_id": self.site_id, "given_name": "Load",
                "family_name": "Test", "birth_on": "1962-04-05"}  # fmt: skip
        answer = self._send(client, "/api/v1/patients", body, ("patient", code))
        return None if answer is None else (int(answer["id"]), code)

    def _rate(self, client: httpx.Client, patient: tuple[int, str], day: date) -> None:
        body = {"rated_on": day.isoformat(), "items": ITEMS}
        path = f"/api/v1/patients/{patient[0]}/alsfrs-ratings"
        self._send(client, path, body, ("rating", f"{patient[1]} {day.isoformat()}"))

    def _send(
        self, client: httpx.Client, path: str, body: object, write: Write
    ) -> dict[str, Any] | None:
        with self._changed:
            self.sent.add(write)
        try:
            answer = client.post(path, json=body)
        except httpx.HTTPError as error:
            answer_text = f"{type(error).__name__}: {error}"
        else:
            if answer.status_code == 201:
                with self._changed:
                    self._acked.append(write)
                    self._changed.notify_all()
                result: dict[str, Any] = answer.json()
                return result
            answer_text = f"{answer.status_code} {answer.text}"
        with self._changed:
            self.failures.append(f"{path}: {answer_text}")
            self._changed.notify_all()
        return None


@contextmanager
def _load(base: str, token: str, site_id: int) -> Iterator[Load]:
    load = Load(base, token, site_id)
    threads = [threading.Thread(target=load.write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    try:
        yield load
    finally:
        load.stop()
        for thread in threads:
            thread.join(GUARD_SECONDS)


# ---------------------------------------------------------------- checks


@contextmanager
def _new_database(
    kind: str, request: pytest.FixtureRequest, folder: Path, name: str
) -> Iterator[sa.Engine]:
    """An empty database of ``kind`` (no schema: a restore brings it), removed afterwards."""
    server: PostgresServer | None = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / (name + '.sqlite3')}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"{name}_{uuid.uuid4().hex[:8]}"
        url = server.create_database(name)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if server is not None:
            server.drop_database(name)


def _check_database(engine: sa.Engine, expected: set[Write], sent: set[Write]) -> set[Write]:
    """The database holds together, its trail verifies, and it holds every expected write and no
    write that was never sent; the writes it holds."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"]
    with make_session_factory(engine)() as session:
        assert [str(found) for found in verify_trail(session)] == []
    stored = _writes(engine)
    assert expected - stored == set(), "acknowledged writes are missing"
    assert stored - sent == set(), "the database holds writes that were never sent"
    return stored


def _writes(engine: sa.Engine) -> set[Write]:
    with engine.connect() as connection:
        codes = list(connection.execute(sa.select(Patient.study_code)).scalars())
        rated = connection.execute(
            sa.select(Patient.study_code, AlsfrsRating.rated_on).join(
                AlsfrsRating, AlsfrsRating.patient_id == Patient.id
            )
        )
        return {("patient", code) for code in codes} | {
            ("rating", f"{code} {day.isoformat()}") for code, day in rated
        }
