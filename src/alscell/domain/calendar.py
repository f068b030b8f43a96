"""The values a patient's calendar is made of: what happened (events) and each dated occurrence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from alscell.domain.protocol import ActivityKind

__all__ = ["Closed", "Done", "Event", "ItemStatus", "ScheduledActivity", "Skipped"]


class ItemStatus(StrEnum):
    """Where an occurrence stands. ``closed`` and ``cancelled`` are not held, and are not deviations."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    CLOSED = "closed"  # a daily session on a day the clinic is closed
    CANCELLED = "cancelled"  # goes with an occurrence of another activity that was skipped


@dataclass(frozen=True, slots=True)
class Done:
    """An occurrence that happened on ``on``.

    Without ``occurrence``: a daily session is matched by its date; otherwise the lowest occurrence
    not yet recorded that comes after every numbered occurrence already given on or before ``on``.
    """

    activity_id: str
    on: date
    occurrence: int | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An occurrence that will not happen (a dose skipped, a visit missed), with the reason."""

    activity_id: str
    occurrence: int
    reason: str


@dataclass(frozen=True, slots=True)
class Closed:
    """A day the clinic is closed."""

    on: date


Event = Done | Skipped | Closed


@dataclass(frozen=True, slots=True)
class ScheduledActivity:
    """One dated occurrence of an activity (or a follow-up visit) with its window."""

    activity_id: str
    name: str
    kind: ActivityKind
    phase_id: str | None  # None for follow-up visits
    occurrence: int
    of: int | None  # total planned occurrences; None for as-needed activities
    planned_on: date
    earliest_on: date
    latest_on: date
    cell_dose: bool = False
    min_interval_days: int | None = None
    status: ItemStatus = ItemStatus.PLANNED
    actual_on: date | None = None
    note: str | None = None

    @property
    def on(self) -> date:
        """The day it happened, or else the day it is planned."""
        return self.actual_on or self.planned_on

    @property
    def in_treatment(self) -> bool:
        """Part of the treatment program (a phase), not follow-up."""
        return self.phase_id is not None

    @property
    def held(self) -> bool:
        """Done, or still planned: not skipped, closed or cancelled."""
        return self.status in (ItemStatus.PLANNED, ItemStatus.DONE)
