"""Power by simulation from the natural-history model (domain/stats/power.py; clinical.md §6, §7.4, §7.5).

Every simulation is seeded. Monte-Carlo tolerances are worked out where they are used: a share p from
k simulated trials has binomial SD √(p(1 − p)/k), and we allow 4 SDs (a 1-in-15,000 miss for a test
that is right). Reference values come from scipy's own tests, hand-worked formulas written out here,
or brute-force simulation through natural_history.simulate_ratings, never from power.py itself.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

from alscell.domain.stats import natural_history as nh
from alscell.domain.stats import power as pw
from alscell.errors import InvalidInput
from alscell.storage.comparator_files import builtin_natural_history

ALPHA = 0.05
NULL_TRIALS = 4000
NULL_TOLERANCE = 4 * math.sqrt(ALPHA * (1 - ALPHA) / NULL_TRIALS)  # 4 × 0.00345 = 0.0138


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


def mc_sd(result: pw.PowerResult) -> float:
    """The binomial SD of a simulated power (its Monte-Carlo error)."""
    p = max(result.power, 1 / result.simulations)
    return math.sqrt(p * (1 - p) / result.simulations)


def with_decline(model: nh.NaturalHistoryModel, **values: float) -> nh.NaturalHistoryModel:
    changes = {
        name: dataclasses.replace(getattr(model.decline, name), value=value)
        for name, value in values.items()
    }
    return dataclasses.replace(model, decline=dataclasses.replace(model.decline, **changes))


# ---------------------------------------------------------------- no true effect: the rejection rate is alpha


@pytest.mark.parametrize(
    ("design", "n"),
    [
        # The single arm's z-test is slightly conservative for small N (decline is skewed), so its
        # level is checked where the skew has averaged out; see the next test for small N.
        (pw.TrialDesign.SINGLE_ARM, 100),
        (pw.TrialDesign.RANDOMIZED, 30),
        (pw.TrialDesign.DELAYED_START, 30),
    ],
)
def test_without_a_true_effect_the_rejection_rate_is_alpha(model, design, n):
    """clinical.md §7.5: under no effect and a correct model, the planned test rejects in ≈ alpha."""
    result = pw.estimate_power(
        model, design, n=n, slowing=0.0, seed=101, simulations=NULL_TRIALS, alpha=ALPHA
    )

    assert result.simulations == NULL_TRIALS
    assert result.power == pytest.approx(ALPHA, abs=NULL_TOLERANCE)


def test_a_small_single_arm_errs_on_the_conservative_side(model):
    """The z-test of a small single arm rejects no more often than alpha under no effect."""
    result = pw.estimate_power(
        model, pw.TrialDesign.SINGLE_ARM, n=10, slowing=0.0, seed=102, simulations=NULL_TRIALS
    )

    assert result.power <= ALPHA + NULL_TOLERANCE


def test_a_t_test_against_the_model_would_reject_too_often(model):
    """Why the single arm's planned test uses the model's spread: estimating the spread from the
    patients (a one-sample t-test, scipy's) rejects more often than alpha under no effect, because
    decline is skewed by a few fast progressors (clinical.md §6)."""
    trials = pw.simulate_trials(
        model, pw.TrialDesign.SINGLE_ARM, n=30, slowing=0.0, months=6.0, trials=NULL_TRIALS,
        rng=np.random.default_rng(103),
    )  # fmt: skip

    t_test = stats.ttest_1samp(trials.treated, 0.0, axis=1, alternative="greater")

    assert float(np.mean(t_test.pvalue < ALPHA)) > ALPHA + NULL_TOLERANCE


# ---------------------------------------------------------------- power rises with the effect and with N


@pytest.mark.parametrize(
    ("design", "n"),
    [(pw.TrialDesign.SINGLE_ARM, 20), (pw.TrialDesign.RANDOMIZED, 60), (pw.TrialDesign.DELAYED_START, 200)],
)  # fmt: skip
def test_power_rises_with_the_slowing(model, design, n):
    """clinical.md §7.4: slowings of 25% and 50% are the meaningful range; each step is detected more
    often, by more than 4 Monte-Carlo SDs of the difference."""
    table = pw.power_table(model, design, ns=[n], slowings=[0.0, 0.25, 0.5, 0.75], seed=104,
                           simulations=1500)  # fmt: skip

    cells = table.results
    for lower, higher in itertools.pairwise(cells):
        margin = 4 * math.hypot(mc_sd(lower), mc_sd(higher))
        assert higher.power - lower.power > margin, (lower, higher)


@pytest.mark.parametrize(
    ("design", "slowing"),
    [(pw.TrialDesign.SINGLE_ARM, 0.25), (pw.TrialDesign.RANDOMIZED, 0.5), (pw.TrialDesign.DELAYED_START, 0.75)],
)  # fmt: skip
def test_power_rises_with_the_number_of_patients(model, design, slowing):
    table = pw.power_table(model, design, ns=[10, 40, 160], slowings=[slowing], seed=105,
                           simulations=1500)  # fmt: skip

    cells = table.results
    for smaller, larger in itertools.pairwise(cells):
        margin = 4 * math.hypot(mc_sd(smaller), mc_sd(larger))
        assert larger.power - smaller.power > margin, (smaller, larger)


def test_a_delayed_start_has_less_power_than_a_randomized_trial_of_the_same_size(model):
    """The delayed arm is treated from T/2, so only half the window separates the arms."""
    kwargs: dict[str, Any] = {"n": 80, "slowing": 0.5, "seed": 106, "simulations": 1500}

    randomized = pw.estimate_power(model, pw.TrialDesign.RANDOMIZED, **kwargs)
    delayed = pw.estimate_power(model, pw.TrialDesign.DELAYED_START, **kwargs)

    assert randomized.power - delayed.power > 4 * math.hypot(mc_sd(randomized), mc_sd(delayed))


@pytest.mark.parametrize("n", [40, 80])
def test_randomized_power_agrees_with_the_normal_approximation(model, n):
    """An independent check: power ≈ Φ(Δ/se − z) + Φ(−Δ/se − z), z = z₀.₉₇₅, with the mean
    difference Δ and the SDs of the 6-month change taken from a large simulated cohort treated and
    untreated (the same patients, through natural_history.simulate_ratings)."""
    patients = 200_000
    rng = np.random.default_rng(107)
    baselines = np.clip(rng.normal(38, 5, patients), 20, 48)
    dfs = nh.population_delta_fs(model, patients, rng)
    state = rng.bit_generator.state
    untreated = np.diff(nh.simulate_ratings(model, true_baselines=baselines, months=[0, 6], rng=rng,
                                            delta_fs=dfs), axis=1)  # fmt: skip
    rng.bit_generator.state = state
    treated = np.diff(nh.simulate_ratings(model, true_baselines=baselines, months=[0, 6], rng=rng,
                                          delta_fs=dfs, slowing=0.5), axis=1)  # fmt: skip
    difference = float(treated.mean() - untreated.mean())
    se = math.sqrt((treated.var() + untreated.var()) / (n / 2))
    z = stats.norm.ppf(1 - ALPHA / 2)
    approximate = stats.norm.cdf(difference / se - z) + stats.norm.cdf(-difference / se - z)

    simulated = pw.estimate_power(
        model, pw.TrialDesign.RANDOMIZED, n=n, slowing=0.5, seed=108, simulations=4000
    )

    # Loose: 4 Monte-Carlo SDs (≤ 0.03) plus the normal approximation's own error for skewed
    # changes and a t rather than z critical value (a few hundredths).
    assert simulated.power == pytest.approx(approximate, abs=0.06)


# ---------------------------------------------------------------- reproducibility and the result


def test_the_same_seed_gives_the_same_result_and_another_seed_another(model):
    kwargs: dict[str, Any] = {"n": 30, "slowing": 0.5, "simulations": 500}

    first = pw.estimate_power(model, pw.TrialDesign.RANDOMIZED, seed=1, **kwargs)
    again = pw.estimate_power(model, pw.TrialDesign.RANDOMIZED, seed=1, **kwargs)
    other = pw.estimate_power(model, pw.TrialDesign.RANDOMIZED, seed=2, **kwargs)

    assert first == again
    assert other.rejections != first.rejections


def test_a_result_carries_its_interval_method_and_caveats(model):
    result = pw.estimate_power(
        model, pw.TrialDesign.SINGLE_ARM, n=12, slowing=0.25, seed=3, simulations=400
    )
    exact = stats.binomtest(result.rejections, 400).proportion_ci(0.95, method="exact")

    assert result.power == result.rejections / 400
    assert (result.interval.low, result.interval.high) == pytest.approx((exact.low, exact.high))
    assert result.alternative is pw.Alternative.GREATER  # the single arm's planned test
    assert (result.model, result.n, result.months, result.alpha) == (
        "natural-history 1.0",
        12,
        6.0,
        0.05,
    )
    assert "z-test, one-sided" in result.method
    assert "comparator is the model itself" in result.caveats[0]
    assert any("Deaths are ignored" in caveat for caveat in result.caveats)


def test_two_arm_designs_are_two_sided_unless_asked(model):
    planned = pw.estimate_power(
        model, pw.TrialDesign.RANDOMIZED, n=20, slowing=0.5, seed=4, simulations=300
    )
    one_sided = pw.estimate_power(model, pw.TrialDesign.RANDOMIZED, n=20, slowing=0.5, seed=4,
                                  simulations=300, alternative=pw.Alternative.GREATER)  # fmt: skip

    assert planned.alternative is pw.Alternative.TWO_SIDED
    assert "two-sided" in planned.method
    assert one_sided.rejections >= planned.rejections  # same trials; p halves for a benefit


def test_the_table_runs_every_cell_row_by_row_and_reports_progress(model):
    ticks: list[None] = []

    table = pw.power_table(model, pw.TrialDesign.DELAYED_START, ns=[8, 12], slowings=[0.25, 0.5],
                           seed=5, simulations=200, progress=lambda: ticks.append(None))  # fmt: skip

    assert len(ticks) == 4
    assert [(r.n, r.slowing) for r in table.results] == [(8, 0.25), (8, 0.5), (12, 0.25), (12, 0.5)]
    assert table.cell(12, 0.25) is table.results[2]
    assert "never undone" in table.caveats[0]
    assert "delayed arm treated from month 3" in table.method
    with pytest.raises(KeyError):
        table.cell(99, 0.25)


def test_a_table_cell_equals_the_single_estimate_with_the_same_seed(model):
    table = pw.power_table(
        model, pw.TrialDesign.RANDOMIZED, ns=[10], slowings=[0.5], seed=6, simulations=200
    )

    single = pw.estimate_power(
        model, pw.TrialDesign.RANDOMIZED, n=10, slowing=0.5, seed=6, simulations=200
    )

    assert table.results == (single,)


def test_large_runs_are_simulated_in_chunks_with_whole_trials(model):
    n = 1000
    trials = pw.simulate_trials(
        model, pw.TrialDesign.RANDOMIZED, n=n, slowing=0.25, months=6.0,
        trials=pw.CHUNK_PATIENTS // n + 3, rng=np.random.default_rng(7),
    )  # fmt: skip

    assert trials.comparison is not None
    assert trials.treated.shape == trials.comparison.shape == (pw.CHUNK_PATIENTS // n + 3, n // 2)


# ---------------------------------------------------------------- the comparator (the model's mean and spread)


def test_the_expected_change_without_plateaus_is_the_decline_curve(model):
    """Worked example: no plateaus and ΔFS at the population mean (multiplier 1), so the expected change
    is −μ·τ·ln(1 + T/τ) = −1.6 × 36 × ln(42/36) = −8.8791 points over 6 months."""
    no_plateau = with_decline(model, plateau_probability=0.0, rate_mean=1.6, slowing_months=36.0)

    change = pw.expected_change(
        no_plateau, delta_fs=[model.decline.delta_fs_mean.value], months=6.0
    )

    assert float(change[0]) == pytest.approx(-1.6 * 36 * math.log(42 / 36), rel=1e-9)
    assert -1.6 * 36 * math.log(42 / 36) == pytest.approx(-8.8791, abs=1e-4)


def test_the_expected_change_with_a_plateau_matches_the_closed_form(model):
    """With a plateau for everyone, E[h(T − L)⁺] for L ~ Exponential(m) integrates by parts to
    h(T) − τ·e^(−(T+τ)/m)·(Ei((T+τ)/m) − Ei(τ/m)) (scipy's exponential integral)."""
    tau, m, months = 36.0, 9.3, 6.0
    plateau = with_decline(
        model, plateau_probability=1.0, plateau_mean_months=m, slowing_months=tau
    )
    h = tau * math.log1p(months / tau)
    mean_active = h - tau * math.exp(-(months + tau) / m) * (
        special.expi((months + tau) / m) - special.expi(tau / m)
    )

    change = pw.expected_change(
        plateau, delta_fs=[model.decline.delta_fs_mean.value], months=months
    )

    assert float(change[0]) == pytest.approx(-model.decline.rate_mean.value * mean_active, rel=1e-7)


@pytest.mark.parametrize("delta_fs", [0.3, 1.0, 2.0])
def test_the_mean_and_variance_of_the_change_match_brute_force(model, delta_fs):
    """Against 200,000 simulated patients with true baselines near 38 (away from the floor and
    ceiling the formulas ignore). Mean within 4 standard errors; variance within 3% (its standard
    error is under 1% for these heavy-tailed changes)."""
    patients = 200_000
    rng = np.random.default_rng(int(delta_fs * 100))
    baselines = 38 + rng.uniform(-0.5, 0.5, patients)
    ratings = nh.simulate_ratings(model, true_baselines=baselines, months=[0, 6], rng=rng,
                                  delta_fs=np.full(patients, delta_fs))  # fmt: skip
    change = ratings[:, 1] - ratings[:, 0]

    mean = pw.expected_change(model, delta_fs=[delta_fs], months=6.0)[0]
    variance = pw.change_variance(model, delta_fs=[delta_fs], months=6.0)[0]

    assert float(change.mean()) == pytest.approx(mean, abs=4 * math.sqrt(variance / patients))
    assert float(change.var()) == pytest.approx(variance, rel=0.03)


# ---------------------------------------------------------------- the planned tests against scipy


def test_two_arm_p_values_are_students_pooled_t_test(model):
    trials = pw.simulate_trials(
        model, pw.TrialDesign.RANDOMIZED, n=24, slowing=0.25, months=6.0, trials=200,
        rng=np.random.default_rng(8),
    )  # fmt: skip
    assert trials.comparison is not None

    for alternative in pw.Alternative:
        reference = stats.ttest_ind(trials.treated, trials.comparison, axis=1, equal_var=True,
                                    alternative=alternative.value)  # fmt: skip
        np.testing.assert_allclose(pw.p_values(trials, alternative), reference.pvalue, rtol=1e-9)


def test_the_single_arm_p_value_is_a_z_test_against_the_model_spread():
    """Worked example: d = (1, 2, −0.5), model variances (4, 4, 1): z = 2.5 / √9 = 0.8333,
    one-sided p = 1 − Φ(0.8333) = 0.2023, two-sided 0.4047."""
    trials = pw.SimulatedTrials(
        pw.TrialDesign.SINGLE_ARM, np.array([[1.0, 2.0, -0.5]]), None, np.array([[4.0, 4.0, 1.0]])
    )

    assert pw.p_values(trials, pw.Alternative.GREATER)[0] == pytest.approx(0.2023, abs=1e-4)
    assert pw.p_values(trials, pw.Alternative.TWO_SIDED)[0] == pytest.approx(0.4047, abs=1e-4)


def test_arms_without_spread_reject_only_for_a_difference_in_the_tested_direction():
    """Every change equal within each arm: no standard error, so the sign of the difference decides."""
    treated = np.array([[-1.0, -1.0], [-3.0, -3.0], [-2.0, -2.0]])
    control = np.array([[-3.0, -3.0], [-1.0, -1.0], [-2.0, -2.0]])
    trials = pw.SimulatedTrials(pw.TrialDesign.RANDOMIZED, treated, control)

    assert pw.p_values(trials, pw.Alternative.GREATER).tolist() == [0.0, 1.0, 1.0]
    assert pw.p_values(trials, pw.Alternative.TWO_SIDED).tolist() == [0.0, 0.0, 1.0]


def test_a_single_arm_without_the_model_variance_is_a_programming_error():
    trials = pw.SimulatedTrials(pw.TrialDesign.SINGLE_ARM, np.zeros((1, 3)), None)

    with pytest.raises(ValueError, match="variance"):
        pw.p_values(trials, pw.Alternative.GREATER)


# ---------------------------------------------------------------- bad inputs, each named


def test_every_bad_input_is_named_at_once(model):
    with pytest.raises(InvalidInput) as caught:
        pw.estimate_power(
            model, pw.TrialDesign.RANDOMIZED, n=15, slowing=1.0, seed=-1, months=0.0, alpha=0.6,
            simulations=0, baselines=pw.BaselineDistribution(sd=-1.0),
        )  # fmt: skip

    assert [problem.location for problem in caught.value.problems] == [
        "n", "slowing", "months", "alpha", "simulations", "seed", "baselines.sd",
    ]  # fmt: skip
    assert str(caught.value).startswith("invalid power calculation (7 problems): n: must be even")


@pytest.mark.parametrize(
    ("design", "n", "message"),
    [
        (pw.TrialDesign.SINGLE_ARM, 1, "n: must be a whole number from 2 to 5000, got 1"),
        (pw.TrialDesign.DELAYED_START, 2, "n: must be a whole number from 4 to 5000, got 2"),
        (pw.TrialDesign.RANDOMIZED, 10.0, "got 10.0"),
        (pw.TrialDesign.RANDOMIZED, True, "got True"),
        (pw.TrialDesign.SINGLE_ARM, 5001, "got 5001"),
    ],
)
def test_impossible_numbers_of_patients_are_refused(model, design, n, message):
    with pytest.raises(InvalidInput, match=message):
        pw.estimate_power(model, design, n=n, slowing=0.5, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "location"),
    [
        ({"slowing": -0.1}, "slowing"),
        ({"slowing": math.nan}, "slowing"),
        ({"months": 61.0}, "months"),
        ({"alpha": 0.0}, "alpha"),
        ({"simulations": 100_001}, "simulations"),
        ({"seed": 1.5}, "seed"),
        ({"baselines": pw.BaselineDistribution(mean=50.0, high=52.0)}, "baselines"),
        ({"baselines": pw.BaselineDistribution(mean=math.inf)}, "baselines"),
    ],
)
def test_other_bad_inputs_are_named(model, kwargs, location):
    arguments: dict[str, Any] = {"n": 10, "slowing": 0.5, "seed": 0} | kwargs

    with pytest.raises(InvalidInput) as caught:
        pw.estimate_power(model, pw.TrialDesign.SINGLE_ARM, **arguments)

    assert [problem.location for problem in caught.value.problems] == [location]


def test_a_table_is_checked_whole_before_any_simulation(model):
    ticks: list[None] = []

    with pytest.raises(InvalidInput) as caught:
        pw.power_table(model, pw.TrialDesign.RANDOMIZED, ns=[10, 11], slowings=[0.25, 2.0], seed=0,
                       progress=lambda: ticks.append(None))  # fmt: skip

    assert [str(problem) for problem in caught.value.problems] == [
        "n: must be even for a 1:1 allocation, got 11",
        "slowing: must be a fraction in [0, 1), e.g. 0.25 for 25%, got 2.0",
    ]
    assert ticks == []


def test_an_empty_table_is_refused(model):
    with pytest.raises(InvalidInput) as caught:
        pw.power_table(model, pw.TrialDesign.SINGLE_ARM, ns=[], slowings=[], seed=0)

    assert [problem.location for problem in caught.value.problems] == ["n", "slowing"]
