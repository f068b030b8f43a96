"""Pre-puncture safety checks (clinical.md §9.1: contraindications, pre-LP checks, hold times).

Defaults are read off the §9.1 tables by hand: platelets >= 50 × 10^9/L, INR <= 1.4, the five absolute
contraindications, cardiorespiratory insufficiency as relative, and the ASRA hold times written out in
``REFERENCE_HOLD_HOURS`` below (days × 24 h).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.criteria import CriterionResult, Status
from alscell.domain.safety import (
    ABSOLUTE_CONTRAINDICATIONS,
    DEFAULT_HOLD_HOURS,
    PrePunctureFacts,
    SafetyThresholds,
    check_pre_puncture,
)
from alscell.domain.schema import build
from alscell.errors import InvalidInput

# clinical.md §9.1, "Anticoagulant / antiplatelet hold times before neuraxial puncture":
REFERENCE_HOLD_HOURS = {
    "rivaroxaban": 72,  # 72 h (treatment dose)
    "apixaban": 72,  # 72 h (treatment dose)
    "dabigatran": 120,  # 120 h, UNVERIFIED
    "warfarin": 5 * 24,  # ~5 days
    "clopidogrel": 7 * 24,  # 7 days
    "prasugrel": 10 * 24,  # 10 days
    "ticagrelor": 5 * 24,  # 5 days
    "heparin_iv": 4,  # UFH IV infusion, 4 h
    "heparin_sc_prophylactic": 6,  # UFH SC prophylactic, 4-6 h: the longer end
    "lmwh_prophylactic": 12,  # 10-12 h: the longer end
    "lmwh_therapeutic": 24,  # 24 h
    "aspirin": 0,  # no restriction alone
    "nsaid": 0,  # no restriction alone
}

# clinical.md §9.1, "Contraindications and pre-LP checks":
ABSOLUTE = (
    "raised_intracranial_pressure",
    "local_infection",
    "spinal_cord_compression",
    "chiari_malformation",
    "tethered_cord",
)
RELATIVE = "cardiorespiratory_insufficiency"

DEFAULTS = SafetyThresholds()


def clear(**changes: Any) -> PrePunctureFacts:
    """Facts passing every default check: normal counts, medication reviewed, no findings."""
    findings = dict.fromkeys((*ABSOLUTE, RELATIVE), False)
    facts: dict[str, Any] = {
        "platelets_10e9_per_l": 220.0,
        "inr": 1.0,
        "anticoagulants_reviewed": True,
        "hours_since_last_dose": {},
        "findings": findings,
    }
    facts.update(changes)
    return PrePunctureFacts(**facts)


def by_name(results: Iterable[CriterionResult]) -> dict[str, CriterionResult]:
    return {result.criterion: result for result in results}


def check(
    facts: PrePunctureFacts, thresholds: SafetyThresholds = DEFAULTS
) -> dict[str, CriterionResult]:
    return by_name(check_pre_puncture(thresholds, facts))


def problems_of(data: Mapping[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        build(SafetyThresholds, data)
    return {problem.location: problem.message for problem in caught.value.problems}


# ---------------------------------------------------------------- defaults against §9.1


def test_default_hold_times_match_the_reference_table():
    assert dict(DEFAULT_HOLD_HOURS) == REFERENCE_HOLD_HOURS


def test_default_thresholds_match_the_reference():
    assert DEFAULTS.platelets_min_10e9_per_l == 50
    assert DEFAULTS.inr_max == 1.4
    assert dict(DEFAULTS.anticoagulant_hold_hours) == REFERENCE_HOLD_HOURS
    assert set(DEFAULTS.contraindications) == set(ABSOLUTE)
    assert set(ABSOLUTE_CONTRAINDICATIONS) == set(ABSOLUTE)
    assert DEFAULTS.relative_contraindications == (RELATIVE,)


def test_clear_facts_meet_every_check_and_each_check_is_reported():
    results = check_pre_puncture(DEFAULTS, clear())

    assert [r.criterion for r in results] == [
        "platelets", "inr", "anticoagulants", *ABSOLUTE, f"relative:{RELATIVE}",
    ]  # fmt: skip
    assert {r.status for r in results} == {Status.MET}


def test_nothing_recorded_is_unknown_everywhere_never_met():
    results = check_pre_puncture(DEFAULTS, PrePunctureFacts())

    assert {r.status for r in results} == {Status.UNKNOWN}
    assert {r.value for r in results} == {None}


# ---------------------------------------------------------------- platelets (>= 50 × 10^9/L)


@pytest.mark.parametrize(
    ("platelets", "status"),
    [(50.0, Status.MET), (49.9, Status.NOT_MET), (51.0, Status.MET), (0.0, Status.NOT_MET)],
)
def test_platelet_threshold_is_inclusive(platelets, status):
    answer = check(clear(platelets_10e9_per_l=platelets))["platelets"]

    assert answer.status is status
    assert answer.value == platelets
    assert answer.rule == "platelets >= 50 × 10^9/L"


def test_missing_platelets_are_unknown():
    answer = check(clear(platelets_10e9_per_l=None))["platelets"]

    assert (answer.status, answer.value) == (Status.UNKNOWN, None)
    assert answer.rule == "platelets >= 50 × 10^9/L"


# ---------------------------------------------------------------- INR (<= 1.4)


@pytest.mark.parametrize(
    ("inr", "status"),
    [(1.4, Status.MET), (1.41, Status.NOT_MET), (0.9, Status.MET), (1.5, Status.NOT_MET)],
)
def test_inr_ceiling_is_inclusive(inr, status):
    answer = check(clear(inr=inr))["inr"]

    assert answer.status is status
    assert answer.value == inr
    assert answer.rule == "INR <= 1.4"


def test_missing_inr_is_unknown():
    answer = check(clear(inr=None))["inr"]

    assert (answer.status, answer.value) == (Status.UNKNOWN, None)


# ---------------------------------------------------------------- anticoagulants and hold times


def test_medication_not_reviewed_is_unknown():
    answers = check(clear(anticoagulants_reviewed=False))

    assert answers["anticoagulants"].status is Status.UNKNOWN
    assert answers["anticoagulants"].value is None


def test_a_known_drug_inside_its_hold_is_shown_even_before_the_review():
    answers = check(clear(anticoagulants_reviewed=False, hours_since_last_dose={"apixaban": 24}))

    assert answers["anticoagulants"].status is Status.UNKNOWN
    assert answers["hold:apixaban"].status is Status.NOT_MET


def test_medication_reviewed_with_no_anticoagulant_is_met():
    answers = check(clear())

    assert answers["anticoagulants"].status is Status.MET
    assert answers["anticoagulants"].value is True
    assert not [name for name in answers if name.startswith("hold:")]


@pytest.mark.parametrize(
    ("drug", "hold"),
    [("rivaroxaban", 72), ("apixaban", 72), ("warfarin", 120), ("clopidogrel", 168),
     ("prasugrel", 240), ("ticagrelor", 120), ("heparin_iv", 4), ("lmwh_prophylactic", 12),
     ("lmwh_therapeutic", 24)],
)  # fmt: skip
def test_drug_inside_its_hold_time_is_not_met(drug, hold):
    answer = check(clear(hours_since_last_dose={drug: hold - 1}))[f"hold:{drug}"]

    assert answer.status is Status.NOT_MET
    assert answer.value == hold - 1
    assert answer.rule == f"last {drug} dose >= {hold} h before puncture"


@pytest.mark.parametrize(
    ("drug", "hold"),
    [("rivaroxaban", 72), ("warfarin", 120), ("clopidogrel", 168), ("prasugrel", 240),
     ("ticagrelor", 120), ("heparin_iv", 4), ("lmwh_prophylactic", 12), ("lmwh_therapeutic", 24)],
)  # fmt: skip
def test_drug_exactly_at_its_hold_time_is_met(drug, hold):
    answer = check(clear(hours_since_last_dose={drug: hold}))[f"hold:{drug}"]

    assert answer.status is Status.MET
    assert answer.value == hold


def test_a_few_days_of_warfarin_hold_is_not_enough():
    # §9.1: warfarin ~5 days; 4 days (96 h) is short of the default.
    assert check(clear(hours_since_last_dose={"warfarin": 96}))["hold:warfarin"].status is (
        Status.NOT_MET
    )


@pytest.mark.parametrize("drug", ["aspirin", "nsaid"])
def test_aspirin_or_nsaid_alone_has_no_restriction(drug):
    answer = check(clear(hours_since_last_dose={drug: 0}))[f"hold:{drug}"]

    assert answer.status is Status.MET
    assert answer.value == 0


def test_drug_without_a_hold_time_in_the_protocol_needs_review():
    answer = check(clear(hours_since_last_dose={"edoxaban": 500}))["hold:edoxaban"]

    assert answer.status is Status.REVIEW
    assert answer.value == 500
    assert "no hold time in the protocol" in answer.rule


def test_every_drug_taken_is_checked_in_name_order():
    facts = clear(hours_since_last_dose={"warfarin": 200, "clopidogrel": 24, "aspirin": 2})

    holds = [r for r in check_pre_puncture(DEFAULTS, facts) if r.criterion.startswith("hold:")]

    assert [(r.criterion, r.status) for r in holds] == [
        ("hold:aspirin", Status.MET),
        ("hold:clopidogrel", Status.NOT_MET),
        ("hold:warfarin", Status.MET),
    ]


# ---------------------------------------------------------------- contraindications


@pytest.mark.parametrize("name", ABSOLUTE)
@pytest.mark.parametrize(
    ("present", "status"), [(True, Status.NOT_MET), (False, Status.MET), (None, Status.UNKNOWN)]
)
def test_each_absolute_contraindication(name, present, status):
    findings: dict[str, bool] = dict.fromkeys((*ABSOLUTE, RELATIVE), False)
    if present is None:
        del findings[name]
    else:
        findings[name] = present

    answers = check(clear(findings=findings))

    assert answers[name].status is status
    assert answers[name].value is present
    assert answers[name].rule == f"no {name.replace('_', ' ')} (contraindication)"
    others = {n: a.status for n, a in answers.items() if n != name}
    assert set(others.values()) == {Status.MET}


@pytest.mark.parametrize(
    ("present", "status"), [(True, Status.REVIEW), (False, Status.MET), (None, Status.UNKNOWN)]
)
def test_relative_contraindication_is_reported_separately(present, status):
    findings: dict[str, bool] = dict.fromkeys(ABSOLUTE, False)
    if present is not None:
        findings[RELATIVE] = present

    answers = check(clear(findings=findings))

    answer = answers[f"relative:{RELATIVE}"]
    assert answer.status is status
    assert answer.value is present
    assert answer.rule == "no cardiorespiratory insufficiency (relative contraindication)"
    assert RELATIVE not in answers  # never reported as an absolute one


def test_findings_outside_the_protocol_lists_are_not_checked():
    answers = check(clear(findings={**clear().findings, "headache": True}))

    assert "headache" not in answers
    assert {a.status for a in answers.values()} == {Status.MET}


# ---------------------------------------------------------------- custom thresholds


def test_custom_thresholds_are_used():
    thresholds = build(
        SafetyThresholds,
        {"platelets_min_10e9_per_l": 40, "inr_max": 1.5, "anticoagulant_hold_hours": {"warfarin": 96},
         "contraindications": ["local_infection"], "relative_contraindications": []},
    )  # fmt: skip
    facts = PrePunctureFacts(
        platelets_10e9_per_l=40.0,
        inr=1.5,
        anticoagulants_reviewed=True,
        hours_since_last_dose={"warfarin": 96, "rivaroxaban": 100},
        findings={"local_infection": False, "raised_intracranial_pressure": True},
    )

    answers = check(facts, thresholds)

    assert answers["platelets"].status is Status.MET
    assert answers["platelets"].rule == "platelets >= 40 × 10^9/L"
    assert answers["inr"].status is Status.MET
    assert answers["hold:warfarin"].status is Status.MET
    assert answers["hold:rivaroxaban"].status is Status.REVIEW  # the mapping replaces the defaults
    assert list(answers) == [
        "platelets", "inr", "anticoagulants", "hold:rivaroxaban", "hold:warfarin", "local_infection",
    ]  # fmt: skip


def test_stricter_platelet_threshold_from_meningitis_guidance():
    thresholds = build(SafetyThresholds, {"platelets_min_10e9_per_l": 100})  # §9.1: 100

    assert check(clear(platelets_10e9_per_l=99.0), thresholds)["platelets"].status is (
        Status.NOT_MET
    )
    assert check(clear(platelets_10e9_per_l=99.0))["platelets"].status is Status.MET


def test_build_with_nothing_gives_the_reference_defaults():
    assert build(SafetyThresholds, {}) == DEFAULTS


def test_a_name_both_absolute_and_relative_is_refused():
    data = {
        "contraindications": ["local_infection", "tethered_cord"],
        "relative_contraindications": ["tethered_cord", "local_infection"],
    }

    assert problems_of(data) == {
        "relative_contraindications": "also listed as absolute: local_infection, tethered_cord"
    }


def test_moving_a_default_absolute_to_relative_needs_removing_it_from_absolute():
    assert problems_of({"relative_contraindications": ["tethered_cord"]}) == {
        "relative_contraindications": "also listed as absolute: tethered_cord"
    }


def test_negative_hold_time_is_refused_with_its_path():
    data = {"anticoagulant_hold_hours": {"warfarin": -1, "apixaban": 72}}

    assert problems_of(data) == {"anticoagulant_hold_hours.warfarin": "must be >= 0, got -1"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("platelets_min_10e9_per_l", 0), ("platelets_min_10e9_per_l", -50), ("inr_max", 0),
     ("inr_max", "1.4")],
)  # fmt: skip
def test_non_positive_or_text_thresholds_are_refused(field, value):
    assert set(problems_of({field: value})) == {field}


# ---------------------------------------------------------------- properties

platelets = st.floats(min_value=0, max_value=1000, allow_nan=False)
inrs = st.floats(min_value=0.5, max_value=10, allow_nan=False)


@given(platelets, platelets)
def test_raising_platelets_never_turns_met_into_not_met(a, b):
    low, high = sorted((a, b))

    before = check(clear(platelets_10e9_per_l=low))["platelets"].status
    after = check(clear(platelets_10e9_per_l=high))["platelets"].status

    assert not (before is Status.MET and after is Status.NOT_MET)
    assert (after is Status.MET) == (high >= 50)


@given(inrs, inrs)
def test_lowering_inr_never_turns_met_into_not_met(a, b):
    low, high = sorted((a, b))

    before = check(clear(inr=high))["inr"].status
    after = check(clear(inr=low))["inr"].status

    assert not (before is Status.MET and after is Status.NOT_MET)
    assert (before is Status.MET) == (high <= 1.4)


@given(st.sampled_from(sorted(REFERENCE_HOLD_HOURS)), st.floats(min_value=0, max_value=1000))
def test_hold_is_met_exactly_when_the_reference_hours_have_passed(drug, hours):
    answer = check(clear(hours_since_last_dose={drug: hours}))[f"hold:{drug}"]

    assert (answer.status is Status.MET) == (hours >= REFERENCE_HOLD_HOURS[drug])
