"""King's staging from ALSFRS-R (clinical.md §3) and ALS-MiToS (clinical.md §4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.staging import KingsStage, kings_stage, mitos_stage
from alscell.errors import InvalidResponses
from tests.domain.strategies import all_normal, ratings

# ---------------------------------------------------------------- King's (Balendra 2014)


def test_no_region_below_4_is_stage_1_by_documented_choice():
    assert kings_stage(all_normal()) == "1"


@pytest.mark.parametrize(
    ("key", "other"),
    [("q1", "q8"), ("q2", "q8"), ("q3", "q8"), ("q4", "q1"), ("q5a", "q1"), ("q8", "q1")],
)
def test_each_region_item_involves_its_region(key, other):
    assert kings_stage(all_normal(**{key: 3, other: 3})) == "2"


def test_items_outside_the_region_lists_involve_nothing():
    # q6, q7, q9 (and q11) are not region items in clinical.md §3 rule 3: still stage 1 with bulbar only
    assert kings_stage(all_normal(q1=3, q6=0, q7=0, q9=0, q11=0)) == "1"


@pytest.mark.parametrize(
    ("changes", "stage"),
    [
        ({"q2": 3, "q4": 2}, "2"),  # bulbar + upper limb
        ({"q3": 1, "q8": 1}, "2"),  # bulbar + lower limb
        ({"q5a": 2, "q8": 3}, "2"),  # upper + lower limb
        ({"q1": 3, "q5a": 3, "q8": 3}, "3"),  # all three regions
        ({"q1": 0, "q2": 0, "q3": 0}, "1"),  # three bulbar items are still one region
    ],
)
def test_region_count(changes, stage):
    assert kings_stage(all_normal(**changes)) == stage


def test_gastrostomy_is_4a_whatever_the_regions():
    assert kings_stage(all_normal(q5b=4)) == "4A"
    assert kings_stage(all_normal(q5b=1, q1=2, q8=2)) == "4A"


@pytest.mark.parametrize("changes", [{"q12": 3}, {"q12": 0}, {"q10": 0}])
def test_any_niv_or_dyspnea_0_is_4b(changes):
    assert kings_stage(all_normal(**changes)) == "4B"


def test_4b_takes_precedence_over_4a():
    assert kings_stage(all_normal(q5b=2, q12=2)) == "4B"


def test_dyspnea_above_0_without_niv_is_not_4b():
    assert kings_stage(all_normal(q10=1, q11=0)) == "1"


def test_death_is_stage_5():
    assert kings_stage({}, dead=True) == KingsStage.FIVE


def test_stages_are_evaluated_per_rating_not_per_column():
    # clinical.md §3 warning: a vectorised any() over a whole column stages every row alike.
    stages = [kings_stage(r) for r in (all_normal(q1=3, q8=3), all_normal(), all_normal(q4=3))]

    assert stages == ["2", "1", "1"]


def test_kings_validates_like_scoring():
    with pytest.raises(InvalidResponses) as caught:
        kings_stage({"q1": 5})

    assert {"q1", "q2", "q12", "q5a/q5b"} <= {p.location for p in caught.value.problems}


def test_stage_order():
    assert [stage.rank for stage in KingsStage] == [0, 1, 2, 3, 4, 5]
    assert KingsStage.FOUR_B.rank > KingsStage.FOUR_A.rank > KingsStage.THREE.rank


# ---------------------------------------------------------------- MiToS (Chiò 2015, Table 1)


def test_no_domain_lost_is_stage_0():
    assert mitos_stage(all_normal(q1=2, q4=2, q8=2, q6=2, q3=2, q10=2, q12=3)) == 0


@pytest.mark.parametrize(
    "changes",
    [{"q8": 1}, {"q6": 1}, {"q8": 0, "q6": 0}, {"q3": 1}, {"q3": 0},
     {"q1": 1, "q4": 1}, {"q1": 0, "q4": 0}, {"q10": 1}, {"q12": 2}, {"q10": 0, "q12": 0}],
)  # fmt: skip
def test_each_domain_rule_loses_one_domain(changes):
    assert mitos_stage(all_normal(**changes)) == 1


def test_communication_needs_speech_and_handwriting_lost():
    # clinical.md §4 warning: the published rule is AND. No speech but still writing = not lost.
    assert mitos_stage(all_normal(q1=0, q4=4)) == 0
    assert mitos_stage(all_normal(q1=4, q4=0)) == 0
    assert mitos_stage(all_normal(q1=0, q4=2)) == 0


def test_breathing_threshold_for_niv_is_continuous_night_use():
    assert mitos_stage(all_normal(q12=3)) == 0  # intermittent NIV
    assert mitos_stage(all_normal(q12=2)) == 1  # continuous NIV at night


def test_all_four_domains_lost():
    rating = all_normal(q8=1, q3=1, q1=1, q4=1, q10=1, q5b=0)

    assert mitos_stage(rating) == 4


def test_death_is_stage_5_without_a_rating():
    assert mitos_stage({}, dead=True) == 5


def test_mitos_validates_like_scoring():
    with pytest.raises(InvalidResponses):
        mitos_stage({**all_normal(), "q5b": 2})  # both q5a and q5b


# ---------------------------------------------------------------- properties


@given(ratings(), st.data())
def test_lowering_an_item_never_lowers_a_stage(rating, data):
    key = data.draw(st.sampled_from(sorted(rating)))
    lowered = {**rating, key: data.draw(st.integers(min_value=0, max_value=rating[key]))}

    assert kings_stage(lowered).rank >= kings_stage(rating).rank
    assert mitos_stage(lowered) >= mitos_stage(rating)


@given(ratings())
def test_stages_stay_in_range(rating):
    assert kings_stage(rating) in {"1", "2", "3", "4A", "4B"}
    assert 0 <= mitos_stage(rating) <= 4
