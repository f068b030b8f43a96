"""The program's calendar (scheduling.py): planned dates, closures, the dose cascade and follow-up.

Rules under test are the scheduling module docstring's: closed days, ``keep_interval`` versus
``keep_calendar``, the minimum-interval floor counted from the last dose actually given, and follow-up
at the anchor plus ``round(months × 30.4375)`` days. Every expected date is worked out by hand in a
comment. Most tests start the seed protocol (protocols/als-nsc-4lp.yaml) on Monday 2026-01-05 (day 0);
January has 31 days and February 2026 has 28.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.protocol import ActivityKind, Protocol, RepeatRule, parse_protocol
from alscell.domain.scheduling import (
    Closed,
    Done,
    Event,
    ItemStatus,
    Plan,
    ScheduledActivity,
    Skipped,
    plan_schedule,
    reschedule,
)
from alscell.errors import InvalidInput
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

START = date(2026, 1, 5)  # day 0
IMPLANTATION = "implantation"


@functools.cache
def seed() -> Protocol:
    """The seed protocol as shipped."""
    return read_protocol(builtin_protocol_path())


def seed_with(**implantation: Any) -> Protocol:
    """The seed protocol with its implantation activity changed (a protocol variant)."""
    data: dict[str, Any] = yaml.safe_load(builtin_protocol_path().read_text(encoding="utf-8"))
    for activity in data["phases"][1]["activities"]:
        if activity["id"] == IMPLANTATION:
            activity.update(implantation)
    return parse_protocol(data)


def keep_calendar(**changes: Any) -> Protocol:
    """The seed protocol with implantations that keep their calendar days."""
    repeat = {"rule": "every_n_days", "every_days": 7, "count": 4, "cascade": "keep_calendar"}
    return seed_with(repeat=repeat, **changes)


def dose(**changes: Any) -> dict[str, Any]:
    """A cell dose on day 10, twice 7 days apart, window ±1 day, at least 6 days apart."""
    return {
        "id": "dose",
        "kind": "lumbar_puncture_implantation",
        "name": "Implantation",
        "day": 10,
        "window_days": 1,
        "min_interval_days": 6,
        "repeat": {"rule": "every_n_days", "every_days": 7, "count": 2},
        "records": ["cell_product_unit"],
    } | changes


def protocol_data(
    *treatment: dict[str, Any], min_days: int = 1, max_days: int = 60, anchor: str = "last"
) -> dict[str, Any]:
    """A minimal valid protocol: an examination on day 0, then ``treatment`` (default: :func:`dose`)."""
    exam = {"id": "exam", "kind": "examination", "name": "Examination", "day": 0}
    return {
        "id": "mini",
        "version": "1.0.0",
        "title": "A minimal program",
        "duration": {"min_days": min_days, "max_days": max_days},
        "eligibility": {
            "diagnostic_system": "revised_el_escorial",
            "diagnosis_categories": ["definite"],
        },
        "phases": [
            {"id": "screening", "name": "Screening", "activities": [exam]},
            {"id": "treatment", "name": "Treatment", "activities": list(treatment or [dose()])},
        ],
        "follow_up": {
            "anchor_activity": "dose",
            "anchor": anchor,
            "visits": [{"id": "month-1", "name": "Month 1", "months": 1, "window_days": 7}],
        },
        "product": {
            "name": "Cells",
            "source": "autologous",
            "cell_type": "mesenchymal stromal cells",
            "route": "intrathecal",
            "dose": {"cells": 1_000_000},
        },
        "analysis_plan": {
            "version": "1.0",
            "primary_outcome": "alsfrs_r_total_change",
            "time_point_months": 6,
            "anchor_activity": "dose",
            "improved_min_change": 1,
            "worsened_max_change": -1,
            "comparator": "natural_history",
        },
    }


def mini(*treatment: dict[str, Any], **bounds: Any) -> Protocol:
    return parse_protocol(protocol_data(*treatment, **bounds))


def seed_plan(*events: Event, closures: tuple[date, ...] = ()) -> Plan:
    plan = plan_schedule(seed(), START, closures=closures)
    return reschedule(plan, events) if events else plan


def planned_on(plan: Plan, activity_id: str) -> list[date]:
    return [item.planned_on for item in plan.occurrences(activity_id)]


def windows(plan: Plan, activity_id: str) -> list[tuple[date, date, date]]:
    return [(i.earliest_on, i.planned_on, i.latest_on) for i in plan.occurrences(activity_id)]


def only(plan: Plan, activity_id: str) -> ScheduledActivity:
    (item,) = plan.occurrences(activity_id)
    return item


def problems(error: InvalidInput) -> list[tuple[str, str]]:
    return [(problem.location, problem.message) for problem in error.problems]


# ---------------------------------------------------------------- the seed protocol as planned


def test_seed_implantations_weekly_from_day_10_with_one_day_windows():
    plan = seed_plan()

    # day 10 = 2026-01-15, then + 7, + 14, + 21 days; windows ± 1 day
    assert windows(plan, IMPLANTATION) == [
        (date(2026, 1, 14), date(2026, 1, 15), date(2026, 1, 16)),
        (date(2026, 1, 21), date(2026, 1, 22), date(2026, 1, 23)),
        (date(2026, 1, 28), date(2026, 1, 29), date(2026, 1, 30)),
        (date(2026, 2, 4), date(2026, 2, 5), date(2026, 2, 6)),
    ]
    for k, item in enumerate(plan.occurrences(IMPLANTATION), start=1):
        assert (item.occurrence, item.of, item.status) == (k, 4, ItemStatus.PLANNED)
        assert (item.cell_dose, item.min_interval_days, item.phase_id) == (True, 6, "treatment")
        assert item.kind is ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION
        assert item.actual_on is None
        assert item.note is None


@pytest.mark.parametrize("activity_id", ["iv-neurotrophic", "physiotherapy", "tcm"])
def test_seed_daily_sessions_run_28_consecutive_days_from_day_7(activity_id):
    sessions = seed_plan().occurrences(activity_id)

    # day 7 = 2026-01-12; 28 sessions: 20 in January (12..31) and 8 in February (1..8)
    assert len(sessions) == 28
    assert (sessions[0].planned_on, sessions[-1].planned_on) == (
        date(2026, 1, 12),
        date(2026, 2, 8),
    )
    assert [s.occurrence for s in sessions] == list(range(1, 29))
    assert {s.of for s in sessions} == {28}
    assert all((b.planned_on - a.planned_on).days == 1 for a, b in pairwise(sessions))
    assert all(s.earliest_on == s.planned_on == s.latest_on for s in sessions)


@pytest.mark.parametrize(
    ("activity_id", "earliest", "planned", "latest"),
    [
        ("neuro-exam", date(2026, 1, 5), date(2026, 1, 5), date(2026, 1, 5)),  # day 0, no window
        (
            "organ-labs",
            date(2026, 1, 5),
            date(2026, 1, 5),
            date(2026, 1, 6),
        ),  # day 0 ± 1, not before day 0
        ("spine-imaging", date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 9)),  # day 2 ± 2
        ("eligibility-review", date(2026, 1, 11), date(2026, 1, 11), date(2026, 1, 11)),  # day 6
        ("discharge-exam", date(2026, 2, 10), date(2026, 2, 12), date(2026, 2, 14)),  # 5 + 38 - 31
    ],
)
def test_seed_once_activities(activity_id, earliest, planned, latest):
    item = only(seed_plan(), activity_id)

    assert (item.earliest_on, item.planned_on, item.latest_on) == (earliest, planned, latest)
    assert (item.occurrence, item.of) == (1, 1)


def test_seed_pre_puncture_labs_every_7_days_from_day_9():
    # day 9 = 2026-01-14, the day before each implantation
    assert planned_on(seed_plan(), "pre-puncture-labs") == [
        date(2026, 1, 14),
        date(2026, 1, 21),
        date(2026, 1, 28),
        date(2026, 2, 4),
    ]


@pytest.mark.parametrize(
    ("visit_id", "earliest", "planned", "latest"),
    [
        # last implantation 2026-02-05 + round(1 × 30.4375) = 30 days: Feb 28 is +23, Mar 7 is +30; ± 7
        ("month-1", date(2026, 2, 28), date(2026, 3, 7), date(2026, 3, 14)),
        # + round(3 × 30.4375) = round(91.3125) = 91: Mar 31 +54, Apr 30 +84, May 7 +91; ± 14
        ("month-3", date(2026, 4, 23), date(2026, 5, 7), date(2026, 5, 21)),
        # + round(6 × 30.4375) = round(182.625) = 183: May 7 +91, Jun 7 +122, Jul 7 +152, Aug 7 +183
        ("month-6", date(2026, 7, 24), date(2026, 8, 7), date(2026, 8, 21)),
    ],
)
def test_seed_follow_up_counts_from_the_last_implantation(visit_id, earliest, planned, latest):
    visit = only(seed_plan(), visit_id)

    assert (visit.earliest_on, visit.planned_on, visit.latest_on) == (earliest, planned, latest)
    assert visit.kind is ActivityKind.FOLLOW_UP_VISIT
    assert (visit.phase_id, visit.occurrence, visit.of, visit.in_treatment) == (None, 1, 1, False)


def test_seed_treatment_ends_with_the_discharge_exam_on_day_38():
    plan = seed_plan()

    assert plan.treatment_end_on == date(2026, 2, 12)  # day 38
    assert plan.duration_days == 39  # days 0..38 inclusive


def test_items_are_sorted_by_date_then_protocol_order():
    plan = seed_plan()

    # day 10: the four daily sessions (file order) and the first implantation, declared after them
    assert [item.activity_id for item in plan.on_day(date(2026, 1, 15))] == [
        "iv-neurotrophic",
        "physiotherapy",
        "occupational-therapy",
        "tcm",
        IMPLANTATION,
    ]
    assert [item.activity_id for item in plan.items[-3:]] == ["month-1", "month-3", "month-6"]
    assert plan.items[0].on == START


def test_plan_keeps_its_inputs():
    closures = (date(2026, 1, 20),)
    plan = seed_plan(closures=closures)

    assert (plan.protocol, plan.start_on, plan.closures) == (seed(), START, frozenset(closures))
    assert (plan.events, plan.extras) == ((), ())


def test_on_is_the_actual_day_once_done_and_follow_up_is_not_treatment():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 16), 1))
    first = plan.occurrences(IMPLANTATION)[0]

    assert (first.on, first.planned_on, first.actual_on) == (
        date(2026, 1, 16),
        date(2026, 1, 15),
        date(2026, 1, 16),
    )
    assert first.in_treatment
    assert plan.occurrences(IMPLANTATION)[1].on == date(2026, 1, 23)  # not done: its planned day
    assert first in plan.on_day(date(2026, 1, 16))
    assert first not in plan.on_day(date(2026, 1, 15))


# ---------------------------------------------------------------- every repeat rule, small protocols


def test_once_is_one_item_on_its_day():
    plan = plan_schedule(mini(dose(id="dose", repeat={"rule": "once"})), START)

    assert [(i.occurrence, i.of, i.planned_on) for i in plan.occurrences("dose")] == [
        (1, 1, date(2026, 1, 15))  # day 10
    ]


def test_daily_counts_consecutive_days():
    rehab = {
        "id": "rehab",
        "kind": "rehabilitation",
        "name": "Rehabilitation",
        "day": 3,
        "repeat": {"rule": "daily", "count": 5},
    }
    plan = plan_schedule(mini(dose(), rehab), START)

    # day 3 = 2026-01-08, five sessions through day 7 = 2026-01-12
    assert planned_on(plan, "rehab") == [date(2026, 1, d) for d in (8, 9, 10, 11, 12)]


def test_every_n_days_spaces_occurrences_by_every_days():
    repeat = {"rule": "every_n_days", "every_days": 10, "count": 3}
    plan = plan_schedule(mini(dose(repeat=repeat)), START)

    # day 10, 20, 30 = 2026-01-15, 01-25, 02-04
    assert planned_on(plan, "dose") == [date(2026, 1, 15), date(2026, 1, 25), date(2026, 2, 4)]


def test_as_needed_plans_nothing():
    assert seed_plan().occurrences("immune-medication") == ()


def test_as_needed_done_events_become_done_items_numbered_by_date():
    plan = seed_plan(
        Done("immune-medication", date(2026, 1, 20)),
        Done("immune-medication", date(2026, 1, 13)),
    )

    items = plan.occurrences("immune-medication")
    assert [(i.occurrence, i.actual_on, i.status) for i in items] == [
        (1, date(2026, 1, 13), ItemStatus.DONE),
        (2, date(2026, 1, 20), ItemStatus.DONE),
    ]
    assert all(i.of is None and i.earliest_on == i.planned_on == i.latest_on for i in items)
    assert plan.extras == ()


# ---------------------------------------------------------------- closures


def test_daily_session_on_a_closed_day_is_not_held():
    plan = seed_plan(closures=(date(2026, 1, 14),))

    # 2026-01-14 is day 9, session 3 of each daily activity
    third = plan.occurrences("physiotherapy")[2]
    assert (third.planned_on, third.status) == (date(2026, 1, 14), ItemStatus.CLOSED)
    assert plan.occurrences("iv-neurotrophic")[2].status is ItemStatus.CLOSED
    assert {s.status for s in plan.occurrences("physiotherapy")[3:]} == {ItemStatus.PLANNED}
    assert len(plan.occurrences("physiotherapy")) == 28  # not made up on a later day


def test_implantation_on_a_closed_day_moves_to_the_next_open_day_keeping_its_window():
    plan = seed_plan(closures=(date(2026, 1, 15),))

    first, second = plan.occurrences(IMPLANTATION)[:2]
    assert (first.earliest_on, first.planned_on, first.latest_on) == (
        date(2026, 1, 14),
        date(2026, 1, 16),  # the next open day; the last day of the unchanged window
        date(2026, 1, 16),
    )
    assert first.note == "moved from 2026-01-15: clinic closed"
    assert first.status is ItemStatus.PLANNED
    # keep_interval: the next is 7 days after the previous as planned, 2026-01-16 + 7
    assert second.planned_on == date(2026, 1, 23)
    assert second.note is None


def test_consecutive_closed_days_move_past_all_of_them():
    closed = (date(2026, 1, 15), date(2026, 1, 16), date(2026, 1, 17))
    first = seed_plan(closures=closed).occurrences(IMPLANTATION)[0]

    # window still centred on 2026-01-15, so the moved day 2026-01-18 falls outside it
    assert (first.earliest_on, first.planned_on, first.latest_on) == (
        date(2026, 1, 14),
        date(2026, 1, 18),
        date(2026, 1, 16),
    )
    assert first.note == "moved from 2026-01-15: clinic closed; now outside its window"


def test_once_activity_on_a_closed_day_moves():
    exam = only(seed_plan(closures=(START,)), "neuro-exam")

    assert (exam.earliest_on, exam.planned_on, exam.latest_on) == (
        date(2026, 1, 5),
        date(2026, 1, 6),
        date(2026, 1, 5),
    )
    assert only(seed_plan(closures=(START,)), "organ-labs").planned_on == date(2026, 1, 6)


def test_follow_up_visit_on_a_closed_day_moves_keeping_its_window():
    visit = only(seed_plan(closures=(date(2026, 3, 7),)), "month-1")

    assert (visit.earliest_on, visit.planned_on, visit.latest_on) == (
        date(2026, 2, 28),
        date(2026, 3, 8),
        date(2026, 3, 14),
    )
    assert visit.note == "moved from 2026-03-07: clinic closed"


def test_closed_events_add_to_the_plans_closures():
    plan = seed_plan(closures=(date(2026, 1, 14),))

    later = reschedule(plan, [Closed(date(2026, 1, 22))])

    assert later.closures == {date(2026, 1, 14), date(2026, 1, 22)}
    assert later.events == ()  # closures are not recorded events
    assert planned_on(later, IMPLANTATION)[1] == date(2026, 1, 23)
    assert later.occurrences("tcm")[2].status is ItemStatus.CLOSED  # the earlier closure holds


# ---------------------------------------------------------------- the dose cascade


def test_dose_two_days_late_pushes_the_next_ones_keep_interval():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 17), 1))

    # next = as given + 7: 01-24, 01-31, 02-07; floor 01-17 + 6 = 01-23 = the window's first day
    assert windows(plan, IMPLANTATION)[1:] == [
        (date(2026, 1, 23), date(2026, 1, 24), date(2026, 1, 25)),
        (date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 2, 6), date(2026, 2, 7), date(2026, 2, 8)),
    ]
    # follow-up moves too: 2026-02-07 + 30 = 2026-03-09 (Feb 28 is +21)
    assert only(plan, "month-1").planned_on == date(2026, 3, 9)


def test_early_dose_pulls_the_next_ones_keep_interval():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 14), 1))

    # 01-14 + 7 = 01-21, + 14 = 01-28, + 21 = 02-04; 02-04 + 30 = 03-06
    assert planned_on(plan, IMPLANTATION)[1:] == [
        date(2026, 1, 21),
        date(2026, 1, 28),
        date(2026, 2, 4),
    ]
    assert windows(plan, IMPLANTATION)[1][0] == date(2026, 1, 20)  # floor 01-14 + 6
    assert only(plan, "month-1").planned_on == date(2026, 3, 6)


def test_window_starts_no_earlier_than_the_minimum_interval_floor():
    plan = reschedule(
        plan_schedule(seed_with(min_interval_days=7), START),
        [Done(IMPLANTATION, date(2026, 1, 15), 1)],
    )

    # planned 01-22 ± 1, but the floor 01-15 + 7 = 01-22 cuts the window's first day
    assert windows(plan, IMPLANTATION)[1] == (
        date(2026, 1, 22),
        date(2026, 1, 22),
        date(2026, 1, 23),
    )


@pytest.mark.parametrize(
    ("given_on", "second"),
    [
        # 1 day late: floor 01-16 + 6 = 01-22 is the original day; the window opens at the floor
        (date(2026, 1, 16), (date(2026, 1, 22), date(2026, 1, 22), date(2026, 1, 23))),
        # 2 days late: floor 01-17 + 6 = 01-23 forces a day later; window 01-22..01-24 cut to 01-23
        (date(2026, 1, 17), (date(2026, 1, 23), date(2026, 1, 23), date(2026, 1, 24))),
        # 1 day early: the original day 01-22 ± 1 (floor 01-14 + 6 = 01-20 does not bind)
        (date(2026, 1, 14), (date(2026, 1, 21), date(2026, 1, 22), date(2026, 1, 23))),
    ],
)
def test_keep_calendar_keeps_the_original_day_unless_the_minimum_interval_forces_later(
    given_on, second
):
    plan = reschedule(plan_schedule(keep_calendar(), START), [Done(IMPLANTATION, given_on, 1)])

    assert windows(plan, IMPLANTATION)[1] == second
    assert planned_on(plan, IMPLANTATION)[2:] == [date(2026, 1, 29), date(2026, 2, 5)]


def test_skipped_dose_keeps_its_planned_day_and_the_next_counts_from_it():
    plan = seed_plan(
        Done(IMPLANTATION, date(2026, 1, 17), 1),
        Skipped(IMPLANTATION, 2, "platelets 30 × 10^9/L"),
    )

    second, third, fourth = plan.occurrences(IMPLANTATION)[1:]
    assert (second.status, second.planned_on, second.note) == (
        ItemStatus.SKIPPED,
        date(2026, 1, 24),  # 01-17 + 7
        "platelets 30 × 10^9/L",
    )
    # 01-24 (as planned) + 7 = 01-31, window ± 1; the floor 01-17 + 6 = 01-23 does not bind
    assert (third.earliest_on, third.planned_on, third.latest_on) == (
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
    )
    assert fourth.planned_on == date(2026, 2, 7)


def test_minimum_interval_floor_counts_from_the_last_dose_given_across_a_skip():
    plan = reschedule(
        plan_schedule(keep_calendar(), START),
        [Done(IMPLANTATION, date(2026, 1, 25), 1), Skipped(IMPLANTATION, 2, "infection")],
    )

    # dose 1 given 10 days late; dose 2 (floor 01-31) skipped; dose 3's original day 01-29 is
    # before the floor counted from dose 1, 01-25 + 6 = 01-31, so it moves there, window 01-31..02-01
    assert windows(plan, IMPLANTATION)[2] == (
        date(2026, 1, 31),
        date(2026, 1, 31),
        date(2026, 2, 1),
    )


@pytest.mark.parametrize(
    ("protocol", "third"),
    [
        # keep_calendar: dose 3 keeps 01-29; a floor from the skipped dose (01-26 + 6) would be 02-01
        (keep_calendar, (date(2026, 1, 28), date(2026, 1, 29), date(2026, 1, 30))),
        # keep_interval: 7 days after the skipped dose as planned (moved to 01-26): 02-02
        (seed, (date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 3))),
    ],
    ids=["keep_calendar", "keep_interval"],
)
def test_a_skipped_dose_sets_no_floor(
    protocol: Callable[[], Protocol], third: tuple[date, date, date]
) -> None:
    closed = tuple(date(2026, 1, d) for d in (22, 23, 24, 25))  # dose 2 moves to 01-26
    plan = reschedule(
        plan_schedule(protocol(), START, closures=closed),
        [Done(IMPLANTATION, date(2026, 1, 15), 1), Skipped(IMPLANTATION, 2, "clinic closed")],
    )

    assert plan.occurrences(IMPLANTATION)[1].planned_on == date(2026, 1, 26)
    assert windows(plan, IMPLANTATION)[2] == third


def test_keep_calendar_planned_doses_keep_the_minimum_interval_between_them():
    plan = reschedule(
        plan_schedule(keep_calendar(), START), [Done(IMPLANTATION, date(2026, 1, 20), 1)]
    )

    # dose 1 five days late: dose 2 cannot be before 01-20 + 6 = 01-26; following the plan, dose 3
    # cannot be before 01-26 + 6 = 02-01 (Cascade: "unless that breaks the minimum interval")
    second, third = plan.occurrences(IMPLANTATION)[1:3]
    assert second.planned_on == date(2026, 1, 26)
    assert third.planned_on >= date(2026, 2, 1)


# ---------------------------------------------------------------- follow-up anchors


def test_follow_up_moves_with_the_actual_last_implantation():
    given = [date(2026, 1, 15), date(2026, 1, 22), date(2026, 1, 29), date(2026, 2, 6)]
    plan = seed_plan(*(Done(IMPLANTATION, on, k) for k, on in enumerate(given, start=1)))

    # 2026-02-06 (a day late) + 30 = 03-08 (Feb 28 is +22), + 91 = 05-08, + 183 = 08-08
    assert [only(plan, v).planned_on for v in ("month-1", "month-3", "month-6")] == [
        date(2026, 3, 8),
        date(2026, 5, 8),
        date(2026, 8, 8),
    ]
    assert (only(plan, "month-1").earliest_on, only(plan, "month-1").latest_on) == (
        date(2026, 3, 1),
        date(2026, 3, 15),
    )


def test_follow_up_counts_from_the_last_given_implantation_when_the_last_is_skipped():
    given = [date(2026, 1, 15), date(2026, 1, 22), date(2026, 1, 29)]
    plan = seed_plan(
        *(Done(IMPLANTATION, on, k) for k, on in enumerate(given, start=1)),
        Skipped(IMPLANTATION, 4, "patient declined"),
    )

    # anchor 2026-01-29: + 30 = 02-28 (Jan 31 is +2); + 91 = 04-30 (Mar 31 +61); + 183 = 07-31
    assert [only(plan, v).planned_on for v in ("month-1", "month-3", "month-6")] == [
        date(2026, 2, 28),
        date(2026, 4, 30),
        date(2026, 7, 31),
    ]


def test_follow_up_counts_from_the_last_planned_when_every_implantation_is_skipped():
    plan = seed_plan(*(Skipped(IMPLANTATION, k, "withdrew") for k in range(1, 5)))

    # nothing held: the last occurrence as planned, 2026-02-05, + 30 = 03-07
    assert only(plan, "month-1").planned_on == date(2026, 3, 7)


def test_follow_up_counts_from_the_first_dose_when_anchored_first():
    protocol = read_protocol(builtin_protocol_path("nurown-phase3"))

    # day 119: Jan 31 is day 26, Feb 28 day 54, Mar 31 day 85, Apr 30 day 115, so 2026-05-04;
    # week 4 = + round(0.92 × 30.4375) = round(28.0025) = 28 days: 2026-06-01, ± 7
    week_4 = only(plan_schedule(protocol, START), "week-4")
    assert (week_4.earliest_on, week_4.planned_on, week_4.latest_on) == (
        date(2026, 5, 25),
        date(2026, 6, 1),
        date(2026, 6, 8),
    )
    # first treatment skipped: the anchor is the second, 05-04 + 56 = 06-29; + 28 = 07-27
    skipped = reschedule(plan_schedule(protocol, START), [Skipped("it-treatment", 1, "declined")])
    assert only(skipped, "week-4").planned_on == date(2026, 7, 27)


def test_follow_up_visits_are_recorded_done_or_skipped():
    plan = seed_plan(Done("month-1", date(2026, 3, 9)), Skipped("month-3", 1, "moved abroad"))

    month_1, month_3 = only(plan, "month-1"), only(plan, "month-3")
    assert (month_1.status, month_1.actual_on, month_1.planned_on) == (
        ItemStatus.DONE,
        date(2026, 3, 9),
        date(2026, 3, 7),
    )
    assert (month_3.status, month_3.note) == (ItemStatus.SKIPPED, "moved abroad")


# ---------------------------------------------------------------- treatment end


def test_treatment_end_ignores_skipped_and_closed_occurrences():
    rehab = {
        "id": "rehab",
        "kind": "rehabilitation",
        "name": "Rehabilitation",
        "day": 10,
        "repeat": {"rule": "daily", "count": 10},
    }
    protocol = mini(dose(), rehab)
    # rehab runs days 10..19 (01-15..01-24); dose 2 on day 17 (01-22)
    assert plan_schedule(protocol, START).duration_days == 20

    closed = (date(2026, 1, 23), date(2026, 1, 24))  # the last two sessions are not held
    plan = reschedule(plan_schedule(protocol, START, closures=closed), [Skipped("dose", 2, "AE")])

    assert plan.treatment_end_on == date(2026, 1, 22)  # rehab session 8, day 17
    assert plan.duration_days == 18


# ---------------------------------------------------------------- matching events to occurrences


def test_done_without_occurrence_fills_the_next_free_occurrence_in_date_order():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 22)), Done(IMPLANTATION, date(2026, 1, 15)))

    assert [(i.occurrence, i.status, i.actual_on) for i in plan.occurrences(IMPLANTATION)] == [
        (1, ItemStatus.DONE, date(2026, 1, 15)),
        (2, ItemStatus.DONE, date(2026, 1, 22)),
        (3, ItemStatus.PLANNED, None),
        (4, ItemStatus.PLANNED, None),
    ]


def test_done_without_occurrence_skips_recorded_occurrences():
    plan = seed_plan(
        Done(IMPLANTATION, date(2026, 1, 15), 1),
        Skipped(IMPLANTATION, 2, "fever"),
        Done(IMPLANTATION, date(2026, 1, 29)),
    )

    statuses = [(i.status, i.actual_on) for i in plan.occurrences(IMPLANTATION)]
    assert statuses[2] == (ItemStatus.DONE, date(2026, 1, 29))
    assert statuses[3] == (ItemStatus.PLANNED, None)


def test_events_add_to_those_the_plan_holds():
    first = seed_plan(Done(IMPLANTATION, date(2026, 1, 15)))

    second = reschedule(first, [Done(IMPLANTATION, date(2026, 1, 23))])

    assert second.events == (
        Done(IMPLANTATION, date(2026, 1, 15)),
        Done(IMPLANTATION, date(2026, 1, 23)),
    )
    assert [i.actual_on for i in second.occurrences(IMPLANTATION)[:2]] == [
        date(2026, 1, 15),
        date(2026, 1, 23),
    ]
    assert planned_on(second, IMPLANTATION)[2] == date(2026, 1, 30)  # 01-23 + 7


@pytest.mark.parametrize(
    "fifth",
    [Done(IMPLANTATION, date(2026, 2, 12)), Done(IMPLANTATION, date(2026, 2, 12), 5)],
    ids=["implicit", "numbered"],
)
def test_done_beyond_the_count_goes_to_extras(fifth):
    given = [date(2026, 1, 15), date(2026, 1, 22), date(2026, 1, 29), date(2026, 2, 5)]

    plan = seed_plan(*(Done(IMPLANTATION, on) for on in given), fifth)

    assert plan.extras == (fifth,)
    assert len(plan.occurrences(IMPLANTATION)) == 4
    assert {i.status for i in plan.occurrences(IMPLANTATION)} == {ItemStatus.DONE}


def test_daily_done_matches_the_session_planned_that_day():
    plan = seed_plan(
        Done("physiotherapy", date(2026, 1, 14)),  # day 9: session 3
        Done("physiotherapy", date(2026, 1, 20), 1),  # numbered: session 1, given on another day
    )

    sessions = plan.occurrences("physiotherapy")
    assert (sessions[2].status, sessions[2].actual_on) == (ItemStatus.DONE, date(2026, 1, 14))
    assert (sessions[0].status, sessions[0].actual_on) == (ItemStatus.DONE, date(2026, 1, 20))
    assert sessions[1].status is ItemStatus.PLANNED
    assert plan.extras == ()


@pytest.mark.parametrize(
    ("events", "extras"),
    [
        # 2026-02-09 is day 35, the day after the last session (day 34)
        ([Done("physiotherapy", date(2026, 2, 9))], [Done("physiotherapy", date(2026, 2, 9))]),
        # a second session on the same day
        (
            [Done("tcm", date(2026, 1, 14)), Done("tcm", date(2026, 1, 14))],
            [Done("tcm", date(2026, 1, 14))],
        ),
        # numbered beyond the count of 28
        ([Done("tcm", date(2026, 2, 8), 29)], [Done("tcm", date(2026, 2, 8), 29)]),
    ],
    ids=["after-the-last", "twice-a-day", "numbered-29"],
)
def test_daily_done_on_an_unplanned_day_goes_to_extras(events, extras):
    plan = seed_plan(*events, closures=(date(2026, 1, 20),))

    assert list(plan.extras) == extras


def test_a_session_held_on_a_closed_day_is_recorded_as_done():
    plan = seed_plan(Done("tcm", date(2026, 1, 20)), closures=(date(2026, 1, 20),))

    session = plan.occurrences("tcm")[
        8
    ]  # 2026-01-20 is day 15; sessions start day 7: 15 - 7 + 1 = 9

    assert (session.occurrence, session.planned_on) == (9, date(2026, 1, 20))
    assert (session.status, session.actual_on) == (ItemStatus.DONE, date(2026, 1, 20))
    assert not plan.extras


def test_a_skipped_session_then_recorded_as_done_is_refused():
    with pytest.raises(
        InvalidInput,
        match=r"events\[1\]: occurrence 3 of physiotherapy is already recorded at events\[0\]",
    ):
        seed_plan(Skipped("physiotherapy", 3, "fatigue"), Done("physiotherapy", date(2026, 1, 14)))


def test_skipped_daily_session_is_skipped_with_its_reason():
    plan = seed_plan(Skipped("physiotherapy", 3, "fatigue"))

    third = plan.occurrences("physiotherapy")[2]
    assert (third.status, third.note, third.planned_on) == (
        ItemStatus.SKIPPED,
        "fatigue",
        date(2026, 1, 14),
    )


def test_occurrences_follow_numbers_not_dates():
    plan = seed_plan(Done("physiotherapy", date(2026, 1, 20), 1))

    sessions = plan.occurrences("physiotherapy")
    assert [s.occurrence for s in sessions[:2]] == [1, 2]
    assert [s.on for s in sessions[:2]] == [date(2026, 1, 20), date(2026, 1, 13)]


# ---------------------------------------------------------------- events that cannot apply


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (
            [Done("lumbar-puncture", date(2026, 1, 15))],
            [
                (
                    "events[0].activity_id",
                    "no activity or visit 'lumbar-puncture' in protocol als-nsc-4lp",
                )
            ],
        ),
        (
            [Skipped(IMPLANTATION, 5, "none left")],
            [("events[0].occurrence", "implantation has no occurrence 5 to skip")],
        ),
        (
            [Skipped(IMPLANTATION, 0, "none")],
            [("events[0].occurrence", "must be >= 1, got 0")],
        ),
        (
            [Skipped("immune-medication", 1, "not needed")],
            [("events[0].occurrence", "immune-medication has no occurrence 1 to skip")],
        ),
        (
            [Done(IMPLANTATION, date(2026, 1, 15), 1), Skipped(IMPLANTATION, 1, "fever")],
            [("events[1]", "occurrence 1 of implantation is already recorded at events[0]")],
        ),
        (
            [Done("month-1", date(2026, 3, 7)), Done("month-1", date(2026, 3, 8))],
            [("events[1]", "occurrence 1 of month-1 is already recorded at events[0]")],
        ),
        (
            [Done(IMPLANTATION, date(2026, 1, 4))],
            [("events[0].on", "2026-01-04 is before the program start (2026-01-05)")],
        ),
        (
            [Done("month-1", date(2026, 3, 7), 2)],
            [("events[0].occurrence", "a follow-up visit has one occurrence, got 2")],
        ),
    ],
    ids=[
        "unknown-activity",
        "skip-beyond-count",
        "skip-zero",
        "skip-as-needed",
        "recorded-twice",
        "visit-twice",
        "before-start",
        "visit-occurrence-2",
    ],
)
def test_events_that_cannot_apply_are_refused(events, expected):
    with pytest.raises(InvalidInput, match=r"^invalid schedule events \(1 problem\)") as caught:
        seed_plan(*events)

    assert problems(caught.value) == expected


def test_every_problem_is_listed_at_once():
    events: list[Event] = [
        Done("nope", date(2020, 1, 1)),  # unknown: its date is not checked as well
        Done(IMPLANTATION, date(2026, 1, 1), 1),
        Skipped(IMPLANTATION, 1, "fever"),
        Skipped("month-6", 2, "moved"),
    ]

    with pytest.raises(InvalidInput) as caught:
        seed_plan(*events)

    assert [location for location, _ in problems(caught.value)] == [
        "events[0].activity_id",
        "events[1].on",
        "events[2]",
        "events[3].occurrence",  # month-6 has no occurrence 2 to skip
        "events[3].occurrence",  # and a follow-up visit has one occurrence
    ]


def test_problem_paths_index_the_callers_events_after_a_closure():
    with pytest.raises(InvalidInput) as caught:
        seed_plan(Closed(date(2026, 1, 20)), Done("nope", date(2026, 1, 20)))

    assert [location for location, _ in problems(caught.value)] == ["events[1].activity_id"]


def test_problem_paths_index_the_callers_events_after_earlier_events():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 15)))

    with pytest.raises(InvalidInput) as caught:
        reschedule(plan, [Done("nope", date(2026, 1, 20))])

    assert [location for location, _ in problems(caught.value)] == ["events[0].activity_id"]


def test_the_latest_start_whose_calendar_fits_before_the_year_10000():
    # the last window closes on day 31 + 183 + 14 = 228; 9999-05-17 + 228 days = 9999-12-31
    # (May 31 +14, Jun 30 +44, Jul 31 +75, Aug 31 +106, Sep 30 +136, Oct 31 +167, Nov 30 +197)
    plan = plan_schedule(seed(), date(9999, 5, 17))

    assert only(plan, "month-6").latest_on == date(9999, 12, 31)


def test_a_start_whose_calendar_runs_past_the_year_9999_is_refused():
    with pytest.raises(InvalidInput, match=r"^invalid schedule \(1 problem\)") as caught:
        plan_schedule(seed(), date(9999, 5, 18))

    assert problems(caught.value) == [
        ("start_on", "9999-05-18 is too late: the program's calendar would run past the year 9999")
    ]


def test_an_event_dated_at_the_end_of_the_calendar_is_blamed_not_the_start():
    with pytest.raises(InvalidInput) as caught:
        seed_plan(Done(IMPLANTATION, date(9999, 12, 30), 1))  # dose 2 would be 7 days later

    assert [location for location, _ in problems(caught.value)] == ["events[0].on"]


@pytest.mark.parametrize("occurrence", [0, -1])
def test_a_done_numbered_below_1_is_refused(occurrence):
    with pytest.raises(InvalidInput) as caught:
        seed_plan(Done(IMPLANTATION, date(2026, 1, 15), occurrence))

    assert [location for location, _ in problems(caught.value)] == ["events[0].occurrence"]


def test_an_occurrence_recorded_in_an_earlier_call_is_refused():
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 15), 1))

    with pytest.raises(InvalidInput, match="occurrence 1 of implantation is already recorded"):
        reschedule(plan, [Done(IMPLANTATION, date(2026, 1, 16), 1)])


# ---------------------------------------------------------------- properties

DAYS = st.integers(min_value=7, max_value=75)  # closures from the first daily session to month 1
OFFSETS = st.one_of(st.none(), st.integers(min_value=-3, max_value=5))  # None: the dose is skipped
STEPS = st.tuples(OFFSETS, st.booleans(), st.lists(DAYS, max_size=2))  # dose, numbered?, closures


def record_doses(
    closure_days: list[int], steps: list[tuple[int | None, bool, list[int]]]
) -> list[Plan]:
    """Give (or skip) doses one at a time, relative to their planned day as the plan stands."""
    plans = [plan_schedule(seed(), START, closures=[START + timedelta(d) for d in closure_days])]
    for k, (offset, numbered, closing) in enumerate(steps, start=1):
        plan = plans[-1]
        planned = plan.occurrences(IMPLANTATION)[k - 1].planned_on
        event: Event
        if offset is None:
            event = Skipped(IMPLANTATION, k, "not given")
        else:
            event = Done(IMPLANTATION, planned + timedelta(offset), k if numbered else None)
        closed = [Closed(START + timedelta(d)) for d in closing]
        plans.append(reschedule(plan, [event, *closed]))
    return plans


HISTORIES = {
    "closure_days": st.lists(DAYS, max_size=6),
    "steps": st.lists(STEPS, max_size=4),
}


@given(**HISTORIES)
def test_planned_doses_keep_the_minimum_interval_from_the_last_dose_given(closure_days, steps):
    for plan in record_doses(closure_days, steps):
        last_given: date | None = None
        for item in plan.occurrences(IMPLANTATION):
            if item.status is ItemStatus.PLANNED and last_given is not None:
                assert item.planned_on >= last_given + timedelta(days=6)
                assert item.earliest_on >= last_given + timedelta(days=6)
            if item.status is ItemStatus.DONE:
                assert item.actual_on is not None
                last_given = item.actual_on


@given(**HISTORIES)
def test_doses_stay_in_date_order(closure_days, steps):
    for plan in record_doses(closure_days, steps):
        days = [item.on for item in plan.occurrences(IMPLANTATION)]
        assert days == sorted(days)
        assert len(set(days)) == len(days)
        planned = [
            i.planned_on for i in plan.occurrences(IMPLANTATION) if i.status is ItemStatus.PLANNED
        ]
        assert planned == sorted(planned)


@given(**HISTORIES)
def test_only_daily_sessions_fall_on_closed_days(closure_days, steps):
    for plan in record_doses(closure_days, steps):
        daily = {a.id for a in plan.protocol.activities() if a.repeat.rule is RepeatRule.DAILY}
        for item in plan.items:
            if item.activity_id in daily:
                assert (item.status is ItemStatus.CLOSED) == (item.planned_on in plan.closures)
            else:
                assert item.planned_on not in plan.closures


# ---------------------------------------------------------------- linked activities


def test_linked_labs_are_the_day_before_each_implantation():
    # labs day 9 / implantation day 10: one day before, 2026-01-14, -21, -28, 2026-02-04
    assert planned_on(seed_plan(), "pre-puncture-labs") == [
        date(2026, 1, 14),
        date(2026, 1, 21),
        date(2026, 1, 28),
        date(2026, 2, 4),
    ]


def test_linked_labs_move_with_a_late_implantation():
    # implantation 1 given 2026-01-17 (2 days late): 2 is planned 01-24, its labs 01-23; 3 on 01-31
    plan = seed_plan(Done(IMPLANTATION, date(2026, 1, 17), 1))

    assert planned_on(plan, "pre-puncture-labs")[1:] == [
        date(2026, 1, 23),
        date(2026, 1, 30),
        date(2026, 2, 6),
    ]


def test_linked_labs_are_cancelled_with_a_skipped_implantation():
    plan = seed_plan(Skipped(IMPLANTATION, 2, "fever"))

    labs = plan.occurrences("pre-puncture-labs")[1]

    assert labs.status is ItemStatus.CANCELLED
    assert labs.note == "Intrathecal neural stem cell implantation 2 was skipped"
    assert not labs.held


def test_linked_labs_done_anyway_are_recorded():
    plan = seed_plan(
        Skipped(IMPLANTATION, 2, "fever"), Done("pre-puncture-labs", date(2026, 1, 21), 2)
    )

    assert plan.occurrences("pre-puncture-labs")[1].status is ItemStatus.DONE


# ---------------------------------------------------------------- occurrence numbers and order


def test_an_unnumbered_dose_after_a_numbered_one_takes_a_later_occurrence():
    # dose 2 recorded as such on 01-22; an unnumbered dose on 01-29 is 3, not the free 1
    plan = seed_plan(
        Done(IMPLANTATION, date(2026, 1, 22), 2), Done(IMPLANTATION, date(2026, 1, 29))
    )

    statuses = [
        (item.occurrence, item.status, item.actual_on) for item in plan.occurrences(IMPLANTATION)
    ]

    assert statuses[:3] == [
        (1, ItemStatus.PLANNED, None),
        (2, ItemStatus.DONE, date(2026, 1, 22)),
        (3, ItemStatus.DONE, date(2026, 1, 29)),
    ]


def test_an_unnumbered_dose_before_a_numbered_one_fills_the_gap_before_it():
    plan = seed_plan(
        Done(IMPLANTATION, date(2026, 1, 22), 2), Done(IMPLANTATION, date(2026, 1, 15))
    )

    assert plan.occurrences(IMPLANTATION)[0].actual_on == date(2026, 1, 15)


def test_a_second_unnumbered_session_on_one_day_is_an_extra_not_an_error():
    plan = seed_plan(
        Done("physiotherapy", date(2026, 1, 12)), Done("physiotherapy", date(2026, 1, 12))
    )

    assert plan.occurrences("physiotherapy")[0].status is ItemStatus.DONE
    assert plan.extras == (Done("physiotherapy", date(2026, 1, 12)),)


def test_a_numbered_daily_session_recorded_twice_is_refused():
    with pytest.raises(
        InvalidInput, match=r"events\[1\]: occurrence 1 of physiotherapy is already recorded"
    ):
        seed_plan(
            Done("physiotherapy", date(2026, 1, 12), 1), Done("physiotherapy", date(2026, 1, 12))
        )


def test_an_event_in_the_wrong_century_is_refused_at_its_place():
    plan = plan_schedule(seed(), START)

    with pytest.raises(InvalidInput) as caught:
        reschedule(plan, [Closed(date(2026, 1, 20)), Done(IMPLANTATION, date(2206, 1, 15))])

    assert problems(caught.value) == [
        (
            "events[1].on",
            "2206-01-15 is more than 100 years after the program start (2026-01-05); check the year",
        )
    ]
