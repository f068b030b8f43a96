"""LOINC mod-10 check digits (clinical.md §1.3), against codes published by LOINC itself."""

from __future__ import annotations

import pytest

from alscell.domain.loinc import is_valid_loinc, loinc_check_digit

# Well-known LOINC codes, copied from loinc.org: hemoglobin, glucose, systolic and diastolic blood
# pressure, body weight, body height, and the ALSFRS-R panel and total (clinical.md §1.3).
PUBLISHED = ["718-7", "2345-7", "8480-6", "8462-4", "29463-7", "8302-2", "82954-9", "82953-1"]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_pass(code):
    body, check = code.split("-")

    assert loinc_check_digit(body) == int(check)
    assert is_valid_loinc(code)


def test_worked_example_from_the_rule():
    # 82953: from the right 3→6, 5, 9→18→9, 2, 8→16→7; sum 29; (10 - 9) mod 10 = 1
    assert loinc_check_digit("82953") == 1


@pytest.mark.parametrize("code", ["718-8", "82953-2", "718", "71a-7", "-7", "12345678-9", "718-77"])
def test_malformed_or_wrong_codes_fail(code):
    assert not is_valid_loinc(code)


@pytest.mark.parametrize("body", ["", "12a", "١٢"])
def test_check_digit_refuses_non_digits(body):
    with pytest.raises(ValueError, match="ASCII digits"):
        loinc_check_digit(body)


@pytest.mark.parametrize("code", ["718-7\n", "١٨-7"])
def test_trailing_newlines_and_non_ascii_digits_fail(code):
    assert not is_valid_loinc(code)
