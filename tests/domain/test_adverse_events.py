"""Adverse events: expedited reporting clocks (clinical.md §9.4) and stopping rules (DESIGN.md).

Due dates are counted by hand on a calendar from §9.4: Day 0 is the day the sponsor first knew; a
SUSAR (serious, unexpected, suspected) is due to the regulator by D0 + 15, or by D0 + 7 with a complete
report by D0 + 7 + 8 = D0 + 15 when fatal or life-threatening (21 CFR 312.32; ICH E2A). Events that
are expected or not suspected have no expedited regulator report. The sponsor is due on D0 + sponsor_days.

Stopping rules count events by the instant they were recorded or last changed (``known_at``), strictly
after the instant of the last decision on the rule (``decided_at``); instants are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from alscell.domain.adverse_events import (
    SUSPECTED,
    AdverseEventFacts,
    Causality,
    ReportingClock,
    active_stopping_rules,
    reporting_clock,
)
from alscell.domain.protocol import Relatedness, StoppingRule
from alscell.domain.schema import build

C = Causality
R = Relatedness

# ---------------------------------------------------------------- reporting clocks

# Day 0: Saturday 28 March 2026. D0 + 1 = 29 March, + 3 = 31 March, + 7 = 4 April, + 15 = 12 April.
D0 = date(2026, 3, 28)


def test_fatal_or_life_threatening_susar_is_due_on_day_7_then_complete_on_day_15() -> None:
    clock = reporting_clock(
        aware_on=D0, fatal_or_life_threatening=True, unexpected=True, suspected=True
    )

    assert clock == ReportingClock(
        sponsor_due_on=date(2026, 3, 29),
        regulator_due_on=date(2026, 4, 4),
        complete_report_due_on=date(2026, 4, 12),
        susar=True,
    )


def test_other_susar_is_due_on_day_15_with_no_complete_report_date() -> None:
    clock = reporting_clock(
        aware_on=D0, fatal_or_life_threatening=False, unexpected=True, suspected=True
    )

    assert clock == ReportingClock(
        sponsor_due_on=date(2026, 3, 29),
        regulator_due_on=date(2026, 4, 12),
        complete_report_due_on=None,
        susar=True,
    )


@pytest.mark.parametrize(
    ("unexpected", "suspected"), [(False, True), (True, False), (False, False)]
)
@pytest.mark.parametrize("fatal", [True, False])
def test_expected_or_unsuspected_events_have_no_regulator_report(
    unexpected: bool, suspected: bool, fatal: bool
) -> None:
    clock = reporting_clock(
        aware_on=D0, fatal_or_life_threatening=fatal, unexpected=unexpected, suspected=suspected
    )

    assert clock == ReportingClock(
        sponsor_due_on=date(2026, 3, 29),
        regulator_due_on=None,
        complete_report_due_on=None,
        susar=False,
    )


@pytest.mark.parametrize(
    ("sponsor_days", "due"),
    [(0, date(2026, 3, 28)), (1, date(2026, 3, 29)), (3, date(2026, 3, 31))],
)
def test_sponsor_is_due_after_the_protocols_number_of_days(sponsor_days: int, due: date) -> None:
    clock = reporting_clock(
        aware_on=D0,
        fatal_or_life_threatening=False,
        unexpected=False,
        suspected=False,
        sponsor_days=sponsor_days,
    )

    assert clock.sponsor_due_on == due


def test_clocks_cross_the_year_end() -> None:
    # 20 December 2025: + 7 = 27 December, + 15 = 4 January 2026
    clock = reporting_clock(
        aware_on=date(2025, 12, 20), fatal_or_life_threatening=True, unexpected=True, suspected=True
    )

    assert clock.regulator_due_on == date(2025, 12, 27)
    assert clock.complete_report_due_on == date(2026, 1, 4)


def test_clocks_count_29_february_in_a_leap_year() -> None:
    # 20 February 2028 (leap year): + 7 = 27 February, + 15 = 6 March (29 days in February)
    clock = reporting_clock(
        aware_on=date(2028, 2, 20), fatal_or_life_threatening=False, unexpected=True, suspected=True
    )

    assert clock.regulator_due_on == date(2028, 3, 6)


def test_suspected_means_possible_probable_or_definite() -> None:
    assert set(SUSPECTED) == {C.POSSIBLE, C.PROBABLE, C.DEFINITE}


# ---------------------------------------------------------------- stopping rules


def rule(**changes: Any) -> StoppingRule:
    data: dict[str, Any] = {
        "id": "grade4-related",
        "description": "any grade >= 4 event related to the product or procedure",
        "min_ctcae_grade": 4,
        "related_to": ["product", "procedure"],
    } | changes
    return build(StoppingRule, data)


def at(day: int, month: int = 2, hour: int = 9) -> datetime:
    """An instant in 2026, aware UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


KNOWN_AT = at(10)


def event(
    *,
    grade: int = 4,
    serious: bool = True,
    known_at: datetime = KNOWN_AT,
    causality: dict[Relatedness, Causality] | None = None,
) -> AdverseEventFacts:
    return AdverseEventFacts(
        known_at=known_at,
        ctcae_grade=grade,
        serious=serious,
        causality={R.PRODUCT: C.PROBABLE} if causality is None else causality,
    )


