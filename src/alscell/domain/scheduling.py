"""The program's calendar: plan a patient's activities, then move them as real life intervenes.

:func:`plan_schedule` dates every occurrence of every activity from the start (day 0), with its window.
:func:`reschedule` applies what really happened — an occurrence done (perhaps late or early), skipped, or
a clinic closure — and cascades: each next dose keeps the protocol's minimum interval from the dose
before it, and follow-up visits move with the actual anchor dose.

Rules, documented here because the protocol schema leaves them to the engine:

- Closure days: a daily session planned on a closed day is not held (``closed``, not a deviation);
  any other occurrence moves to the next open day and keeps its window (its note says when the move
  takes it outside the window).
- ``every_n_days`` with ``keep_interval`` (the default): occurrence k is planned ``every_days`` after
  occurrence k-1 as given (or as planned, if not yet given or skipped). With ``keep_calendar``: on its
  original day. Either way never earlier than ``min_interval_days`` after the previous occurrence
  given or still planned (a skipped one sets no floor); the window opens no earlier than that floor,
  nor before day 0.
- A linked activity (``linked_to``) keeps its planned distance from the same occurrence of the
  activity it follows, and is cancelled (not a deviation) when that occurrence is skipped.
- Follow-up visit dates are the anchor date plus ``round(months × 30.4375)`` days (one day-to-month
  factor everywhere; clinical.md §2). The anchor is the first or last occurrence of the anchor activity
  that was not skipped, as given or else as planned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final

from alscell.domain.calendar import Closed, Done, Event, ItemStatus, ScheduledActivity, Skipped
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.occurrences import date_activity, date_linked, moved_note, next_open
from alscell.domain.protocol import ActivityKind, Anchor, Protocol, RepeatRule
from alscell.errors import InvalidInput, Problem

__all__ = [
    "Closed",
    "Done",
    "Event",
    "ItemStatus",
    "Plan",
    "ScheduledActivity",
    "Skipped",
    "plan_schedule",
    "reschedule",
]

MAX_EVENT_YEARS: Final = 100
"""An event dated this many years after the start is refused as a typing mistake in the year."""


@dataclass(frozen=True, slots=True)
class Plan:
    """A patient's dated program: items sorted by date, plus what was given beyond the protocol."""

    protocol: Protocol
    start_on: date
    closures: frozenset[date]
    events: tuple[Done | Skipped, ...]
    items: tuple[ScheduledActivity, ...]
    extras: tuple[Done, ...] = ()

    def occurrences(self, activity_id: str) -> tuple[ScheduledActivity, ...]:
        """Every occurrence of one activity, in order."""
        found = (item for item in self.items if item.activity_id == activity_id)
        return tuple(sorted(found, key=lambda item: item.occurrence))

    def on_day(self, day: date) -> tuple[ScheduledActivity, ...]:
        """What happens (or is planned) on ``day``."""
        return tuple(item for item in self.items if item.on == day)

    @property
    def treatment_end_on(self) -> date:
        """The last day of the treatment program held or planned; the start if nothing is."""
        held = [item.on for item in self.items if item.in_treatment and item.held]
        return max(held, default=self.start_on)

    @property
    def duration_days(self) -> int:
        """Program length, start through its last treatment day inclusive."""
        return (self.treatment_end_on - self.start_on).days + 1


def plan_schedule(protocol: Protocol, start_on: date, *, closures: Iterable[date] = ()) -> Plan:
    """Date every activity of ``protocol`` for a patient starting on ``start_on`` (day 0).

    Raises
    ------
    InvalidInput
        If the calendar would run past the year 9999.
    """
    return _build(protocol, start_on, frozenset(closures), ())


