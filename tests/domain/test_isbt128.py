"""ISBT 128 Donation Identification Numbers and their MOD 37-2 check character (clinical.md §10).

Golden vectors are published examples, written here as literals. The property tests need valid DINs
for random numbers, so ``reference_check`` below restates ISO/IEC 7064 MOD 37-2 from its defining
congruence (pure system, radix 2, modulus 37): with the 13 DIN values weighted 2^13 .. 2^1 from the
left and the check value weighted 2^0, the weighted sum is congruent to 1 mod 37. It is checked
against the golden vectors first.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alscell.domain.isbt128 import DIN_PATTERN, check_character, normalize_unit_id, parse_unit_id
from alscell.errors import InvalidInput

ALPHABET = string.digits + string.ascii_uppercase + "*"  # 0-9 = 0-9, A-Z = 10-35, * = 36
ALNUM = string.digits + string.ascii_uppercase

GOLDEN = [
    # UK Red Book (Guidelines for the Blood Transfusion Services in the UK), Annexe 2
    ("G123498654321", "H"),
    # ICCBBA IN-015, ISBT 128 keyboard entry check character examples
    ("A999916123456", "Q"),
    ("A999922654321", "S"),
    ("A999922123458", "J"),
    ("A999922012346", "*"),
    ("A999522123456", "*"),
    ("A999914123456", "N"),
]


def reference_check(din: str) -> str:
    """MOD 37-2 from its congruence: sum(v_i * 2^(14 - i)) + c ≡ 1 (mod 37), i = 1..13."""
    weighted = sum(ALPHABET.index(char) * 2 ** (13 - i) for i, char in enumerate(din))
    return ALPHABET[(1 - weighted) % 37]


@st.composite
def dins(draw: st.DrawFn) -> str:
    """A DIN: facility (a letter and four letters or digits), 2-digit year, 6-digit sequence."""
    facility = draw(st.sampled_from(string.ascii_uppercase)) + draw(
        st.text(alphabet=ALNUM, min_size=4, max_size=4)
    )
    number = draw(st.text(alphabet=string.digits, min_size=8, max_size=8))
    return facility + number


def allowed_at(position: int) -> str:
    """The characters a valid entry may hold at ``position`` (0-12 the DIN, 13 the check)."""
    if position == 0:
        return string.ascii_uppercase
    if position <= 4:
        return ALNUM
    if position <= 12:
        return string.digits
    return ALPHABET


def rejection(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_unit_id(text)
    (problem,) = caught.value.problems
    assert problem.location == "unit_id"
    return problem.message


# ---------------------------------------------------------------- golden vectors


@pytest.mark.golden
@pytest.mark.parametrize(("din", "check"), GOLDEN)
def test_check_character_matches_published_examples(din: str, check: str) -> None:
    assert check_character(din) == check


@pytest.mark.golden
@pytest.mark.parametrize(("din", "check"), GOLDEN)
def test_reference_implementation_matches_published_examples(din: str, check: str) -> None:
    assert reference_check(din) == check


@pytest.mark.golden
@pytest.mark.parametrize(("din", "check"), GOLDEN)
def test_published_entries_parse_to_their_din(din: str, check: str) -> None:
    assert parse_unit_id(din + check) == din


@pytest.mark.parametrize(
    "din", ["A99992201234*", "a999922012346", "A99992201234-", "A9999 2012346"]
)
def test_check_character_refuses_characters_outside_digits_and_capitals(din: str) -> None:
    with pytest.raises(ValueError, match="is not a digit or capital letter"):
        check_character(din)


# ---------------------------------------------------------------- typed entries


@pytest.mark.parametrize(
    "text",
    [
        "g1234 98 654321 h",
        "G1234-98-654321-H",
        " G123498654321H ",
        "g123498654321h",
        "G1234\t98654321H",
    ],
)
def test_spaces_hyphens_and_lower_case_are_accepted(text: str) -> None:
    assert parse_unit_id(text) == "G123498654321"


def test_normalize_upper_cases_and_drops_spaces_and_hyphens() -> None:
    assert normalize_unit_id("a9999-22 01234 6*") == "A999922012346*"


def test_supplementary_star_is_accepted_as_a_check_character() -> None:
    assert parse_unit_id("A999922012346*") == "A999922012346"


def test_wrong_check_character_names_the_field_and_the_expected_character() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_unit_id("G123498654321J", field="units[2].din")

    (problem,) = caught.value.problems
    assert problem.location == "units[2].din"
    assert "'J'" in problem.message
    assert "(expected 'H')" in problem.message
    assert "G123498654321" in problem.message
    assert caught.value.subject == "product unit identifier"


def test_star_where_a_letter_is_due_is_refused() -> None:
    assert "(expected 'H')" in rejection("G123498654321*")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "H",
        "G123498654321",  # the DIN alone: its last digit is taken as the check, leaving 12 characters
        "G12349865432H",  # 12-character DIN
        "G123498654321HH",  # two check characters
        "1123498654321H",  # facility must start with a letter
        "G12349A654321H",  # year must be digits
        "G1234986543Z1H",  # sequence must be digits
        "G1234*8654321H",  # * is only a check character
        "G1234_98654321H",  # underscore is not a separator
    ],
)
def test_malformed_identifiers_are_refused(text: str) -> None:
    message = rejection(text)
    assert "13-character DIN and its check character" in message
    assert repr(text) in message


def test_din_pattern_describes_the_din_layout() -> None:
    assert DIN_PATTERN.fullmatch("G123498654321")
    assert DIN_PATTERN.fullmatch("AB1C922123456")
    assert not DIN_PATTERN.fullmatch("0123498654321")
    assert not DIN_PATTERN.fullmatch("G1234986543210")


# ---------------------------------------------------------------- error detection (properties)


@given(dins())
def test_random_dins_with_their_check_character_parse(din: str) -> None:
    assert parse_unit_id(din + reference_check(din)) == din


@given(dins(), st.data())
def test_every_single_substitution_is_detected(din: str, data: st.DataObject) -> None:
    entry = din + reference_check(din)
    position = data.draw(st.integers(min_value=0, max_value=13), label="position")
    replacement = data.draw(
        st.sampled_from(allowed_at(position)).filter(lambda c: c != entry[position]),
        label="replacement",
    )
    typed = entry[:position] + replacement + entry[position + 1 :]

    # the layout still holds, so only the check character can catch the typing error
    assert "does not match" in rejection(typed)


@given(dins(), st.integers(min_value=0, max_value=12))
def test_every_adjacent_transposition_is_detected(din: str, position: int) -> None:
    entry = din + reference_check(din)
    assume(entry[position] != entry[position + 1])
    typed = entry[:position] + entry[position + 1] + entry[position] + entry[position + 2 :]

    rejection(typed)
