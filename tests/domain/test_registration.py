"""The rules a registration, an identity and a diagnosis obey however they are entered."""

from __future__ import annotations

from datetime import date

import pytest

from alscell.domain.registration import (
    diagnosis_problems,
    future_problems,
    identity_problems,
    patient_problems,
)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("AMS-001", True),
        ("A1B", True),  # 3 characters, the shortest
        ("A" * 40, True),  # the longest
        ("A" * 41, False),
        ("AB", False),
        ("-AB", False),  # a hyphen may not lead
        ("ams-001", False),
        ("AMS 001", False),
        ("../AMS", False),  # it names export files: nothing that walks a path
        ("AMS/001", False),
        ("", False),
    ],
)
def test_a_study_code_is_3_to_40_capitals_digits_or_hyphens(code, valid):
    assert (patient_problems(study_code=code, sex=None) == []) is valid


@pytest.mark.parametrize("sex", [None, "female", "male", "other", "unknown"])
def test_the_four_recorded_sexes_or_none(sex):
    assert patient_problems(study_code="AMS-001", sex=sex) == []


def test_any_other_sex_is_named_with_what_was_given():
    (problem,) = patient_problems(study_code="AMS-001", sex="F")
    assert (problem.location, problem.message) == (
        "sex",
        "must be female, male, other or unknown, got 'F'",
    )


def test_blank_names_identify_nobody():
    found = identity_problems(given_name=" \t", family_name="")
    assert [(p.location, p.message) for p in found] == [
        ("given_name", "must not be empty"),
        ("family_name", "must not be empty"),
    ]
    assert identity_problems(given_name="Zoë", family_name="N'Diaye") == []


def test_a_diagnosis_names_each_broken_field():
    found = diagnosis_problems(onset_site="arm", onset_on=date(2025, 3, 10),
                               diagnosis_on=date(2025, 3, 9), el_escorial="likely",
                               awaji="sure")  # fmt: skip
    assert [p.location for p in found] == ["onset_site", "diagnosis_on", "el_escorial", "awaji"]
    assert found[1].message == "2025-03-09 is before symptom onset (2025-03-10)"


def test_a_diagnosis_on_the_day_of_onset_with_known_categories_is_sound():
    onset = date(2025, 3, 10)
    found = diagnosis_problems(onset_site="bulbar", onset_on=onset, diagnosis_on=onset,
                               el_escorial="probable_laboratory_supported", awaji="possible")  # fmt: skip
    assert found == []


def test_only_days_after_today_are_in_the_future():
    today = date(2026, 1, 5)
    found = future_problems(today, birth_on=date(2026, 1, 6), diagnosis_on=today, onset_on=None)
    assert [(p.location, p.message) for p in found] == [("birth_on", "2026-01-06 is in the future")]
