"""Protocol deviations: every departure of what happened from what the protocol plans, with severity.

Severity: **critical** when patient safety is at stake (a cell dose too soon after the previous one, a
dose beyond the protocol's count); **major** when the protocol's treatment or its evaluation is affected
(a cell dose outside its window or missed, a follow-up visit missed, the program longer than its bound);
**minor** otherwise (a rehabilitation session missed, an examination outside its window).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from alscell.domain.protocol import ActivityKind, RepeatRule
from alscell.domain.scheduling import Event, ItemStatus, Plan, ScheduledActivity, reschedule

__all__ = ["Deviation", "DeviationKind", "Severity", "find_deviations"]


class Severity(StrEnum):
    """How much a deviation matters (see the module docstring)."""

    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class DeviationKind(StrEnum):
    """What kind of departure from the protocol."""

    OUTSIDE_WINDOW = "outside_window"
    INTERVAL_TOO_SHORT = "interval_too_short"
    MISSED = "missed"
    NOT_RECORDED = "not_recorded"
    EXTRA = "extra"
    PROGRAM_TOO_LONG = "program_too_long"
    PROGRAM_TOO_SHORT = "program_too_short"


@dataclass(frozen=True, slots=True)
class Deviation:
    """One departure: its kind, severity, the occurrence concerned and what happened, in words."""

    kind: DeviationKind
    severity: Severity
    activity_id: str | None
    occurrence: int | None
    on: date | None
    detail: str


def find_deviations(
    plan: Plan, actual: Sequence[Event] = (), *, as_of: date | None = None
) -> tuple[Deviation, ...]:
    """List each departure from the protocol in ``plan`` once ``actual`` events are applied.

    ``as_of`` (today, passed in) makes occurrences whose window has closed without a record count as
    not recorded. Deviations are sorted by date.
    """
    current = reschedule(plan, actual) if actual else plan
    found = [*_item_deviations(current, as_of), *_extras(current), *_length(current)]
    return tuple(
        sorted(found, key=lambda d: (d.on or date.max, d.activity_id or "", d.occurrence or 0))
    )


def _item_deviations(plan: Plan, as_of: date | None) -> Iterator[Deviation]:
    last_given: dict[str, date] = {}
    for item in sorted(plan.items, key=lambda i: (i.activity_id, i.occurrence)):
        if item.status is ItemStatus.DONE and item.actual_on is not None:
            yield from _timing(item, item.actual_on, last_given.get(item.activity_id))
            last_given[item.activity_id] = item.actual_on
        elif item.status is ItemStatus.SKIPPED:
            yield _deviation(DeviationKind.MISSED, item, f"{_label(item)} missed: {item.note}")
        elif item.status is ItemStatus.PLANNED and as_of is not None:
            due = max(item.latest_on, item.planned_on)  # a closure may plan it after its window
            if due < as_of:
                text = f"{_label(item)} not recorded by {due} (its window ended {item.latest_on})"
                yield _deviation(DeviationKind.NOT_RECORDED, item, text)


def _timing(item: ScheduledActivity, given: date, previous: date | None) -> Iterator[Deviation]:
    minimum = item.min_interval_days
    if minimum is not None and previous is not None and (given - previous).days < minimum:
        gap = (given - previous).days
        text = f"{_label(item)} given {_days(gap)} after the previous one; the minimum is {_days(minimum)}"
        severity = Severity.CRITICAL if item.cell_dose else _severity(item)
        kind = DeviationKind.INTERVAL_TOO_SHORT
        yield Deviation(kind, severity, item.activity_id, item.occurrence, given, text)
    elif not item.earliest_on <= given <= item.latest_on:
        text = (
            f"{_label(item)} on {given}, outside its window {item.earliest_on} to {item.latest_on}"
        )
        yield _deviation(DeviationKind.OUTSIDE_WINDOW, item, text)


def _extras(plan: Plan) -> Iterator[Deviation]:
    for event in plan.extras:
        activity = plan.protocol.activity(event.activity_id)
        severity = Severity.CRITICAL if activity.cell_dose else Severity.MINOR
        text = f"{activity.name} on {event.on} is beyond the protocol's {activity.repeat.count} planned"
        if activity.repeat.rule is RepeatRule.DAILY and event.occurrence is None:
            text = f"{activity.name} on {event.on}: no session, or no further session, was planned that day"
        kind = DeviationKind.EXTRA
        yield Deviation(kind, severity, activity.id, event.occurrence, event.on, text)


def _length(plan: Plan) -> Iterator[Deviation]:
    if not any(item.held for item in plan.items if item.in_treatment):
        return  # nothing of the program was held: its missed occurrences say so
    bounds = plan.protocol.duration
    days, end = plan.duration_days, plan.treatment_end_on
    finished = all(
        item.status is not ItemStatus.PLANNED for item in plan.items if item.in_treatment
    )
    when = "lasted" if finished else "is planned to last"
    if days > bounds.max_days:
        text = f"the program {when} {days} days, beyond its bound of {bounds.max_days}"
        yield Deviation(DeviationKind.PROGRAM_TOO_LONG, Severity.MAJOR, None, None, end, text)
    elif finished and days < bounds.min_days:
        text = f"the program lasted {days} days, short of its bound of {bounds.min_days}"
        yield Deviation(DeviationKind.PROGRAM_TOO_SHORT, Severity.MINOR, None, None, end, text)


def _deviation(kind: DeviationKind, item: ScheduledActivity, detail: str) -> Deviation:
    return Deviation(kind, _severity(item), item.activity_id, item.occurrence, item.on, detail)


def _severity(item: ScheduledActivity) -> Severity:
    if item.cell_dose or item.kind is ActivityKind.FOLLOW_UP_VISIT:
        return Severity.MAJOR
    return Severity.MINOR


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _label(item: ScheduledActivity) -> str:
    of = f" {item.occurrence} of {item.of}" if item.of and item.of > 1 else ""
    return f"{item.name}{of}"
