"""SQLite under concurrent sessions (storage/session.py), with real threads on a real database file.

Outcomes are counted, never timed: readers that finish while a writer holds the write lock, writes
that commit, rows stored, breaks in the audit trail, and whether the next writer gets its turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from alscell.domain.access import Role
from alscell.services import assessments
from alscell.services.audit import verify_trail
from alscell.storage import migrate
from alscell.storage import session as sessions
from alscell.storage.models import AlsfrsRating, Patient, User
from alscell.storage.session import READ_ONLY, make_engine, make_session_factory
from tests.factories import NOW, make_patient, make_site, make_user

WRITERS = 16
RATINGS_EACH = 5
ITEMS = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
)
GUARD_SECONDS = 60  # only so a broken build fails instead of hanging; never reached when it works


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'concurrency.sqlite3'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions_of(engine: sa.Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` on ``count`` threads started together; every exception they raised."""
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def target(number: int) -> None:
        try:
            start.wait(GUARD_SECONDS)
            work(number)
        except BaseException as error:  # counted, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GUARD_SECONDS)
    return failures


def test_readers_finish_while_a_writer_holds_the_write_lock(engine, sessions_of):
    """Reads used to begin IMMEDIATE too: they queued for the write lock and failed after the busy timeout."""
    with sessions_of() as session:
        make_patient(session)
    holding, readers_done = threading.Event(), threading.Event()
    seen: list[int] = []

    def writer() -> None:
        with engine.connect() as connection:  # BEGIN IMMEDIATE: holds the write lock
            connection.execute(sa.text("UPDATE patients SET sex = 'male'"))
            holding.set()
            readers_done.wait(GUARD_SECONDS)
            connection.commit()

    def read(_number: int) -> None:
        holding.wait(GUARD_SECONDS)
        with sessions_of(execution_options=READ_ONLY) as session:
            seen.append(
                session.execute(sa.select(sa.func.count()).select_from(Patient)).scalar_one()
            )
            sexes = set(session.execute(sa.select(Patient.sex)).scalars())
            assert sexes == {"female"}, "a reader saw the writer's uncommitted change"

    holder = threading.Thread(target=writer)
    holder.start()
    failures = run_threads(8, read)
    readers_done.set()
    holder.join(GUARD_SECONDS)

    assert failures == []
    assert seen == [1] * 8
    with sessions_of() as session:
        assert set(session.execute(sa.select(Patient.sex)).scalars()) == {"male"}


def test_sixteen_writer_threads_all_commit_and_the_trail_verifies(sessions_of):
    with sessions_of() as session:
        site = make_site(session)
        nurse_id = make_user(session, Role.NURSE, site=site).id
        patient_ids = [make_patient(session, site=site).id for _ in range(4)]
    acknowledged: list[int] = []

    def write(number: int) -> None:
        with sessions_of() as session:
            rater = session.get_one(User, nurse_id)
            for each in range(RATINGS_EACH):
                rating = assessments.record_alsfrs_rating(
                    session, patient_id=patient_ids[number % 4],
                    rated_on=date(2025, 1, 1) + timedelta(days=number * RATINGS_EACH + each),
                    items=ITEMS, by=rater, now=NOW,
                )  # fmt: skip
                acknowledged.append(rating.id)

    failures = run_threads(WRITERS, write)

    assert failures == []
    assert len(acknowledged) == WRITERS * RATINGS_EACH
    with sessions_of() as session:
        stored = set(session.execute(sa.select(AlsfrsRating.id)).scalars())
        assert stored == set(acknowledged)
        assert verify_trail(session) == []


def holds_turn(connection: sa.Connection) -> bool:
    return bool(connection.info.get(sessions._HOLDS_TURN))


@pytest.mark.parametrize("ending", ["commit", "rollback", "close", "invalidate"])
def test_a_writer_ended_any_way_gives_the_next_one_its_turn(engine, ending, monkeypatch):
    monkeypatch.setattr(sessions, "BUSY_TIMEOUT_MS", 0)  # waiting for a turn: a single try
    first = engine.connect()
    first.execute(sa.text("UPDATE patients SET sex = NULL"))
    assert holds_turn(first)
    if (
        ending == "invalidate"
    ):  # the connection is dropped (e.g. lost), then rolled back as documented
        first.invalidate()
        first.rollback()
    else:
        getattr(first, ending)()
    first.close()

    taken: list[bool] = []

    def next_writer() -> None:  # another thread, as the next request would be
        with engine.connect() as second:
            second.execute(sa.text("UPDATE patients SET sex = NULL"))
            taken.append(holds_turn(second))
            second.commit()

    thread = threading.Thread(target=next_writer)
    thread.start()
    thread.join(GUARD_SECONDS)
    assert taken == [True]


def test_readers_take_no_turn(engine, monkeypatch):
    monkeypatch.setattr(sessions, "BUSY_TIMEOUT_MS", 0)  # waiting for a turn: a single try
    with engine.connect() as writer:
        writer.execute(sa.text("UPDATE patients SET sex = NULL"))
        with engine.connect().execution_options(**READ_ONLY) as reader:
            assert reader.execute(sa.text("SELECT count(*) FROM patients")).scalar_one() == 0
            assert not holds_turn(reader)
        assert holds_turn(writer)
        writer.commit()
