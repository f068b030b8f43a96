"""External comparator cohorts: import one under a name, list them, and read their outcomes and course.

An import is one transaction: the cohort row, then its subjects, ratings and vital capacities in chunks
(the driver's ``executemany`` of the records as they come: no ORM object or dict per row), one audit
event ``comparator.imported`` on the cohort row with its counts and file hashes, and one commit. If the
batches raise (an importer that found bad rows raises once it has read everything), nothing is
committed and the adapter's rollback leaves no row behind. The rules that turn ratings into outcomes
are pure, in :mod:`alscell.domain.comparator`.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.comparator import (
    ComparatorBatch,
    MonthMean,
    RatingForm,
    SubjectCourse,
    comparator_outcomes,
    mean_total_by_month,
)
from alscell.domain.stats.cafs import Outcomes
from alscell.errors import Conflict, InvalidInput, NotFound, Problem
from alscell.services import access, audit
from alscell.storage.base import Base
from alscell.storage.models import (
    ComparatorCohort,
    ComparatorFvc,
    ComparatorRating,
    ComparatorSubject,
    User,
)

__all__ = [
    "NAME_MAX_LENGTH",
    "get_comparator_cohort",
    "get_comparator_curve",
    "get_comparator_outcomes",
    "import_comparator_cohort",
    "list_comparator_cohorts",
]

NAME_MAX_LENGTH: Final = 80
READ_CHUNK: Final = 20_000
"""Rows fetched at a time when reading a cohort back."""
PLACEHOLDERS: Final = {"qmark": "?", "format": "%s", "pyformat": "%s"}
"""The positional parameter marker of each DB-API paramstyle that has one (sqlite3: qmark; psycopg:
pyformat, which takes ``%s`` with a tuple too)."""


def import_comparator_cohort(
    session: Session, *, name: str, source: str, files: Mapping[str, str],
    batches: Iterable[ComparatorBatch], by: User | None, now: datetime,
) -> ComparatorCohort:  # fmt: skip
    """Store a cohort named ``name`` from ``batches``, audit it once and commit once.

    ``files`` maps each file read to its SHA-256; ``by`` is None only for the operator at the console.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may import comparator cohorts.
    InvalidInput
        An empty or over-long name.
    Conflict
        A cohort of that name exists already.
    """
    if by is not None:
        access.require(by, Action.IMPORT_COMPARATOR, resource=f"comparator cohort {name!r}")
    cohort = ComparatorCohort(
        name=_checked_name(session, name), source=source, imported_at=now,
        imported_by_id=by.id if by is not None else None, files=dict(files),
    )  # fmt: skip
    session.add(cohort)
    session.flush()
    with _cycle_collector_paused():
        for batch in batches:
            cohort.subject_count += _insert(session, ComparatorSubject, cohort.id, batch.subjects)
            cohort.rating_count += _insert(session, ComparatorRating, cohort.id, batch.ratings)
            cohort.fvc_count += _insert(session, ComparatorFvc, cohort.id, batch.fvc)
            cohort.skipped_count += batch.skipped
    audit.record_event(session, actor=by, action="comparator.imported", entity=cohort, now=now)
    session.commit()
    return cohort


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block (reference counting still frees rows).

    A batch holds tens of thousands of row records, which the collector tracks; as they pile up it
    runs full collections, each walking every object of the process: about 25 in a million-row
    import, 2.5 of its 8.5 CPU seconds. Rows make no reference cycles; whatever else does is found
    when the collector runs again, after the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _checked_name(session: Session, name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        rule = f"must be 1 to {NAME_MAX_LENGTH} characters, got {len(name)}"
        raise InvalidInput([Problem("name", rule)], subject="comparator cohort")
    taken = session.execute(
        sa.select(ComparatorCohort.imported_at).where(ComparatorCohort.name == name)
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict(
            f"a comparator cohort named {name!r} was already imported on {taken:%Y-%m-%d %H:%M} UTC; "
            "choose another name"
        )
    return name


def _insert(session: Session, model: type[Base], cohort_id: int, rows: Sequence[NamedTuple]) -> int:
    """Insert ``rows`` (records whose fields are ``model``'s columns) into the cohort; their number.

    A million-row import spent most of its time in SQLAlchemy's per-row parameter handling (a dict per
    row, then each value looked up and converted), about 4 times the driver's own executemany; so the
    records go to the driver as tuples, each with the cohort id in front. The values are plain str,
    int, float, bool and None, which sqlite3 and psycopg bind as SQLAlchemy would.
    """
    if not rows:
        return 0
    connection = session.connection()
    mark = PLACEHOLDERS.get(connection.dialect.paramstyle)
    columns = ("cohort_id", *rows[0]._fields)
    if mark is None:  # a driver with named or numbered parameters: SQLAlchemy's own executemany
        connection.execute(
            sa.insert(model), [dict(zip(columns, (cohort_id, *row), strict=True)) for row in rows]
        )
        return len(rows)
    quote = connection.dialect.identifier_preparer.quote
    statement = (f"INSERT INTO {quote(model.__tablename__)} ({', '.join(map(quote, columns))}) "
                 f"VALUES ({', '.join([mark] * len(columns))})")  # fmt: skip
    connection.exec_driver_sql(statement, [(cohort_id, *row) for row in rows])
    return len(rows)


def list_comparator_cohorts(session: Session, *, by: User | None) -> list[ComparatorCohort]:
    """Every imported cohort, by name (``by`` None: the operator at the console)."""
    if by is not None:
        access.require(by, Action.RUN_EVALUATION, resource="comparator cohorts")
    statement = sa.select(ComparatorCohort).order_by(ComparatorCohort.name)
    return list(session.execute(statement).scalars())


def get_comparator_cohort(session: Session, name: str) -> ComparatorCohort:
    """The cohort named ``name`` (NotFound)."""
    cohort = session.execute(
        sa.select(ComparatorCohort).where(ComparatorCohort.name == name)
    ).scalar_one_or_none()
    if cohort is None:
        raise NotFound("comparator cohort", name)
    return cohort


def get_comparator_outcomes(
    session: Session, name: str, *, months: float, window_days: int
) -> Outcomes:
    """CAFS outcomes of every subject of the cohort ``name`` at ``months`` after baseline
    (:func:`alscell.domain.comparator.comparator_outcomes`); subjects without a usable rating are
    in it as excluded. Raises NotFound for an unknown name."""
    cohort = get_comparator_cohort(session, name)
    return comparator_outcomes(_courses(session, cohort.id), months=months, window_days=window_days)


def get_comparator_curve(session: Session, name: str) -> tuple[MonthMean, ...]:
    """The cohort's mean ALSFRS-R total by month since baseline (NotFound for an unknown name)."""
    cohort = get_comparator_cohort(session, name)
    return mean_total_by_month(_courses(session, cohort.id))


