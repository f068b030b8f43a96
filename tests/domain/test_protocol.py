"""The protocol schema (domain/protocol.py): the seed program as data, and every rule of the schema.

The seed program (four lumbar-puncture injections of 5 × 10^6 xenogeneic neural stem cells, one every
7 days; daily IV and rehabilitation; 5-7 weeks; follow-up to 6 months) is described in DESIGN.md.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.product import ProductSource, Route
from alscell.domain.protocol import (
    ActivityKind,
    Anchor,
    Cascade,
    Comparator,
    Protocol,
    Record,
    RepeatRule,
    parse_protocol,
)
from alscell.domain.scheduling import plan_schedule
from alscell.errors import InvalidInput, Problem

PROTOCOLS = Path(__file__).parents[2] / "protocols"


def seed() -> dict[str, Any]:
    """The seed protocol's data as a fresh, mutable dict."""
    return copy.deepcopy(_SEED)


_SEED: dict[str, Any] = yaml.safe_load((PROTOCOLS / "als-nsc-4lp.yaml").read_text(encoding="utf-8"))


def activity(data: dict[str, Any], activity_id: str) -> dict[str, Any]:
    for phase in data["phases"]:
        for found in phase["activities"]:
            if found["id"] == activity_id:
                return found  # type: ignore[no-any-return]
    raise KeyError(activity_id)


def problems_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_protocol(data)
    return {problem.location: problem.message for problem in caught.value.problems}


# ---------------------------------------------------------------- the seed program


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return parse_protocol(seed())


def test_seed_gives_four_lumbar_puncture_doses_of_5_million_cells_7_days_apart(protocol):
    implantation = protocol.activity("implantation")

    assert implantation.kind is ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION
    assert implantation.cell_dose
    assert (
        implantation.repeat.rule,
        implantation.repeat.every_days,
        implantation.repeat.count,
    ) == (
        RepeatRule.EVERY_N_DAYS,
        7,
        4,
    )
    assert implantation.repeat.cascade is Cascade.KEEP_INTERVAL
    assert Record.CELL_PRODUCT_UNIT in implantation.records
    assert protocol.product is not None
    assert protocol.product.dose.cells == 5_000_000
    assert protocol.product.source is ProductSource.XENOGENEIC
    assert protocol.product.route is Route.INTRATHECAL


def test_seed_has_daily_iv_and_rehabilitation_and_as_needed_medication(protocol):
    daily = {a.id for a in protocol.activities() if a.repeat.rule is RepeatRule.DAILY}
    kinds = {protocol.activity(i).kind for i in daily}

    assert daily == {"iv-neurotrophic", "physiotherapy", "occupational-therapy", "tcm"}
    assert kinds == {ActivityKind.IV_INFUSION, ActivityKind.REHABILITATION}
    assert protocol.activity("immune-medication").repeat.rule is RepeatRule.AS_NEEDED


def test_seed_lasts_5_to_7_weeks_and_follows_up_at_months_1_3_6(protocol):
    assert (protocol.duration.min_days, protocol.duration.max_days) == (35, 49)
    assert 35 <= protocol.planned_days <= 49
    assert [visit.months for visit in protocol.follow_up.visits] == [1, 3, 6]
    assert protocol.follow_up.anchor is Anchor.LAST
    assert protocol.follow_up.anchor_activity == "implantation"


def test_seed_eligibility_is_sporadic_als_with_lumbar_puncture_checks(protocol):
    assert protocol.eligibility.sporadic_only
    assert protocol.eligibility.lumbar_puncture_safety
    assert protocol.safety.platelets_min_10e9_per_l == 50  # clinical.md §9.1
    assert protocol.safety.inr_max == 1.4


def test_seed_analysis_plan_and_stopping_rules(protocol):
    plan = protocol.analysis_plan

    assert (plan.time_point_months, plan.comparator) == (6, Comparator.NATURAL_HISTORY)
    assert plan.responder_slope_improvement == 1.25  # NurOwn phase 3, clinical.md §7.2
    assert [rule.min_ctcae_grade for rule in protocol.stopping_rules] == [4, 3]


