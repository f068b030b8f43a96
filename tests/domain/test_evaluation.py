"""The outcome evaluation (domain/evaluation.py): golden cases at every edge, exact intervals, and cohorts
simulated with and without a treatment effect.

Expected values are worked from the definitions in DESIGN.md ("Honest evaluation") and clinical.md §6,
§7; the Clopper-Pearson intervals from scipy's beta quantiles and from their closed forms at the edges.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta

from alscell.domain import evaluation as ev
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.protocol import Anchor, ControlType, Protocol
from alscell.domain.stats import natural_history as nh
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol

ONSET = date(2024, 9, 1)
FIRST_DOSE = date(2026, 1, 15)
DOSES = tuple(ev.Dose(FIRST_DOSE + timedelta(days=7 * k), "implantation") for k in range(4))
LAST_DOSE = DOSES[-1].given_on
# The seed plan: 6 months after the last implantation, window ± 14 days (follow-up month 6).
TARGET = LAST_DOSE + timedelta(days=round(6 * DAYS_PER_MONTH))
CUTOFF = date(2026, 12, 31)
BANNED = re.compile(
    r"\b(effective|efficacy|efficacious|success|proven|proves|benefit)", re.IGNORECASE
)


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return read_protocol(builtin_protocol_path())


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


def design(**changes: Any) -> ev.Design:
    base = ev.Design(control=ControlType.NONE, rater_blinded=False, comparator="natural_history", plan_version="1.0",
                     plan_locked_on=date(2025, 12, 1), first_treatment_on=FIRST_DOSE,
                     amendments_after_first_treatment=0)  # fmt: skip
    return dataclasses.replace(base, **changes)


def course(
    code: str = "P-01", *, ratings: list[tuple[date, int]], event: tuple[str, date] | None = None,
    doses: tuple[ev.Dose, ...] = DOSES,
) -> ev.PatientCourse:  # fmt: skip
    return ev.PatientCourse(patient_id=int(code[-2:]), study_code=code, onset_on=ONSET,
                            ratings=tuple(ev.Rating(on, total) for on, total in ratings), doses=doses,
                            event=event)  # fmt: skip


def one(
    protocol: Protocol, model: nh.NaturalHistoryModel, patient: ev.PatientCourse, *, cutoff: date = CUTOFF,
    locked: bool = True,
) -> ev.PatientResult:  # fmt: skip
    result = ev.evaluate([patient], protocol, design=design(), plan_locked=locked, model=model, cutoff=cutoff,
                         seed=1, draws=400)  # fmt: skip
    return result.patients[0]


BASELINE = [(date(2025, 12, 15), 40), (FIRST_DOSE, 38)]


# ---------------------------------------------------------------- categories at the thresholds


@pytest.mark.parametrize(
    ("total", "category"),
    [(39, "improved"), (40, "improved"), (38, "stable"), (37, "worsened"), (20, "worsened")],
)
def test_the_category_at_each_threshold_edge(protocol, model, total, category):
    # The seed plan: improved when change >= +1, worsened when <= -1, stable between (only 0).
    result = one(protocol, model, course(ratings=[*BASELINE, (TARGET, total)]))

    assert result.baseline == ev.Rating(
        FIRST_DOSE, 38
    )  # the last rating on or before the first dose
    assert result.change == total - 38
    assert result.category == category


def test_thresholds_come_from_the_plan(protocol):
    wide = dataclasses.replace(
        protocol.analysis_plan, improved_min_change=4, worsened_max_change=-4
    )

    assert [ev.categorise(change, wide) for change in (4, 3, -3, -4)] == [
        "improved",
        "stable",
        "stable",
        "worsened",
    ]


# ---------------------------------------------------------------- the window


@pytest.mark.parametrize(
    ("offset", "counted"), [(-14, True), (14, True), (-15, False), (15, False)]
)
def test_the_window_edges(protocol, model, offset, counted):
    result = one(
        protocol, model, course(ratings=[*BASELINE, (TARGET + timedelta(days=offset), 36)])
    )

    assert result.window == (TARGET - timedelta(days=14), TARGET + timedelta(days=14))
    assert (result.reading is not None) is counted
    assert result.category == ("worsened" if counted else "missing")


def test_the_closest_rating_wins_and_the_earlier_on_a_tie(protocol, model):
    ratings = [
        *BASELINE,
        (TARGET - timedelta(days=3), 35),
        (TARGET + timedelta(days=3), 39),
        (TARGET + timedelta(days=9), 38),
    ]

    result = one(protocol, model, course(ratings=ratings))

    assert result.reading == ev.Rating(TARGET - timedelta(days=3), 35)


def test_the_anchor_is_the_first_dose_when_the_follow_up_says_so(protocol, model):
    first = dataclasses.replace(
        protocol, follow_up=dataclasses.replace(protocol.follow_up, anchor=Anchor.FIRST)
    )
    target = FIRST_DOSE + timedelta(days=round(6 * DAYS_PER_MONTH))

    result = one(first, model, course(ratings=[*BASELINE, (target, 38)]))

    assert (result.anchor_on, result.target_on, result.category) == (FIRST_DOSE, target, "stable")


# ---------------------------------------------------------------- missing data is never imputed


def test_a_closed_window_without_a_rating_is_missing(protocol, model):
    result = one(protocol, model, course(ratings=[*BASELINE, (TARGET + timedelta(days=40), 30)]))

    assert (result.category, result.change, result.reading) == ("missing", None, None)
    assert "not imputed" in result.note


def test_an_open_window_is_pending(protocol, model):
    result = one(protocol, model, course(ratings=BASELINE), cutoff=TARGET + timedelta(days=14))

    assert result.category == "pending"


def test_no_baseline_is_missing_and_no_dose_is_pending(protocol, model):
    late = one(
        protocol, model, course(ratings=[(FIRST_DOSE + timedelta(days=1), 38), (TARGET, 36)])
    )
    untreated = one(protocol, model, course(ratings=BASELINE, doses=()))

    assert (late.category, late.baseline, late.change) == ("missing", None, None)
    assert "no ALSFRS-R rating on or before the first cell dose" in late.note
    assert (untreated.category, untreated.window) == ("pending", None)


def test_records_after_the_cut_off_are_not_used(protocol, model):
    result = one(
        protocol,
        model,
        course(ratings=[*BASELINE, (TARGET, 40)]),
        cutoff=TARGET - timedelta(days=1),
    )

    assert (result.reading, result.category) == (None, "pending")


@pytest.mark.parametrize(
    ("kind", "on", "category"),
    [
        ("death", TARGET + timedelta(days=14), "died"),
        ("tracheostomy", TARGET - timedelta(days=60), "died"),
        ("permanent_ventilation", TARGET, "died"),
        ("death", TARGET + timedelta(days=15), "worsened"),  # after the window: the reading stands
    ],
)
def test_death_tracheostomy_or_permanent_ventilation_by_the_window_end(
    protocol, model, kind, on, category
):
    result = one(protocol, model, course(ratings=[*BASELINE, (TARGET, 30)], event=(kind, on)))

    assert result.category == category


def test_an_unlocked_plan_categorises_nobody(protocol, model):
    result = one(protocol, model, course(ratings=[*BASELINE, (TARGET, 30)]), locked=False)

    assert (result.change, result.category) == (-8, None)


# ---------------------------------------------------------------- slopes, ΔFS and responders


def test_slopes_are_least_squares_fits_in_points_per_month(protocol, model):
    pre = [(date(2025, 10, 15), 44), (date(2025, 12, 15), 41), (FIRST_DOSE, 40)]
    post = [(date(2026, 4, 15), 39), (TARGET, 37)]

    result = one(protocol, model, course(ratings=[*pre, *post]))

    def fit(points: list[tuple[date, int]]) -> float:
        x = [(on - points[0][0]).days / DAYS_PER_MONTH for on, _ in points]
        return float(np.polyfit(x, [total for _, total in points], 1)[0])

    assert result.pre_slope == pytest.approx(fit(pre))
    assert result.post_slope == pytest.approx(fit([pre[-1], *post]))
    assert result.delta_fs == pytest.approx(
        (48 - 40) / ((FIRST_DOSE - ONSET).days / DAYS_PER_MONTH)
    )


@pytest.mark.parametrize(("margin", "responder"), [(0.0, True), (1e-9, False)])
def test_a_responder_improves_the_slope_by_at_least_the_plans_threshold(
    protocol, model, margin, responder
):
    # Two ratings before (46 then 40, 91 days apart) and one after (37, 183 days after the baseline):
    # slopes by hand, in points per 30.4375-day month; the plan's threshold set exactly at their difference.
    baseline = date(2026, 1, 1)
    pre = [(baseline - timedelta(days=91), 46), (baseline, 40)]
    reading = (baseline + timedelta(days=183), 37)
    pre_slope, post_slope = -6 / (91 / DAYS_PER_MONTH), -3 / (183 / DAYS_PER_MONTH)
    plan = dataclasses.replace(
        protocol.analysis_plan, responder_slope_improvement=post_slope - pre_slope + margin
    )
    follow_up = dataclasses.replace(protocol.follow_up, anchor=Anchor.FIRST)
    first = dataclasses.replace(protocol, follow_up=follow_up, analysis_plan=plan)

    result = one(
        first, model, course(ratings=[*pre, reading], doses=(ev.Dose(baseline, "implantation"),))
    )

    assert result.pre_slope == pytest.approx(pre_slope, rel=1e-12)
    assert result.post_slope == pytest.approx(post_slope, rel=1e-12)
    assert result.responder is responder


def test_no_responder_without_two_pre_treatment_ratings(protocol, model):
    result = one(protocol, model, course(ratings=[(FIRST_DOSE, 38), (TARGET, 38)]))

    assert (result.pre_slope, result.responder) == (None, None)


def test_least_squares_needs_two_days():
    assert ev.least_squares_slope([ev.Rating(FIRST_DOSE, 40)]) is None
    assert ev.least_squares_slope([ev.Rating(FIRST_DOSE, 40), ev.Rating(FIRST_DOSE, 38)]) is None


# ---------------------------------------------------------------- exact intervals


@pytest.mark.parametrize(("k", "n"), [(1, 15), (3, 15), (10, 15), (7, 12), (50, 100)])
def test_clopper_pearson_matches_the_beta_quantiles(k, n):
    interval = ev.clopper_pearson(k, n)

    assert interval.low == pytest.approx(beta.ppf(0.025, k, n - k + 1), rel=1e-12)
    assert interval.high == pytest.approx(beta.ppf(0.975, k + 1, n - k), rel=1e-12)


@pytest.mark.parametrize("n", [1, 10, 15])
def test_clopper_pearson_at_the_edges_has_a_closed_form(n):
    # k = 0: (0, 1 - (alpha/2)^(1/n)); k = n: ((alpha/2)^(1/n), 1), alpha = 0.05
    assert ev.clopper_pearson(0, n).low == 0.0
    assert ev.clopper_pearson(0, n).high == pytest.approx(1 - 0.025 ** (1 / n))
    assert ev.clopper_pearson(n, n).low == pytest.approx(0.025 ** (1 / n))
    assert ev.clopper_pearson(n, n).high == 1.0


@pytest.mark.parametrize(("k", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_clopper_pearson_refuses_impossible_counts(k, n):
    with pytest.raises(ValueError, match="successes"):
        ev.clopper_pearson(k, n)


# ---------------------------------------------------------------- cohorts simulated from natural history


def simulated_cohort(
    model: nh.NaturalHistoryModel, rng: np.random.Generator, *, n: int = 15, effect: float = 0.0
) -> list[ev.PatientCourse]:
    """Untreated courses drawn from the model itself, plus ``effect`` points gained by the time point.

    Each patient: onset 12-30 months before the first dose, a rating 3 months before it and on its day,
    four weekly implantations, ratings 1 and 3 months after the first dose and at the time point.
    """
    courses = []
    for i in range(n):
        months_since_onset = rng.uniform(12, 30)
        true_baseline = rng.uniform(30, 44)
        rate = (48 - true_baseline) / months_since_onset
        at = (0.0, 1.0, 3.0, (TARGET - FIRST_DOSE).days / DAYS_PER_MONTH)
        totals = nh.simulate_ratings(
            model, true_baselines=[true_baseline], months=at, rng=rng, delta_fs=[rate]
        )[0]
        gains = [effect * t / at[-1] for t in at]
        days = [FIRST_DOSE + timedelta(days=round(t * DAYS_PER_MONTH)) for t in at]
        before = (
            FIRST_DOSE - timedelta(days=91),
            min(48, round(true_baseline + 3 * rate + rng.normal(0, 0.8))),
        )
        ratings = [
            before,
            *(
                (on, int(min(48, total + round(gain))))
                for on, total, gain in zip(days, totals, gains, strict=True)
            ),
        ]
        onset = FIRST_DOSE - timedelta(days=round(months_since_onset * DAYS_PER_MONTH))
        courses.append(ev.PatientCourse(patient_id=i + 1, study_code=f"S-{i + 1:02d}", onset_on=onset,
                                        ratings=tuple(ev.Rating(on, t) for on, t in ratings), doses=DOSES))  # fmt: skip
    return courses


def evaluate(
    protocol: Protocol,
    model: nh.NaturalHistoryModel,
    courses: list[ev.PatientCourse],
    *,
    seed: int = 11,
) -> ev.Evaluation:
    return ev.evaluate(courses, protocol, design=design(), plan_locked=True, model=model, cutoff=CUTOFF, seed=seed,
                       draws=2000)  # fmt: skip


def all_text(evaluation: ev.Evaluation) -> str:
    return " ".join(
        [*evaluation.statement, *evaluation.biases, *(p.note for p in evaluation.patients)]
    )


def test_without_a_treatment_effect_nothing_suggests_one(protocol, model):
    rng = np.random.default_rng(20261125)
    runs = [evaluate(protocol, model, simulated_cohort(model, rng)) for _ in range(20)]

    p_values = [run.cohort.no_decline_p_value for run in runs]
    above = sum(run.cohort.outside_above for run in runs)
    # Under the model itself p is roughly uniform: at most a few of 20 cohorts below 0.05 by chance,
    # and about 2.5% of 300 patients above their 95% range.
    assert all(p is not None for p in p_values)
    assert sum(p < 0.05 for p in p_values if p is not None) <= 3
    assert above <= 0.06 * 300
    for run in runs:
        text = all_text(run)
        assert "A single-arm series cannot show whether the treatment works" in text
        assert not BANNED.search(text), BANNED.search(text)


def test_a_large_effect_raises_the_flags_and_the_statement_still_says_what_one_arm_cannot_show(
    protocol, model
):
    rng = np.random.default_rng(4)
    courses = simulated_cohort(model, rng, effect=8.0)

    run = evaluate(protocol, model, courses)
    null = evaluate(protocol, model, simulated_cohort(model, np.random.default_rng(4)))

    assert run.cohort.outside_above >= 6 > null.cohort.outside_above
    assert run.cohort.no_decline_p_value is not None
    assert run.cohort.no_decline_p_value < 0.01
    text = all_text(run)
    assert "A single-arm series cannot show whether the treatment works" in text
    assert "it is not evidence that the treatment works" in text
    assert "(one-sided p < 0.001)" in text
    assert not BANNED.search(text), BANNED.search(text)


def test_the_evaluation_is_reproducible_from_its_seed(protocol, model):
    courses = simulated_cohort(model, np.random.default_rng(9))

    first, again, other = (evaluate(protocol, model, courses, seed=s) for s in (5, 5, 6))

    assert first == again
    assert first.patients[0].expected_interval is not None
    assert [p.expected_change for p in first.patients] != [
        p.expected_change for p in other.patients
    ] or (first.cohort.no_decline_p_value != other.cohort.no_decline_p_value)


def test_the_expected_counts_come_from_each_patients_own_draws(protocol, model):
    """Expected shares, no-decline expectation and p-value from the draws of the one rated patient,
    drawn again here with natural_history.simulate_changes from the same seed (clinical.md §6)."""
    patient = course("P-01", ratings=[*BASELINE, (TARGET, 39)])  # +1: improved, no decline
    draws, seed = 500, 3

    run = ev.evaluate([patient], protocol, design=design(), plan_locked=True, model=model, cutoff=CUTOFF,
                      seed=seed, draws=draws)  # fmt: skip

    baseline_on, rating_on = FIRST_DOSE, TARGET
    delta_fs = (48 - 38) / ((baseline_on - ONSET).days / DAYS_PER_MONTH)
    changes = nh.simulate_changes(model, baseline_total=38, months=(rating_on - baseline_on).days / DAYS_PER_MONTH,
                                  delta_fs=delta_fs, draws=draws, rng=np.random.default_rng(seed))  # fmt: skip
    improved, worsened = np.mean(changes >= 1), np.mean(changes <= -1)
    expected = run.cohort.expected
    assert expected[ev.Category.IMPROVED] == pytest.approx(improved, abs=1e-12)
    assert expected[ev.Category.WORSENED] == pytest.approx(worsened, abs=1e-12)
    assert expected[ev.Category.STABLE] == pytest.approx(1 - improved - worsened, abs=1e-12)
    assert run.cohort.no_decline_expected == pytest.approx(np.mean(changes >= 0), abs=1e-12)
    assert run.cohort.no_decline_p_value == pytest.approx(
        (1 + np.sum(changes >= 0)) / (1 + draws), abs=1e-12
    )
    low, mid, high = np.quantile(changes, [0.025, 0.5, 0.975], method="inverted_cdf")
    [result] = run.patients
    assert (result.expected_change, result.expected_interval) == (mid, ev.Interval(low, high))


def test_order_statistics_are_the_inverted_empirical_distribution():
    """Worked by hand: sorted 1 2 3 3 5; q = 0.2, 0.4, 0.5, 1 give k = ⌈5q − 1⌉ = 0, 1, 2, 4; and as
    numpy's quantile(method="inverted_cdf") on many draws, ties and negative values included."""
    assert ev.order_statistics(np.array([5, 1, 3, 3, 2]), [0.0, 0.2, 0.4, 0.5, 1.0]) == [
        1,
        1,
        2,
        3,
        5,
    ]
    rng = np.random.default_rng(2)
    quantiles = [0.0, 0.01, 0.025, 0.3, 0.5, 0.7, 0.975, 0.99, 1.0]
    for n in [1, 2, 3, 7, 40, 400, 1000, 4000]:
        values = rng.integers(-48, 49, n) if n % 2 else rng.integers(-6, 2, n)
        expected = np.quantile(values, quantiles, method="inverted_cdf")
        assert ev.order_statistics(values, quantiles) == expected.tolist()


