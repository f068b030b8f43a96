"""Comparator cohorts (services/comparators.py): one audited transaction per import, names unique,
outcomes and the mean course read back, and CAFS in the evaluation against an imported cohort.

Outcomes are worked out here from the rules of domain/comparator.py: baseline = first ALSFRS-R rating at
or after delta 0, months = days / 30.4375, target = nearest rating to baseline + H within ± window.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.comparator import ComparatorBatch, FvcRecord, RatingRecord, SubjectRecord
from alscell.errors import (
    Conflict,
    InvalidImport,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Problem,
)
from alscell.services.audit import verify_trail
from alscell.services.comparators import (
    get_comparator_curve,
    get_comparator_outcomes,
    import_comparator_cohort,
    list_comparator_cohorts,
)
from alscell.services.evaluation import evaluate_program
from alscell.storage.models import AuditEvent, ComparatorCohort, ComparatorRating
from tests.factories import NOW, make_user
from tests.services.test_evaluation import AFTER, Cohort, cohort

__all__ = ["cohort"]  # a fixture, used below
DAYS_PER_MONTH = 365.25 / 12
FILES = {"PROACT_ALSFRS.csv": "ab" * 32}


def rating(subject: str, delta: int, total: int, *, form: str = "alsfrs_r") -> RatingRecord:
    """A rating whose items sum to ``total`` (items filled from q1 down, 4 at most each)."""
    left, items = total, []
    for _ in range(12):
        items.append(min(4, left))
        left -= items[-1]
    q1, q2, q3, q4, q5a, q6, q7, q8, q9, q10, q11, q12 = items
    return RatingRecord(
        subject, delta, form, q1, q2, q3, q4, q5a, None, q6, q7, q8, q9, q10, q11, q12, total
    )


def batches(*, day_after: int = 183) -> list[ComparatorBatch]:
    """Five subjects: S1 loses 6 points by day 183, S2 dies on day 100, S3 has no rating near 6 months,
    S4 only an original-ALSFRS rating, S5 no rating at all. Two batches, as an importer would send."""
    subjects = [SubjectRecord("S1", sex="male", died=False), SubjectRecord("S2", died=True, death_days=100),
                SubjectRecord("S3"), SubjectRecord("S4"), SubjectRecord("S5", died=True, death_days=None)]  # fmt: skip
    ratings = [rating("S1", -10, 46), rating("S1", 0, 44), rating("S1", 92, 41), rating("S1", day_after, 38),
               rating("S2", 2, 40), rating("S3", 0, 35), rating("S3", 60, 33), rating("S4", 0, 30, form="alsfrs")]  # fmt: skip
    return [
        ComparatorBatch(subjects=subjects, skipped=1),
        ComparatorBatch(ratings=ratings, fvc=[FvcRecord("S1", 0, 80.0)]),
    ]


def imported(session: Session, name: str = "PRO-ACT test", **changes: object) -> ComparatorCohort:
    return import_comparator_cohort(session, name=name, source="unit test", files=FILES, batches=batches(),
                                    by=changes.pop("by", None), now=NOW, **changes)  # type: ignore[arg-type]  # fmt: skip


def test_an_import_stores_counts_and_hashes_and_is_audited_once(session):
    analyst = make_user(session, Role.ANALYST)
    before = session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()

    cohort = imported(session, by=analyst)

    assert (cohort.subject_count, cohort.rating_count, cohort.fvc_count, cohort.skipped_count) == (
        5,
        8,
        1,
        1,
    )
    assert (cohort.imported_at, cohort.imported_by_id, cohort.files) == (NOW, analyst.id, FILES)
    events = session.execute(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().all()
    assert len(events) == before + 1
    event = events[0]
    assert (event.action, event.entity_type, event.entity_id, event.actor_id) == (
        "comparator.imported", "comparator_cohorts", str(cohort.id), analyst.id,
    )  # fmt: skip
    assert event.after is not None
    assert (event.after["rating_count"], event.after["files"]) == (8, FILES)
    assert verify_trail(session) == []
    assert [c.name for c in list_comparator_cohorts(session, by=analyst)] == ["PRO-ACT test"]


def test_a_name_already_used_is_a_conflict(session):
    imported(session)
    with pytest.raises(
        Conflict, match="'PRO-ACT test' was already imported on 2026-01-05 09:30 UTC"
    ):
        imported(session, name=" PRO-ACT test ")


def test_an_empty_name_is_refused(session):
    with pytest.raises(InvalidInput, match="name: must be 1 to 80 characters"):
        imported(session, name="  ")


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN, Role.MONITOR])
def test_only_analysts_and_administrators_import(session, role):
    with pytest.raises(PermissionDenied, match="may not import comparator"):
        imported(session, by=make_user(session, role))
    assert (
        session.execute(sa.select(sa.func.count()).select_from(ComparatorCohort)).scalar_one() == 0
    )


def test_when_the_batches_fail_nothing_is_kept(session):
    def failing() -> Iterator[ComparatorBatch]:
        yield from batches()  # both batches are inserted before the importer finds a problem
        raise InvalidImport([Problem("PROACT_FVC.csv row 9", "bad")])

    with pytest.raises(InvalidImport):
        import_comparator_cohort(
            session, name="x", source="s", files={}, batches=failing(), by=None, now=NOW
        )
    session.rollback()
    assert (
        session.execute(sa.select(sa.func.count()).select_from(ComparatorRating)).scalar_one() == 0
    )


def test_outcomes_follow_each_subject_from_baseline(session):
    imported(session)

    result = get_comparator_outcomes(session, "PRO-ACT test", months=6.0, window_days=14)

    nan = math.nan
    expected = {  # by subject; the order of subjects is not part of the contract
        "S1": (nan, 38.0 - 44.0),  # baseline day 0, target day 182.6: day 183
        "S2": (98 / DAYS_PER_MONTH, nan),  # baseline day 2, died day 100
        "S3": (nan, nan), "S4": (nan, nan), "S5": (nan, nan),  # excluded: no usable rating
    }  # fmt: skip
    pairs = sorted(
        zip(result.death_months.tolist(), result.changes.tolist(), strict=True), key=repr
    )
    want = sorted(expected.values(), key=repr)
    assert len(pairs) == 5
    for got, wanted in zip(pairs, want, strict=True):
        assert got == pytest.approx(wanted, nan_ok=True)
    assert (int(result.ranked.sum()), int(result.died.sum())) == (2, 1)


def test_the_curve_is_the_mean_alsfrs_r_by_month_since_baseline(session):
    imported(session)

    curve = get_comparator_curve(session, "PRO-ACT test")

    # S1: months 0 (44), 3 (41, day 92), 6 (38, day 183); S2: month 0 (40); S3: 0 (35), 2 (33, day 60)
    assert [(p.month, p.n, p.mean) for p in curve] == [(0, 3, (44 + 40 + 35) / 3), (2, 1, 33.0), (3, 1, 41.0),
                                                       (6, 1, 38.0)]  # fmt: skip


def test_an_unknown_cohort_is_not_found(session):
    with pytest.raises(NotFound, match="comparator cohort 'nope'"):
        get_comparator_outcomes(session, "nope", months=6.0, window_days=14)


# ---------------------------------------------------------------- the evaluation


def test_the_evaluation_ranks_cafs_against_the_imported_cohort(cohort: Cohort) -> None:
    session = cohort.c.session
    subjects = [SubjectRecord(f"D{i}", died=True, death_days=30) for i in range(3)]
    # rated every 5 days from 0 to 400: whatever the horizon, a rating lies within the window
    ratings = [
        rating(f"A{i}", day, 40 if day == 0 else 36) for i in range(4) for day in range(0, 401, 5)
    ]
    ratings += [rating(f"D{i}", 0, 40) for i in range(3)]
    import_comparator_cohort(session, name="External A", source="test", files=FILES, now=NOW, by=None,
                             batches=[ComparatorBatch(subjects=[*subjects, *(SubjectRecord(f"A{i}") for i in range(4))],
                                                      ratings=ratings)])  # fmt: skip

    result = evaluate_program(session, protocol_id=cohort.c.protocol.id, by=cohort.c.physician, today=AFTER,
                              draws=300, power_simulations=200, comparator_cohort="External A")  # fmt: skip

    assert result.analyses is not None
    cafs = result.analyses.cafs
    assert cafs is not None
    assert (cafs.comparator.n, cafs.comparator.deaths, cafs.comparator.excluded) == (7, 3, 0)
    assert result.analyses.comparator_label == "External A"
    assert any("against 7 patients of the imported comparator cohort External A (external, not concurrent; "
               "selection differs)" in sentence for sentence in result.statement)  # fmt: skip


def test_an_unknown_comparator_cohort_stops_the_evaluation(cohort: Cohort) -> None:
    with pytest.raises(NotFound, match="comparator cohort 'missing'"):
        evaluate_program(cohort.c.session, protocol_id=cohort.c.protocol.id, by=cohort.c.physician, today=AFTER,
                         comparator_cohort="missing")  # fmt: skip
