"""External comparator cohorts (e.g. PRO-ACT): their records, and their CAFS outcomes and mean course.

An imported cohort is a set of subjects, each with times as *deltas*: whole days from the subject's
trial start (negative before it), as PRO-ACT gives them. This module turns a subject's ratings and
death record into the CAFS outcomes of :mod:`alscell.domain.stats.cafs` (clinical.md §7.1) and into a
mean ALSFRS-R course by month since baseline, the shape a natural-history curve needs.

For one subject (every time in days from trial start; months = days / 30.4375, clinical.md §2)::

    baseline     the first ALSFRS-R rating at or after delta 0
    target       the ALSFRS-R rating nearest baseline + H months, within ± window days of it
                 (the earlier one on a tie); with none in the window, the total linearly
                 interpolated between the last rating before and the first after baseline + H
                 months (follow-up that goes past H must not be thrown away: excluding alive
                 subjects whose visits miss the window while every death counts would make the
                 cohort look worse than it is)
    died         Subject_Died with a Death_Days at or before baseline + H months:
                 death month = (Death_Days − baseline delta) / 30.4375, at least 0; no change
    change       target total − baseline total, for a subject alive at H
    excluded     no baseline, or alive with no follow-up past H months (a NaN change: ranked by nobody)

Only ALSFRS-R ratings (form ``alsfrs_r``) take part: the original ALSFRS (item 10 "respiratory",
total 0-40) is another scale and its totals cannot be subtracted from ALSFRS-R totals. A death with
no Death_Days cannot be placed in time: such a subject counts as alive, which is true at any target
rating they have.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

import numpy as np

from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.stats.cafs import Outcomes

__all__ = [
    "ITEM_KEYS",
    "ComparatorBatch",
    "FvcRecord",
    "MonthMean",
    "OnsetSite",
    "RatingForm",
    "RatingRecord",
    "SubjectCourse",
    "SubjectRecord",
    "comparator_outcomes",
    "mean_total_by_month",
]

ITEM_KEYS: Final = (
    "q1",
    "q2",
    "q3",
    "q4",
    "q5a",
    "q5b",
    "q6",
    "q7",
    "q8",
    "q9",
    "q10",
    "q11",
    "q12",
)
"""Item columns of a stored rating, named as :class:`~alscell.domain.alsfrs.Item` keys."""


class RatingForm(StrEnum):
    """Which scale a comparator rating is on."""

    ALSFRS_R = "alsfrs_r"
    """ALSFRS-R (Cedarbaum 1999): 12 items, total 0-48 (clinical.md §1)."""
    ALSFRS = "alsfrs"
    """The original ALSFRS: item 10 "respiratory" instead of items 10-12, total 0-40."""


class OnsetSite(StrEnum):
    """Site of first symptoms as a comparator cohort records it."""

    BULBAR = "bulbar"
    SPINAL = "spinal"
    BULBAR_AND_SPINAL = "bulbar_and_spinal"
    OTHER = "other"


# Row records are NamedTuples, not dataclasses: an import makes one per row of million-row files, and
# a tuple is smaller and quicker to build (and ``_asdict`` gives the row to insert).


class SubjectRecord(NamedTuple):
    """One subject: demographics, ALS history and death record, each None when not given."""

    subject_id: str
    sex: str | None = None
    age_years: float | None = None
    onset_site: str | None = None
    onset_delta_days: int | None = None
    diagnosis_delta_days: int | None = None
    died: bool | None = None
    death_days: int | None = None


class RatingRecord(NamedTuple):
    """One rating of a subject. For the original ALSFRS ``q10`` holds its item 10 ("respiratory") and
    ``q11``/``q12`` are None; exactly one of ``q5a``/``q5b`` is given."""

    subject_id: str
    delta_days: int
    form: str
    q1: int
    q2: int
    q3: int
    q4: int
    q5a: int | None
    q5b: int | None
    q6: int
    q7: int
    q8: int
    q9: int
    q10: int
    q11: int | None
    q12: int | None
    total: int


class FvcRecord(NamedTuple):
    """One forced vital capacity of a subject, % predicted (None when only litres were given)."""

    subject_id: str
    delta_days: int
    percent_predicted: float | None


@dataclass(frozen=True, slots=True)
class ComparatorBatch:
    """A chunk of an import: rows to store, and how many bad rows were skipped to make it."""

    subjects: Sequence[SubjectRecord] = ()
    ratings: Sequence[RatingRecord] = ()
    fvc: Sequence[FvcRecord] = ()
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class SubjectCourse:
    """What CAFS needs of one subject: ALSFRS-R ratings as (delta days, total), sorted by delta, and
    the death record."""

    ratings: Sequence[tuple[int, int]]
    died: bool | None = None
    death_days: int | None = None


def comparator_outcomes(
    subjects: Iterable[SubjectCourse], *, months: float, window_days: int
) -> Outcomes:
    """The CAFS outcomes of an external cohort at ``months`` after each subject's baseline.

    One entry per subject, in the order given; see the module docstring for the rules. Subjects
    without a usable rating have neither a death nor a change, and CAFS counts them as excluded.

    Raises
    ------
    ValueError
        ``months`` not a positive number or ``window_days`` negative (a programming error).
    """
    if not (math.isfinite(months) and months > 0) or window_days < 0:
        raise ValueError(f"need months > 0 and window_days >= 0, got {months}, {window_days}")
    deaths: list[float] = []
    changes: list[float] = []
    for subject in subjects:
        death, change = _outcome(subject, months * DAYS_PER_MONTH, window_days)
        deaths.append(death)
        changes.append(change)
    return Outcomes(months, np.array(deaths, dtype=np.float64), np.array(changes, dtype=np.float64))


def _outcome(subject: SubjectCourse, horizon_days: float, window_days: int) -> tuple[float, float]:
    """(death month, change) of one subject; NaN for what does not apply."""
    baseline = next((rating for rating in subject.ratings if rating[0] >= 0), None)
    if baseline is None:
        return math.nan, math.nan
    start, total = baseline
    if subject.died and subject.death_days is not None:
        after = subject.death_days - start
        if after <= horizon_days:
            return max(after, 0) / DAYS_PER_MONTH, math.nan
    target = start + horizon_days
    near = [r for r in subject.ratings if r[0] > start and abs(r[0] - target) <= window_days]
    if near:
        reading = min(near, key=lambda rating: (abs(rating[0] - target), rating[0]))
        return math.nan, float(reading[1] - total)
    earlier = [r for r in subject.ratings if start <= r[0] < target]
    later = [r for r in subject.ratings if r[0] > target]
    if not (earlier and later):
        return math.nan, math.nan
    (day0, total0), (day1, total1) = max(earlier), min(later)
    at_target = total0 + (total1 - total0) * (target - day0) / (day1 - day0)
    return math.nan, float(at_target - total)


@dataclass(frozen=True, slots=True)
class MonthMean:
    """The mean ALSFRS-R total of the ratings ``month`` whole months after baseline (rounded)."""

    month: int
    n: int
    mean: float
    sd: float | None
    """Sample standard deviation; None for a single rating."""


def mean_total_by_month(subjects: Iterable[SubjectCourse]) -> tuple[MonthMean, ...]:
    """Mean ALSFRS-R total by month since each subject's baseline (the first rating at or after delta
    0), months rounded to the nearest whole month; ratings before baseline are left out.

    Streams: it keeps only a count, a sum and a sum of squares per month.
    """
    sums: dict[int, list[float]] = {}
    for subject in subjects:
        baseline = next((rating[0] for rating in subject.ratings if rating[0] >= 0), None)
        if baseline is None:
            continue
        for delta, total in subject.ratings:
            if delta >= baseline:
                acc = sums.setdefault(round((delta - baseline) / DAYS_PER_MONTH), [0.0, 0.0, 0.0])
                acc[0] += 1
                acc[1] += total
                acc[2] += total * total
    return tuple(_month_mean(month, *sums[month]) for month in sorted(sums))


def _month_mean(month: int, n: float, total: float, squares: float) -> MonthMean:
    mean = total / n
    sd = math.sqrt(max(squares - n * mean * mean, 0.0) / (n - 1)) if n > 1 else None
    return MonthMean(month=month, n=int(n), mean=mean, sd=sd)