def ids(rules: list[StoppingRule]) -> list[str]:
    return [r.id for r in rules]


def test_no_events_no_active_rule() -> None:
    assert active_stopping_rules([rule()], [], decided_at={}) == []


@pytest.mark.parametrize(("grade", "active"), [(3, False), (4, True), (5, True)])
def test_grade_threshold(grade: int, active: bool) -> None:
    found = active_stopping_rules([rule()], [event(grade=grade)], decided_at={})

    assert ids(found) == (["grade4-related"] if active else [])


@pytest.mark.parametrize(
    ("causality", "active"),
    [
        (C.UNRELATED, False),
        (C.UNLIKELY, False),
        (C.POSSIBLE, True),
        (C.PROBABLE, True),
        (C.DEFINITE, True),
    ],
)
def test_only_suspected_causality_counts(causality: Causality, active: bool) -> None:
    found = active_stopping_rules(
        [rule()], [event(causality={R.PROCEDURE: causality})], decided_at={}
    )

    assert bool(found) is active


def test_relation_to_something_the_rule_does_not_name_does_not_count() -> None:
    definite_drug = event(causality={R.DRUG: C.DEFINITE, R.PRODUCT: C.UNLIKELY})

    assert active_stopping_rules([rule()], [definite_drug], decided_at={}) == []
    assert ids(
        active_stopping_rules([rule(related_to=["drug"])], [definite_drug], decided_at={})
    ) == ["grade4-related"]


def test_an_event_with_no_causality_assessed_does_not_count() -> None:
    assert active_stopping_rules([rule()], [event(causality={})], decided_at={}) == []


def test_serious_only_rule_ignores_non_serious_events() -> None:
    non_serious = event(serious=False)

    assert active_stopping_rules([rule(serious_only=True)], [non_serious], decided_at={}) == []
    assert ids(active_stopping_rules([rule(serious_only=False)], [non_serious], decided_at={})) == [
        "grade4-related"
    ]
    assert ids(active_stopping_rules([rule(serious_only=True)], [event()], decided_at={})) == [
        "grade4-related"
    ]


def test_count_needs_that_many_qualifying_events() -> None:
    two = rule(id="two-grade3", min_ctcae_grade=3, count=2)
    qualifying = event(grade=3)
    not_qualifying = event(grade=2)

    assert active_stopping_rules([two], [qualifying, not_qualifying], decided_at={}) == []
    assert ids(active_stopping_rules([two], [qualifying, qualifying], decided_at={})) == [
        "two-grade3"
    ]


def test_a_decision_resets_the_count_to_events_known_after_it() -> None:
    decided = {"grade4-related": at(10, hour=12)}

    before = event(known_at=at(9))
    same_day_earlier = event(known_at=at(10, hour=11))
    same_day_later = event(known_at=at(10, hour=13))

    assert active_stopping_rules([rule()], [before, same_day_earlier], decided_at=decided) == []
    assert ids(active_stopping_rules([rule()], [before, same_day_later], decided_at=decided)) == [
        "grade4-related"
    ]


def test_an_event_known_at_the_decision_instant_is_covered_and_a_second_later_is_not() -> None:
    decided_at = datetime(2026, 1, 10, 9, tzinfo=UTC)
    decided = {"grade4-related": decided_at}

    same_instant = event(known_at=decided_at)
    a_second_later = event(known_at=decided_at + timedelta(seconds=1))

    assert active_stopping_rules([rule()], [same_instant], decided_at=decided) == []
    assert ids(active_stopping_rules([rule()], [a_second_later], decided_at=decided)) == [
        "grade4-related"
    ]


def test_instants_compare_across_time_zones() -> None:
    # 10:30 in Buenos Aires (UTC-3) is 13:30 UTC: after a decision recorded at 12:00 UTC.
    buenos_aires = timezone(timedelta(hours=-3))
    decided = {"grade4-related": at(10, hour=12)}
    late_entry = event(known_at=datetime(2026, 2, 10, 10, 30, tzinfo=buenos_aires))

    assert ids(active_stopping_rules([rule()], [late_entry], decided_at=decided)) == [
        "grade4-related"
    ]


def test_a_decision_on_one_rule_leaves_the_others_counting() -> None:
    first = rule(id="first")
    second = rule(id="second")

    found = active_stopping_rules(
        [first, second], [event(known_at=at(1))], decided_at={"first": at(5)}
    )

    assert ids(found) == ["second"]


def test_counted_events_after_a_decision_must_reach_the_count_again() -> None:
    two = rule(id="two", count=2)
    events = [
        event(known_at=at(5, month=1)),
        event(known_at=at(20, month=1)),
        event(known_at=at(15, month=2)),
    ]

    assert ids(active_stopping_rules([two], events, decided_at={})) == ["two"]
    assert active_stopping_rules([two], events, decided_at={"two": at(31, month=1)}) == []


def test_active_rules_come_back_in_the_protocols_order() -> None:
    rules = [rule(id="b-rule"), rule(id="high", min_ctcae_grade=5), rule(id="a-rule")]

    assert ids(active_stopping_rules(rules, [event(grade=4)], decided_at={})) == [
        "b-rule",
        "a-rule",
    ]