@pytest.mark.parametrize("path", sorted(PROTOCOLS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_protocol_parses_and_fits_its_bounds(path):
    protocol = parse_protocol(yaml.safe_load(path.read_text(encoding="utf-8")))

    assert protocol.id == path.stem
    assert protocol.duration.min_days <= protocol.planned_days <= protocol.duration.max_days


def test_published_designs_from_clinical_reference_section_12():
    def load(name: str) -> Protocol:
        return parse_protocol(
            yaml.safe_load((PROTOCOLS / f"{name}.yaml").read_text(encoding="utf-8"))
        )

    nurown, oh, nsi = load("nurown-phase3"), load("oh-2015-it-msc"), load("nsi-566-phase1")

    assert (
        nurown.activity("it-treatment").repeat.count,
        nurown.activity("it-treatment").repeat.every_days,
    ) == (3, 56)
    assert nurown.eligibility.run_in_decline_min == 3
    assert (oh.activity("it-msc").repeat.count, oh.activity("it-msc").repeat.every_days) == (2, 26)
    assert oh.product is not None
    assert oh.product.dose.cells_per_kg == 1_000_000
    assert nsi.activity("intraspinal-surgery").kind is ActivityKind.INTRASPINAL_IMPLANTATION
    assert nsi.product is not None
    assert nsi.product.route is Route.INTRASPINAL


def test_activity_lookup_fails_for_an_unknown_id(protocol):
    with pytest.raises(KeyError):
        protocol.activity("nope")


# ---------------------------------------------------------------- rules, each with its path


def test_negative_window_is_named_by_its_path():
    data = seed()
    data["phases"][1]["activities"][6]["window_days"] = -1

    assert problems_of(data) == {"phases[1].activities[6].window_days": "must be >= 0, got -1"}


@pytest.mark.parametrize(
    ("repeat", "field", "message"),
    [
        ({"rule": "every_n_days", "count": 4}, "every_days", "required for every_n_days"),
        ({"rule": "daily", "count": 4, "every_days": 7}, "every_days", "only used with every_n_days, not daily"),
        ({"rule": "once", "count": 2}, "count", "must be 1 (or left out) for once"),
        ({"rule": "every_n_days", "every_days": 7, "count": 0}, "count", "must be >= 1, got 0"),
        ({"rule": "weekly"}, "rule", "must be one of once, daily, every_n_days, as_needed; got 'weekly'"),
        ({"rule": "every_n_days", "every_days": 7, "count": 4, "cascade": "drift"}, "cascade",
         "must be one of keep_interval, keep_calendar; got 'drift'"),
    ],
)  # fmt: skip
def test_repeat_rules(repeat, field, message):
    data = seed()
    activity(data, "pre-puncture-labs")["repeat"] = repeat

    assert problems_of(data) == {f"phases[1].activities[5].repeat.{field}": message}


def test_as_needed_takes_no_count():
    data = seed()
    activity(data, "immune-medication")["repeat"] = {"rule": "as_needed", "count": 3}

    assert problems_of(data) == {
        "phases[1].activities[0].repeat.count": "must be 1 (or left out) for as_needed"
    }


def test_minimum_interval_cannot_exceed_the_repeat_interval():
    data = seed()
    activity(data, "implantation")["min_interval_days"] = 8

    assert problems_of(data) == {
        "phases[1].activities[6].min_interval_days": "must be <= repeat.every_days (7), got 8"
    }


def test_daily_activity_cannot_have_a_longer_minimum_interval():
    data = seed()
    activity(data, "physiotherapy")["min_interval_days"] = 2

    assert "phases[1].activities[2].min_interval_days" in problems_of(data)


def test_a_cell_dose_must_record_its_product_unit():
    data = seed()
    activity(data, "implantation")["records"] = ["dose_cells"]

    assert problems_of(data) == {
        "phases[1].activities[6].records": "a cell dose must record its cell_product_unit"
    }


def test_follow_up_visits_are_not_phase_activities():
    data = seed()
    activity(data, "discharge-exam")["kind"] = "follow_up_visit"

    assert "phases[1].activities[7].kind" in problems_of(data)


@pytest.mark.parametrize(
    ("records", "message"),
    [(["alsfrs"], "must be one of"), ("alsfrs_r", "must be a list, got str 'alsfrs_r'")],
)
def test_recorded_items_come_from_the_vocabulary(records, message):
    data = seed()
    activity(data, "neuro-exam")["records"] = records

    found = problems_of(data)

    assert len(found) == 1
    assert message in next(iter(found.values()))


def test_ids_must_be_slugs():
    data = seed()
    data["id"] = "ALS NSC"

    assert problems_of(data) == {
        "id": "must be lower-case letters and digits, joined by - or _, got 'ALS NSC'"
    }


def test_ids_are_unique_across_phases_activities_and_visits():
    data = seed()
    activity(data, "tcm")["id"] = "physiotherapy"
    data["follow_up"]["visits"][2]["id"] = "treatment"

    found = problems_of(data)

    assert found["phases[1].activities[4].id"] == (
        "duplicate id 'physiotherapy' (also at phases[1].activities[2].id)"
    )
    assert found["follow_up.visits[2].id"] == "duplicate id 'treatment' (also at phases[1].id)"


def test_cell_doses_need_a_product():
    data = seed()
    del data["product"]

    assert problems_of(data) == {"product": "required: the protocol gives cell doses"}


def test_a_protocol_without_cell_doses_needs_no_product():
    data = seed()
    data["phases"][1]["activities"] = [
        a for a in data["phases"][1]["activities"] if a["id"] != "implantation"
    ]
    del activity(data, "pre-puncture-labs")["linked_to"]
    del data["product"]
    data["follow_up"]["anchor_activity"] = "discharge-exam"
    data["analysis_plan"]["anchor_activity"] = "start"

    protocol = parse_protocol(data)

    assert protocol.product is None
    assert not any(a.cell_dose for a in protocol.activities())


@pytest.mark.parametrize(
    ("anchor", "message"),
    [("bogus", "no activity 'bogus' in the phases"),
     ("immune-medication", "'immune-medication' is as-needed and has no planned date to count from")],
)  # fmt: skip
def test_follow_up_anchor_must_be_a_planned_activity(anchor, message):
    data = seed()
    data["follow_up"]["anchor_activity"] = anchor

    assert problems_of(data) == {"follow_up.anchor_activity": message}


def test_analysis_anchor_must_exist():
    data = seed()
    data["analysis_plan"]["anchor_activity"] = "bogus"

    assert "analysis_plan.anchor_activity" in problems_of(data)


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"improved_min_change": 0}, "analysis_plan.improved_min_change",
         "stable must include no change: worsened_max_change < 0 < improved_min_change"),
        ({"worsened_max_change": 1}, "analysis_plan.improved_min_change",
         "stable must include no change: worsened_max_change < 0 < improved_min_change"),
        ({"primary_outcome": "survival"}, "analysis_plan.primary_outcome",
         "only alsfrs_r_total_change is supported, got 'survival'"),
        ({"time_point_months": 0}, "analysis_plan.time_point_months", "must be > 0, got 0"),
        ({"comparator": "historical"}, "analysis_plan.comparator",
         "must be one of natural_history, pro_act, concurrent_control; got 'historical'"),
        ({"rater_blinded": True}, "analysis_plan.rater_blinded",
         "a single-arm design cannot blind its raters: everyone rated was treated"),
    ],
)  # fmt: skip
def test_analysis_plan_rules(changes, path, message):
    data = seed()
    data["analysis_plan"].update(changes)

    assert problems_of(data) == {path: message}