def test_cohort_counts_intervals_and_completeness(protocol, model):
    courses = [
        course("P-01", ratings=[*BASELINE, (TARGET, 40)]),  # +2 improved
        course("P-02", ratings=[*BASELINE, (TARGET, 38)]),  # 0 stable
        course("P-03", ratings=[*BASELINE, (TARGET, 33)]),  # -5 worsened
        course("P-04", ratings=BASELINE, event=("death", TARGET - timedelta(days=30))),
        course("P-05", ratings=BASELINE),  # window closed, no rating: missing
    ]

    run = evaluate(protocol, model, courses)
    cohort = run.cohort

    assert {c: cohort.counts[c] for c in ev.Category} == {
        "improved": 1, "stable": 1, "worsened": 1, "died": 1, "missing": 1, "pending": 0,
    }  # fmt: skip
    assert (cohort.known, cohort.due, cohort.completeness) == (4, 5, 0.8)
    assert cohort.intervals[ev.Category.IMPROVED] == ev.clopper_pearson(1, 4)
    assert (cohort.no_decline, cohort.with_reading) == (2, 3)
    assert cohort.base_rate == 0.25
    alive = (ev.Category.IMPROVED, ev.Category.STABLE, ev.Category.WORSENED)
    assert sum(cohort.expected[c] for c in alive) == pytest.approx(3)
    assert 0 < cohort.expected[ev.Category.DIED] < 4
    assert any("4 of the 5 patients due" in sentence for sentence in run.statement)
    assert any(b.startswith("Missing data") for b in run.biases)
    assert any(b.startswith("Death ends") for b in run.biases)


