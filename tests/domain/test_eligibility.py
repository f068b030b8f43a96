"""Eligibility against the seed protocol and variants of it (clinical.md §2, §5, §8, §9.1, §12).

The seed protocol (protocols/als-nsc-4lp.yaml) asks for revised El Escorial definite, probable or
probable laboratory-supported ALS (§8), sporadic ALS, age 18-80, ALSFRS-R total >= 24, VC >= 50 %
predicted, <= 60 months since onset, five exclusions and the pre-puncture checks of §9.1. Variants add
the criteria of §12: an item floor (STR04: every ALSFRS-R item >= 2), a ΔFS floor (§2, Italian hNSC
trial: exclude ΔFS < 0.3), an ENCALS linear-predictor window (§5) and a run-in decline (>= 3 points).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.criteria import CriterionResult, Range, Status
from alscell.domain.eligibility import (
    DiagnosticSystem,
    EligibilityCriteria,
    EligibilityFacts,
    EligibilityResult,
    evaluate_eligibility,
)
from alscell.domain.protocol import Protocol
from alscell.domain.safety import PrePunctureFacts
from alscell.domain.schema import build
from alscell.errors import InvalidInput, InvalidResponses
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol
from tests.domain.strategies import all_normal

SEED = read_protocol(builtin_protocol_path("als-nsc-4lp"))

EXCLUSIONS = (
    "pregnancy",
    "tracheostomy",
    "active_infection",
    "malignancy",
    "other_neurological_disease",
)
CONTRAINDICATIONS = (
    "raised_intracranial_pressure",
    "local_infection",
    "spinal_cord_compression",
    "chiari_malformation",
    "tethered_cord",
)
PRE_PUNCTURE = ("platelets", "inr", "anticoagulants", *CONTRAINDICATIONS,
                "relative:cardiorespiratory_insufficiency")  # fmt: skip
SEED_CRITERIA = (
    "diagnosis", "sporadic", "age_years", "months_since_onset", "alsfrs_r_total_min",
    "vital_capacity_percent_min", *(f"exclusion:{name}" for name in EXCLUSIONS), *PRE_PUNCTURE,
)  # fmt: skip


def clear_pre_puncture(**changes: Any) -> PrePunctureFacts:
    facts: dict[str, Any] = {
        "platelets_10e9_per_l": 240.0,
        "inr": 1.0,
        "anticoagulants_reviewed": True,
        "hours_since_last_dose": {},
        "findings": dict.fromkeys((*CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False),
    }
    facts.update(changes)
    return PrePunctureFacts(**facts)


def eligible_facts(**changes: Any) -> EligibilityFacts:
    """A patient meeting every criterion of the seed protocol, then the given changes."""
    facts: dict[str, Any] = {
        "diagnosis_category": "probable",
        "familial": False,
        "age_years": 58.0,
        "alsfrs_r_total": 39,  # 48 - 39 = 9 points lost in 18 months: ΔFS 0.5 (§2)
        "alsfrs_r_items": None,
        "vital_capacity_percent": 82.0,
        "months_since_onset": 18.0,
        "delta_fs": 0.5,
        "encals_lp": -4.5872,  # the worked example of test_encals.py
        "run_in_decline": 3.0,
        "exclusions": dict.fromkeys(EXCLUSIONS, False),
        "pre_puncture": clear_pre_puncture(),
    }
    facts.update(changes)
    return EligibilityFacts(**facts)


def variant(**changes: Any) -> Protocol:
    return dataclasses.replace(SEED, eligibility=dataclasses.replace(SEED.eligibility, **changes))


def by_name(results: Iterable[CriterionResult]) -> dict[str, CriterionResult]:
    return {result.criterion: result for result in results}


def answers(facts: EligibilityFacts, protocol: Protocol = SEED) -> dict[str, CriterionResult]:
    return by_name(evaluate_eligibility(protocol, facts).criteria)


def criteria_problems(data: Mapping[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        build(EligibilityCriteria, data)
    return {problem.location: problem.message for problem in caught.value.problems}


# ---------------------------------------------------------------- the seed protocol


def test_seed_protocol_criteria_are_as_written_in_the_file():
    criteria = SEED.eligibility

    assert criteria.diagnostic_system is DiagnosticSystem.REVISED_EL_ESCORIAL
    assert criteria.diagnosis_categories == (
        "definite",
        "probable",
        "probable_laboratory_supported",
    )
    assert criteria.sporadic_only is True
    assert criteria.age_years == Range(18, 80)
    assert (criteria.alsfrs_r_total_min, criteria.vital_capacity_percent_min) == (24, 50)
    assert criteria.months_since_onset == Range(max=60)
    assert criteria.exclusions == EXCLUSIONS
    assert criteria.lumbar_puncture_safety is True


def test_fully_eligible_patient_is_eligible():
    result = evaluate_eligibility(SEED, eligible_facts())

    assert result.eligible is True
    assert result.status is Status.MET
    assert tuple(r.criterion for r in result.criteria) == SEED_CRITERIA
    assert result.with_status(Status.MET) == result.criteria


@pytest.mark.parametrize(
    ("changes", "criterion"),
    [({"age_years": 18.0}, "age_years"), ({"age_years": 80.0}, "age_years"),
     ({"alsfrs_r_total": 24}, "alsfrs_r_total_min"),
     ({"vital_capacity_percent": 50.0}, "vital_capacity_percent_min"),
     ({"months_since_onset": 60.0}, "months_since_onset"),
     ({"diagnosis_category": "definite"}, "diagnosis"),
     ({"diagnosis_category": "probable_laboratory_supported"}, "diagnosis")],
)  # fmt: skip
def test_values_on_the_boundary_are_met(changes, criterion):
    result = evaluate_eligibility(SEED, eligible_facts(**changes))

    assert result.eligible
    assert by_name(result.criteria)[criterion].value == next(iter(changes.values()))


@pytest.mark.parametrize(
    ("changes", "criterion", "value"),
    [({"diagnosis_category": "possible"}, "diagnosis", "possible"),
     ({"diagnosis_category": "suspected"}, "diagnosis", "suspected"),
     ({"age_years": 17.9}, "age_years", 17.9),
     ({"age_years": 80.5}, "age_years", 80.5),
     ({"alsfrs_r_total": 23}, "alsfrs_r_total_min", 23),
     ({"vital_capacity_percent": 49.5}, "vital_capacity_percent_min", 49.5),
     ({"months_since_onset": 61.0}, "months_since_onset", 61.0),
     *(({"exclusions": {**dict.fromkeys(EXCLUSIONS, False), name: True}}, f"exclusion:{name}", True)
       for name in EXCLUSIONS),
     ({"pre_puncture": clear_pre_puncture(platelets_10e9_per_l=45.0)}, "platelets", 45.0),
     ({"pre_puncture": clear_pre_puncture(inr=1.6)}, "inr", 1.6),
     ({"pre_puncture": clear_pre_puncture(hours_since_last_dose={"clopidogrel": 120})},
      "hold:clopidogrel", 120),
     ({"pre_puncture": clear_pre_puncture(
         findings={**clear_pre_puncture().findings, "local_infection": True})},
      "local_infection", True)],
)  # fmt: skip
def test_each_failing_criterion_makes_the_patient_ineligible(changes, criterion, value):
    result = evaluate_eligibility(SEED, eligible_facts(**changes))

    assert result.status is Status.NOT_MET
    assert result.eligible is False
    failing = result.with_status(Status.NOT_MET)
    assert [r.criterion for r in failing] == [criterion]
    assert failing[0].value == value


def test_rules_name_the_protocols_limits():
    rules = {name: result.rule for name, result in answers(eligible_facts()).items()}

    assert rules["diagnosis"] == (
        "revised_el_escorial: definite or probable or probable_laboratory_supported"
    )
    assert rules["age_years"] == "age between 18 and 80 years"
    assert rules["alsfrs_r_total_min"] == "ALSFRS-R total >= 24"
    assert rules["vital_capacity_percent_min"] == "vital capacity >= 50 % predicted"
    assert rules["months_since_onset"] == "months since onset <= 60"
    assert rules["exclusion:other_neurological_disease"] == "no other neurological disease"


# ---------------------------------------------------------------- sporadic ALS


def test_familial_als_is_refused_when_the_protocol_is_sporadic_only():
    answer = answers(eligible_facts(familial=True))["sporadic"]

    assert answer.status is Status.NOT_MET
    assert answer.value is False  # the value used: not sporadic
    assert answer.rule == "sporadic ALS (no familial ALS)"


def test_sporadic_als_is_met_with_value_true():
    answer = answers(eligible_facts(familial=False))["sporadic"]

    assert (answer.status, answer.value) == (Status.MET, True)


def test_familial_als_is_not_checked_without_sporadic_only():
    result = evaluate_eligibility(variant(sporadic_only=False), eligible_facts(familial=True))

    assert result.eligible
    assert "sporadic" not in by_name(result.criteria)


# ---------------------------------------------------------------- missing facts


@pytest.mark.parametrize(
    ("fact", "criterion"),
    [("diagnosis_category", "diagnosis"), ("familial", "sporadic"), ("age_years", "age_years"),
     ("alsfrs_r_total", "alsfrs_r_total_min"),
     ("vital_capacity_percent", "vital_capacity_percent_min"),
     ("months_since_onset", "months_since_onset")],
)  # fmt: skip
def test_missing_fact_is_unknown_never_met(fact, criterion):
    result = evaluate_eligibility(SEED, eligible_facts(**{fact: None}))

    assert result.status is Status.UNKNOWN
    assert result.eligible is False
    assert [(r.criterion, r.value) for r in result.with_status(Status.UNKNOWN)] == [
        (criterion, None)
    ]


def test_missing_exclusion_answer_is_unknown():
    exclusions = dict.fromkeys(EXCLUSIONS, False)
    del exclusions["malignancy"]

    result = evaluate_eligibility(SEED, eligible_facts(exclusions=exclusions))

    assert [r.criterion for r in result.with_status(Status.UNKNOWN)] == ["exclusion:malignancy"]


def test_nothing_recorded_is_unknown_for_every_criterion():
    result = evaluate_eligibility(SEED, EligibilityFacts())

    assert result.status is Status.UNKNOWN
    assert result.with_status(Status.UNKNOWN) == result.criteria
    assert result.with_status(Status.MET) == ()


def test_not_met_outranks_unknown():
    facts = eligible_facts(age_years=None, alsfrs_r_total=12)

    result = evaluate_eligibility(SEED, facts)

    assert result.status is Status.NOT_MET
    assert [r.criterion for r in result.with_status(Status.UNKNOWN)] == ["age_years"]
    assert [r.criterion for r in result.with_status(Status.NOT_MET)] == ["alsfrs_r_total_min"]


def test_pre_puncture_not_recorded_is_unknown():
    result = evaluate_eligibility(SEED, eligible_facts(pre_puncture=PrePunctureFacts()))

    assert result.status is Status.UNKNOWN
    assert tuple(r.criterion for r in result.with_status(Status.UNKNOWN)) == PRE_PUNCTURE


# ---------------------------------------------------------------- lumbar-puncture safety


def test_without_lumbar_puncture_safety_the_pre_puncture_checks_are_omitted():
    protocol = variant(lumbar_puncture_safety=False)
    facts = eligible_facts(pre_puncture=PrePunctureFacts(platelets_10e9_per_l=10.0, inr=3.0))

    result = evaluate_eligibility(protocol, facts)

    assert result.eligible
    names = {r.criterion for r in result.criteria}
    assert names.isdisjoint(PRE_PUNCTURE)
    assert names == set(SEED_CRITERIA) - set(PRE_PUNCTURE)


def test_pre_puncture_checks_use_the_protocols_safety_thresholds():
    stricter = dataclasses.replace(
        SEED, safety=dataclasses.replace(SEED.safety, platelets_min_10e9_per_l=100.0)
    )
    facts = eligible_facts(pre_puncture=clear_pre_puncture(platelets_10e9_per_l=80.0))

    assert evaluate_eligibility(SEED, facts).eligible
    assert answers(facts, stricter)["platelets"].status is Status.NOT_MET


# ---------------------------------------------------------------- ALSFRS-R item floor (§12, STR04)

ITEM_FLOOR = variant(alsfrs_r_item_min=2)


def test_item_floor_met_when_the_lowest_item_reaches_it():
    answer = answers(
        eligible_facts(alsfrs_r_total=None, alsfrs_r_items=all_normal(q8=2, q4=3)), ITEM_FLOOR
    )["alsfrs_r_item_min"]

    assert (answer.status, answer.value) == (Status.MET, 2)
    assert answer.rule == "every ALSFRS-R item >= 2"


@pytest.mark.parametrize(
    ("items", "lowest"),
    [(all_normal(q8=1), 1), (all_normal(q5b=0), 0), (all_normal(q12=1, q1=3), 1)],
)
def test_item_floor_not_met_when_any_item_is_below_it(items, lowest):
    answer = answers(eligible_facts(alsfrs_r_total=None, alsfrs_r_items=items), ITEM_FLOOR)[
        "alsfrs_r_item_min"
    ]

    assert (answer.status, answer.value) == (Status.NOT_MET, lowest)


def test_item_floor_without_a_rating_is_unknown():
    answer = answers(eligible_facts(alsfrs_r_items=None), ITEM_FLOOR)["alsfrs_r_item_min"]

    assert (answer.status, answer.value) == (Status.UNKNOWN, None)


@pytest.mark.parametrize(
    ("items", "where"),
    [({**all_normal(), "q8": 5}, {"q8"}),
     ({**all_normal(), "q5b": 4}, {"q5a/q5b"}),
     ({k: v for k, v in all_normal().items() if k != "q10"}, {"q10"}),
     ({**all_normal(), "q5": 4}, {"q5"})],
)  # fmt: skip
def test_invalid_item_ratings_are_refused(items, where):
    with pytest.raises(InvalidResponses) as caught:
        evaluate_eligibility(ITEM_FLOOR, eligible_facts(alsfrs_r_items=items))

    assert {problem.location for problem in caught.value.problems} == where


def test_item_floor_is_not_checked_when_the_protocol_has_none():
    assert "alsfrs_r_item_min" not in answers(
        eligible_facts(alsfrs_r_total=None, alsfrs_r_items=all_normal(q8=0))
    )


# ---------------------------------------------------------------- ΔFS, ENCALS LP, run-in (§2, §5, §12)

WINDOWS = variant(
    delta_fs=Range(min=0.3),
    encals_lp=Range(min=-6.0, max=-2.5),
    run_in_decline_min=3.0,
)


def test_windows_met_are_each_reported():
    result = evaluate_eligibility(WINDOWS, eligible_facts())

    assert result.eligible
    named = by_name(result.criteria)
    assert (named["delta_fs"].value, named["delta_fs"].rule) == (0.5, "ΔFS >= 0.3 points/month")
    assert named["encals_lp"].rule == "ENCALS linear predictor between -6 and -2.5"
    assert named["run_in_decline_min"].rule == "ALSFRS-R decline over the run-in >= 3 points"


@pytest.mark.parametrize(
    ("changes", "criterion", "status"),
    [({"delta_fs": 0.3}, "delta_fs", Status.MET),  # exclude ΔFS < 0.3: 0.3 itself is kept
     ({"delta_fs": 0.29}, "delta_fs", Status.NOT_MET),
     ({"delta_fs": -0.1}, "delta_fs", Status.NOT_MET),  # improving since onset
     ({"delta_fs": None}, "delta_fs", Status.UNKNOWN),
     ({"encals_lp": -6.0}, "encals_lp", Status.MET),
     ({"encals_lp": -2.5}, "encals_lp", Status.MET),
     ({"encals_lp": -2.4}, "encals_lp", Status.NOT_MET),
     ({"encals_lp": -6.1}, "encals_lp", Status.NOT_MET),
     ({"encals_lp": None}, "encals_lp", Status.UNKNOWN),
     ({"run_in_decline": 3.0}, "run_in_decline_min", Status.MET),
     ({"run_in_decline": 2.0}, "run_in_decline_min", Status.NOT_MET),
     ({"run_in_decline": 0.0}, "run_in_decline_min", Status.NOT_MET),
     ({"run_in_decline": None}, "run_in_decline_min", Status.UNKNOWN)],
)  # fmt: skip
def test_window_boundaries(changes, criterion, status):
    result = evaluate_eligibility(WINDOWS, eligible_facts(**changes))

    answer = by_name(result.criteria)[criterion]
    assert answer.status is status
    assert answer.value == next(iter(changes.values()))
    assert result.status is status


def test_delta_fs_worked_from_the_rating_by_hand():
    # §2: ΔFS = (48 − 44) / 16 months = 0.25 < 0.3: excluded (slow progressor)
    delta_fs = (48 - 44) / 16

    assert answers(eligible_facts(delta_fs=delta_fs), WINDOWS)["delta_fs"].status is Status.NOT_MET


def test_windows_are_not_checked_when_the_protocol_has_none():
    names = set(answers(eligible_facts(delta_fs=0.0, encals_lp=5.0, run_in_decline=0.0)))

    assert names.isdisjoint({"delta_fs", "encals_lp", "run_in_decline_min"})


# ---------------------------------------------------------------- exclusions


@pytest.mark.parametrize(
    ("present", "status"), [(True, Status.NOT_MET), (False, Status.MET), (None, Status.UNKNOWN)]
)
@pytest.mark.parametrize("name", EXCLUSIONS)
def test_each_exclusion(name, present, status):
    exclusions: dict[str, bool] = dict.fromkeys(EXCLUSIONS, False)
    if present is None:
        del exclusions[name]
    else:
        exclusions[name] = present

    answer = answers(eligible_facts(exclusions=exclusions))[f"exclusion:{name}"]

    assert (answer.status, answer.value) == (status, present)
    assert answer.rule == f"no {name.replace('_', ' ')}"


def test_exclusions_not_in_the_protocol_are_ignored():
    exclusions = {**dict.fromkeys(EXCLUSIONS, False), "dementia": True}

    assert evaluate_eligibility(SEED, eligible_facts(exclusions=exclusions)).eligible


# ---------------------------------------------------------------- with_status and the result


def test_with_status_lists_what_is_still_unknown_in_order():
    facts = eligible_facts(vital_capacity_percent=None, familial=None, age_years=90.0)

    result = evaluate_eligibility(SEED, facts)

    assert [r.criterion for r in result.with_status(Status.UNKNOWN)] == [
        "sporadic",
        "vital_capacity_percent_min",
    ]
    assert [r.criterion for r in result.with_status(Status.NOT_MET)] == ["age_years"]
    assert len(result.with_status(Status.MET)) == len(SEED_CRITERIA) - 3


def test_result_status_combines_its_criteria():
    met = CriterionResult("a", Status.MET, 1, "rule")
    unknown = CriterionResult("b", Status.UNKNOWN, None, "rule")

    assert EligibilityResult((met, unknown)).status is Status.UNKNOWN
    assert EligibilityResult((met,)).eligible is True
    assert EligibilityResult((met, unknown)).eligible is False


# ---------------------------------------------------------------- diagnostic systems (§8)


def test_gold_coast_protocol_accepts_als():
    protocol = variant(diagnostic_system=DiagnosticSystem.GOLD_COAST, diagnosis_categories=("als",))

    answer = answers(eligible_facts(diagnosis_category="als"), protocol)["diagnosis"]

    assert (answer.status, answer.value) == (Status.MET, "als")
    assert answer.rule == "gold_coast: als"


def test_build_accepts_each_systems_own_categories():
    assert build(
        EligibilityCriteria,
        {"diagnostic_system": "awaji", "diagnosis_categories": ["definite", "probable"]},
    ).diagnosis_categories == ("definite", "probable")
    assert (
        build(
            EligibilityCriteria,
            {"diagnostic_system": "gold_coast", "diagnosis_categories": ["als"]},
        ).diagnostic_system
        is DiagnosticSystem.GOLD_COAST
    )


def test_build_refuses_a_category_the_system_does_not_have():
    # §8: Awaji removed the "laboratory-supported probable" category
    data = {"diagnostic_system": "awaji", "diagnosis_categories": ["probable_laboratory_supported"]}

    assert criteria_problems(data) == {
        "diagnosis_categories[0]": (
            "awaji has no category 'probable_laboratory_supported'; use definite, probable, possible"
        )
    }


def test_build_names_every_unknown_category_by_index():
    data = {"diagnostic_system": "revised_el_escorial",
            "diagnosis_categories": ["definite", "als", "probable", "likely"]}  # fmt: skip

    assert set(criteria_problems(data)) == {"diagnosis_categories[1]", "diagnosis_categories[3]"}


def test_build_refuses_an_empty_category_list():
    data = {"diagnostic_system": "gold_coast", "diagnosis_categories": []}

    assert criteria_problems(data) == {"diagnosis_categories": "must have at least 1 item"}


@pytest.mark.parametrize(
    ("changes", "where"),
    [({"diagnostic_system": "el_escorial"}, "diagnostic_system"),
     ({"alsfrs_r_total_min": 49}, "alsfrs_r_total_min"),
     ({"alsfrs_r_item_min": 5}, "alsfrs_r_item_min"),
     ({"vital_capacity_percent_min": 0}, "vital_capacity_percent_min"),
     ({"run_in_decline_min": 0}, "run_in_decline_min"),
     ({"age_years": {"min": 80, "max": 18}}, "age_years.max"),
     ({"delta_fs": {}}, "delta_fs.min")],
)  # fmt: skip
def test_build_refuses_invalid_criteria_with_their_path(changes, where):
    data = {"diagnostic_system": "gold_coast", "diagnosis_categories": ["als"], **changes}

    assert set(criteria_problems(data)) == {where}


# ---------------------------------------------------------------- properties

FACT_NAMES = ("diagnosis_category", "familial", "age_years", "alsfrs_r_total",
              "vital_capacity_percent", "months_since_onset")  # fmt: skip


@given(st.sets(st.sampled_from(FACT_NAMES)))
def test_missing_facts_never_make_a_patient_eligible(missing):
    facts = eligible_facts(**dict.fromkeys(missing, None))

    status = evaluate_eligibility(SEED, facts).status

    assert (status is Status.MET) == (not missing)
    assert status is not Status.NOT_MET


@given(st.floats(min_value=0, max_value=120, allow_nan=False))
def test_age_eligibility_is_exactly_the_inclusive_window(age):
    result = evaluate_eligibility(SEED, eligible_facts(age_years=age))

    assert result.eligible == (18 <= age <= 80)


def test_total_is_taken_from_the_items_when_only_items_are_given():
    items = dict.fromkeys(
        ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 2
    )

    result = evaluate_eligibility(SEED, EligibilityFacts(alsfrs_r_items=items))

    answer = {r.criterion: r for r in result.criteria}["alsfrs_r_total_min"]
    assert (answer.status, answer.value) == (Status.MET, 24)  # 12 items × 2 = 24, the seed's floor


def test_a_total_that_disagrees_with_its_items_is_refused():
    items = dict.fromkeys(
        ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
    )

    with pytest.raises(
        InvalidInput, match=r"alsfrs_r_total: 40 does not match the total of the items given \(48\)"
    ):
        evaluate_eligibility(SEED, EligibilityFacts(alsfrs_r_total=40, alsfrs_r_items=items))
