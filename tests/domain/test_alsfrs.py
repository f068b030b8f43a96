"""ALSFRS-R scoring and validation (clinical.md §1.1 items and 5a/5b rule, §1.2 domains, §1.3 LOINC)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain import alsfrs
from alscell.domain.alsfrs import Domain
from alscell.domain.loinc import is_valid_loinc
from alscell.errors import InvalidInput, InvalidResponses
from tests.domain.strategies import all_normal, ratings

# A rating worked by hand (clinical.md §1.2 domains):
#   bulbar      q1..q3      4 + 3 + 2 = 9
#   fine motor  q4, q5, q6  1 + 0 + 4 = 5
#   gross motor q7..q9      3 + 2 + 1 = 6
#   respiratory q10..q12    0 + 4 + 3 = 7        total 27
WORKED = {"q1": 4, "q2": 3, "q3": 2, "q4": 1, "q5a": 0, "q6": 4,
          "q7": 3, "q8": 2, "q9": 1, "q10": 0, "q11": 4, "q12": 3}  # fmt: skip


def problems_of(error: InvalidInput) -> dict[str, str]:
    return {problem.location: problem.message for problem in error.problems}


def test_worked_example_gives_total_and_domains():
    result = alsfrs.score(WORKED)

    assert (result.total, result.bulbar, result.fine_motor) == (27, 9, 5)
    assert (result.gross_motor, result.respiratory) == (6, 7)
    assert result.gastrostomy is False


def test_item_5b_counts_in_fine_motor_and_marks_gastrostomy():
    rating = {**{k: v for k, v in WORKED.items() if k != "q5a"}, "q5b": 2}

    result = alsfrs.score(rating)

    assert result.fine_motor == 1 + 2 + 4
    assert result.total == 29
    assert result.gastrostomy is True


@pytest.mark.parametrize(("value", "total"), [(4, 48), (0, 0)])
def test_extremes_of_the_scale(value, total):
    rating = dict.fromkeys(all_normal(), value)

    assert alsfrs.score(rating).total == total


def test_result_records_scale_version_and_domains_mapping():
    result = alsfrs.score(WORKED)

    assert result.scale_version == alsfrs.SCALE_VERSION
    assert dict(result.domains) == {Domain.BULBAR: 9, Domain.FINE_MOTOR: 5,
                                    Domain.GROSS_MOTOR: 6, Domain.RESPIRATORY: 7}  # fmt: skip


def test_numpy_integers_are_accepted():
    rating = {key: np.int64(value) for key, value in WORKED.items()}

    assert alsfrs.score(rating).total == 27


def test_missing_item_is_named():
    rating = {k: v for k, v in WORKED.items() if k != "q7"}

    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score(rating)

    assert problems_of(caught.value) == {"q7": "missing item"}
    assert caught.value.scale_id == "alsfrs-r"


def test_neither_5a_nor_5b_is_a_missing_item_5():
    rating = {k: v for k, v in WORKED.items() if k != "q5a"}

    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score(rating)

    assert list(problems_of(caught.value)) == ["q5a/q5b"]
    assert "exactly one of q5a" in str(caught.value)


def test_both_5a_and_5b_are_refused():
    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score({**WORKED, "q5b": 3})

    assert "not both" in problems_of(caught.value)["q5a/q5b"]


def test_q5_without_a_letter_is_an_unknown_key_that_explains_5a_and_5b():
    rating = {k: v for k, v in WORKED.items() if k != "q5a"} | {"q5": 3}

    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score(rating)

    found = problems_of(caught.value)
    assert "q5a (no gastrostomy) or q5b (gastrostomy)" in found["q5"]
    assert "q5a/q5b" in found  # item 5 is still missing


@pytest.mark.parametrize("value", [5, -1, 100])
def test_out_of_range_value_is_named(value):
    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score({**WORKED, "q9": value})

    assert problems_of(caught.value) == {"q9": f"out of range: {value} is not in 0-4"}


@pytest.mark.parametrize("value", [True, 3.0, "3", None])
def test_value_that_is_not_an_int_is_named(value):
    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score({**WORKED, "q2": value})

    assert problems_of(caught.value) == {"q2": f"not an int: got {value!r}"}


def test_unknown_keys_are_named_including_non_strings():
    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score({**WORKED, "q13": 4, 1: 4})  # type: ignore[dict-item]

    assert set(problems_of(caught.value)) == {"q13", "1"}


def test_every_problem_is_reported_at_once():
    rating: dict[str, object] = {k: v for k, v in WORKED.items() if k not in ("q1", "q5a")}
    rating |= {"q3": 7, "q4": "x", "bogus": 1}

    with pytest.raises(InvalidResponses) as caught:
        alsfrs.score(rating)

    assert set(problems_of(caught.value)) == {"q1", "q5a/q5b", "q3", "q4", "bogus"}
    assert str(caught.value).startswith("invalid alsfrs-r responses (5 problems): ")


def test_invalid_responses_is_an_invalid_input():
    with pytest.raises(InvalidInput):
        alsfrs.score({})


def test_validate_returns_plain_ints():
    responses = alsfrs.validate({key: np.int8(value) for key, value in WORKED.items()})

    assert responses == WORKED
    assert all(type(value) is int for value in responses.values())


def test_item_table_has_twelve_items_plus_the_5b_form():
    keys = [item.key for item in alsfrs.ITEMS]

    assert keys == ["q1", "q2", "q3", "q4", "q5a", "q5b", "q6",
                    "q7", "q8", "q9", "q10", "q11", "q12"]  # fmt: skip
    assert all(len(item.anchors) == 5 and all(item.anchors) for item in alsfrs.ITEMS)


def test_domains_match_clinical_reference_section_1_2():
    by_domain: dict[Domain, list[str]] = {}
    for item in alsfrs.ITEMS:
        by_domain.setdefault(item.domain, []).append(item.number)

    assert by_domain == {
        Domain.BULBAR: ["1", "2", "3"],
        Domain.FINE_MOTOR: ["4", "5a", "5b", "6"],
        Domain.GROSS_MOTOR: ["7", "8", "9"],
        Domain.RESPIRATORY: ["10", "11", "12"],
    }


def test_loinc_codes_are_well_formed_and_their_confidence_is_recorded():
    codes = [item.loinc for item in alsfrs.ITEMS] + [alsfrs.PANEL_LOINC, alsfrs.TOTAL_LOINC]
    confirmed = {item.key for item in alsfrs.ITEMS if item.loinc_confirmed}

    assert all(is_valid_loinc(code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert confirmed == {"q1", "q2", "q8"}  # the only item codes VERIFIED-1 in clinical.md §1.3
    assert alsfrs.ITEM_BY_KEY["q1"].loinc == "82940-8"


def test_item_11_anchors_are_flagged_unverified():
    unverified = [item.key for item in alsfrs.ITEMS if not item.anchors_verified]

    assert unverified == ["q11"]


@given(ratings())
def test_total_is_the_sum_of_items_and_of_domains(rating):
    result = alsfrs.score(rating)

    assert result.total == sum(rating.values())
    assert result.total == sum(result.domains.values())
    assert 0 <= result.total <= 48
    assert all(0 <= value <= 12 for value in result.domains.values())
    assert result.gastrostomy == ("q5b" in rating)


@given(ratings(), st.data())
def test_lowering_one_item_lowers_the_total_by_the_same_amount(rating, data):
    key = data.draw(st.sampled_from(sorted(rating)))
    lowered = data.draw(st.integers(min_value=0, max_value=rating[key]))

    before = alsfrs.score(rating).total
    after = alsfrs.score({**rating, key: lowered}).total

    assert before - after == rating[key] - lowered
