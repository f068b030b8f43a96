"""Descriptive outcomes of a protocol version, until the statistical evaluation exists.

For each enrolled patient: the baseline ALSFRS-R total (the last rating on or before the first cell
dose, or on or before the start when no dose was given), the rating closest to the analysis plan's
time point after its anchor (within the window of the follow-up visit at that time point), the change,
and the category under the locked plan's thresholds: improved when the change is >=
``improved_min_change``, worsened when <= ``worsened_max_change``, stable between, and died whenever
a death is recorded. The anchor is the first or last cell dose of the plan's anchor activity as given
(first or last as the protocol's follow-up counts), or the start for ``start``.

These counts describe an uncontrolled series and show nothing about the treatment's effect by
themselves (clinical.md §6, §7.5); :data:`CAVEATS` says why, and every page and report showing the
counts shows it next to them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain.access import Action
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.protocol import AnalysisPlan as PlanSpec
from alscell.domain.protocol import Anchor, Protocol
from alscell.services import access
from alscell.services.protocols import analysis_plan_for, protocol_of
from alscell.services.records import load
from alscell.storage.models import (
    Administration,
    AlsfrsRating,
    AnalysisPlan,
    AnalysisPlanAmendment,
    Enrollment,
    OutcomeEvent,
    Patient,
    ProtocolVersion,
    User,
)

__all__ = [
    "CAVEATS",
    "Category",
    "PatientResult",
    "ProgramResults",
    "TimePoint",
    "baseline_rating",
    "categorise",
    "closest_rating",
    "list_result_protocols",
    "program_results",
]

START_ANCHOR: Final = "start"


class Category(StrEnum):
    """Where a patient stands at the analysis plan's time point."""

    IMPROVED = "improved"
    STABLE = "stable"
    WORSENED = "worsened"
    DIED = "died"
    NO_RATING = "no_rating"
    """No rating at the time point: not due yet, its window still open, or passed without one."""
    NO_BASELINE = "no_baseline"
    """No rating before the first cell dose (or the start), so there is no change to describe."""


CAVEATS: Final = (
    "These counts come from an uncontrolled series: without a concurrent control group a change "
    "from baseline cannot be attributed to the treatment, and pre/post comparisons are descriptive "
    "only.",
    "About 1 in 4 untreated patients show no ALSFRS-R decline over 6 months (Bedlack 2016: 25% of "
    '3,132 patients; clinical.md §6), so "stable" or "improved" here is not evidence of '
    "efficacy.",
    "ALSFRS-R decline is non-linear and slows over time, and pre/post comparisons regress to the "
    "mean: later ratings look better than the first even without any treatment.",
    "The full evaluation against natural history (the decline expected from each patient's own "
    "course, responder rates, mixed models and survival) comes in the program report.",
)
"""What the counts cannot show; shown next to them wherever they appear."""