def test_the_statement_follows_the_design(protocol, model):
    courses = [course("P-01", ratings=[*BASELINE, (TARGET, 40)])]

    controlled = ev.evaluate(courses, protocol, design=design(control=ControlType.PLACEBO, rater_blinded=True),
                             plan_locked=True, model=model, cutoff=CUTOFF, seed=1, draws=200)  # fmt: skip
    late = ev.evaluate(courses, protocol, design=design(plan_locked_on=FIRST_DOSE + timedelta(days=1)),
                       plan_locked=True, model=model, cutoff=CUTOFF, seed=1, draws=200)  # fmt: skip
    amended = ev.evaluate(courses, protocol, design=design(amendments_after_first_treatment=2), plan_locked=True,
                          model=model, cutoff=CUTOFF, seed=1, draws=200)  # fmt: skip

    assert "concurrent placebo control group" in controlled.statement[0]
    assert not any(b.startswith(("Unblinded", "Selection")) for b in controlled.biases)
    assert "after the first cell dose: every result here is exploratory" in late.statement[1]
    assert "amended 2 time(s) since" in amended.statement[1]
    assert any(b.startswith("Analysis plan not fixed") for b in late.biases + amended.biases)


def test_a_plan_never_locked_was_not_locked_before_treatment():
    assert design(plan_locked_on=None).locked_before_first_treatment is False
    assert (
        design(first_treatment_on=None).locked_before_first_treatment is True
    )  # nobody treated yet


