"""The request's session and sign-in (web/deps.py) on the real app and a real SQLite file.

Unlike the other API tests, nothing is overridden: each request gets its own session from the app,
as in production, so what is checked is how requests share the database: a GET reads while a writer
holds the write lock, the API token is looked up once per request, every connection goes back to
the pool, and writers on several threads all commit. Outcomes are counted, never timed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from anyio import to_thread
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alscell.config import Settings
from alscell.domain.access import Role
from alscell.services import auth
from alscell.services.audit import verify_trail
from alscell.storage import migrate
from alscell.storage.models import AlsfrsRating
from alscell.storage.session import make_engine
from alscell.web.app import create_app
from tests.factories import NOW, make_patient, make_site, make_user

API = "/api/v1"
ITEMS = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
)
GUARD_SECONDS = 60  # only so a broken build fails instead of hanging


@dataclass
class Clinic:
    app: FastAPI
    token: str
    patient_id: int
    study_code: str

    def client(self) -> TestClient:
        return TestClient(self.app, headers={"Authorization": f"Bearer {self.token}"})


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(
        Settings(_env_file=None, database_url=url, environment="test", cookie_secure=False)
    )
    with app.state.sessions() as session:
        site = make_site(session)
        doctor = make_user(session, Role.PHYSICIAN, site=site)
        token = auth.create_api_token(session, user=doctor, name="tests", by=doctor, now=NOW).secret
        patient = make_patient(session, site=site, by=doctor)
    yield Clinic(app, token, patient.id, patient.study_code)
    app.state.engine.dispose()


def statements_on(engine: sa.Engine, table: str) -> list[str]:
    """Every statement sent from now on that names ``table`` (the list fills as they run)."""
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if table in statement:
            seen.append(statement)

    return seen


def test_a_get_reads_while_a_writer_holds_the_write_lock(clinic):
    """GETs used to begin IMMEDIATE: they waited for the lock and failed after the busy timeout."""
    holding, done = threading.Event(), threading.Event()

    def writer() -> None:
        with clinic.app.state.engine.connect() as connection:
            connection.execute(sa.text("UPDATE patients SET sex = 'male'"))
            holding.set()
            done.wait(GUARD_SECONDS)
            connection.rollback()

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(GUARD_SECONDS)
    try:
        with clinic.client() as client:
            response = client.get(f"{API}/patients/{clinic.patient_id}")
    finally:
        done.set()
        thread.join(GUARD_SECONDS)

    assert response.status_code == 200, response.text
    assert (response.json()["study_code"], response.json()["sex"]) == (clinic.study_code, "female")


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_api_token_is_looked_up_once_per_request(clinic, method):
    lookups = statements_on(clinic.app.state.engine, "api_tokens")
    path = f"{API}/patients/{clinic.patient_id}"
    with clinic.client() as client:
        if method == "get":
            response = client.get(path)
        else:
            body = {"rated_on": "2025-03-01", "items": ITEMS}
            response = client.post(f"{path}/alsfrs-ratings", json=body)

    assert response.status_code in (200, 201), response.text
    assert len(lookups) == 1


def test_every_request_gives_its_connection_back(clinic):
    path = f"{API}/patients/{clinic.patient_id}"
    with clinic.client() as client:
        statuses = [
            client.get(path).status_code,
            client.get(f"{API}/patients/999999").status_code,
            client.post(
                f"{path}/alsfrs-ratings", json={"rated_on": "2025-03-01", "items": ITEMS}
            ).status_code,
            client.post(
                f"{path}/alsfrs-ratings", json={"rated_on": "2025-03-01", "items": {}}
            ).status_code,
            TestClient(clinic.app).get(path).status_code,  # not signed in
        ]

    assert statuses == [200, 404, 201, 422, 401]
    assert clinic.app.state.engine.pool.checkedout() == 0


def test_writers_on_eight_threads_all_get_201_and_every_rating_is_stored(clinic):
    path = f"{API}/patients/{clinic.patient_id}/alsfrs-ratings"
    start = threading.Barrier(8)
    answers: list[tuple[int, Any]] = []

    def write(number: int) -> None:
        with clinic.client() as client:
            start.wait(GUARD_SECONDS)
            for each in range(4):
                rated_on = date(2025, 1, 1) + timedelta(days=number * 4 + each)
                response = client.post(
                    path, json={"rated_on": rated_on.isoformat(), "items": ITEMS}
                )
                answers.append((response.status_code, response.json().get("id")))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)

    assert [status for status, _ in answers] == [201] * 32
    with clinic.app.state.sessions() as session:
        stored = set(session.execute(sa.select(AlsfrsRating.id)).scalars())
        assert stored == {rating_id for _, rating_id in answers}
        assert verify_trail(session) == []


def test_writes_all_commit_when_requests_outnumber_the_worker_threads(clinic):
    """The sign-in's transaction used to stay open until the route: a request then held SQLite's
    write lock while it waited for a worker thread, and every thread was taken by a request waiting
    for that lock, until they failed "database is locked". Two threads and six writers show it."""
    path = f"{API}/patients/{clinic.patient_id}/alsfrs-ratings"

    async def post_all() -> list[int]:
        to_thread.current_default_thread_limiter().total_tokens = 2  # this event loop's pool only
        transport = httpx.ASGITransport(app=clinic.app, raise_app_exceptions=False)
        headers = {"Authorization": f"Bearer {clinic.token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=headers
        ) as client:

            async def post(number: int) -> int:
                rated_on = date(2025, 1, 1) + timedelta(days=number)
                response = await client.post(
                    path, json={"rated_on": rated_on.isoformat(), "items": ITEMS}
                )
                return response.status_code

            return list(await asyncio.gather(*(post(n) for n in range(6))))

    # A thread of its own: the browser tests' Playwright may hold an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        statuses = pool.submit(asyncio.run, post_all()).result(GUARD_SECONDS)

    assert statuses == [201] * 6
