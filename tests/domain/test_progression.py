"""ΔFS and progressor categories (clinical.md §2)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain import progression
from alscell.domain.months import DAYS_PER_MONTH, months_between
from alscell.domain.progression import Progressor, ProgressorCutoffs
from alscell.errors import InvalidInput

ONSET = date(2025, 1, 1)


def locations(error: InvalidInput) -> set[str]:
    return {problem.location for problem in error.problems}


def test_month_is_a_twelfth_of_a_julian_year():
    assert DAYS_PER_MONTH == 30.4375
    assert months_between(date(2024, 1, 1), date(2025, 1, 1)) == 366 / 30.4375
    assert months_between(date(2025, 1, 1), date(2024, 1, 1)) == -366 / 30.4375


def test_delta_fs_worked_example():
    # 12 points lost over 365 days = 365 / 30.4375 months -> 12 * 30.4375 / 365 = 365.25 / 365
    assert progression.delta_fs(36, ONSET, date(2026, 1, 1)) == pytest.approx(
        365.25 / 365, rel=1e-12
    )


def test_delta_fs_second_worked_example():
    # 48 - 30 = 18 points over 274 days (2025-01-01 -> 2025-10-02): 18 / (274 / 30.4375)
    assert progression.delta_fs(30, ONSET, date(2025, 10, 2)) == pytest.approx(
        18 * 30.4375 / 274, rel=1e-12
    )


def test_no_points_lost_is_zero():
    assert progression.delta_fs(48, ONSET, date(2025, 6, 1)) == 0.0


@pytest.mark.parametrize("rated_on", [ONSET, ONSET - timedelta(days=1)])
def test_rating_on_or_before_onset_is_refused(rated_on):
    with pytest.raises(InvalidInput) as caught:
        progression.delta_fs(40, ONSET, rated_on)

    assert locations(caught.value) == {"rated_on"}
    assert "must be after symptom onset (2025-01-01)" in str(caught.value)


@pytest.mark.parametrize(
    ("total", "rule"),
    [(49, "out of range"), (-1, "out of range"), (True, "not an int"), (40.0, "not an int")],
)
def test_bad_total_is_refused(total, rule):
    with pytest.raises(InvalidInput) as caught:
        progression.delta_fs(total, ONSET, date(2025, 6, 1))

    assert locations(caught.value) == {"total"}
    assert rule in str(caught.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidInput) as caught:
        progression.delta_fs(50, ONSET, ONSET)

    assert locations(caught.value) == {"total", "rated_on"}


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.0, "slow"), (0.49, "slow"), (0.5, "intermediate"), (0.99, "intermediate"),
     (1.0, "fast"), (3.2, "fast"), (-0.05, "slow")],
)  # fmt: skip
def test_kimura_categories_are_the_default(rate, expected):
    assert progression.progressor_category(rate) == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0.46, "slow"), (0.47, "intermediate"), (1.10, "intermediate"), (1.11, "fast")],
)
def test_labra_cutoffs(rate, expected):
    assert progression.progressor_category(rate, cutoffs=progression.LABRA_2016) == expected


def test_gordon_cutoffs_give_two_groups():
    category = progression.progressor_category

    assert category(0.49, cutoffs=progression.GORDON_2006) is Progressor.SLOW
    assert category(0.5, cutoffs=progression.GORDON_2006) is Progressor.FAST


def test_custom_cutoffs():
    cutoffs = ProgressorCutoffs(0.3, 0.8, "site-specific")

    assert progression.progressor_category(0.3, cutoffs=cutoffs) is Progressor.INTERMEDIATE
    assert progression.progressor_category(0.8, cutoffs=cutoffs) is Progressor.FAST


@pytest.mark.parametrize(
    ("slow_below", "fast_from", "where"),
    [
        (1.0, 0.5, {"fast_from"}),
        (-0.1, 1.0, {"slow_below"}),
        (math.nan, math.inf, {"slow_below", "fast_from"}),
    ],
)
def test_cutoffs_are_validated(slow_below, fast_from, where):
    with pytest.raises(InvalidInput) as caught:
        ProgressorCutoffs(slow_below, fast_from, "bad")

    assert locations(caught.value) == where


@pytest.mark.parametrize("rate", [math.nan, math.inf, -math.inf])
def test_category_refuses_non_finite_rates(rate):
    with pytest.raises(InvalidInput, match="delta_fs: must be a finite number"):
        progression.progressor_category(rate)


@given(
    st.integers(min_value=0, max_value=47),
    st.integers(min_value=1, max_value=20 * 365),
)
def test_losing_a_point_raises_delta_fs(total, days):
    rated_on = ONSET + timedelta(days=days)

    worse = progression.delta_fs(total, ONSET, rated_on)
    better = progression.delta_fs(total + 1, ONSET, rated_on)

    assert worse > better >= 0
    assert worse - better == pytest.approx(DAYS_PER_MONTH / days, rel=1e-9)