UNLOCKED_CAVEAT: Final = (
    "The analysis plan is not locked: its thresholds may still change, so no patient is put in "
    "improved, stable or worsened until it is locked."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePoint:
    """When the plan's primary outcome is read: months after the anchor, within a window."""

    months: float
    anchor_activity: str
    anchor: Anchor
    window_days: int

    @classmethod
    def of(cls, protocol: Protocol) -> TimePoint:
        """The time point of the protocol's analysis plan; the window is that of the follow-up visit
        at the same number of months (no window when the protocol has no such visit)."""
        plan, follow_up = protocol.analysis_plan, protocol.follow_up
        windows = [
            visit.window_days
            for visit in follow_up.visits
            if math.isclose(visit.months, plan.time_point_months)
        ]
        same = plan.anchor_activity == follow_up.anchor_activity
        return cls(
            months=plan.time_point_months,
            anchor_activity=plan.anchor_activity,
            anchor=follow_up.anchor if same else Anchor.LAST,
            window_days=windows[0] if windows else 0,
        )

    def target_on(self, anchor_on: date) -> date:
        """The day the outcome is due: the anchor plus the months (30.4375 days each)."""
        return anchor_on + timedelta(days=round(self.months * DAYS_PER_MONTH))


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientResult:
    """One enrolled patient's outcome at the time point.

    ``category`` is None only while the plan is not locked and the patient has both ratings.
    """

    patient_id: int
    study_code: str
    baseline_on: date | None
    baseline_total: int | None
    anchor_on: date | None
    earliest_on: date | None
    latest_on: date | None
    rated_on: date | None
    total: int | None
    change: int | None
    died_on: date | None
    category: Category | None
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramResults:
    """Descriptive outcomes of one protocol version, with its plan, amendments and caveats."""

    protocol: ProtocolVersion
    plan: PlanSpec
    plan_version: str
    locked_at: datetime | None
    time_point: TimePoint
    patients: tuple[PatientResult, ...]
    counts: Mapping[Category, int]
    amendments: tuple[AnalysisPlanAmendment, ...]
    caveats: tuple[str, ...]
    today: date

    @property
    def locked(self) -> bool:
        """Whether the analysis plan is locked (categories are assigned only then)."""
        return self.locked_at is not None

    @property
    def without_rating(self) -> int:
        """Patients still without a rating at the time point."""
        return self.counts[Category.NO_RATING]

    @property
    def uncategorised(self) -> int:
        """Patients with both ratings but no category, because the plan is not locked."""
        return sum(1 for patient in self.patients if patient.category is None)


@dataclass(frozen=True, slots=True)
class _Course:
    """What one patient's row is computed from."""

    patient: Patient
    enrollment: Enrollment
    ratings: Sequence[tuple[date, int]]
    doses: Sequence[tuple[date, str]]
    died_on: date | None


# ---------------------------------------------------------------- reading


def program_results(session: Session, *, protocol_id: int, by: User, today: date) -> ProgramResults:
    """Each enrolled patient's ALSFRS-R change at the plan's time point, and counts per category.

    Only patients at the sites ``by`` may see are included.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may view patients or run evaluations.
    NotFound
        For an unknown protocol version.
    """
    _require_reader(by)
    row = load(session, ProtocolVersion, protocol_id, kind="protocol")
    protocol = protocol_of(session, protocol_id)
    plan_row = analysis_plan_for(session, protocol_id)
    time_point = TimePoint.of(protocol)
    locked = plan_row.locked_at is not None
    patients = tuple(
        _describe_patient(course, protocol.analysis_plan, time_point, locked=locked, today=today)
        for course in _courses(session, protocol_id, by, today)
    )
    return ProgramResults(
        protocol=row, plan=protocol.analysis_plan, plan_version=plan_row.plan_version,
        locked_at=plan_row.locked_at, time_point=time_point, patients=patients,
        counts=_counts(patients), amendments=tuple(_amendments(session, plan_row)),
        caveats=CAVEATS if locked else (UNLOCKED_CAVEAT, *CAVEATS), today=today,
    )  # fmt: skip


def list_result_protocols(session: Session, *, by: User) -> list[ProtocolVersion]:
    """The loaded protocol versions whose results ``by`` may read, by key and newest first."""
    _require_reader(by)
    statement = sa.select(ProtocolVersion).order_by(
        ProtocolVersion.key, ProtocolVersion.loaded_at.desc(), ProtocolVersion.id.desc()
    )
    return list(session.execute(statement).scalars())


def _require_reader(by: User) -> None:
    evaluates = access.allowed_to(by, Action.RUN_EVALUATION)
    action = Action.RUN_EVALUATION if evaluates else Action.VIEW_PATIENT
    access.require(by, action, resource="program results")


def _courses(session: Session, protocol_id: int, by: User, today: date) -> list[_Course]:
    statement = (
        sa.select(Enrollment, Patient)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(Enrollment.protocol_id == protocol_id)
        .order_by(Patient.study_code)
    )
    if not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    return [
        _Course(
            patient,
            enrollment,
            _ratings(session, patient.id, today),
            _doses(session, enrollment.id),
            _died_on(session, patient.id),
        )
        for enrollment, patient in session.execute(statement)
    ]


def _ratings(session: Session, patient_id: int, today: date) -> list[tuple[date, int]]:
    statement = (
        sa.select(AlsfrsRating.rated_on, AlsfrsRating.total)
        .where(AlsfrsRating.patient_id == patient_id, AlsfrsRating.rated_on <= today)
        .order_by(AlsfrsRating.rated_on, AlsfrsRating.id)
    )
    return [(rated_on, total) for rated_on, total in session.execute(statement)]


def _doses(session: Session, enrollment_id: int) -> list[tuple[date, str]]:
    """The enrollment's cell doses (administrations of a product unit), oldest first."""
    statement = (
        sa.select(Administration.given_on, Administration.activity_id)
        .where(
            Administration.enrollment_id == enrollment_id,
            Administration.product_unit_id.is_not(None),
        )
        .order_by(Administration.given_on, Administration.id)
    )
    return [(given_on, activity) for given_on, activity in session.execute(statement)]


def _died_on(session: Session, patient_id: int) -> date | None:
    statement = sa.select(OutcomeEvent.occurred_on).where(
        OutcomeEvent.patient_id == patient_id, OutcomeEvent.kind == "death"
    )
    return session.execute(statement).scalar_one_or_none()


def _amendments(session: Session, plan: AnalysisPlan) -> list[AnalysisPlanAmendment]:
    statement = (
        sa.select(AnalysisPlanAmendment)
        .where(AnalysisPlanAmendment.analysis_plan_id == plan.id)
        .order_by(AnalysisPlanAmendment.amended_at, AnalysisPlanAmendment.id)
    )
    return list(session.execute(statement).scalars())


def _counts(patients: Sequence[PatientResult]) -> dict[Category, int]:
    counts = dict.fromkeys(Category, 0)
    for patient in patients:
        if patient.category is not None:
            counts[patient.category] += 1
    return counts


# ---------------------------------------------------------------- describing one patient


def _describe_patient(
    course: _Course, plan: PlanSpec, time_point: TimePoint, *, locked: bool, today: date
) -> PatientResult:
    """One patient's row: baseline, the rating at the time point, the change and the category."""
    baseline = baseline_rating(course.ratings, cutoff=_baseline_cutoff(course))
    anchor_on = _anchor_date(course, time_point)
    target = time_point.target_on(anchor_on) if anchor_on else None
    window = timedelta(days=time_point.window_days)
    earliest, latest = (target - window, target + window) if target else (None, None)
    reading = closest_rating(course.ratings, target, time_point.window_days) if target else None
    change = reading[1] - baseline[1] if reading and baseline else None
    return PatientResult(
        patient_id=course.patient.id, study_code=course.patient.study_code,
        baseline_on=baseline[0] if baseline else None, baseline_total=baseline[1] if baseline else None,
        anchor_on=anchor_on, earliest_on=earliest, latest_on=latest,
        rated_on=reading[0] if reading else None, total=reading[1] if reading else None,
        change=change, died_on=course.died_on,
        category=_category(change, baseline is not None, reading is not None, course.died_on, plan, locked=locked),
        note=_note(anchor_on, earliest, latest, reading is not None, baseline is not None, today=today),
    )  # fmt: skip


def baseline_rating(
    ratings: Sequence[tuple[date, int]], *, cutoff: date | None
) -> tuple[date, int] | None:
    """The last rating on or before ``cutoff`` (ratings sorted by date), or None."""
    if cutoff is None:
        return None
    before = [rating for rating in ratings if rating[0] <= cutoff]
    return before[-1] if before else None


def _baseline_cutoff(course: _Course) -> date | None:
    """The first cell dose, else the start of treatment, else the day of enrollment."""
    if course.doses:
        return course.doses[0][0]
    return course.enrollment.start_on or course.enrollment.enrolled_on


def _anchor_date(course: _Course, time_point: TimePoint) -> date | None:
    """The day the time point counts from: the start, or the first or last anchor dose as given."""
    if time_point.anchor_activity == START_ANCHOR:
        return course.enrollment.start_on
    given = [on for on, activity in course.doses if activity == time_point.anchor_activity]
    if not given:
        return None
    return given[0] if time_point.anchor is Anchor.FIRST else given[-1]


def closest_rating(
    ratings: Sequence[tuple[date, int]], target: date, window_days: int
) -> tuple[date, int] | None:
    """The rating closest to ``target`` within ± ``window_days`` (the earlier on a tie), or None."""
    inside = [rating for rating in ratings if abs((rating[0] - target).days) <= window_days]
    return min(inside, key=lambda rating: (abs((rating[0] - target).days), rating[0]), default=None)


def categorise(change: float, plan: PlanSpec) -> Category:
    """Improved, stable or worsened under the plan's thresholds (DESIGN.md, "Honest evaluation")."""
    if change >= plan.improved_min_change:
        return Category.IMPROVED
    if change <= plan.worsened_max_change:
        return Category.WORSENED
    return Category.STABLE


def _category(
    change: int | None, has_baseline: bool, has_reading: bool, died_on: date | None,
    plan: PlanSpec, *, locked: bool,
) -> Category | None:  # fmt: skip
    if died_on is not None:
        return Category.DIED
    if not has_reading:
        return Category.NO_RATING
    if not has_baseline or change is None:
        return Category.NO_BASELINE
    return categorise(change, plan) if locked else None


def _note(
    anchor_on: date | None, earliest: date | None, latest: date | None, has_reading: bool,
    has_baseline: bool, *, today: date,
) -> str:  # fmt: skip
    if anchor_on is None or earliest is None or latest is None:
        return "not yet: nothing given yet to count the time point from"
    if not has_baseline:
        return "no rating on or before the first cell dose"
    if has_reading:
        return ""
    if today < earliest:
        return f"not yet: due {earliest} to {latest}"
    if today <= latest:
        return f"not yet: window open until {latest}"
    return f"no rating between {earliest} and {latest}"
