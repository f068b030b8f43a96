"""Criteria answered met / not met / unknown with their value (the form of clinical.md §2, §5, §8, §9.1, §12).

Every eligibility window in clinical.md is an inclusive range: the ΔFS floor of §2 ("exclude ΔFS < 0.3",
so 0.3 itself is kept), the ENCALS LP window of §5 and §12, the ALSFRS-R and VC floors of §12. These
tests check the range, its wording, its validation through ``build`` and how answers combine.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.criteria import CriterionResult, Range, Status, check_range, overall_status
from alscell.domain.schema import build
from alscell.errors import InvalidInput


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        build(Range, data)
    return {problem.location: problem.message for problem in caught.value.problems}


def result(status: Status) -> CriterionResult:
    return CriterionResult("c", status, None, "rule")


# ---------------------------------------------------------------- Range.contains


@pytest.mark.parametrize("value", [0.3, 0.9, 1.5])
def test_both_bounds_are_inclusive(value):
    assert Range(min=0.3, max=1.5).contains(value)


@pytest.mark.parametrize("value", [0.29, 1.51, -1.0])
def test_values_outside_both_bounds_are_excluded(value):
    assert not Range(min=0.3, max=1.5).contains(value)


def test_min_alone_has_no_upper_bound():
    bounds = Range(min=0.3)  # clinical.md §2: exclude ΔFS < 0.3

    assert bounds.contains(0.3)
    assert bounds.contains(1e9)
    assert not bounds.contains(0.2999)


def test_max_alone_has_no_lower_bound():
    bounds = Range(max=60)  # months since onset, seed protocol

    assert bounds.contains(60)
    assert bounds.contains(-1e9)
    assert not bounds.contains(60.01)


def test_zero_is_a_bound_not_an_absent_one():
    bounds = Range(min=0, max=0)

    assert bounds.contains(0)
    assert not bounds.contains(0.001)
    assert not bounds.contains(-0.001)


# ---------------------------------------------------------------- Range.describe


@pytest.mark.parametrize(
    ("bounds", "unit", "text"),
    [(Range(0.3, 1.5), "points/month", "between 0.3 and 1.5 points/month"),
     (Range(min=18, max=80), "years", "between 18 and 80 years"),
     (Range(min=0.3), "points/month", ">= 0.3 points/month"),
     (Range(max=60), "", "<= 60"),
     (Range(min=-6.5, max=-2), "", "between -6.5 and -2")],
)  # fmt: skip
def test_describe_in_words(bounds, unit, text):
    assert bounds.describe(unit) == text


def test_describe_without_unit_has_no_trailing_space():
    assert Range(min=24).describe() == ">= 24"


# ---------------------------------------------------------------- Range through build


def test_build_accepts_either_bound_or_both():
    assert build(Range, {"min": 18, "max": 80}) == Range(18.0, 80.0)
    assert build(Range, {"max": 60}) == Range(max=60.0)
    assert build(Range, {"min": 0.3}) == Range(min=0.3)


def test_build_accepts_equal_bounds():
    assert build(Range, {"min": 1, "max": 1}) == Range(1.0, 1.0)


def test_build_refuses_min_above_max():
    assert problems_of({"min": 80, "max": 18}) == {"max": "must be >= min (80), got 18"}


@pytest.mark.parametrize("data", [{}, {"min": None, "max": None}])
def test_build_refuses_a_range_without_bounds(data):
    assert problems_of(data) == {"min": "give min, max or both"}


def test_build_refuses_a_bound_written_as_text():
    assert set(problems_of({"min": "18"})) == {"min"}


# ---------------------------------------------------------------- check_range


def test_check_range_without_a_value_is_unknown_never_met():
    answer = check_range("delta_fs", None, Range(min=0.3), what="ΔFS", unit="points/month")

    assert answer == CriterionResult("delta_fs", Status.UNKNOWN, None, "ΔFS >= 0.3 points/month")


def test_check_range_inside_is_met_with_its_value():
    answer = check_range("age_years", 18.0, Range(18, 80), what="age", unit="years")

    assert answer == CriterionResult("age_years", Status.MET, 18.0, "age between 18 and 80 years")


def test_check_range_outside_is_not_met_with_its_value():
    answer = check_range("age_years", 80.5, Range(18, 80), what="age", unit="years")

    assert answer.status is Status.NOT_MET
    assert answer.value == 80.5
    assert answer.criterion == "age_years"


def test_check_range_zero_is_a_value_not_a_missing_one():
    answer = check_range("encals_lp", 0.0, Range(max=-2), what="ENCALS linear predictor")

    assert answer.status is Status.NOT_MET
    assert answer.value == 0.0
    assert answer.rule == "ENCALS linear predictor <= -2"


# ---------------------------------------------------------------- overall_status


@pytest.mark.parametrize(
    ("statuses", "overall"),
    [([Status.MET, Status.MET], Status.MET),
     ([Status.MET, Status.UNKNOWN], Status.UNKNOWN),
     ([Status.UNKNOWN, Status.MET, Status.NOT_MET], Status.NOT_MET),
     ([Status.NOT_MET, Status.UNKNOWN], Status.NOT_MET),
     ([Status.UNKNOWN], Status.UNKNOWN),
     ([Status.NOT_MET], Status.NOT_MET),
     ([Status.MET, Status.REVIEW], Status.REVIEW),
     ([Status.REVIEW, Status.UNKNOWN], Status.UNKNOWN),
     ([Status.REVIEW, Status.NOT_MET], Status.NOT_MET)],
)  # fmt: skip
def test_not_met_beats_unknown_beats_met(statuses, overall):
    assert overall_status(result(status) for status in statuses) is overall


def test_status_values_are_stable_text():
    assert [status.value for status in Status] == ["met", "not_met", "unknown", "review"]


# ---------------------------------------------------------------- properties

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(finite, finite, finite)
def test_contains_agrees_with_the_inequalities(a, b, value):
    low, high = sorted((a, b))

    assert Range(min=low, max=high).contains(value) == (low <= value <= high)
    assert Range(min=low).contains(value) == (low <= value)
    assert Range(max=high).contains(value) == (value <= high)


@given(st.lists(st.sampled_from(list(Status)), min_size=1))
def test_overall_is_met_only_when_every_answer_is_met(statuses):
    overall = overall_status(result(status) for status in statuses)

    assert (overall is Status.MET) == all(status is Status.MET for status in statuses)
    assert (overall is Status.NOT_MET) == (Status.NOT_MET in statuses)