def test_duration_bounds_must_be_ordered():
    data = seed()
    data["duration"] = {"min_days": 50, "max_days": 40}

    found = problems_of(data)

    assert found == {"duration.max_days": "must be >= min_days (50), got 40"}


@pytest.mark.parametrize(
    ("duration", "path", "message"),
    [
        ({"min_days": 35, "max_days": 38}, "duration.max_days",
         "the activities as planned take 39 days, more than 38"),
        ({"min_days": 40, "max_days": 49}, "duration.min_days",
         "the activities as planned take 39 days, fewer than 40"),
    ],
)  # fmt: skip
def test_a_protocol_longer_or_shorter_than_its_own_bounds_is_refused(duration, path, message):
    # The seed's last treatment activity is the discharge exam on day 38: 39 days, day 0 included.
    data = seed()
    data["duration"] = duration

    assert problems_of(data) == {path: message}


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"min_ctcae_grade": 6}, "stopping_rules[0].min_ctcae_grade", "must be <= 5, got 6"),
        ({"related_to": []}, "stopping_rules[0].related_to", "must have at least 1 item"),
        ({"related_to": ["weather"]}, "stopping_rules[0].related_to[0]",
         "must be one of procedure, product, drug; got 'weather'"),
        ({"count": 0}, "stopping_rules[0].count", "must be >= 1, got 0"),
    ],
)  # fmt: skip
def test_stopping_rule_fields(rule, path, message):
    data = seed()
    data["stopping_rules"][0].update(rule)

    assert problems_of(data) == {path: message}


