"""Adverse events: expedited reporting clocks and program stopping rules (clinical.md §9.3, §9.4).

Reporting clocks count calendar days from Day 0, the day the sponsor first knew of a qualifying event.
A serious, unexpected adverse event with a suspected causal relationship (a SUSAR) must reach the
regulator within 15 days, or 7 days when fatal or life-threatening, then a complete report 8 days later
(ICH E2A: Day 0 + 15). Every serious adverse event must also reach the sponsor promptly; the number of
days is UNVERIFIED in the reference (21 CFR 312.64(b) says "immediately"; protocols often say 24 hours)
and is an argument here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from alscell.domain.protocol import Relatedness, StoppingRule

__all__ = [
    "SUSPECTED",
    "AdverseEventFacts",
    "Causality",
    "ReportingClock",
    "active_stopping_rules",
    "reporting_clock",
]


class Causality(StrEnum):
    """How likely an event is caused by the procedure, product or drug."""

    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"


SUSPECTED = frozenset({Causality.POSSIBLE, Causality.PROBABLE, Causality.DEFINITE})
"""Causality assessments that count as a suspected adverse reaction."""


@dataclass(frozen=True, slots=True)
class ReportingClock:
    """Due dates for one serious adverse event; None where no report of that kind is due."""

    sponsor_due_on: date
    regulator_due_on: date | None
    complete_report_due_on: date | None
    susar: bool


def reporting_clock(
    *, aware_on: date, fatal_or_life_threatening: bool, unexpected: bool, suspected: bool,
    sponsor_days: int = 1,
) -> ReportingClock:  # fmt: skip
    """Due dates for a serious adverse event the sponsor learned of on ``aware_on`` (Day 0).

    A SUSAR (unexpected and suspected) is due to the regulator by Day 15, or Day 7 with a complete
    report by Day 15 when fatal or life-threatening (21 CFR 312.32; ICH E2A). Every serious event is due
    to the sponsor by Day ``sponsor_days``.
    """
    susar = unexpected and suspected
    regulator = complete = None
    if susar:
        regulator = aware_on + timedelta(days=7 if fatal_or_life_threatening else 15)
        complete = aware_on + timedelta(days=7 + 8) if fatal_or_life_threatening else None
    return ReportingClock(aware_on + timedelta(days=sponsor_days), regulator, complete, susar)


@dataclass(frozen=True, slots=True)
class AdverseEventFacts:
    """What the stopping rules need to know about an adverse event."""

    known_at: datetime  # when the event was recorded, or last changed
    ctcae_grade: int
    serious: bool
    causality: dict[Relatedness, Causality]


def active_stopping_rules(
    rules: Iterable[StoppingRule],
    events: Sequence[AdverseEventFacts],
    *,
    decided_at: dict[str, datetime],
) -> list[StoppingRule]:
    """The stopping rules currently halting new doses.

    A rule counts the events with at least its grade, serious when it says so, and a suspected relation
    to one of the things it names, recorded (or last changed) after the last physician decision on
    that rule (``decided_at``, by rule id); it is active when that count reaches the rule's count.
    Counting by the instant of recording, not the event's dates, means an event entered late, or
    regraded, after a decision still halts new doses.
    """
    active = []
    for rule in rules:
        since = decided_at.get(rule.id)
        counted = [
            event
            for event in events
            if _counts(rule, event) and (since is None or event.known_at > since)
        ]
        if len(counted) >= rule.count:
            active.append(rule)
    return active


def _counts(rule: StoppingRule, event: AdverseEventFacts) -> bool:
    related = any(event.causality.get(thing) in SUSPECTED for thing in rule.related_to)
    return (
        event.ctcae_grade >= rule.min_ctcae_grade
        and related
        and (event.serious or not rule.serious_only)
    )
