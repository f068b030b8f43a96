"""External comparator cohorts (domain/comparator.py): CAFS outcomes and the mean course by month.

Expected values are worked out here from the rules in the module docstring: baseline = first ALSFRS-R
rating at or after delta 0; months = days / 30.4375 (clinical.md §2); target = the rating nearest
baseline + H months within ± window days.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from alscell.domain.comparator import SubjectCourse, comparator_outcomes, mean_total_by_month

DAYS_PER_MONTH = 365.25 / 12
SIX = round(6 * DAYS_PER_MONTH)  # 183 days


def outcomes(
    *subjects: SubjectCourse, months: float = 6.0, window: int = 14
) -> list[tuple[float, float]]:
    result = comparator_outcomes(subjects, months=months, window_days=window)
    assert result.horizon_months == months
    return list(zip(result.death_months.tolist(), result.changes.tolist(), strict=True))


def same(found: list[tuple[float, float]], expected: list[tuple[float, float]]) -> bool:
    return all(
        (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)
        for pair, want in zip(found, expected, strict=True) for a, b in zip(pair, want, strict=True)
    ) and len(found) == len(expected)  # fmt: skip


def test_the_change_runs_from_the_first_rating_at_or_after_day_0_to_the_nearest_in_the_window():
    nan = math.nan
    subject = SubjectCourse([(-20, 47), (3, 44), (90, 42), (SIX + 3 - 10, 39), (SIX + 3 + 8, 37)])
    # baseline day 3 (44); target 3 + 182.625 = 185.6: day 176 is 9.6 away, day 194 is 8.4 away
    assert same(outcomes(subject), [(nan, 37 - 44)])


def test_a_tie_takes_the_earlier_rating_and_a_missed_window_is_interpolated():
    nan = math.nan
    nearer = SubjectCourse(
        [(0, 40), (170, 35), (196, 30)]
    )  # target 182.625: 12.625 and 13.375 away
    assert same(outcomes(nearer), [(nan, -5.0)])
    tied = SubjectCourse([(0, 40), (241, 35), (246, 30)])  # 8 months = 243.5 days: both 2.5 away
    assert same(outcomes(tied, months=8.0), [(nan, -5.0)])
    # No rating in the window: the total at 182.625 days is interpolated between the ratings that
    # bracket it, 30 + (28 - 30) × (182.625 - 150) / (230 - 150) = 29.184375, a change of -10.815625.
    far = SubjectCourse([(0, 40), (150, 30), (230, 28)])
    assert same(outcomes(far), [(nan, 29.184375 - 40)])
    # Follow-up that stops before the horizon (alive, nothing after it) cannot be placed: excluded.
    stopped = SubjectCourse([(0, 40), (150, 30)])
    assert same(outcomes(stopped), [(nan, nan)])


def test_a_death_within_the_horizon_counts_from_baseline_and_has_no_change():
    nan = math.nan
    died = SubjectCourse([(10, 40), (100, 36)], died=True, death_days=160)
    early = SubjectCourse([(10, 40)], died=True, death_days=5)  # before baseline: month 0
    later = SubjectCourse([(0, 40), (SIX, 38)], died=True, death_days=400)  # alive at 6 months
    unknown = SubjectCourse([(0, 40), (SIX, 38)], died=True, death_days=None)
    assert same(
        outcomes(died, early, later, unknown),
        [(150 / DAYS_PER_MONTH, nan), (0.0, nan), (nan, -2.0), (nan, -2.0)],
    )


def test_subjects_without_a_baseline_are_kept_as_excluded():
    nan = math.nan
    result = comparator_outcomes(
        [SubjectCourse([(-30, 40)]), SubjectCourse([], died=True, death_days=20)],
        months=6.0,
        window_days=14,
    )
    assert same(
        list(zip(result.death_months.tolist(), result.changes.tolist(), strict=True)),
        [(nan, nan)] * 2,
    )
    assert result.ranked.tolist() == [False, False]


@pytest.mark.parametrize(("months", "window"), [(0.0, 14), (math.inf, 14), (6.0, -1)])
def test_a_bad_horizon_or_window_is_a_programming_error(months, window):
    with pytest.raises(ValueError, match="need months > 0"):
        comparator_outcomes([], months=months, window_days=window)


def test_the_mean_course_is_by_whole_month_since_baseline():
    curve = mean_total_by_month([
        SubjectCourse([(-30, 47), (0, 44), (31, 42), (92, 40)]),  # months 0, 1, 3
        SubjectCourse([(5, 40), (35, 39)]),  # months 0, 1 (30 days)
        SubjectCourse([(-5, 45)]),  # no baseline: left out
    ])  # fmt: skip
    assert [(p.month, p.n, p.mean) for p in curve] == [(0, 2, 42.0), (1, 2, 40.5), (3, 1, 40.0)]
    assert curve[0].sd == pytest.approx(float(np.std([44, 40], ddof=1)))
    assert curve[2].sd is None
    assert mean_total_by_month([]) == ()
