"""Capacity-aware booking: the greedy rule worked by hand on the seed protocol, and its limits as properties.

The seed protocol ``als-nsc-4lp`` gives its four implantations on days 10, 17, 24 and 31 and keeps a
bed from day 0 through day 38 (39 days). Two patients whose starts differ by d days therefore need the
same procedure slot exactly when d is 0, 7, 14 or 21, and share beds when |d| <= 38.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.booking import Capacity, DayLoad, day_loads, propose_starts
from alscell.domain.protocol import Protocol, parse_protocol
from alscell.domain.scheduling import Done, ItemStatus, Plan, Skipped, plan_schedule, reschedule
from alscell.errors import Conflict, InvalidInput
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

SEED = read_protocol(builtin_protocol_path("als-nsc-4lp"))
MONDAY = date(2026, 1, 5)
IMPLANTATION_DAYS = (10, 17, 24, 31)  # seed protocol, every 7 days from day 10
BED_DAYS = 39  # day 0 through day 38 (end-of-program examination) inclusive
PLENTY = 100


def capacity(*, slots: int = PLENTY, beds: int = PLENTY) -> Capacity:
    return Capacity.of(procedure_slots_per_day=slots, beds=beds)


def days(*texts: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(text) for text in texts)


def locations(error: InvalidInput) -> set[str]:
    return {problem.location for problem in error.problems}


# A protocol whose cell dose is daily, so a closure leaves a dose "closed" (not held), not moved.
DAILY_DOSES: Protocol = parse_protocol(
    {
        "id": "daily-im",
        "version": "0.1.0",
        "title": "Three daily intramuscular doses",
        "duration": {"min_days": 3, "max_days": 3},
        "eligibility": {
            "diagnostic_system": "revised_el_escorial",
            "diagnosis_categories": ["definite"],
        },
        "phases": [
            {
                "id": "treatment",
                "name": "Treatment",
                "activities": [
                    {
                        "id": "im-dose",
                        "kind": "intramuscular_implantation",
                        "name": "Intramuscular dose",
                        "day": 0,
                        "repeat": {"rule": "daily", "count": 3},
                        "records": ["cell_product_unit"],
                    }
                ],
            }
        ],
        "follow_up": {
            "anchor_activity": "im-dose",
            "visits": [{"id": "month-1", "name": "Month 1", "months": 1}],
        },
        "product": {
            "name": "Test cells",
            "source": "autologous",
            "cell_type": "mesenchymal stromal cells",
            "route": "intramuscular",
            "dose": {"cells": 1000000},
        },
        "analysis_plan": {
            "version": "1.0",
            "primary_outcome": "alsfrs_r_total_change",
            "time_point_months": 6,
            "anchor_activity": "im-dose",
            "improved_min_change": 1,
            "worsened_max_change": -1,
            "comparator": "natural_history",
        },
    }
)

# ---------------------------------------------------------------- Capacity


def test_capacity_of_keeps_valid_limits():
    assert Capacity.of(procedure_slots_per_day=2, beds=3) == Capacity(2, 3)


def test_capacity_of_refuses_zero_slots_with_the_field_path():
    with pytest.raises(InvalidInput) as caught:
        Capacity.of(procedure_slots_per_day=0, beds=2)

    assert [str(p) for p in caught.value.problems] == [
        "procedure_slots_per_day: must be >= 1, got 0"
    ]
    assert caught.value.subject == "capacity"


@pytest.mark.parametrize(
    ("slots", "beds", "named"),
    [(0, 2, {"procedure_slots_per_day"}), (1, 0, {"beds"}), (-1, -3, {"procedure_slots_per_day", "beds"}),
     (True, 2, {"procedure_slots_per_day"})],
)  # fmt: skip
def test_capacity_of_names_every_limit_it_refuses(slots, beds, named):
    with pytest.raises(InvalidInput) as caught:
        Capacity.of(procedure_slots_per_day=slots, beds=beds)

    assert locations(caught.value) == named


# ---------------------------------------------------------------- day_loads


def test_day_loads_of_one_plan_worked_by_hand():
    loads = day_loads([plan_schedule(SEED, MONDAY)])

    assert list(loads) == [MONDAY + timedelta(days=d) for d in range(BED_DAYS)]  # sorted days
    assert min(loads) == date(2026, 1, 5)
    assert max(loads) == date(2026, 2, 12)
    doses = [day for day, load in loads.items() if load.procedures]
    assert doses == list(days("2026-01-15", "2026-01-22", "2026-01-29", "2026-02-05"))
    assert all(load.beds == 1 for load in loads.values())
    assert loads[date(2026, 1, 15)] == DayLoad(procedures=1, beds=1)
    assert loads[date(2026, 1, 16)] == DayLoad(procedures=0, beds=1)


def test_day_loads_of_nothing_is_empty():
    assert day_loads([]) == {}


def test_day_loads_add_up_across_plans():
    loads = day_loads([plan_schedule(SEED, MONDAY), plan_schedule(SEED, date(2026, 1, 12))])

    assert loads[date(2026, 1, 5)] == DayLoad(0, 1)  # only the first patient
    assert loads[date(2026, 1, 22)] == DayLoad(2, 2)  # dose 2 of one, dose 1 of the other
    assert loads[date(2026, 2, 12)] == DayLoad(1, 2)  # day 38 of one, dose 4 (day 31) of the other
    assert loads[date(2026, 2, 19)] == DayLoad(0, 1)  # day 38 of the second, the last day
    assert max(loads) == date(2026, 2, 19)


def test_a_skipped_dose_uses_no_slot_but_the_bed_stays_taken():
    plan = reschedule(plan_schedule(SEED, MONDAY), [Skipped("implantation", 2, "platelets 40")])

    loads = day_loads([plan])

    assert loads[date(2026, 1, 22)] == DayLoad(procedures=0, beds=1)
    assert loads[date(2026, 1, 15)] == DayLoad(procedures=1, beds=1)
    assert sum(load.procedures for load in loads.values()) == 3


def test_a_dose_given_late_uses_the_slot_of_the_day_it_was_given():
    plan = reschedule(plan_schedule(SEED, MONDAY), [Done("implantation", date(2026, 1, 16), 1)])

    loads = day_loads([plan])

    assert loads[date(2026, 1, 15)].procedures == 0
    assert loads[date(2026, 1, 16)].procedures == 1


def test_a_closed_day_uses_no_slot_when_the_dose_moves_to_the_next_open_day():
    loads = day_loads([plan_schedule(SEED, MONDAY, closures=days("2026-01-15"))])

    assert loads[date(2026, 1, 15)] == DayLoad(procedures=0, beds=1)
    assert loads[date(2026, 1, 16)] == DayLoad(procedures=1, beds=1)


def test_a_daily_dose_on_a_closed_day_is_not_held_and_uses_no_slot():
    loads = day_loads([plan_schedule(DAILY_DOSES, MONDAY, closures=days("2026-01-06"))])

    assert loads == {
        date(2026, 1, 5): DayLoad(1, 1),
        date(2026, 1, 6): DayLoad(0, 1),
        date(2026, 1, 7): DayLoad(1, 1),
    }


# ---------------------------------------------------------------- propose_starts, worked by hand


def test_one_slot_starts_seven_patients_on_consecutive_days_then_waits_four_weeks():
    # Starts d days apart collide when d is 0, 7, 14 or 21: days 0-6 are free, then every day from
    # 7 to 27 is 7, 14 or 21 days after one of them, and day 28 is the first that is not.
    starts = propose_starts(SEED, 9, earliest_on=MONDAY, capacity=capacity(slots=1))

    assert starts == days(
        "2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-10",
        "2026-01-11", "2026-02-02", "2026-02-03",
    )  # fmt: skip


def test_two_slots_let_two_patients_start_the_same_day():
    starts = propose_starts(SEED, 3, earliest_on=MONDAY, capacity=capacity(slots=2))

    assert starts == days("2026-01-05", "2026-01-05", "2026-01-06")


def test_two_beds_hold_two_patients_and_the_third_starts_after_the_first_ones_day_38():
    # Patient 1 holds a bed 2026-01-05..2026-02-12 (day 38), patient 2 2026-01-06..2026-02-13.
    starts = propose_starts(SEED, 4, earliest_on=MONDAY, capacity=capacity(slots=1, beds=2))

    assert starts == days("2026-01-05", "2026-01-06", "2026-02-13", "2026-02-14")


def test_two_beds_and_two_slots_pair_the_patients():
    starts = propose_starts(SEED, 4, earliest_on=MONDAY, capacity=capacity(slots=2, beds=2))

    assert starts == days("2026-01-05", "2026-01-05", "2026-02-13", "2026-02-13")


def test_one_bed_runs_patients_one_after_another():
    starts = propose_starts(SEED, 3, earliest_on=MONDAY, capacity=capacity(beds=1))

    assert starts == days("2026-01-05", "2026-02-13", "2026-03-24")  # 39 days apart


@pytest.mark.parametrize("patients", [0, -1, True])
def test_a_cohort_needs_at_least_one_patient(patients):
    with pytest.raises(InvalidInput, match=r"patients: must be a whole number >= 1"):
        propose_starts(SEED, patients, earliest_on=MONDAY, capacity=capacity())


@pytest.mark.parametrize("limits", [(0, 2), (2, -1), (True, 2)])
def test_capacity_built_directly_is_validated_too(limits):
    with pytest.raises(InvalidInput, match=r"must be a whole number >= 1"):
        Capacity(*limits)


# ---------------------------------------------------------------- booked plans and closures


def test_a_booked_plan_keeps_its_slots():
    booked = [plan_schedule(SEED, MONDAY)]

    starts = propose_starts(SEED, 2, earliest_on=MONDAY, capacity=capacity(slots=1), booked=booked)

    assert starts == days("2026-01-06", "2026-01-07")


def test_a_booked_plan_keeps_its_bed():
    booked = [plan_schedule(SEED, date(2026, 1, 1))]  # bed taken 2026-01-01..2026-02-08

    starts = propose_starts(SEED, 1, earliest_on=MONDAY, capacity=capacity(beds=1), booked=booked)

    assert starts == days("2026-02-09")


def test_a_booked_plan_whose_doses_were_all_skipped_frees_its_slots():
    skipped = [Skipped("implantation", k, "withdrawn from dosing") for k in (1, 2, 3, 4)]
    booked = [reschedule(plan_schedule(SEED, MONDAY), skipped)]

    starts = propose_starts(SEED, 1, earliest_on=MONDAY, capacity=capacity(slots=1), booked=booked)

    assert starts == days("2026-01-05")


def test_closed_days_are_never_start_days():
    closures = days("2026-01-05", "2026-01-07")

    starts = propose_starts(
        SEED, 3, earliest_on=MONDAY, capacity=capacity(slots=1), closures=closures
    )

    assert starts == days("2026-01-06", "2026-01-08", "2026-01-09")


def test_a_closure_that_moves_a_dose_moves_the_collision_too():
    # With 2026-01-16 closed, patient 2 (start 01-06) has doses 01-17, 01-24, 01-31, 02-07; a patient
    # starting 01-07 would need 01-17 too, so patient 3 starts 01-08.
    starts = propose_starts(
        SEED, 3, earliest_on=MONDAY, capacity=capacity(slots=1), closures=days("2026-01-16")
    )

    assert starts == days("2026-01-05", "2026-01-06", "2026-01-08")


# ---------------------------------------------------------------- horizon


def test_the_horizon_includes_its_last_day():
    starts = propose_starts(
        SEED, 8, earliest_on=MONDAY, capacity=capacity(slots=1), horizon_days=28
    )

    assert starts[-1] == date(2026, 2, 2)  # 28 days after 2026-01-05


def test_conflict_when_the_horizon_is_too_short_names_the_patient():
    with pytest.raises(
        Conflict, match=r"^patient 8 of 8 cannot start within 27 days of 2026-01-05"
    ):
        propose_starts(SEED, 8, earliest_on=MONDAY, capacity=capacity(slots=1), horizon_days=27)


def test_conflict_message_says_what_to_do():
    with pytest.raises(Conflict) as caught:
        propose_starts(SEED, 2, earliest_on=MONDAY, capacity=capacity(beds=1), horizon_days=38)

    message = str(caught.value)
    assert message.startswith("patient 2 of 2 cannot start within 38 days of 2026-01-05")
    assert "100 procedure slots a day and 1 bed the calendar is full" in message
    assert message.endswith("add capacity or extend the horizon")


# ---------------------------------------------------------------- properties


def independent_loads(
    starts: Iterable[date], *, closures: Sequence[date] = ()
) -> tuple[Counter[date], Counter[date]]:
    """Cell doses and occupied beds per day, counted from each plan's items (not with day_loads)."""
    procedures: Counter[date] = Counter()
    beds: Counter[date] = Counter()
    for start in starts:
        plan: Plan = plan_schedule(SEED, start, closures=closures)
        held = [item for item in plan.items if item.status is ItemStatus.PLANNED]
        procedures.update(item.on for item in held if item.cell_dose)
        last = max(item.on for item in held if item.in_treatment)
        beds.update(start + timedelta(days=d) for d in range((last - start).days + 1))
    return procedures, beds


