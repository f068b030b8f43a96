"""Survival from enrollment against ENCALS (domain/stats/survival.py; clinical.md §5.4, §5.5).

Golden values come from a product-limit example worked by hand below, from lifelines fitted directly in
the test, from the ENCALS spline of clinical.md §5.4 written out again here (independently of
encals.py), and from scipy's chi-square and Poisson distributions and a brute-force Poisson sum. A
whole cohort, computed at once, is held to encals' own one-patient functions to the last bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from scipy.stats import chi2, norm, poisson

from alscell.domain import encals
from alscell.domain.encals import SurvivalScale
from alscell.domain.stats import survival
from alscell.domain.stats.survival import FollowUp
from alscell.errors import InsufficientData, InvalidInput

# ---------------------------------------------------------------- ENCALS written out from clinical.md §5.4

GAMMA = (-6.409, 2.643, -0.546, 0.585)
K_MIN, K1, K2, K_MAX = 0.081, 3.108, 3.638, 5.917


def spline(x: float) -> float:
    """s(x) = γ0 + γ1·x + γ2·v1(x) + γ3·v2(x), every basis term cubed (§5.4; §5.5 warning 1)."""

    def plus3(u: float) -> float:
        return max(u, 0.0) ** 3

    def v(k: float) -> float:
        lam = (K_MAX - k) / (K_MAX - K_MIN)
        return plus3(x - k) - lam * plus3(x - K_MIN) - (1 - lam) * plus3(x - K_MAX)

    return GAMMA[0] + GAMMA[1] * x + GAMMA[2] * v(K1) + GAMMA[3] * v(K2)


def s_from_onset(t: float, lp: float, scale: str) -> float:
    """S(t | LP), t in months from onset: 1/(1 + e^z) on the odds scale, exp(−e^z) on the hazard scale."""
    z = spline(math.log(t)) + lp
    return 1 / (1 + math.exp(z)) if scale == "odds" else math.exp(-math.exp(z))


def follow_up(t0: float, f: float, event: bool, lp: float | None = -4.5) -> FollowUp:
    return FollowUp(onset_to_enrollment_months=t0, follow_up_months=f, event=event, encals_lp=lp)


# Eight patients: times from enrollment 2, 3, 3+, 5, 6, 6+, 8, 10 (+ = censored); one without an LP.
COHORT = [
    follow_up(12, 2, True, -4.5),
    follow_up(20, 3, True, -5.0),
    follow_up(15, 3, False, None),
    follow_up(30, 5, True, -4.0),
    follow_up(10, 6, True, -6.0),
    follow_up(25, 6, False, -5.5),
    follow_up(8, 8, True, -4.2),
    follow_up(18, 10, True, -3.9),
]


# ---------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_matches_a_product_limit_worked_by_hand():
    """Product limit S(t) = Π (1 − d_j/n_j); a censoring tied with an event leaves after it."""
    km = survival.kaplan_meier(COHORT)

    # t  n at risk  d  censored  S
    # 2  8          1  0         7/8                     = 0.875
    # 3  7          1  1         0.875 · 6/7             = 0.75
    # 5  5          1  0         0.75 · 4/5              = 0.6
    # 6  4          1  1         0.6 · 3/4               = 0.45
    # 8  2          1  0         0.45 · 1/2              = 0.225
    # 10 1          1  0         0
    assert km.months == (0, 2, 3, 5, 6, 8, 10)
    assert km.survival == pytest.approx((1, 0.875, 0.75, 0.6, 0.45, 0.225, 0.0), abs=1e-12)
    assert km.at_risk == (8, 8, 7, 5, 4, 2, 1)
    assert km.events == (0, 1, 1, 1, 1, 1, 1)
    assert km.censored == (0, 0, 1, 0, 1, 0, 0)
    assert km.median_months == 6  # the first time S(t) <= 0.5
    assert km.n == 8
    assert km.confidence == 0.95
    assert "Kaplan-Meier" in km.method


def test_kaplan_meier_intervals_follow_the_exponential_greenwood_formula():
    """Interval exp(−exp(ln(−ln S) ± z·se)), se² = Σ d/(n(n − d)) / (ln S)², computed here by hand."""
    km = survival.kaplan_meier(COHORT)
    z = norm.ppf(0.975)
    steps = [(2, 8, 1, 0.875), (3, 7, 1, 0.75), (5, 5, 1, 0.6), (6, 4, 1, 0.45), (8, 2, 1, 0.225)]
    greenwood = 0.0

    for index, (_, n, d, s) in enumerate(steps, start=1):
        greenwood += d / (n * (n - d))
        se = math.sqrt(greenwood) / abs(math.log(s))
        low = math.exp(-math.exp(math.log(-math.log(s)) + z * se))
        high = math.exp(-math.exp(math.log(-math.log(s)) - z * se))

        assert km.lower[index] == pytest.approx(low, rel=1e-9)
        assert km.upper[index] == pytest.approx(high, rel=1e-9)
    assert (km.lower[0], km.upper[0]) == (1.0, 1.0)
    # At S = 0 the log(−log) interval is undefined; lifelines reports [0, 0].
    assert (km.lower[-1], km.upper[-1]) == (0.0, 0.0)


def test_an_event_at_enrollment_lowers_survival_at_month_zero():
    """Worked by hand: at 0, 3 at risk and 1 event, S = 2/3; the censored patient leaves; at 1, S = 0."""
    km = survival.kaplan_meier(
        [follow_up(5, 0, True), follow_up(5, 0, False), follow_up(5, 1, True)]
    )

    assert km.months == (0, 1)
    assert km.survival == pytest.approx((2 / 3, 0.0))
    assert km.at_risk == (3, 1)
    assert km.median_months == 1


def test_the_step_function_reads_the_step_containing_a_time():
    km = survival.kaplan_meier(COHORT)

    assert km.survival_at(0) == 1.0
    assert km.survival_at(1.99) == 1.0
    assert km.survival_at(2) == pytest.approx(0.875)  # right-continuous: the drop is at the event
    assert km.survival_at(5.5) == pytest.approx(0.6)
    assert km.survival_at(100) == 0.0
    with pytest.raises(ValueError, match="months"):
        km.survival_at(-1)


def test_median_is_none_when_survival_stays_above_one_half():
    km = survival.kaplan_meier(
        [follow_up(5, 4, True), follow_up(5, 6, False), follow_up(5, 9, False)]
    )

    assert km.survival[-1] == pytest.approx(2 / 3)
    assert km.median_months is None


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_kaplan_meier_matches_lifelines_on_seeded_random_data(confidence):
    rng = np.random.default_rng(1958)
    n = 150
    times = np.round(rng.exponential(20.0, n), 1)  # rounded: ties of events and censorings
    censoring = np.round(rng.uniform(0.0, 40.0, n), 1)
    followed = np.minimum(times, censoring)
    died = times <= censoring
    patients = [
        follow_up(float(t0), float(f), bool(e))
        for t0, f, e in zip(rng.uniform(6, 48, n), followed, died, strict=True)
    ]

    km = survival.kaplan_meier(patients, confidence=confidence)
    reference = KaplanMeierFitter().fit(followed, died, alpha=1 - confidence)

    assert np.array(km.months) == pytest.approx(reference.timeline)
    assert np.array(km.survival) == pytest.approx(
        reference.survival_function_.iloc[:, 0].to_numpy()
    )
    bounds = reference.confidence_interval_survival_function_.to_numpy()
    assert np.array(km.lower) == pytest.approx(bounds[:, 0])
    assert np.array(km.upper) == pytest.approx(bounds[:, 1])
    assert np.array(km.at_risk) == pytest.approx(reference.event_table["at_risk"].to_numpy())
    assert sum(km.events) == int(died.sum())
    assert km.median_months == pytest.approx(reference.median_survival_time_)


def test_bad_follow_up_is_refused_listing_every_problem():
    patients = [
        follow_up(0, 3, True),
        follow_up(12, -1, False),
        follow_up(math.nan, math.inf, True, math.nan),
    ]

    with pytest.raises(InvalidInput) as caught:
        survival.kaplan_meier(patients)

    assert [problem.location for problem in caught.value.problems] == [
        "patients[0].onset_to_enrollment_months",
        "patients[1].follow_up_months",
        "patients[2].onset_to_enrollment_months",
        "patients[2].follow_up_months",
        "patients[2].encals_lp",
    ]


def test_kaplan_meier_needs_a_patient():
    with pytest.raises(InsufficientData):
        survival.kaplan_meier([])


# ---------------------------------------------------------------- expected curve (§5.5)


@pytest.mark.parametrize("scale", ["odds", "hazard"])
def test_expected_curve_is_the_mean_conditional_survival_of_the_patients(scale):
    """S̄(t) = mean_i S(T0_i + t)/S(T0_i), from the §5.4 spline written out above."""
    months = [0.0, 3.0, 6.5, 12.0, 24.0]
    with_lp = [p for p in COHORT if p.encals_lp is not None]

    curve = survival.expected_survival(COHORT, months=months, scale=SurvivalScale(scale))

    for t, value in zip(months, curve.survival, strict=True):
        direct = [
            s_from_onset(p.onset_to_enrollment_months + t, p.encals_lp, scale)
            / s_from_onset(p.onset_to_enrollment_months, p.encals_lp, scale)
            for p in with_lp
            if p.encals_lp is not None
        ]
        assert value == pytest.approx(sum(direct) / len(direct), rel=1e-10)
    assert curve.survival[0] == pytest.approx(1.0)
    assert curve.months == tuple(months)
    assert (curve.patients, curve.excluded) == (7, 1)
    assert curve.scale == scale


def test_expected_curve_is_conditional_not_from_onset():
    """A patient enrolled 60 months after onset has outlived the early deaths (§5.5)."""
    late = survival.expected_survival([follow_up(60, 0, False)], months=[12])

    conditional = s_from_onset(72, -4.5, "odds") / s_from_onset(60, -4.5, "odds")
    assert late.survival[0] == pytest.approx(conditional, rel=1e-10)
    assert late.survival[0] != pytest.approx(s_from_onset(12, -4.5, "odds"), rel=1e-3)


@pytest.mark.parametrize("scale", list(SurvivalScale))
def test_a_whole_cohort_gets_encals_numbers_to_the_last_bit(scale):
    """The cohort is computed at once; each patient's numbers are exactly encals' own, one at a time."""
    rng = np.random.default_rng(7)
    patients = [follow_up(float(t0), float(f), bool(e), float(lp)) for t0, f, e, lp in zip(
        rng.uniform(0.5, 80, 300), rng.uniform(0, 30, 300), rng.random(300) < 0.4, rng.normal(-5, 0.6, 300),
        strict=True)]  # fmt: skip
    months = [0.0, 0.5, 3.0, 12.0, 25.0]

    curve = survival.expected_survival(patients, months=months, scale=scale)
    events = survival.observed_vs_expected(patients, scale=scale)

    one_by_one = [[encals.conditional_survival(p.encals_lp, p.onset_to_enrollment_months + t,
                                               p.onset_to_enrollment_months, scale=scale) for t in months]
                  for p in patients if p.encals_lp is not None]  # fmt: skip
    assert curve.survival == tuple(np.mean(np.array(one_by_one), axis=0).tolist())

    def hazard(lp: float, t: float) -> float:
        z = encals.BASELINE(math.log(t)) + lp
        return math.exp(z) if scale is SurvivalScale.HAZARD else float(np.logaddexp(0.0, z))

    increments = [hazard(p.encals_lp, p.onset_to_enrollment_months + p.follow_up_months)
                  - hazard(p.encals_lp, p.onset_to_enrollment_months) for p in patients if p.encals_lp is not None]  # fmt: skip
    assert events.expected == math.fsum(increments)


def test_a_patient_the_model_gives_no_survival_at_enrollment_is_refused_as_encals_refuses():
    with pytest.raises(InvalidInput, match="gives no survival to this time"):
        survival.expected_survival(
            [follow_up(12, 1, False), follow_up(1e6, 1, False, 0.0)],
            months=[0, 1],
            scale=SurvivalScale.HAZARD,
        )


def test_expected_curve_refuses_negative_months():
    with pytest.raises(ValueError, match="months"):
        survival.expected_survival(COHORT, months=[0, -1])
    with pytest.raises(ValueError, match="months"):
        survival.expected_survival(COHORT, months=[math.nan])


def test_expected_curve_needs_a_patient_with_a_predictor():
    with pytest.raises(InsufficientData, match="linear predictor"):
        survival.expected_survival([follow_up(12, 3, True, None)], months=[0, 6])


# ---------------------------------------------------------------- observed vs expected (§5.4, §5.5)


@pytest.mark.parametrize("scale", ["odds", "hazard"])
def test_expected_events_match_a_direct_computation_from_the_spline(scale):
    """E = Σ_i [Λ_i(T0_i + f_i) − Λ_i(T0_i)] = Σ_i −ln(S(T0_i + f_i) / S(T0_i)), Λ = −ln S."""
    direct = sum(
        -math.log(
            s_from_onset(p.onset_to_enrollment_months + p.follow_up_months, p.encals_lp, scale)
            / s_from_onset(p.onset_to_enrollment_months, p.encals_lp, scale)
        )
        for p in COHORT
        if p.encals_lp is not None
    )

    result = survival.observed_vs_expected(COHORT, scale=SurvivalScale(scale))

    assert result.expected == pytest.approx(direct, rel=1e-10)
    # the censored patient without an LP is left out of O as well as E
    assert result.observed == 6
    assert result.ratio == pytest.approx(6 / direct, rel=1e-10)
    assert (result.patients, result.excluded) == (7, 1)
    assert result.scale == scale


def test_the_scale_changes_the_expectation():
    odds = survival.observed_vs_expected(COHORT, scale=SurvivalScale.ODDS)
    hazard = survival.observed_vs_expected(COHORT, scale=SurvivalScale.HAZARD)

    assert odds.expected != pytest.approx(hazard.expected, rel=1e-3)


def test_only_patients_with_a_predictor_count_as_observed():
    patients = [follow_up(12, 6, True, None), follow_up(12, 6, True, -4.5)]

    result = survival.observed_vs_expected(patients)

    assert (result.observed, result.patients, result.excluded) == (1, 1, 1)


def test_ratio_interval_is_the_garwood_interval_over_e():
    """[χ²(0.025; 2O)/2, χ²(0.975; 2O + 2)/2] / E (Garwood 1936), from scipy in the test."""
    result = survival.observed_vs_expected(COHORT)
    e = result.expected

    assert result.interval.low == pytest.approx(chi2.ppf(0.025, 12) / 2 / e, rel=1e-12)
    assert result.interval.high == pytest.approx(chi2.ppf(0.975, 14) / 2 / e, rel=1e-12)
    assert result.confidence == 0.95


def test_an_other_confidence_level_narrows_the_interval():
    result = survival.observed_vs_expected(COHORT, confidence=0.8)

    assert result.interval.low == pytest.approx(chi2.ppf(0.1, 12) / 2 / result.expected)
    assert result.interval.high == pytest.approx(chi2.ppf(0.9, 14) / 2 / result.expected)


@pytest.mark.parametrize(
    ("count", "low", "high"),
    [(0, 0.0, chi2.ppf(0.975, 2) / 2), (1, chi2.ppf(0.025, 2) / 2, chi2.ppf(0.975, 4) / 2),
     (10, chi2.ppf(0.025, 20) / 2, chi2.ppf(0.975, 22) / 2)],
)  # fmt: skip
def test_poisson_interval_against_chi_square_quantiles(count, low, high):
    interval = survival.poisson_interval(count)

    assert interval.low == pytest.approx(low, rel=1e-12)
    assert interval.high == pytest.approx(high, rel=1e-12)


def test_poisson_interval_for_no_events_is_zero_to_ln_40():
    """With k = 0 the upper limit solves e^−μ = 0.025: μ = ln 40 = 3.689 (the 'rule of 3.7')."""
    interval = survival.poisson_interval(0)

    assert interval.low == 0.0
    assert interval.high == pytest.approx(math.log(40), rel=1e-12)


def brute_force_p(observed: int, expected: float) -> float:
    """Twice the smaller tail, summing Poisson probabilities term by term."""
    pmf = [math.exp(-expected) * expected**k / math.factorial(k) for k in range(observed + 1)]
    lower = sum(pmf)
    upper = 1 - sum(pmf[:-1])
    return min(1.0, 2 * min(lower, upper))


@pytest.mark.parametrize("observed", [0, 1, 2, 5, 10])
@pytest.mark.parametrize("expected", [0.5, 1.0, 2.0, 4.0, 8.0, 15.0])
def test_p_value_is_exact_and_agrees_with_the_interval(observed, expected):
    p = survival.poisson_p_value(observed, expected)

    assert p == pytest.approx(brute_force_p(observed, expected), rel=1e-9, abs=1e-15)
    scipy_p = min(1.0, 2 * min(poisson.cdf(observed, expected), poisson.sf(observed - 1, expected)))
    assert p == pytest.approx(scipy_p, rel=1e-12)
    interval = survival.poisson_interval(observed)
    outside = not interval.low <= expected <= interval.high
    assert outside == (p < 0.05)  # the interval inverts the test


def test_no_events_give_a_zero_ratio_with_an_upper_limit():
    patients = [follow_up(12, 24, False, -4.5), follow_up(20, 24, False, -4.0)]

    result = survival.observed_vs_expected(patients)

    assert result.observed == 0
    assert result.ratio == 0.0
    assert result.interval.low == 0.0
    assert result.interval.high == pytest.approx(math.log(40) / result.expected)
    assert result.p_value == pytest.approx(min(1.0, 2 * math.exp(-result.expected)))


def test_results_carry_their_caveats():
    result = survival.observed_vs_expected(COHORT)

    text = " ".join(result.caveats)
    assert "§5.5" in text
    assert "small series says little" in text
    assert "calibration outside its development cohorts is unknown" in text
    assert "not evidence that the treatment works" in text
    assert "Garwood" in result.method


def test_observed_vs_expected_needs_predictors_and_follow_up_time():
    with pytest.raises(InsufficientData, match="linear predictor"):
        survival.observed_vs_expected([follow_up(12, 3, True, None)])
    with pytest.raises(InsufficientData, match="follow-up time"):
        survival.observed_vs_expected([follow_up(12, 0, False), follow_up(20, 0, False)])


@pytest.mark.parametrize(
    ("call", "match"),
    [(lambda: survival.poisson_interval(-1), "count"),
     (lambda: survival.poisson_interval(True), "count"),
     (lambda: survival.poisson_interval(2.0), "count"),  # type: ignore[arg-type]
     (lambda: survival.poisson_interval(1, confidence=1.0), "confidence"),
     (lambda: survival.poisson_p_value(-1, 1.0), "observed"),
     (lambda: survival.poisson_p_value(1, 0.0), "expected"),
     (lambda: survival.poisson_p_value(1, math.inf), "expected")],
)  # fmt: skip
def test_programming_errors_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- the comparison


def test_comparison_uses_the_same_patients_on_both_sides():
    comparison = survival.compare_with_encals(COHORT, months=[0, 6, 12])
    with_lp = [p for p in COHORT if p.encals_lp is not None]

    assert comparison.observed == survival.kaplan_meier(with_lp)
    assert comparison.observed.n == comparison.expected.patients == comparison.events.patients == 7
    assert comparison.expected == survival.expected_survival(COHORT, months=[0, 6, 12])
    assert comparison.events == survival.observed_vs_expected(COHORT)
    assert comparison.caveats == survival.CAVEATS