@pytest.mark.parametrize(("months", "base_rate"), [(12, 0.16), (18, 0.07), (9, None)])
def test_the_base_rate_is_bedlacks_where_published(protocol, model, months, base_rate):
    plan = dataclasses.replace(protocol.analysis_plan, time_point_months=months)
    target = LAST_DOSE + timedelta(days=round(months * DAYS_PER_MONTH))

    run = ev.evaluate([course(ratings=[*BASELINE, (target, 38)])], dataclasses.replace(protocol, analysis_plan=plan),
                      design=design(), plan_locked=True, model=model, cutoff=target + timedelta(days=30), seed=1,
                      draws=200)  # fmt: skip

    assert run.cohort.base_rate == base_rate
    assert (run.cohort.base_rate_p_value is None) is (base_rate is None)
    assert any("Bedlack 2016)." in s for s in run.statement) is (base_rate is not None)


def test_before_anyone_is_due_the_statement_says_so(protocol, model):
    calls: list[int] = []

    run = ev.evaluate([course(ratings=BASELINE)], protocol, design=design(), plan_locked=True, model=model,
                      cutoff=TARGET, seed=1, draws=100, progress=lambda: calls.append(1))  # fmt: skip

    assert (run.cohort.due, run.cohort.completeness, len(calls)) == (0, None, 1)
    assert "No patient has reached the 6-month time point yet" in run.statement[2]


