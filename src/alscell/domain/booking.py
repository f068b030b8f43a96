"""Capacity-aware booking: propose start dates for a cohort so no day exceeds the clinic's capacity.

Two limits per day: **procedure slots** (cell doses — lumbar punctures, intraspinal or intramuscular
implantations — that can be done that day) and **beds** (patients in their treatment program that
day, from day 0 through their last treatment activity, follow-up excluded).

The rule is greedy and documented: patients are placed one at a time, in order; each gets the earliest
open day on or after ``earliest_on`` whose planned calendar, added to everyone already booked, keeps
every day within both limits. It is not optimal, but it is predictable, and a coordinator can follow it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from alscell.domain.protocol import Protocol
from alscell.domain.scheduling import ItemStatus, Plan, plan_schedule
from alscell.domain.schema import build, constraint
from alscell.errors import Conflict, InvalidInput, Problem

__all__ = ["Capacity", "DayLoad", "day_loads", "propose_starts"]


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the clinic can do per day."""

    procedure_slots_per_day: int = field(metadata=constraint(ge=1))
    beds: int = field(metadata=constraint(ge=1))

    def __post_init__(self) -> None:
        limits = {"procedure_slots_per_day": self.procedure_slots_per_day, "beds": self.beds}
        problems = [
            Problem(name, f"must be a whole number >= 1, got {value!r}")
            for name, value in limits.items()
            if isinstance(value, bool) or not isinstance(value, int) or value < 1
        ]
        if problems:
            raise InvalidInput(problems, subject="capacity")

    @classmethod
    def of(cls, *, procedure_slots_per_day: int, beds: int) -> Capacity:
        """Validated capacity; raises InvalidInput naming a limit below 1."""
        data = {"procedure_slots_per_day": procedure_slots_per_day, "beds": beds}
        return build(cls, data, subject="capacity")


@dataclass(frozen=True, slots=True)
class DayLoad:
    """Use of one day: cell-dose procedures and occupied beds."""

    procedures: int = 0
    beds: int = 0


def day_loads(plans: Iterable[Plan]) -> dict[date, DayLoad]:
    """Procedures and beds used per day by these plans (skipped doses and closed days use nothing)."""
    procedures: Counter[date] = Counter()
    beds: Counter[date] = Counter()
    for plan in plans:
        for item in plan.items:
            if item.cell_dose and item.status in (ItemStatus.PLANNED, ItemStatus.DONE):
                procedures[item.on] += 1
        for offset in range(plan.duration_days):
            beds[plan.start_on + timedelta(days=offset)] += 1
    return {
        day: DayLoad(procedures[day], beds[day]) for day in sorted(procedures.keys() | beds.keys())
    }


def propose_starts(
    protocol: Protocol,
    patients: int,
    *,
    earliest_on: date,
    capacity: Capacity,
    closures: Iterable[date] = (),
    booked: Sequence[Plan] = (),
    horizon_days: int = 365,
) -> tuple[date, ...]:
    """Start dates for ``patients`` new patients, placed greedily (see the module docstring).

    ``booked`` are plans already on the calendar. Raises :class:`~alscell.errors.Conflict` when a
    patient cannot be placed within ``horizon_days`` of ``earliest_on``, and
    :class:`~alscell.errors.InvalidInput` when ``patients`` is not a whole number of at least 1.
    """
    closed = frozenset(closures)
    load = day_loads(booked)
    starts: list[date] = []
    if isinstance(patients, bool) or not isinstance(patients, int) or patients < 1:
        raise InvalidInput([Problem("patients", f"must be a whole number >= 1, got {patients!r}")])
    for number in range(1, patients + 1):
        plan = _first_fit(protocol, earliest_on, capacity, closed, load, horizon_days)
        if plan is None:
            slots, beds = capacity.procedure_slots_per_day, capacity.beds
            raise Conflict(
                f"patient {number} of {patients} cannot start within {horizon_days} days of "
                f"{earliest_on}: with {slots} procedure slot{'s' if slots > 1 else ''} a day and "
                f"{beds} bed{'s' if beds > 1 else ''} the calendar is full; add capacity or extend "
                "the horizon"
            )
        starts.append(plan.start_on)
        for day, used in day_loads([plan]).items():
            held = load.get(day, DayLoad())
            load[day] = DayLoad(held.procedures + used.procedures, held.beds + used.beds)
    return tuple(starts)


def _first_fit(
    protocol: Protocol, earliest_on: date, capacity: Capacity, closed: frozenset[date],
    load: dict[date, DayLoad], horizon_days: int,
) -> Plan | None:  # fmt: skip
    for offset in range(horizon_days + 1):
        start = earliest_on + timedelta(days=offset)
        if start in closed:
            continue
        plan = plan_schedule(protocol, start, closures=closed)
        if _fits(day_loads([plan]), load, capacity):
            return plan
    return None


def _fits(extra: dict[date, DayLoad], load: dict[date, DayLoad], capacity: Capacity) -> bool:
    for day, used in extra.items():
        held = load.get(day, DayLoad())
        if held.procedures + used.procedures > capacity.procedure_slots_per_day:
            return False
        if held.beds + used.beds > capacity.beds:
            return False
    return True
