"""The outcome evaluation: each patient against natural history, the cohort, and what the design can show.

Per patient (DESIGN.md, "Honest evaluation"; clinical.md §2, §6, §7):

- **baseline**: the last ALSFRS-R rating on or before the first cell dose;
- **ΔFS** at baseline, (48 − baseline total) / months since onset;
- **pre-treatment slope**: the least-squares slope of the ratings on or before the first dose, where
  there are at least two on different days; **post-treatment slope**: of the baseline and the ratings
  after the first dose up to the reading (points/month; negative is decline);
- **reading**: the rating closest to the analysis plan's time point (months after the first or last
  dose of its anchor activity) inside the window of the follow-up visit at that time point, the earlier
  on a tie; none is ever imputed;
- **category** under the plan's thresholds: improved (change ≥ ``improved_min_change``), worsened
  (≤ ``worsened_max_change``), stable between; died when death, tracheostomy or permanent ventilation
  came on or before the window's last day; missing when the window closed without a rating; pending
  while the window has not closed;
- **expected change** under natural history for this patient (their baseline and ΔFS, over the months
  from baseline to the reading) with a 95% prediction interval, and whether the observation lies
  outside it;
- **responder** (NurOwn phase 3; clinical.md §7.2): post-slope − pre-slope ≥ the plan's threshold.

Per cohort: category counts with exact Clopper-Pearson 95% intervals; the counts natural history gives
for these same patients (seeded simulation) with a one-sided p-value for "as many or more without
decline"; the no-decline rate against the published base rate; responders; completeness; deviations and
overrides. :func:`evidence_statement` writes what the design can and cannot show; it never states or
implies efficacy from a single-arm series, whatever the numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binomtest

from alscell.domain.adverse_events import Causality
from alscell.domain.months import DAYS_PER_MONTH, months_between
from alscell.domain.progression import delta_fs
from alscell.domain.protocol import AnalysisPlan, Anchor, ControlType, Protocol, Relatedness
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats.intervals import Interval, clopper_pearson

if TYPE_CHECKING:
    from alscell.domain.analyses import Analyses

__all__ = [
    "BEDLACK_NO_DECLINE",
    "AdverseEventRecord",
    "Category",
    "CohortResult",
    "Design",
    "Evaluation",
    "Interval",
    "PatientCourse",
    "PatientResult",
    "Rating",
    "TimePoint",
    "as_data",
    "categorise",
    "clopper_pearson",
    "evaluate",
    "least_squares_slope",
    "order_statistics",
]

BEDLACK_NO_DECLINE: Final[Mapping[int, tuple[float, int]]] = {
    6: (0.25, 3132),
    12: (0.16, 2105),
    18: (0.07, 1218),
}
"""Untreated patients without ALSFRS-R decline over 6, 12 and 18 months, and how many were followed
(Bedlack 2016; clinical.md §6)."""
NUROWN_PLACEBO_RESPONDERS: Final = 0.28
"""Placebo responders at week 28 in the NurOwn phase 3 trial (Cudkowicz 2022; clinical.md §7.2)."""
CONFIDENCE: Final = 0.95
DEFAULT_DRAWS: Final = 4000
PREDICTION_QUANTILES: Final = (0.025, 0.5, 0.975)
"""The 95% prediction interval of a patient's change under natural history, and its median."""


class Category(StrEnum):
    """Where a patient stands at the analysis plan's time point."""

    IMPROVED = "improved"
    STABLE = "stable"
    WORSENED = "worsened"
    DIED = "died"
    """Death, tracheostomy or permanent ventilation on or before the window's last day."""
    MISSING = "missing"
    """The window closed without a rating (or there was no baseline): never imputed."""
    PENDING = "pending"
    """The window has not closed yet (or no dose was given to count it from)."""


KNOWN: Final = (Category.IMPROVED, Category.STABLE, Category.WORSENED, Category.DIED)
"""Categories with a known outcome: the denominator of the cohort's proportions."""