def _courses(session: Session, cohort_id: int) -> Iterator[SubjectCourse]:
    """Each subject's ALSFRS-R ratings with the death record, streamed subject by subject."""
    deaths: dict[str, tuple[bool | None, int | None]] = {
        subject_id: (died, days)
        for subject_id, died, days in session.execute(
            sa.select(ComparatorSubject.subject_id, ComparatorSubject.died, ComparatorSubject.death_days)
            .where(ComparatorSubject.cohort_id == cohort_id)
        )
    }  # fmt: skip
    for subject_id, rows in itertools.groupby(_ratings(session, cohort_id), key=lambda r: r[0]):
        died, days = deaths.pop(subject_id, (None, None))
        yield SubjectCourse(
            [(delta, total) for _, delta, total in rows], died=died, death_days=days
        )
    for died, days in deaths.values():  # subjects without an ALSFRS-R rating
        yield SubjectCourse((), died=died, death_days=days)


def _ratings(session: Session, cohort_id: int) -> Iterator[Any]:
    statement = (
        sa.select(ComparatorRating.subject_id, ComparatorRating.delta_days, ComparatorRating.total)
        .where(ComparatorRating.cohort_id == cohort_id, ComparatorRating.form == RatingForm.ALSFRS_R.value)
        .order_by(ComparatorRating.subject_id, ComparatorRating.delta_days, ComparatorRating.id)
        .execution_options(yield_per=READ_CHUNK)
    )  # fmt: skip
    yield from session.execute(statement)