def reschedule(plan: Plan, events: Sequence[Event]) -> Plan:
    """Apply what really happened to a plan and move what follows (see the module's rules).

    Events add to those the plan already holds. A ``Done`` beyond an activity's count, or on a day no
    daily session was planned, is kept in :attr:`Plan.extras` (a deviation, not an error).

    Raises
    ------
    InvalidInput
        Listing every event that cannot apply, by its place in ``events``: an unknown activity, an
        occurrence number below 1 or (for a skip) beyond the count, a second record of one occurrence,
        a date before the program start or implausibly far after it.
    """
    _check_events(plan.protocol, plan.start_on, plan.events, events)
    closures = plan.closures | {event.on for event in events if isinstance(event, Closed)}
    recorded = tuple(event for event in events if not isinstance(event, Closed))
    return _build(plan.protocol, plan.start_on, closures, plan.events + recorded)


def _build(
    protocol: Protocol,
    start_on: date,
    closures: frozenset[date],
    events: tuple[Done | Skipped, ...],
) -> Plan:
    try:
        items, extras = _dated(protocol, start_on, closures, events)
    except OverflowError:
        rule = f"{start_on} is too late: the program's calendar would run past the year 9999"
        raise InvalidInput([Problem("start_on", rule)], subject="schedule") from None
    order = {activity.id: i for i, activity in enumerate(protocol.activities())}
    items.sort(key=lambda item: (item.on, order.get(item.activity_id, len(order)), item.occurrence))
    return Plan(protocol, start_on, closures, events, tuple(items), tuple(extras))


def _dated(
    protocol: Protocol, start_on: date, closures: frozenset[date], events: Sequence[Done | Skipped]
) -> tuple[list[ScheduledActivity], list[Done]]:
    items: list[ScheduledActivity] = []
    extras: list[Done] = []
    linked = []
    for phase in protocol.phases:
        for activity in phase.activities:
            if activity.linked_to is not None:
                linked.append((phase.id, activity))
                continue
            mine = [event for event in events if event.activity_id == activity.id]
            dated, extra = date_activity(activity, phase.id, start_on, closures, mine)
            items += dated
            extras += extra
    for phase_id, activity in linked:
        target = protocol.activity(activity.linked_to or "")
        partners = [item for item in items if item.activity_id == target.id]
        mine = [event for event in events if event.activity_id == activity.id]
        dated, extra = date_linked(activity, phase_id, target, partners, start_on, closures, mine)
        items += dated
        extras += extra
    items += _follow_up(protocol, items, closures, events)
    return items, extras


def _follow_up(
    protocol: Protocol, items: Sequence[ScheduledActivity], closures: frozenset[date],
    events: Sequence[Done | Skipped],
) -> Iterator[ScheduledActivity]:  # fmt: skip
    follow_up = protocol.follow_up
    anchor_on = _anchor_date(items, follow_up.anchor_activity, follow_up.anchor)
    for visit in follow_up.visits:
        target = anchor_on + timedelta(days=round(visit.months * DAYS_PER_MONTH))
        window = timedelta(days=visit.window_days)
        planned = next_open(target, closures)
        item = ScheduledActivity(
            visit.id, visit.name, ActivityKind.FOLLOW_UP_VISIT, None, 1, 1, planned,
            target - window, target + window, note=moved_note(target, planned, target + window),
        )  # fmt: skip
        for event in events:
            if event.activity_id == visit.id and isinstance(event, Done):
                item = replace(item, status=ItemStatus.DONE, actual_on=event.on)
            elif event.activity_id == visit.id and isinstance(event, Skipped):
                item = replace(item, status=ItemStatus.SKIPPED, note=event.reason)
        yield item


def _anchor_date(items: Sequence[ScheduledActivity], activity_id: str, anchor: Anchor) -> date:
    occurrences = sorted(
        (i for i in items if i.activity_id == activity_id), key=lambda i: i.occurrence
    )
    held = [item for item in occurrences if item.status is not ItemStatus.SKIPPED] or occurrences
    chosen = held[0] if anchor is Anchor.FIRST else held[-1]
    return chosen.on


# ---------------------------------------------------------------- checking events