@dataclass(frozen=True, slots=True)
class Rating:
    """One ALSFRS-R total on a day."""

    rated_on: date
    total: int


@dataclass(frozen=True, slots=True)
class Dose:
    """A cell dose given: the day and the protocol activity."""

    given_on: date
    activity_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseEventRecord:
    """An adverse event as the safety rates need it (clinical.md §9.2, §9.3)."""

    term: str
    onset_on: date
    ctcae_grade: int
    serious: bool
    causality: Mapping[Relatedness, Causality]
    after_dose_on: date | None = None
    """The day of the cell dose the event was recorded against, or None when it was not linked."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientCourse:
    """What one patient's evaluation is computed from, as the records stand at the data cut-off."""

    patient_id: int
    study_code: str
    onset_on: date | None
    ratings: tuple[Rating, ...]
    doses: tuple[Dose, ...]
    event: tuple[str, date] | None = None
    """The first of death, tracheostomy or permanent ventilation, with its day."""
    encals_lp: float | None = None
    deviations: tuple[str, ...] = ()
    """Deviations from the protocol that bear on the outcome, in words."""
    overrides: tuple[str, ...] = ()
    """Safety blocks overridden for this patient, in words."""
    enrolled_on: date | None = None
    adverse_events: tuple[AdverseEventRecord, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TimePoint:
    """When the plan's primary outcome is read: months after the anchor, within a window."""

    months: float
    anchor_activity: str
    anchor: Anchor
    window_days: int

    @classmethod
    def of(cls, protocol: Protocol) -> TimePoint:
        """The protocol's time point; the window is that of the follow-up visit at the same months
        (none when the protocol has no visit then), and the anchor the follow-up's first or last dose."""
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

    def anchor_of(self, doses: Sequence[Dose]) -> date | None:
        """The first or last dose of the anchor activity, or None before any."""
        given = sorted(dose.given_on for dose in doses if dose.activity_id == self.anchor_activity)
        if not given:
            return None
        return given[0] if self.anchor is Anchor.FIRST else given[-1]


@dataclass(frozen=True, slots=True)
class Design:
    """What the design can show: the facts the evidence statement is written from."""

    control: ControlType
    rater_blinded: bool
    comparator: str
    plan_version: str
    plan_locked_on: date | None
    first_treatment_on: date | None
    amendments_after_first_treatment: int

    @property
    def single_arm(self) -> bool:
        """No concurrent control group."""
        return self.control is ControlType.NONE

    @property
    def locked_before_first_treatment(self) -> bool:
        """The plan was locked before (or on the day of) the first cell dose of the cohort."""
        if self.plan_locked_on is None:
            return False
        return self.first_treatment_on is None or self.plan_locked_on <= self.first_treatment_on


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientResult:
    """One patient's evaluation; None where the data do not allow the number."""

    patient_id: int
    study_code: str
    baseline: Rating | None
    delta_fs: float | None
    pre_slope: float | None
    post_slope: float | None
    anchor_on: date | None
    target_on: date | None
    window: tuple[date, date] | None
    reading: Rating | None
    change: int | None
    category: Category | None
    """None only when the analysis plan is not locked."""
    event: tuple[str, date] | None
    expected_change: float | None
    """The median change natural history gives this patient over the same months."""
    expected_interval: Interval | None
    outside: str | None
    """``above`` or ``below`` the 95% prediction interval, ``inside``, or None without a reading."""
    death_probability: float | None
    """Natural history's probability of death, tracheostomy or permanent ventilation by the window's end."""
    responder: bool | None
    deviations: tuple[str, ...]
    overrides: tuple[str, ...]
    note: str

    @property
    def no_decline(self) -> bool | None:
        """The change is zero or better (Bedlack 2016's "no decline"); None without a change."""
        return None if self.change is None else self.change >= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CohortResult:
    """The cohort's outcomes beside what natural history gives for the same patients."""

    enrolled: int
    counts: Mapping[Category, int]
    intervals: Mapping[Category, Interval]
    """Clopper-Pearson 95% intervals of each known category's proportion among the known outcomes."""
    expected: Mapping[Category, float]
    """Natural history's expected counts for the patients with a known outcome."""
    no_decline: int
    """Alive with a change of zero or better, among the known outcomes."""
    no_decline_expected: float
    no_decline_p_value: float | None
    """One-sided: the chance under natural history of as many or more without decline."""
    base_rate: float | None
    """Bedlack 2016's untreated no-decline rate at this time point, where published."""
    base_rate_p_value: float | None
    """One-sided exact binomial test of the no-decline count against the base rate."""
    outside_above: int
    outside_below: int
    with_reading: int
    responders: int
    responder_evaluable: int
    responder_interval: Interval | None
    due: int
    """Patients whose window has closed (or who died): those who should have an outcome."""
    patients_with_deviations: int
    patients_with_overrides: int

    @property
    def known(self) -> int:
        """Patients with a known outcome (improved, stable, worsened or died)."""
        return sum(self.counts[category] for category in KNOWN)

    @property
    def completeness(self) -> float | None:
        """Known outcomes among the patients due; None before anyone is due."""
        return self.known / self.due if self.due else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """The whole evaluation: reports and pages render this object and nothing else."""

    protocol_id: str
    protocol_version: str
    plan: AnalysisPlan
    plan_locked: bool
    design: Design
    time_point: TimePoint
    model: str
    """The natural-history model's id and version."""
    seed: int
    draws: int
    data_cutoff: date
    patients: tuple[PatientResult, ...]
    cohort: CohortResult
    statement: tuple[str, ...]
    biases: tuple[str, ...] = field(default=())
    analyses: Analyses | None = None
    """The standard analyses of ALS trials and the safety rates (:mod:`alscell.domain.analyses`)."""


def as_data(value: object) -> object:
    """An evaluation (or any part of it) as plain JSON data: dataclasses as objects, enums as their
    values, dates as ISO text, mappings with text keys, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: as_data(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(as_data(key)): as_data(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [as_data(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- pure helpers


def categorise(change: float, plan: AnalysisPlan) -> Category:
    """Improved, stable or worsened under the plan's thresholds (DESIGN.md, "Honest evaluation")."""
    if change >= plan.improved_min_change:
        return Category.IMPROVED
    if change <= plan.worsened_max_change:
        return Category.WORSENED
    return Category.STABLE


def order_statistics(values: NDArray[np.int64], quantiles: Sequence[float]) -> list[int]:
    """The ``quantiles`` of whole numbers as the inverted empirical distribution function gives them
    (Hyndman & Fan 1996, definition 1; numpy's ``quantile(..., method="inverted_cdf")``), by counting.

    The q-quantile of n values is the (k + 1)-th smallest, k = max(⌈n·q − 1⌉, 0) with n·q − 1 in
    floating point as numpy computes it. Counting each value (the values of a simulated change span
    at most 97 whole numbers) and cumulating the counts finds every one without sorting the values.
    """
    low = int(values.min())
    at_most = np.cumsum(np.bincount(values - low))
    n = len(values)
    ranks = [max(math.ceil(n * q - 1), 0) for q in quantiles]
    return [low + int(np.searchsorted(at_most, k, side="right")) for k in ranks]


def least_squares_slope(ratings: Sequence[Rating]) -> float | None:
    """The ordinary least-squares slope of the totals over time, in points/month (negative = decline).

    None with fewer than two ratings or when they all fall on one day.
    """
    if len(ratings) < 2:
        return None
    first = ratings[0].rated_on
    x = np.array([months_between(first, rating.rated_on) for rating in ratings])
    y = np.array([rating.total for rating in ratings], dtype=float)
    spread = float(np.sum((x - x.mean()) ** 2))
    if spread == 0.0:
        return None
    return float(np.sum((x - x.mean()) * (y - y.mean())) / spread)


# ---------------------------------------------------------------- one patient


def _evaluate_patient(
    course: PatientCourse, plan: AnalysisPlan, time_point: TimePoint, model: nh.NaturalHistoryModel,
    *, locked: bool, cutoff: date, rng: np.random.Generator, draws: int,
) -> tuple[PatientResult, NDArray[np.int64] | None]:  # fmt: skip
    ratings = sorted((r for r in course.ratings if r.rated_on <= cutoff), key=lambda r: r.rated_on)
    doses = sorted((d for d in course.doses if d.given_on <= cutoff), key=lambda d: d.given_on)
    first_dose = doses[0].given_on if doses else None
    before = [r for r in ratings if first_dose is not None and r.rated_on <= first_dose]
    baseline = before[-1] if before else None
    rate = _delta_fs(course.onset_on, baseline)
    anchor_on = time_point.anchor_of(doses)
    target = time_point.target_on(anchor_on) if anchor_on else None
    span = timedelta(days=time_point.window_days)
    window = (target - span, target + span) if target else None
    reading = _closest(ratings, target, time_point.window_days) if target else None
    event = course.event if course.event and course.event[1] <= cutoff else None
    died = event is not None and window is not None and event[1] <= window[1]
    change = reading.total - baseline.total if reading and baseline and not died else None
    category = _category(
        baseline, reading, change, died, window, plan, locked=locked, cutoff=cutoff
    )
    after = [
        r
        for r in ratings
        if baseline and first_dose and first_dose < r.rated_on <= (reading or baseline).rated_on
    ]
    post = least_squares_slope([baseline, *after]) if baseline and after else None
    pre = least_squares_slope(before)
    responder = (
        None if pre is None or post is None else post - pre >= plan.responder_slope_improvement
    )
    simulated, expected, interval, outside, p_death = None, None, None, None, None
    if baseline is not None and window is not None:
        until = reading.rated_on if reading else target or window[1]
        months = max(months_between(baseline.rated_on, until), 0.0)
        changes = nh.simulate_changes(model, baseline_total=baseline.total, months=months, delta_fs=rate,
                                      draws=draws, rng=rng)  # fmt: skip
        p_death = _death_probability(model, course, baseline.rated_on, window[1])
        simulated = changes
        low, mid, high = order_statistics(changes, PREDICTION_QUANTILES)
        expected, interval = float(mid), Interval(float(low), float(high))
        if change is not None:
            outside = "above" if change > high else "below" if change < low else "inside"
    result = PatientResult(
        patient_id=course.patient_id, study_code=course.study_code, baseline=baseline, delta_fs=rate,
        pre_slope=pre, post_slope=post, anchor_on=anchor_on, target_on=target, window=window, reading=reading,
        change=change, category=category, event=event, expected_change=expected, expected_interval=interval,
        outside=outside, death_probability=p_death, responder=responder, deviations=course.deviations,
        overrides=course.overrides, note=_note(category, baseline, first_dose, window, died),
    )  # fmt: skip
    return result, simulated


def _delta_fs(onset_on: date | None, baseline: Rating | None) -> float | None:
    if onset_on is None or baseline is None or baseline.rated_on <= onset_on:
        return None
    return delta_fs(baseline.total, onset_on, baseline.rated_on)


def _closest(ratings: Sequence[Rating], target: date, window_days: int) -> Rating | None:
    """The rating closest to ``target`` within ± ``window_days``, the earlier on a tie; or None."""
    inside = [r for r in ratings if abs((r.rated_on - target).days) <= window_days]
    return min(inside, key=lambda r: (abs((r.rated_on - target).days), r.rated_on), default=None)


def _category(
    baseline: Rating | None, reading: Rating | None, change: int | None, died: bool,
    window: tuple[date, date] | None, plan: AnalysisPlan, *, locked: bool, cutoff: date,
) -> Category | None:  # fmt: skip
    if died:
        return Category.DIED
    if window is None:
        return Category.PENDING  # no dose given yet to count the time point from
    if change is not None:
        return categorise(change, plan) if locked else None
    if baseline is not None and reading is None and cutoff <= window[1]:
        return Category.PENDING
    return Category.MISSING


def _death_probability(
    model: nh.NaturalHistoryModel, course: PatientCourse, since: date, until: date
) -> float | None:
    if course.onset_on is None or since <= course.onset_on:
        return None
    return nh.death_probability(
        model,
        months_since_onset=months_between(course.onset_on, since),
        months=max(months_between(since, until), 0.0),
        encals_lp=course.encals_lp,
    )


def _note(
    category: Category | None, baseline: Rating | None, first_dose: date | None,
    window: tuple[date, date] | None, died: bool,
) -> str:  # fmt: skip
    if died:
        return "death, tracheostomy or permanent ventilation by the end of the window"
    if first_dose is None or window is None:
        return "no cell dose yet: nothing to count the time point from"
    if baseline is None:
        return "missing: no ALSFRS-R rating on or before the first cell dose"
    if category is Category.PENDING:
        return f"pending: window {window[0]} to {window[1]}"
    if category is Category.MISSING:
        return f"missing: no rating between {window[0]} and {window[1]} (not imputed)"
    if category is None:
        return "not categorised: the analysis plan is not locked"
    return ""


# ---------------------------------------------------------------- the cohort


def evaluate(
    courses: Sequence[PatientCourse],
    protocol: Protocol,
    *,
    design: Design,
    plan_locked: bool,
    model: nh.NaturalHistoryModel,
    cutoff: date,
    seed: int,
    draws: int = DEFAULT_DRAWS,
    progress: Callable[[], None] | None = None,
) -> Evaluation:
    """Evaluate every patient and the cohort against natural history, and say what the design shows.

    The simulation is seeded: the same records, model, seed and draws give the same numbers.
    ``progress`` is called once per patient evaluated.
    """
    if draws < 100:
        raise ValueError(f"draws must be at least 100, got {draws}")
    plan, time_point = protocol.analysis_plan, TimePoint.of(protocol)
    rng = np.random.default_rng(seed)
    results: list[PatientResult] = []
    simulated = _Simulated(plan, draws)
    for course in sorted(courses, key=lambda c: c.study_code):
        result, draws_of = _evaluate_patient(course, plan, time_point, model, locked=plan_locked, cutoff=cutoff,
                                             rng=rng, draws=draws)  # fmt: skip
        results.append(result)
        if draws_of is not None and result.category in KNOWN:
            simulated.add(result, draws_of)
        if progress is not None:
            progress()
    cohort = _cohort(results, simulated, time_point)
    evaluation = Evaluation(
        protocol_id=protocol.id, protocol_version=protocol.version, plan=plan, plan_locked=plan_locked,
        design=design, time_point=time_point, model=model.label, seed=seed, draws=draws, data_cutoff=cutoff,
        patients=tuple(results), cohort=cohort, statement=(),
    )  # fmt: skip
    statement, biases = evidence_statement(evaluation)
    return dataclasses.replace(evaluation, statement=statement, biases=biases)


@dataclass(slots=True)
class _Simulated:
    """What natural history gives for the patients with a known outcome, added up patient by patient
    as each is evaluated, so that no patient's draws outlive its evaluation (they would take draws ×
    patients integers).

    Improved, stable and worsened are expected for the patients alive and rated, from their own draws;
    deaths for every patient with a known outcome, from their death probabilities. A share of draws is
    a count over ``draws``: what the mean of the draws' indicators is, exactly.
    """

    plan: AnalysisPlan
    draws: int
    expected: dict[Category, float] = field(default_factory=lambda: dict.fromkeys(KNOWN, 0.0))
    death_probabilities: list[float] = field(default_factory=list)
    rated: int = 0
    no_decline: int = 0
    """Patients alive and rated whose change is zero or better."""
    no_decline_draws: NDArray[np.float64] = field(init=False)
    """For each draw, how many rated patients it gives no decline."""

    def __post_init__(self) -> None:
        self.no_decline_draws = np.zeros(self.draws)

    def add(self, result: PatientResult, changes: NDArray[np.int64]) -> None:
        self.death_probabilities.append(result.death_probability or 0.0)
        if result.change is None:
            return
        improved = int(np.count_nonzero(changes >= self.plan.improved_min_change))
        worsened = int(np.count_nonzero(changes <= self.plan.worsened_max_change))
        self.expected[Category.IMPROVED] += improved / self.draws
        self.expected[Category.WORSENED] += worsened / self.draws
        self.expected[Category.STABLE] += (self.draws - improved - worsened) / self.draws
        self.no_decline_draws += changes >= 0
        self.rated += 1
        self.no_decline += bool(result.no_decline)


def _cohort(
    results: Sequence[PatientResult], simulated: _Simulated, time_point: TimePoint
) -> CohortResult:
    counts = {category: sum(1 for r in results if r.category is category) for category in Category}
    known = sum(counts[category] for category in KNOWN)
    intervals = (
        {category: clopper_pearson(counts[category], known) for category in KNOWN} if known else {}
    )
    expected = {**simulated.expected, Category.DIED: sum(simulated.death_probabilities)}
    no_decline, no_decline_sim, draws = (
        simulated.no_decline,
        simulated.no_decline_draws,
        simulated.draws,
    )
    rated = simulated.rated
    p_value = float((1 + np.sum(no_decline_sim >= no_decline)) / (1 + draws)) if rated else None
    with_change = [r for r in results if r.category in KNOWN and r.change is not None]
    base = _base_rate(time_point.months)
    base_p = (
        float(binomtest(no_decline, len(with_change), base, alternative="greater").pvalue)
        if base is not None and with_change
        else None
    )
    evaluable = [r for r in results if r.responder is not None]
    responders = sum(1 for r in evaluable if r.responder)
    return CohortResult(
        enrolled=len(results), counts=counts, intervals=intervals, expected=expected, no_decline=no_decline,
        no_decline_expected=float(no_decline_sim.mean()) if rated else 0.0, no_decline_p_value=p_value,
        base_rate=base, base_rate_p_value=base_p,
        outside_above=sum(1 for r in results if r.outside == "above"),
        outside_below=sum(1 for r in results if r.outside == "below"),
        with_reading=len(with_change), responders=responders, responder_evaluable=len(evaluable),
        responder_interval=clopper_pearson(responders, len(evaluable)) if evaluable else None,
        due=sum(1 for r in results if r.category in (*KNOWN, Category.MISSING) or r.change is not None),
        patients_with_deviations=sum(1 for r in results if r.deviations),
        patients_with_overrides=sum(1 for r in results if r.overrides),
    )  # fmt: skip


def _base_rate(months: float) -> float | None:
    for published, (rate, _) in BEDLACK_NO_DECLINE.items():
        if math.isclose(months, published):
            return rate
    return None


# ---------------------------------------------------------------- what the design can show

BIASES: Final[Mapping[str, str]] = {
    "regression_to_the_mean": (
        "Regression to the mean: patients often come to a program after a bad spell, and one baseline rating "
        "carries rating noise, so later ratings tend to look better even without any treatment."
    ),
    "natural_plateaus": (
        "Natural plateaus: about 1 in 4 untreated patients show no ALSFRS-R decline over 6 months, 16% over "
        "12 months and 7% over 18 months (Bedlack 2016)."
    ),
    "slowing_decline": (
        "Slowing decline: ALSFRS-R decline is non-linear and slows over time (PRECISION-ALS), so a slope after "
        "treatment looks better than the slope before it even without treatment, and ΔFS from onset is a poor "
        "guide to later decline."
    ),
    "unblinded_rating": (
        "Unblinded rating: the raters and the patients knew the treatment was given, and ALSFRS-R depends on "
        "what patients report; expectations move scores."
    ),
    "selection": (
        "Selection: patients who qualify for, seek out and can travel to a program differ from the patients "
        "that natural-history figures describe."
    ),
    "missing_data": (
        "Missing data: patients without a rating at the time point are not counted; if those doing worse "
        "missed their visits, the counts look better than the truth."
    ),
    "death_ends_follow_up": (
        "Death ends ALSFRS-R follow-up: slopes and changes computed on survivors look better than the cohort's."
    ),
    "plan_after_treatment": (
        "Analysis plan not fixed in advance: thresholds or time points chosen or changed after treatment began "
        "can be tuned to the data, so these results are exploratory."
    ),
    "model": (
        "The natural-history model is calibrated to published cohorts (clinical trials and European population "
        "registers) that differ from this clinic's patients; its expected numbers are a yardstick, not a "
        "control group."
    ),
}
"""The biases an outcome report names where they apply (clinical.md §6, §7.5)."""


def evidence_statement(evaluation: Evaluation) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A plain-language statement of what the results and the design can and cannot show, and the
    biases that apply.

    Generated from the design first: a single-arm series is said to be unable to show whether the
    treatment works whatever its numbers, and no sentence states or implies efficacy.
    """
    cohort, plan = evaluation.cohort, evaluation.plan
    months = _months_text(evaluation.time_point.months)
    said = [_design_sentence(evaluation), _plan_sentence(evaluation)]
    if cohort.due:
        said.append(_completeness_sentence(cohort, months))
    else:
        said.append(
            f"No patient has reached the {months} time point yet: there is no outcome to evaluate."
        )
    if cohort.with_reading:
        said.extend(_comparison_sentences(evaluation))
    if cohort.known:
        said.append(
            f"{cohort.counts[Category.DIED]} of {cohort.known} died or needed tracheostomy or permanent "
            f"ventilation by the time point; natural history gives about {cohort.expected[Category.DIED]:.1f} "
            "(decline and survival are simulated independently)."
        )
    if cohort.responder_evaluable:
        share = cohort.responders / cohort.responder_evaluable
        said.append(
            f"{cohort.responders} of {cohort.responder_evaluable} patients with a pre-treatment slope ({share:.0%}) "
            f"met the responder definition (slope improved by at least {plan.responder_slope_improvement:g} "
            f"points/month); in the NurOwn phase 3 trial {NUROWN_PLACEBO_RESPONDERS:.0%} of patients given "
            "placebo met the same definition at week 28 (Cudkowicz 2022)."
        )
    if cohort.patients_with_deviations or cohort.patients_with_overrides:
        said.append(
            f"{cohort.patients_with_deviations} patient(s) had deviations from the protocol and "
            f"{cohort.patients_with_overrides} had a safety block overridden; each is listed with the patient."
        )
    return tuple(said), tuple(BIASES[key] for key in _biases(evaluation))


def _design_sentence(evaluation: Evaluation) -> str:
    n = evaluation.cohort.enrolled
    if evaluation.design.single_arm:
        return (
            f"This is a single-arm series of {n} patient{'s' if n != 1 else ''} without a concurrent control "
            "group. A single-arm series cannot show whether the treatment works, whatever its numbers: the "
            "changes seen cannot be separated from the natural course of ALS, from chance, or from who was "
            "selected."
        )
    control = evaluation.design.control.value.replace("_", " ")
    return (
        f"The design has a concurrent {control} control group; this evaluation compares the {n} treated "
        "patient(s) with natural history only. Whether the treatment works is answered by the comparison "
        "between arms in the trial's own analysis, not by these numbers."
    )


def _plan_sentence(evaluation: Evaluation) -> str:
    design = evaluation.design
    if not evaluation.plan_locked:
        return (
            f"The analysis plan (version {design.plan_version}) is not locked, so no patient is categorised "
            "and everything here is exploratory."
        )
    when = f"locked on {design.plan_locked_on}"
    if not design.locked_before_first_treatment:
        return f"The analysis plan (version {design.plan_version}) was {when}, after the first cell dose: every result here is exploratory."
    text = (
        f"The analysis plan (version {design.plan_version}) was {when}, before the first cell dose"
    )
    if design.amendments_after_first_treatment:
        return f"{text}, and amended {design.amendments_after_first_treatment} time(s) since: results under the amended plan are exploratory."
    return f"{text}, and has not been amended since."


def _completeness_sentence(cohort: CohortResult, months: str) -> str:
    missing, pending = cohort.counts[Category.MISSING], cohort.counts[Category.PENDING]
    text = (
        f"{cohort.known} of the {cohort.due} patients due at the {months} time point have a known outcome "
        f"({cohort.completeness:.0%}); {missing} without a rating in the window are counted as missing, never imputed"
    )
    return f"{text}; {pending} are not due yet." if pending else f"{text}."


def _comparison_sentences(evaluation: Evaluation) -> list[str]:
    cohort = evaluation.cohort
    interval = clopper_pearson(cohort.no_decline, cohort.with_reading)
    said = [
        f"{cohort.no_decline} of {cohort.with_reading} patients rated at the time point showed no decline "
        f"(95% interval {interval.low:.0%} to {interval.high:.0%}); natural history gives about "
        f"{cohort.no_decline_expected:.1f} for these same patients"
        + (
            f" (one-sided {_p_text(cohort.no_decline_p_value)})."
            if cohort.no_decline_p_value is not None
            else "."
        )
    ]
    if cohort.base_rate is not None:
        said.append(
            f"Among untreated patients about {cohort.base_rate:.0%} show no decline over "
            f"{evaluation.time_point.months:g} months (Bedlack 2016)."
        )
    p = cohort.no_decline_p_value
    if p is not None and p < 0.05:
        said.append(
            "More patients than natural history gives showed no decline. "
            + (
                "In a single-arm series this can come from selection, unblinded rating, a natural-history model "
                "that does not fit these patients, or chance; it is not evidence that the treatment works."
                if evaluation.design.single_arm
                else "Only the comparison with the control arm can say whether the treatment explains it."
            )
        )
    else:
        said.append("That is about what natural history gives for untreated patients like these.")
    expected_outside = 0.025 * cohort.with_reading
    said.append(
        f"{cohort.outside_above} patient(s) changed more favourably and {cohort.outside_below} less favourably "
        f"than the 95% range natural history gives each of them; by chance alone about {expected_outside:.1f} "
        "would lie above it and as many below."
    )
    return said


def _biases(evaluation: Evaluation) -> list[str]:
    design, cohort = evaluation.design, evaluation.cohort
    keys = ["regression_to_the_mean", "natural_plateaus", "slowing_decline"]
    if not design.rater_blinded:
        keys.append("unblinded_rating")
    if design.single_arm:
        keys.append("selection")
    if cohort.counts[Category.MISSING]:
        keys.append("missing_data")
    if cohort.counts[Category.DIED]:
        keys.append("death_ends_follow_up")
    if (
        not evaluation.plan_locked
        or not design.locked_before_first_treatment
        or design.amendments_after_first_treatment
    ):
        keys.append("plan_after_treatment")
    keys.append("model")
    return keys


def _p_text(p: float) -> str:
    """A p-value as reports write it: ``p < 0.001`` below a thousandth, else two significant digits."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _months_text(months: float) -> str:
    return f"{months:g}-month"