@given(patients=st.integers(1, 6), slots=st.integers(1, 3), beds=st.integers(1, 4))
def test_proposed_starts_never_exceed_either_limit(patients, slots, beds):
    starts = propose_starts(
        SEED, patients, earliest_on=MONDAY, capacity=capacity(slots=slots, beds=beds)
    )

    procedures: Counter[date] = Counter()
    occupied: Counter[date] = Counter()
    for start in starts:  # no closures: the seed's doses fall on days 10, 17, 24, 31 exactly
        procedures.update(start + timedelta(days=d) for d in IMPLANTATION_DAYS)
        occupied.update(start + timedelta(days=d) for d in range(BED_DAYS))
    assert len(starts) == patients
    assert max(procedures.values()) <= slots
    assert max(occupied.values()) <= beds
    assert list(starts) == sorted(starts)  # adding patients only removes free days
    assert starts[0] == MONDAY  # an empty calendar takes the first patient at once


@given(
    patients=st.integers(1, 4),
    slots=st.integers(1, 2),
    beds=st.integers(1, 3),
    closed_offsets=st.sets(st.integers(0, 60), max_size=6),
)
def test_proposed_starts_with_closures_stay_within_limits_and_off_closed_days(
    patients, slots, beds, closed_offsets
):
    closures = sorted(MONDAY + timedelta(days=d) for d in closed_offsets)

    starts = propose_starts(
        SEED, patients, earliest_on=MONDAY, capacity=capacity(slots=slots, beds=beds),
        closures=closures,
    )  # fmt: skip

    procedures, occupied = independent_loads(starts, closures=closures)
    assert not set(starts) & set(closures)
    assert max(procedures.values()) <= slots
    assert max(occupied.values()) <= beds