@dataclass(frozen=True, slots=True)
class _Known:
    """What an event may refer to: each activity's planned count (None if as needed) and first day."""

    counts: dict[str, int | None]
    daily_first: dict[str, date]
    visits: frozenset[str]

    @classmethod
    def of(cls, protocol: Protocol, start_on: date) -> _Known:
        counts: dict[str, int | None] = {
            a.id: None if a.repeat.rule is RepeatRule.AS_NEEDED else a.repeat.count
            for a in protocol.activities()
        }
        visits = frozenset(visit.id for visit in protocol.follow_up.visits)
        daily = {
            a.id: start_on + timedelta(days=a.day)
            for a in protocol.activities()
            if a.repeat.rule is RepeatRule.DAILY
        }
        return cls(counts | dict.fromkeys(visits, 1), daily, visits)

    def key(self, event: Done | Skipped) -> tuple[str, int] | None:
        """The occurrence an event records, when it can be told before dating the calendar."""
        if event.occurrence is not None:
            return event.activity_id, event.occurrence
        if event.activity_id in self.visits:
            return event.activity_id, 1
        first = self.daily_first.get(event.activity_id)
        if first is not None and isinstance(event, Done):
            return event.activity_id, (event.on - first).days + 1
        return None

    def second_session_allowed(self, event: Done | Skipped) -> bool:
        """An unnumbered daily session recorded twice on one day is an extra session, not an error."""
        return (
            isinstance(event, Done)
            and event.occurrence is None
            and event.activity_id in self.daily_first
        )


def _check_events(
    protocol: Protocol, start_on: date, earlier: Sequence[Done | Skipped], events: Sequence[Event]
) -> None:
    known = _Known.of(protocol, start_on)
    seen: dict[tuple[str, int], tuple[str, bool]] = {}
    for held in earlier:
        key = known.key(held)
        if key is not None:
            seen[key] = ("earlier in the plan", known.second_session_allowed(held))
    problems: list[Problem] = []
    for i, event in enumerate(events):
        if isinstance(event, Closed):
            continue
        where = f"events[{i}]"
        if event.activity_id not in known.counts:
            text = f"no activity or visit {event.activity_id!r} in protocol {protocol.id}"
            problems.append(Problem(f"{where}.activity_id", text))
            continue
        problems += _event_problems(event, where, start_on, known)
        key = known.key(event)
        if key is None:
            continue
        soft = known.second_session_allowed(event)
        if key in seen and not (soft and seen[key][1]):
            problems.append(
                Problem(
                    where, f"occurrence {key[1]} of {key[0]} is already recorded {seen[key][0]}"
                )
            )
        seen[key] = (f"at {where}", soft)
    if problems:
        raise InvalidInput(problems, subject="schedule events")


def _event_problems(
    event: Done | Skipped, where: str, start_on: date, known: _Known
) -> Iterator[Problem]:
    count = known.counts[event.activity_id]
    if event.occurrence is not None and event.occurrence < 1:
        yield Problem(f"{where}.occurrence", f"must be >= 1, got {event.occurrence}")
    elif isinstance(event, Skipped) and event.occurrence > (count or 0):
        yield Problem(
            f"{where}.occurrence",
            f"{event.activity_id} has no occurrence {event.occurrence} to skip",
        )
    if event.activity_id in known.visits and event.occurrence not in (None, 1):
        yield Problem(
            f"{where}.occurrence", f"a follow-up visit has one occurrence, got {event.occurrence}"
        )
    if isinstance(event, Done):
        yield from _date_problems(event, where, start_on)


def _date_problems(event: Done, where: str, start_on: date) -> Iterator[Problem]:
    if event.on < start_on:
        yield Problem(f"{where}.on", f"{event.on} is before the program start ({start_on})")
    elif event.on.year - start_on.year > MAX_EVENT_YEARS:
        text = f"{event.on} is more than {MAX_EVENT_YEARS} years after the program start ({start_on}); check the year"
        yield Problem(f"{where}.on", text)