def test_follow_up_visits_need_positive_months_and_at_least_one_visit():
    data = seed()
    data["follow_up"]["visits"][0]["months"] = 0

    assert problems_of(data) == {"follow_up.visits[0].months": "must be > 0, got 0"}

    data["follow_up"]["visits"] = []
    assert problems_of(data) == {"follow_up.visits": "must have at least 1 item"}


def test_a_phase_needs_activities():
    data = seed()
    data["phases"][0]["activities"] = []

    assert problems_of(data) == {"phases[0].activities": "must have at least 1 item"}


def test_every_problem_in_a_file_is_listed_at_once():
    data = seed()
    activity(data, "implantation")["window_days"] = -2
    activity(data, "neuro-exam")["dya"] = 0
    data["product"]["dose"]["cells"] = "5e6"
    data["analysis_plan"]["comparator"] = "none"

    found = problems_of(data)

    assert set(found) == {
        "phases[1].activities[6].window_days",
        "phases[0].activities[0].dya",
        "product.dose.cells",
        "analysis_plan.comparator",
    }
    assert "did you mean 'day'?" in found["phases[0].activities[0].dya"]
    assert "write numbers like 5000000" in found["product.dose.cells"]


# ---------------------------------------------------------------- hostile input never crashes


def paths(data: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


SEED_PATHS = paths(_SEED)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.dates().map(str),
)


@given(
    st.lists(st.tuples(st.sampled_from(SEED_PATHS), junk, st.booleans()), min_size=1, max_size=4)
)
def test_any_mutation_of_the_seed_is_parsed_or_refused_with_paths(mutations):
    data = seed()
    for path, value, delete in mutations:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path

    problems: list[Problem] = []
    try:
        plan_schedule(parse_protocol(data), date(2026, 1, 5))
    except InvalidInput as error:  # the only exception allowed out
        problems = list(error.problems)

    assert all(problem.location and problem.message for problem in problems)


# ---------------------------------------------------------------- linked activities


def test_seed_labs_are_linked_to_the_implantations(protocol):
    assert protocol.activity("pre-puncture-labs").linked_to == "implantation"


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("bogus", "must name another activity of the protocol, got 'bogus'"),
        ("pre-puncture-labs", "must name another activity of the protocol, got 'pre-puncture-labs'"),
        ("physiotherapy", "both must repeat once or every_n_days with the same count; "
                          "pre-puncture-labs has 4, physiotherapy 28"),
    ],
)  # fmt: skip
def test_a_link_must_name_another_spaced_activity_with_the_same_count(link, message):
    data = seed()
    activity(data, "pre-puncture-labs")["linked_to"] = link

    assert problems_of(data) == {"phases[1].activities[5].linked_to": message}


def test_a_link_to_a_linked_activity_is_refused():
    data = seed()
    activity(data, "discharge-exam")["linked_to"] = "neuro-exam"
    activity(data, "neuro-exam")["linked_to"] = "eligibility-review"

    found = problems_of(data)

    assert found["phases[1].activities[7].linked_to"] == (
        "'neuro-exam' is itself linked; link to the activity it follows"
    )