def test_a_patient_without_onset_is_compared_with_thepopulation_delta_fs(protocol, model):
    patient = dataclasses.replace(course(ratings=[*BASELINE, (TARGET, 36)]), onset_on=None)

    result = one(protocol, model, patient)

    assert (result.delta_fs, result.death_probability) == (None, None)
    assert result.expected_interval is not None


def test_too_few_draws_are_refused(protocol, model):
    with pytest.raises(ValueError, match="draws"):
        ev.evaluate(
            [],
            protocol,
            design=design(),
            plan_locked=True,
            model=model,
            cutoff=CUTOFF,
            seed=1,
            draws=10,
        )


def test_deviations_and_overrides_are_counted_and_kept_with_the_patient(protocol, model):
    plain = course("P-01", ratings=[*BASELINE, (TARGET, 37)])
    departed = dataclasses.replace(course("P-02", ratings=[*BASELINE, (TARGET, 37)]),
                                   deviations=("implantation 2 given outside its window",),
                                   overrides=("unit.not_dispensed on 2026-01-22",))  # fmt: skip

    run = evaluate(protocol, model, [plain, departed])

    assert (run.cohort.patients_with_deviations, run.cohort.patients_with_overrides) == (1, 1)
    assert run.patients[1].overrides == ("unit.not_dispensed on 2026-01-22",)
    assert any("1 patient(s) had deviations from the protocol and 1 had a safety block overridden" in s
               for s in run.statement)  # fmt: skip


def test_as_data_gives_plain_json_for_every_kind_of_value():
    value = {
        ev.Category.DIED: (date(2026, 1, 2), ev.Interval(0.1, 0.2)),
        "array": np.array([[1.5, 2.0]]),
        "scalar": np.float64(0.25),
        "count": np.int64(3),
    }

    assert ev.as_data(value) == {
        "died": ["2026-01-02", {"low": 0.1, "high": 0.2}],
        "array": [[1.5, 2.0]],
        "scalar": 0.25,
        "count": 3,
    }
    assert type(ev.as_data(np.int64(3))) is int
