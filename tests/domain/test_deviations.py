"""Protocol deviations (deviations.py): kind and severity of each departure, and their order.

Severity rules are the deviations module docstring's: critical for a cell dose too soon or beyond the
count, major for a cell dose outside its window or missed, a follow-up visit missed or the program
longer than its bound, minor otherwise. Dates are worked out by hand in comments; the seed protocol
(protocols/als-nsc-4lp.yaml) starts on 2026-01-05 (day 0) and plans implantations on 2026-01-15, -22,
-29 and 2026-02-05 (± 1 day), daily sessions 2026-01-12..2026-02-08 and its discharge exam on
2026-02-12 (day 38, 39 days of the 35-49 allowed).
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import pytest

from alscell.domain.deviations import Deviation, DeviationKind, Severity, find_deviations
from alscell.domain.protocol import Protocol, parse_protocol
from alscell.domain.scheduling import Closed, Done, Event, Plan, Skipped, plan_schedule, reschedule
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

START = date(2026, 1, 5)  # day 0
IMPLANTATION = "implantation"
IMPLANTATION_NAME = "Intrathecal neural stem cell implantation"
LATE = date(2026, 12, 31)  # an as_of after every window of the seed protocol has closed

OUTSIDE_WINDOW = DeviationKind.OUTSIDE_WINDOW
INTERVAL_TOO_SHORT = DeviationKind.INTERVAL_TOO_SHORT
MISSED = DeviationKind.MISSED
NOT_RECORDED = DeviationKind.NOT_RECORDED
EXTRA = DeviationKind.EXTRA
CRITICAL, MAJOR, MINOR = Severity.CRITICAL, Severity.MAJOR, Severity.MINOR


@functools.cache
def seed() -> Protocol:
    return read_protocol(builtin_protocol_path())


def seed_plan(*, closures: tuple[date, ...] = ()) -> Plan:
    return plan_schedule(seed(), START, closures=closures)


def dose(**changes: Any) -> dict[str, Any]:
    """A cell dose on day 10, twice 7 days apart, window ± 1 day, at least 6 days apart."""
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


def mini(*treatment: dict[str, Any], min_days: int = 1, max_days: int = 60) -> Protocol:
    """A minimal valid protocol: an examination on day 0, then ``treatment`` (default: :func:`dose`)."""
    exam = {"id": "exam", "kind": "examination", "name": "Examination", "day": 0}
    return parse_protocol(
        {
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
    )


def carried_out(plan: Plan) -> list[Event]:
    """Every occurrence of the plan done on its planned day."""
    return [Done(item.activity_id, item.planned_on, item.occurrence) for item in plan.items]


def given(*days: date, activity_id: str = IMPLANTATION) -> list[Event]:
    """Doses 1, 2, ... given on ``days``."""
    return [Done(activity_id, on, k) for k, on in enumerate(days, start=1)]


def summary(deviations: tuple[Deviation, ...]) -> list[tuple[Any, ...]]:
    """Each deviation without its wording: kind, severity, activity, occurrence, date."""
    return [(d.kind, d.severity, d.activity_id, d.occurrence, d.on) for d in deviations]


# ---------------------------------------------------------------- none


def test_a_fresh_plan_has_no_deviations():
    assert find_deviations(seed_plan()) == ()


def test_a_plan_carried_out_exactly_has_no_deviations():
    plan = seed_plan()

    assert find_deviations(plan, carried_out(plan), as_of=LATE) == ()


@pytest.mark.parametrize("on", [date(2026, 1, 14), date(2026, 1, 16)], ids=["first", "last"])
def test_dose_on_either_end_of_its_window_is_no_deviation(on):
    # implantation 1 planned 2026-01-15, window 01-14..01-16
    assert find_deviations(seed_plan(), given(on)) == ()


def test_as_needed_doses_are_no_deviation():
    assert find_deviations(seed_plan(), [Done("immune-medication", date(2026, 1, 20))]) == ()


def test_dose_on_the_day_a_closure_moved_it_to_is_no_deviation():
    # 2026-01-15 closed: moved to 01-16, the last day of its unchanged window 01-14..01-16
    plan = seed_plan(closures=(date(2026, 1, 15),))

    assert find_deviations(plan, given(date(2026, 1, 16))) == ()


# ---------------------------------------------------------------- outside the window


@pytest.mark.parametrize("via", ["actual", "plan"])
def test_dose_one_day_beyond_its_window_is_outside_window_major(via):
    events = given(date(2026, 1, 17))
    plan = seed_plan()

    found = (
        find_deviations(plan, events)
        if via == "actual"
        else find_deviations(reschedule(plan, events))
    )

    assert found == (
        Deviation(
            OUTSIDE_WINDOW,
            MAJOR,
            IMPLANTATION,
            1,
            date(2026, 1, 17),
            f"{IMPLANTATION_NAME} 1 of 4 on 2026-01-17, outside its window 2026-01-14 to 2026-01-16",
        ),
    )


@pytest.mark.parametrize(
    ("event", "severity"),
    [
        (Done(IMPLANTATION, date(2026, 1, 13), 1), MAJOR),  # window 01-14..01-16
        (Done("discharge-exam", date(2026, 2, 15)), MINOR),  # day 38 ± 2: 02-10..02-14
        (Done("month-1", date(2026, 3, 15)), MAJOR),  # 2026-03-07 ± 7: 02-28..03-14
        (Done("pre-puncture-labs", date(2026, 1, 16)), MINOR),  # 2026-01-14 ± 1: 01-13..01-15
    ],
    ids=["early-dose", "exam", "visit", "labs"],
)
def test_outside_window_severity(event, severity):
    assert summary(find_deviations(seed_plan(), [event])) == [
        (OUTSIDE_WINDOW, severity, event.activity_id, 1, event.on)
    ]


def test_window_kept_after_a_two_day_closure_puts_the_moved_dose_outside_it():
    # scheduling rule: a moved occurrence keeps its window, 01-14..01-16; 01-15 and 01-16 closed
    plan = seed_plan(closures=(date(2026, 1, 15), date(2026, 1, 16)))

    assert summary(find_deviations(plan, given(date(2026, 1, 17)))) == [
        (OUTSIDE_WINDOW, MAJOR, IMPLANTATION, 1, date(2026, 1, 17))
    ]


def test_a_second_dose_without_a_minimum_interval_is_checked_against_its_window_only():
    # pre-puncture labs: no minimum interval; 2 is planned 01-14 + 7 = 01-21, window 01-20..01-22
    events = [
        Done("pre-puncture-labs", date(2026, 1, 14), 1),
        Done("pre-puncture-labs", date(2026, 1, 17), 2),
    ]

    assert find_deviations(seed_plan(), events) == (
        Deviation(
            OUTSIDE_WINDOW,
            MINOR,
            "pre-puncture-labs",
            2,
            date(2026, 1, 17),
            "Blood count and coagulation before implantation 2 of 4 on 2026-01-17, "
            "outside its window 2026-01-20 to 2026-01-22",
        ),
    )


# ---------------------------------------------------------------- too soon


def test_dose_too_soon_is_interval_too_short_critical_and_not_also_outside_window():
    # 2026-01-20 is 5 days after 01-15 (minimum 6) and before dose 2's window 01-21..01-23
    found = find_deviations(seed_plan(), given(date(2026, 1, 15), date(2026, 1, 20)))

    assert found == (
        Deviation(
            INTERVAL_TOO_SHORT,
            CRITICAL,
            IMPLANTATION,
            2,
            date(2026, 1, 20),
            f"{IMPLANTATION_NAME} 2 of 4 given 5 days after the previous one; the minimum is 6 days",
        ),
    )


def test_dose_exactly_the_minimum_interval_after_the_previous_is_no_deviation():
    # 01-15 + 6 = 01-21, the first day of dose 2's window
    assert find_deviations(seed_plan(), given(date(2026, 1, 15), date(2026, 1, 21))) == ()


def test_interval_counts_from_the_last_dose_given_across_a_skipped_one():
    events: list[Event] = [
        Done(IMPLANTATION, date(2026, 1, 15), 1),
        Skipped(IMPLANTATION, 2, "fever"),
        Done(IMPLANTATION, date(2026, 1, 20), 3),  # 5 days after dose 1
    ]

    assert summary(find_deviations(seed_plan(), events)) == [
        (INTERVAL_TOO_SHORT, CRITICAL, IMPLANTATION, 3, date(2026, 1, 20)),
        (MISSED, MAJOR, IMPLANTATION, 2, date(2026, 1, 22)),
    ]


def test_non_cell_activity_too_soon_is_interval_too_short_minor():
    # "minor otherwise" (module docstring): labs too soon are not a cell dose nor a visit
    labs = dose(
        id="labs", kind="lab_panel", name="Labs", day=9, min_interval_days=5, records=["hematology"]
    )
    plan = plan_schedule(mini(dose(), labs), START)

    # labs on day 9 = 2026-01-14, then 01-18: 4 days, minimum 5
    events = [Done("labs", date(2026, 1, 14), 1), Done("labs", date(2026, 1, 18), 2)]

    assert summary(find_deviations(plan, events)) == [
        (INTERVAL_TOO_SHORT, MINOR, "labs", 2, date(2026, 1, 18))
    ]


# ---------------------------------------------------------------- missed and not recorded


@pytest.mark.parametrize(
    ("event", "severity", "on", "detail"),
    [
        (
            Skipped(IMPLANTATION, 2, "platelets 30 × 10^9/L"),
            MAJOR,
            date(2026, 1, 22),
            f"{IMPLANTATION_NAME} 2 of 4 missed: platelets 30 × 10^9/L",
        ),
        (
            Skipped("month-3", 1, "moved abroad"),
            MAJOR,
            date(2026, 5, 7),  # 2026-02-05 + 91
            "Follow-up month 3 missed: moved abroad",
        ),
        (
            Skipped("physiotherapy", 3, "fatigue"),
            MINOR,
            date(2026, 1, 14),  # day 9
            "Physiotherapy 3 of 28 missed: fatigue",
        ),
    ],
    ids=["dose", "follow-up-visit", "rehabilitation"],
)
def test_skipped_occurrence_is_missed(event, severity, on, detail):
    found = find_deviations(seed_plan(), [event])

    assert found == (Deviation(MISSED, severity, event.activity_id, event.occurrence, on, detail),)


def test_as_of_after_a_window_closed_without_a_record_is_not_recorded():
    # the day-0 examination has no window; the organ labs' window (± 1) is still open on 01-06
    assert find_deviations(seed_plan(), as_of=date(2026, 1, 6)) == (
        Deviation(
            NOT_RECORDED,
            MINOR,
            "neuro-exam",
            1,
            date(2026, 1, 5),
            "Neurological evaluation with ALSFRS-R and vital capacity not recorded by 2026-01-05 "
            "(its window ended 2026-01-05)",
        ),
    )


@pytest.mark.parametrize(
    ("activity_id", "as_of", "expected"),
    [
        (IMPLANTATION, date(2026, 1, 16), []),  # the last day of the window is still open
        (
            IMPLANTATION,
            date(2026, 1, 17),
            [(NOT_RECORDED, MAJOR, IMPLANTATION, 1, date(2026, 1, 15))],
        ),
        ("month-1", date(2026, 3, 14), []),
        ("month-1", date(2026, 3, 15), [(NOT_RECORDED, MAJOR, "month-1", 1, date(2026, 3, 7))]),
    ],
)
def test_not_recorded_once_the_window_has_closed(activity_id, as_of, expected):
    found = find_deviations(seed_plan(), as_of=as_of)

    assert [row for row in summary(found) if row[2] == activity_id] == expected


def test_a_session_not_held_because_the_clinic_was_closed_is_no_deviation():
    found = find_deviations(seed_plan(closures=(date(2026, 1, 14),)), as_of=date(2026, 1, 15))

    # sessions 1 and 2 (01-12, 01-13) are overdue; 3 (01-14) was closed; 4 (01-15) is today
    assert [d.occurrence for d in found if d.activity_id == "physiotherapy"] == [1, 2]
    assert {d.kind for d in found} == {NOT_RECORDED}


# ---------------------------------------------------------------- extras


def test_a_fifth_implantation_is_extra_critical():
    events = [
        *given(date(2026, 1, 15), date(2026, 1, 22), date(2026, 1, 29), date(2026, 2, 5)),
        Done(IMPLANTATION, date(2026, 2, 12)),
    ]

    assert find_deviations(seed_plan(), events) == (
        Deviation(
            EXTRA,
            CRITICAL,
            IMPLANTATION,
            None,
            date(2026, 2, 12),
            f"{IMPLANTATION_NAME} on 2026-02-12 is beyond the protocol's 4 planned",
        ),
    )


def test_a_daily_session_on_an_unplanned_day_is_extra_minor():
    # 2026-02-09 is day 35, the day after the last session
    found = find_deviations(seed_plan(), [Done("physiotherapy", date(2026, 2, 9))])

    assert found == (
        Deviation(
            EXTRA,
            MINOR,
            "physiotherapy",
            None,
            date(2026, 2, 9),
            "Physiotherapy on 2026-02-09: no session, or no further session, was planned that day",
        ),
    )


# ---------------------------------------------------------------- program length


def test_delays_predicted_to_overrun_the_bound_are_program_too_long_major():
    # dose 2 given 18 days late on 2026-02-09: doses 3 and 4 planned 02-16 and 02-23 = day 49
    # (Jan 31 is day 26), so the program is planned to last 50 days, beyond 49
    found = find_deviations(seed_plan(), given(date(2026, 1, 15), date(2026, 2, 9)))

    assert found == (
        Deviation(
            OUTSIDE_WINDOW,
            MAJOR,
            IMPLANTATION,
            2,
            date(2026, 2, 9),
            f"{IMPLANTATION_NAME} 2 of 4 on 2026-02-09, outside its window 2026-01-21 to 2026-01-23",
        ),
        Deviation(
            DeviationKind.PROGRAM_TOO_LONG,
            MAJOR,
            None,
            None,
            date(2026, 2, 23),
            "the program is planned to last 50 days, beyond its bound of 49",
        ),
    )


def test_a_program_planned_to_last_exactly_its_bound_is_not_too_long():
    # dose 2 on 2026-02-08: dose 4 planned 02-22 = day 48, 49 days
    found = find_deviations(seed_plan(), given(date(2026, 1, 15), date(2026, 2, 8)))

    assert [d.kind for d in found] == [OUTSIDE_WINDOW]


def test_a_closure_can_overrun_a_tight_bound_in_the_plan():
    # dose 2 on day 17 = 2026-01-22 is the last day of an 18-day bound; closed, it moves to 01-23
    plan = plan_schedule(mini(min_days=18, max_days=18), START, closures=(date(2026, 1, 22),))

    assert find_deviations(plan) == (
        Deviation(
            DeviationKind.PROGRAM_TOO_LONG,
            MAJOR,
            None,
            None,
            date(2026, 1, 23),
            "the program is planned to last 19 days, beyond its bound of 18",
        ),
    )


def test_a_finished_program_beyond_its_bound_lasted_too_long():
    plan = plan_schedule(mini(min_days=18, max_days=18), START)
    # dose 2 a day late (01-23, inside its window 01-21..01-23): days 0..18 = 19 days
    events = [
        Done("exam", START),
        Done("dose", date(2026, 1, 15), 1),
        Done("dose", date(2026, 1, 23), 2),
    ]

    assert [(d.kind, d.on, d.detail) for d in find_deviations(plan, events)] == [
        (
            DeviationKind.PROGRAM_TOO_LONG,
            date(2026, 1, 23),
            "the program lasted 19 days, beyond its bound of 18",
        )
    ]


@pytest.mark.parametrize(
    ("last_dose", "expected"),
    [
        # a day early: days 0..16 = 17 days, short of 18
        (
            Done("dose", date(2026, 1, 21), 2),
            [
                (
                    DeviationKind.PROGRAM_TOO_SHORT,
                    MINOR,
                    None,
                    None,
                    date(2026, 1, 21),
                    "the program lasted 17 days, short of its bound of 18",
                )
            ],
        ),
        (Done("dose", date(2026, 1, 22), 2), []),  # as planned: 18 days
        # skipped: the program ended with dose 1 on day 10, 11 days
        (
            Skipped("dose", 2, "adverse event"),
            [
                (
                    DeviationKind.PROGRAM_TOO_SHORT,
                    MINOR,
                    None,
                    None,
                    date(2026, 1, 15),
                    "the program lasted 11 days, short of its bound of 18",
                ),
                (
                    MISSED,
                    MAJOR,
                    "dose",
                    2,
                    date(2026, 1, 22),
                    "Implantation 2 of 2 missed: adverse event",
                ),
            ],
        ),
    ],
    ids=["early", "as-planned", "skipped"],
)
def test_a_finished_program_short_of_its_bound_is_program_too_short_minor(last_dose, expected):
    plan = plan_schedule(mini(min_days=18, max_days=24), START)
    events = [Done("exam", START), Done("dose", date(2026, 1, 15), 1), last_dose]

    found = find_deviations(plan, events)

    assert [
        (d.kind, d.severity, d.activity_id, d.occurrence, d.on, d.detail) for d in found
    ] == expected


def test_a_program_not_yet_finished_is_not_called_short():
    # dose 2 a day early, but the day-0 examination is still planned: the program is not finished
    plan = plan_schedule(mini(min_days=18, max_days=24), START)

    assert (
        find_deviations(plan, given(date(2026, 1, 15), date(2026, 1, 21), activity_id="dose")) == ()
    )


def test_a_program_with_every_treatment_occurrence_skipped_lists_what_was_missed():
    plan = plan_schedule(mini(), START)
    events: list[Event] = [
        Skipped("exam", 1, "withdrew"),
        Skipped("dose", 1, "withdrew"),
        Skipped("dose", 2, "withdrew"),
    ]

    found = find_deviations(plan, events)

    assert [(d.kind, d.activity_id, d.occurrence) for d in found if d.kind is MISSED] == [
        (MISSED, "exam", 1),
        (MISSED, "dose", 1),
        (MISSED, "dose", 2),
    ]


# ---------------------------------------------------------------- order


def test_deviations_are_sorted_by_date_then_activity():
    events: list[Event] = [
        Skipped("tcm", 3, "fatigue"),  # 2026-01-14
        Done("month-3", date(2026, 5, 1)),  # inside 05-09 ± 14 (dose 4 moved to 02-07): none
        Done("physiotherapy", date(2026, 2, 9)),  # extra
        Skipped("month-6", 1, "moved abroad"),  # 02-07 + 183 = 2026-08-09
        Done(IMPLANTATION, date(2026, 1, 17), 1),  # outside 01-14..01-16; later doses + 2 days
        Skipped("physiotherapy", 3, "fatigue"),  # 2026-01-14
        Closed(date(2026, 1, 30)),  # no session on day 25
    ]

    found = find_deviations(seed_plan(), events)

    assert [(d.kind, d.activity_id, d.on) for d in found] == [
        (MISSED, "physiotherapy", date(2026, 1, 14)),
        (MISSED, "tcm", date(2026, 1, 14)),
        (OUTSIDE_WINDOW, IMPLANTATION, date(2026, 1, 17)),
        (EXTRA, "physiotherapy", date(2026, 2, 9)),
        (MISSED, "month-6", date(2026, 8, 9)),
    ]


def test_a_dose_a_closure_moved_past_its_window_is_not_overdue_before_its_day():
    # closed 01-15..01-17: implantation 1 (window 01-14..01-16) is planned 01-18
    plan = seed_plan(closures=(date(2026, 1, 15), date(2026, 1, 16), date(2026, 1, 17)))

    on_its_day = [
        d for d in find_deviations(plan, as_of=date(2026, 1, 18)) if d.activity_id == IMPLANTATION
    ]
    after = [
        d for d in find_deviations(plan, as_of=date(2026, 1, 19)) if d.activity_id == IMPLANTATION
    ]

    assert on_its_day == []
    assert summary(tuple(after)) == [
        (DeviationKind.NOT_RECORDED, MAJOR, IMPLANTATION, 1, date(2026, 1, 18))
    ]


def test_a_cancelled_linked_lab_is_no_deviation():
    # labs are linked to the implantation: skipping implantation 2 cancels its labs, and only
    # the skipped dose is a deviation
    deviations = find_deviations(seed_plan(), [Skipped(IMPLANTATION, 2, "fever")])

    assert [(d.kind, d.activity_id) for d in deviations] == [(DeviationKind.MISSED, IMPLANTATION)]
