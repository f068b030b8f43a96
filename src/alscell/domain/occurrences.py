"""Dating the occurrences of one activity, given what has happened so far (see scheduling's rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from alscell.domain.calendar import Done, ItemStatus, ScheduledActivity, Skipped
from alscell.domain.protocol import Activity, Cascade, RepeatRule

__all__ = ["date_activity", "date_linked", "moved_note", "next_open"]

Recorded = Done | Skipped


def date_activity(
    activity: Activity,
    phase_id: str,
    start_on: date,
    closures: frozenset[date],
    events: Sequence[Recorded],
) -> tuple[list[ScheduledActivity], list[Done]]:
    """Every occurrence of a (not linked) activity, and the ``Done`` events beyond what it plans."""
    if activity.repeat.rule is RepeatRule.AS_NEEDED:
        return _as_needed(activity, phase_id, events), []
    if activity.repeat.rule is RepeatRule.DAILY:
        return _daily(activity, phase_id, start_on, closures, events)
    return _spaced(activity, phase_id, start_on, closures, events)


def date_linked(
    activity: Activity, phase_id: str, target: Activity, target_items: Sequence[ScheduledActivity],
    start_on: date, closures: frozenset[date], events: Sequence[Recorded],
) -> tuple[list[ScheduledActivity], list[Done]]:  # fmt: skip
    """Occurrences that keep their planned distance from the same occurrence of ``target``.

    An occurrence whose partner was skipped is cancelled unless it was recorded anyway.
    """
    outcome, extras = _assign(events, activity.repeat.count)
    offset = timedelta(days=activity.day - target.day)
    items = []
    for partner in sorted(target_items, key=lambda item: item.occurrence):
        k = partner.occurrence
        item = _windowed(activity, phase_id, k, partner.on + offset, None, start_on, closures)
        if partner.status is ItemStatus.SKIPPED:
            item = replace(item, status=ItemStatus.CANCELLED, note=f"{target.name} {k} was skipped")
        items.append(_apply(item, outcome.get(k)))
    return items, extras


def next_open(day: date, closures: frozenset[date]) -> date:
    """``day``, or the first day after it that the clinic is open."""
    while day in closures:
        day += timedelta(days=1)
    return day


def moved_note(target: date, planned: date, latest: date) -> str | None:
    """Why an occurrence is not on its target day, and whether that leaves its window."""
    if planned == target:
        return None
    note = f"moved from {target.isoformat()}: clinic closed"
    return note + "; now outside its window" if planned > latest else note


def _as_needed(
    activity: Activity, phase_id: str, events: Sequence[Recorded]
) -> list[ScheduledActivity]:
    given = sorted(event.on for event in events if isinstance(event, Done))
    return [
        _item(activity, phase_id, k, None, on, on, on, status=ItemStatus.DONE, actual_on=on)
        for k, on in enumerate(given, start=1)
    ]


def _daily(
    activity: Activity,
    phase_id: str,
    start_on: date,
    closures: frozenset[date],
    events: Sequence[Recorded],
) -> tuple[list[ScheduledActivity], list[Done]]:
    count = activity.repeat.count
    first = start_on + timedelta(days=activity.day)
    items = []
    for k in range(1, count + 1):
        day = first + timedelta(days=k - 1)
        status = ItemStatus.CLOSED if day in closures else ItemStatus.PLANNED
        items.append(_item(activity, phase_id, k, count, day, day, day, status=status))
    extras = []
    for event in events:
        k = _session_number(event, first)
        if isinstance(event, Done) and not (
            1 <= k <= count and items[k - 1].status is not ItemStatus.DONE
        ):
            extras.append(event)  # no session that day, or a second one
        else:
            items[k - 1] = _apply(items[k - 1], event)
    return items, extras


def _session_number(event: Recorded, first: date) -> int:
    """A daily session's number: as given, or from the date of an unnumbered ``Done``."""
    if isinstance(event, Done) and event.occurrence is None:
        return (event.on - first).days + 1
    return event.occurrence or 0


def _spaced(
    activity: Activity,
    phase_id: str,
    start_on: date,
    closures: frozenset[date],
    events: Sequence[Recorded],
) -> tuple[list[ScheduledActivity], list[Done]]:
    count = activity.repeat.count
    outcome, extras = _assign(events, count)
    every = timedelta(days=activity.repeat.every_days or 0)
    interval = timedelta(days=activity.min_interval_days or 0)
    items: list[ScheduledActivity] = []
    previous: ScheduledActivity | None = None  # the previous occurrence, whatever its status
    held: ScheduledActivity | None = None  # the previous one given or still planned
    for k in range(1, count + 1):
        target = start_on + timedelta(days=activity.day) + (k - 1) * every
        if previous is not None and activity.repeat.cascade is Cascade.KEEP_INTERVAL:
            target = previous.on + every
        floor = held.on + interval if held is not None and activity.min_interval_days else None
        if floor is not None:
            target = max(target, floor)
        item = _apply(
            _windowed(activity, phase_id, k, target, floor, start_on, closures), outcome.get(k)
        )
        items.append(item)
        previous = item
        held = item if item.held else held
    return items, extras


def _assign(events: Sequence[Recorded], count: int) -> tuple[dict[int, Recorded], list[Done]]:
    """Match events to occurrences: numbered ones first, then unnumbered ``Done``s in date order."""
    outcome: dict[int, Recorded] = {
        e.occurrence: e for e in events if e.occurrence is not None and e.occurrence <= count
    }
    extras = [
        e
        for e in events
        if isinstance(e, Done) and e.occurrence is not None and e.occurrence > count
    ]
    unnumbered = sorted(
        (e for e in events if isinstance(e, Done) and e.occurrence is None), key=lambda e: e.on
    )
    for event in unnumbered:
        given_before = [k for k, e in outcome.items() if isinstance(e, Done) and e.on <= event.on]
        free = [k for k in range(max(given_before, default=0) + 1, count + 1) if k not in outcome]
        if free:
            outcome[free[0]] = event
        else:
            extras.append(event)
    return outcome, extras


def _windowed(
    activity: Activity, phase_id: str, k: int, target: date, floor: date | None, start_on: date,
    closures: frozenset[date],
) -> ScheduledActivity:  # fmt: skip
    window = timedelta(days=activity.window_days)
    earliest = max(target - window, floor or start_on, start_on)
    latest = target + window
    planned = next_open(target, closures)
    note = moved_note(target, planned, latest)
    return _item(activity, phase_id, k, activity.repeat.count, planned, earliest, latest, note=note)


def _apply(item: ScheduledActivity, event: Recorded | None) -> ScheduledActivity:
    if isinstance(event, Done):
        return replace(item, status=ItemStatus.DONE, actual_on=event.on)
    if isinstance(event, Skipped):
        return replace(item, status=ItemStatus.SKIPPED, note=event.reason)
    return item


def _item(
    activity: Activity, phase_id: str, k: int, count: int | None, planned: date, earliest: date,
    latest: date, *, status: ItemStatus = ItemStatus.PLANNED, actual_on: date | None = None,
    note: str | None = None,
) -> ScheduledActivity:  # fmt: skip
    return ScheduledActivity(
        activity.id, activity.name, activity.kind, phase_id, k, count, planned, earliest, latest,
        cell_dose=activity.cell_dose, min_interval_days=activity.min_interval_days,
        status=status, actual_on=actual_on, note=note,
    )  # fmt: skip
