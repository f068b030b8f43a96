"""CAFS (domain/stats/cafs.py): scores, the rank test and the simulated comparator (clinical.md §7.1).

Golden values are worked out by hand below, or computed independently: the literal pairwise rule
written again here (vectorised over one patient's opponents), scipy's rank functions called
directly, and the natural-history model's own death probability (clinical.md §5.5, §6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import mannwhitneyu, norm, rankdata

from alscell.domain.stats import cafs
from alscell.domain.stats import natural_history as nh
from alscell.errors import InsufficientData, InvalidInput
from alscell.storage.comparator_files import builtin_natural_history

NAN = math.nan
H = 12.0  # analysis horizon, months from baseline


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


def reference_scores_of(index: int, deaths: np.ndarray, changes: np.ndarray) -> float:
    """The pairwise rule of clinical.md §7.1 for one ranked patient against every other ranked one.

    Written from the rule, not from the fast path: both died → sign of the difference in death month;
    one died → the survivor +1; both alive → sign of the difference in change.
    """
    died = ~np.isnan(deaths)
    ranked = died | ~np.isnan(changes)
    if died[index]:
        against = np.where(died, np.sign(deaths[index] - deaths), -1.0)
    else:
        against = np.where(died, 1.0, np.sign(changes[index] - changes))
    against[index] = 0.0
    return float(against[ranked].sum())


def cohort(
    deaths: Sequence[float] | np.ndarray, changes: Sequence[float] | np.ndarray, horizon: float = H
) -> cafs.Outcomes:
    return cafs.Outcomes(horizon, np.array(deaths, dtype=float), np.array(changes, dtype=float))


def random_cohort(rng: np.random.Generator, n: int) -> cafs.Outcomes:
    """A cohort with many ties: deaths at whole quarters of the year, integer changes, some dropouts."""
    state = rng.integers(0, 3, n)  # 0 died, 1 alive with a change, 2 alive without one
    deaths = np.where(state == 0, rng.integers(0, 5, n) * 3.0, NAN)  # 0, 3, 6, 9 or 12 months
    changes = np.where(state == 1, rng.integers(-6, 3, n).astype(float), NAN)
    return cohort(deaths, changes)


def uniform_baselines(rng: np.random.Generator, n: int) -> cafs.Baselines:
    """True baselines 30-44 (no clipping at 48) and 12-36 months since onset."""
    return cafs.Baselines(rng.uniform(30, 44, n), rng.uniform(12, 36, n))


# ---------------------------------------------------------------- a hand-worked cohort (§7.1)

# Horizon 12 months; best outcome last.
#   A died at month 3, B died at month 3 (tie), C died at month 8,
#   D alive with change -5, E and F alive with change -2 (tie), G alive without a rating (excluded).
# So the order is {A, B} < C < D < {E, F}. Each score, term by term against the others:
#   A: B 0, C -1, D -1, E -1, F -1            = -4     (B the same: -4)
#   C: A +1, B +1, D -1, E -1, F -1           = -1     (C died later than A and B; D, E, F survived)
#   D: A +1, B +1, C +1, E -1, F -1           = +1     (survivor beats deaths; -5 < -2)
#   E: A +1, B +1, C +1, D +1, F 0            = +4     (F the same: +4)
#   G: excluded, no score (NaN), and takes no part in the others' sums.  Total of scores = 0.
HAND = cohort([3, 3, 8, NAN, NAN, NAN, NAN], [NAN, NAN, NAN, -5, -2, -2, NAN])
HAND_SCORES = [-4, -4, -1, 1, 4, 4, NAN]


def test_the_hand_worked_cohort_scores_as_worked_out():
    """clinical.md §7.1: pairwise scores summed over the other patients."""
    np.testing.assert_array_equal(cafs.scores(HAND), HAND_SCORES)
    np.testing.assert_array_equal(cafs.pairwise_scores(HAND), HAND_SCORES)


def test_the_hand_worked_comparison():
    """clinical.md §7.1: program {C, E, G} against comparator {A, B, D, F}.

    Ranks of the scores -4, -4, -1, 1, 4, 4 (average for ties): A, B 1.5; C 3; D 4; E, F 5.5.
    Program mean rank (3 + 5.5) / 2 = 4.25; comparator (1.5 + 1.5 + 4 + 5.5) / 4 = 3.125.
    U = rank sum - n1(n1 + 1)/2 = 8.5 - 3 = 5.5; by pairs: C beats A, B (2); E beats A, B, D and ties
    F (3.5). P(superiority) = 5.5 / (2 × 4) = 0.6875. Normal approximation: mean n1·n2/2 = 4; tie-
    corrected variance n1·n2/12 · (N + 1 - Σ(t³ - t)/(N(N - 1))) = 8/12 · (7 - 12/30) = 4.4;
    z = (|5.5 - 4| - 0.5) / √4.4; p = 2·(1 - Φ(z)).
    """
    program = cohort([8, NAN, NAN], [NAN, -2, NAN])
    comparator = cohort([3, 3, NAN, NAN], [NAN, NAN, -5, -2])

    result = cafs.compare_cohorts(program, comparator)

    assert result.program == cafs.CafsGroup(n=2, excluded=1, deaths=1, mean_rank=4.25)
    assert result.comparator == cafs.CafsGroup(n=4, excluded=0, deaths=2, mean_rank=3.125)
    assert result.u_statistic == 5.5
    assert result.probability_of_superiority == 0.6875
    assert result.p_value == pytest.approx(2 * norm.sf(1 / math.sqrt(4.4)), rel=1e-12)
    assert result.horizon_months == H
    assert "normal approximation" in result.method
    assert any("1 program and 0 comparator" in caveat for caveat in result.caveats)
    assert any("not evidence of efficacy" in caveat for caveat in result.caveats)


# ---------------------------------------------------------------- fast against pairwise


@pytest.mark.parametrize(("seed", "n"), [(1, 1), (2, 2), (3, 7), (4, 60), (5, 250), (6, 600)])
def test_fast_scores_equal_the_pairwise_definition_on_tied_cohorts(seed, n):
    """clinical.md §7.1: the O(n log n) scores are the pairwise sums, ties included."""
    outcomes = random_cohort(np.random.default_rng(seed), n)

    np.testing.assert_array_equal(cafs.scores(outcomes), cafs.pairwise_scores(outcomes))


def test_float_keys_are_neither_merged_nor_split():
    """0.1 + 0.2 and 0.3 differ as floats, -0.0 and 0.0 do not; 1e-300 and 0 differ (§7.1)."""
    changes = [0.1 + 0.2, 0.3, -0.0, 0.0, 1e-300, 0.0, NAN]
    deaths = [NAN] * 6 + [5e-324]
    outcomes = cohort(deaths, changes)

    fast = cafs.scores(outcomes)

    np.testing.assert_array_equal(fast, cafs.pairwise_scores(outcomes))
    assert fast[0] != fast[1]
    assert fast[2] == fast[3] == fast[5]


outcome = st.one_of(
    st.tuples(st.floats(0, H), st.just(NAN)),  # died
    st.tuples(st.just(NAN), st.floats(-48, 48)),  # alive with a change
    st.tuples(st.just(NAN), st.sampled_from([-1.0, 0.0, -0.0, 2.5])),  # alive, a common value
    st.just((NAN, NAN)),  # alive without a change
)


@given(st.lists(outcome, max_size=25))
def test_fast_scores_equal_the_pairwise_definition_for_any_cohort(patients):
    """clinical.md §7.1, for arbitrary small cohorts (Hypothesis)."""
    deaths = [death for death, _ in patients]
    changes = [change for _, change in patients]
    outcomes = cohort(deaths, changes)

    np.testing.assert_array_equal(cafs.scores(outcomes), cafs.pairwise_scores(outcomes))


def test_no_ranked_patient_leaves_every_score_missing():
    outcomes = cohort([NAN, NAN], [NAN, NAN])

    assert np.isnan(cafs.scores(outcomes)).all()
    assert np.isnan(cafs.pairwise_scores(outcomes)).all()


def test_on_100_000_comparators_sampled_scores_equal_the_pairwise_definition(model):
    """clinical.md §7.1: at the size the issue asks for, ~200 sampled patients are checked against
    everyone by the definition (vectorised per patient), and the rank test against scipy."""
    rng = np.random.default_rng(100_000)
    comparator = cafs.simulate_comparator(
        model, n=100_000, months=H, rng=rng, baselines=uniform_baselines
    )
    program = cafs.Outcomes(
        H,
        np.where(np.arange(20) < 4, rng.integers(1, 13, 20).astype(float), NAN),
        np.where(np.arange(20) >= 6, rng.integers(-12, 3, 20).astype(float), NAN),
    )  # 4 deaths at whole months, 2 excluded, 14 integer changes
    deaths = np.concatenate([program.death_months, comparator.death_months])
    changes = np.concatenate([program.changes, comparator.changes])
    pooled = cohort(deaths, changes)

    fast = cafs.scores(pooled)
    sample = np.concatenate(
        [np.arange(20), rng.choice(np.arange(20, pooled.n), 180, replace=False)]
    )

    for index in sample:
        if index in (4, 5):  # the program's excluded patients
            assert np.isnan(fast[index])
        else:
            assert fast[index] == reference_scores_of(index, deaths, changes)
    result = cafs.compare_cohorts(program, comparator)
    test = mannwhitneyu(fast[:20][~np.isnan(fast[:20])], fast[20:], alternative="two-sided")
    assert result.u_statistic == test.statistic
    assert result.p_value == pytest.approx(test.pvalue, rel=1e-9)
    assert (result.program.n, result.program.excluded, result.comparator.n) == (18, 2, 100_000)


# ---------------------------------------------------------------- the rank test against scipy


@pytest.mark.parametrize(("seed", "sizes"), [(11, (5, 40)), (12, (30, 300)), (19, (3, 9))])
def test_the_rank_test_matches_scipy_on_the_reference_scores(seed, sizes):
    """clinical.md §7.1: mean ranks (average for ties), U, two-sided p and U / (n1·n2), computed
    from the pairwise reference scores with scipy, and P(superiority) by counting pairs."""
    rng = np.random.default_rng(seed)
    program, comparator = (random_cohort(rng, n) for n in sizes)
    deaths = np.concatenate([program.death_months, comparator.death_months])
    changes = np.concatenate([program.changes, comparator.changes])
    reference = cafs.pairwise_scores(cohort(deaths, changes))
    ours = reference[: program.n][program.ranked]
    theirs = reference[program.n :][comparator.ranked]
    ranks = rankdata(np.concatenate([ours, theirs]))
    # P(superiority) by counting program x comparator pairs on their outcomes: each pair's score is
    # the rule applied to a cohort of those two patients.
    p_ranked = np.flatnonzero(program.ranked)
    c_ranked = program.n + np.flatnonzero(comparator.ranked)
    pairs = [
        reference_scores_of(0, deaths[[i, j]], changes[[i, j]]) for i in p_ranked for j in c_ranked
    ]
    superiority = (sum(p > 0 for p in pairs) + 0.5 * sum(p == 0 for p in pairs)) / len(pairs)

    result = cafs.compare_cohorts(program, comparator)

    test = mannwhitneyu(ours, theirs, alternative="two-sided", method="asymptotic")
    assert result.u_statistic == test.statistic
    assert result.p_value == pytest.approx(test.pvalue, rel=1e-12)
    assert result.program.mean_rank == pytest.approx(ranks[: ours.size].mean(), rel=1e-12)
    assert result.comparator.mean_rank == pytest.approx(ranks[ours.size :].mean(), rel=1e-12)
    assert result.probability_of_superiority == pytest.approx(superiority, rel=1e-12)
    assert result.program.excluded == int((~program.ranked).sum())
    assert result.comparator.deaths == int(comparator.died.sum())


def test_without_ties_in_a_small_sample_the_p_value_is_exact():
    """Distinct changes, 3 × 4 pairs: scipy's exact distribution (clinical.md §7.1)."""
    program = cohort([NAN, NAN, NAN], [-1, 2, -3])
    comparator = cohort([NAN, NAN, 4, NAN], [-7, -4, NAN, 1])

    result = cafs.compare_cohorts(program, comparator)

    # Outcomes from worst: the death, -7, -4 (comparator), -3, -1 (program), 1 (comparator), 2
    # (program). U: -3 and -1 each beat the death, -7 and -4 (3 + 3), and 2 beats all four: 10.
    # Any numbers in the same order give the same exact test; the death stands in as -10.
    exact = mannwhitneyu([-3, -1, 2], [-7, -4, -10, 1], alternative="two-sided", method="exact")
    assert result.p_value == pytest.approx(exact.pvalue, rel=1e-12)
    assert result.u_statistic == 10
    assert result.probability_of_superiority == 10 / 12
    assert result.method.endswith("exact")
    assert len(result.caveats) == 2  # no exclusions to report


def test_when_every_score_is_tied_the_groups_do_not_differ():
    program = cohort([NAN, NAN], [-2, -2])
    comparator = cohort([NAN, NAN, NAN], [-2, -2, -2])

    result = cafs.compare_cohorts(program, comparator)

    assert result.p_value == 1.0
    assert result.probability_of_superiority == 0.5
    assert result.program.mean_rank == result.comparator.mean_rank == 3.0


def test_a_group_without_a_ranked_patient_is_insufficient():
    program = cohort([NAN], [NAN])
    comparator = cohort([3.0], [NAN])

    with pytest.raises(InsufficientData, match="program 0, comparator 1"):
        cafs.compare_cohorts(program, comparator)
    with pytest.raises(InsufficientData):
        cafs.compare_cohorts(comparator, cohort([], []))


def test_groups_are_compared_at_one_horizon():
    with pytest.raises(InvalidInput, match="horizon_months"):
        cafs.compare_cohorts(cohort([1], [NAN], horizon=6), cohort([1], [NAN], horizon=12))


def test_without_a_difference_the_test_rejects_at_its_nominal_rate(model):
    """Program and comparator from the same simulator (clinical.md §6, §7.1): 200 seeded replicates.

    Rejections at 0.05 are Binomial(200, 0.05): mean 10, SD √(200 · 0.05 · 0.95) = 3.08, so at most
    10 + 4 × 3.08 = 22. The mean p-value of a uniform p is 0.5 with SD 0.289 / √200 = 0.020: within
    4 SDs, 0.5 ± 0.082 (ties make p slightly conservative, which stays inside).
    """
    rng = np.random.default_rng(2013)
    p_values = []
    for _ in range(200):
        program, comparator = (
            cafs.simulate_comparator(model, n=n, months=H, rng=rng, baselines=uniform_baselines)
            for n in (15, 150)
        )
        p_values.append(cafs.compare_cohorts(program, comparator).p_value)

    assert sum(p < 0.05 for p in p_values) <= 22
    assert np.mean(p_values) == pytest.approx(0.5, abs=0.082)


# ---------------------------------------------------------------- input validation


@pytest.mark.parametrize(
    ("deaths", "changes", "location"),
    [
        ([13.0], [NAN], "death_months[0]"),  # after the horizon
        ([-1.0], [NAN], "death_months[0]"),
        ([math.inf], [NAN], "death_months[0]"),
        ([NAN, NAN], [1.0, 48.5], "changes[1]"),
        ([NAN], [-math.inf], "changes[0]"),
        ([NAN, 4.0], [0.0, -3.0], "changes[1]"),  # died and rated
        ([20.0] * 7, [NAN] * 7, "death_months[0, 1, 2, 3, 4 and 2 more]"),
    ],
)
def test_invalid_outcomes_are_refused_naming_the_patients(deaths, changes, location):
    with pytest.raises(InvalidInput) as caught:
        cohort(deaths, changes)

    assert [problem.location for problem in caught.value.problems] == [location]


@pytest.mark.parametrize("horizon", [0.0, -6.0, NAN, math.inf])
def test_the_horizon_must_be_a_positive_number_of_months(horizon):
    with pytest.raises(InvalidInput, match="horizon_months"):
        cohort([1.0], [NAN], horizon=horizon)


def test_outcome_arrays_must_be_one_dimensional_and_parallel():
    with pytest.raises(ValueError, match="differ"):
        cohort([1.0, NAN], [NAN])
    with pytest.raises(ValueError, match="one-dimensional"):
        cafs.Outcomes(H, np.array([[1.0]]), np.array([[NAN]]))


def test_outcomes_are_read_only_copies():
    deaths = np.array([3.0, NAN])
    outcomes = cafs.Outcomes(H, deaths, np.array([NAN, -1.0]))
    deaths[0] = 5.0

    assert outcomes.death_months[0] == 3.0
    assert not outcomes.death_months.flags.writeable


# ---------------------------------------------------------------- the simulated comparator


def test_the_comparator_is_reproducible_from_its_seed(model):
    def simulate(seed: int) -> cafs.Outcomes:
        draw = cafs.resampled_baselines([35, 40, 28], [18, 30, 24])
        return cafs.simulate_comparator(
            model, n=500, months=H, rng=np.random.default_rng(seed), baselines=draw
        )

    first, again, other = simulate(7), simulate(7), simulate(8)

    np.testing.assert_array_equal(first.death_months, again.death_months)
    np.testing.assert_array_equal(first.changes, again.changes)
    assert not np.array_equal(first.changes, other.changes, equal_nan=True)


def test_the_comparators_decline_follows_the_model(model):
    """Mean change at 12 months against the model's formula (natural_history.py; clinical.md §6).

    E[change] = -μ · E[multiplier] · E[h(max(H - L, 0))] with E[multiplier] = 1 for population ΔFS,
    h(u) = τ ln(1 + u/τ), and L = 0 with probability 1 - π, else Exponential(mean m); rating noise
    and rounding are mean-zero away from the bounds. Baselines 30-44 keep clear of 48, but the floor
    at 0 cuts the fastest declines short: about 0.15 points less decline (a 400,000-patient run gave
    -10.26 against -10.43). 20,000 patients: SD of a change about 10, SE of the mean 0.075; so the
    tolerance is 4 SEs plus that bias, 0.3 + 0.2 = 0.5 points.
    """
    p = model.decline
    tau, m, pi = p.slowing_months.value, p.plateau_mean_months.value, p.plateau_probability.value

    def h(u: float) -> float:
        return float(tau * math.log1p(max(u, 0.0) / tau))

    in_plateau, _ = integrate.quad(lambda length: h(H - length) * math.exp(-length / m) / m, 0, H)
    expected = -p.rate_mean.value * ((1 - pi) * h(H) + pi * in_plateau)

    outcomes = cafs.simulate_comparator(
        model, n=20_000, months=H, rng=np.random.default_rng(6), baselines=uniform_baselines
    )

    assert float(np.nanmean(outcomes.changes)) == pytest.approx(expected, abs=0.5)
    assert np.all(np.isnan(outcomes.changes) == outcomes.died)  # survivors all rated, no dropout


def test_comparator_deaths_follow_conditional_survival(model):
    """Deaths only within the horizon, and as often as the model's conditional survival says
    (clinical.md §5.5): everyone alive 24 months after onset at baseline. 20,000 patients: the
    binomial SD of a proportion is at most 0.0035; tolerance 4 SDs = 0.014."""

    def at_24_months(rng: np.random.Generator, n: int) -> cafs.Baselines:
        return cafs.Baselines(np.full(n, 36.0), np.full(n, 24.0))

    outcomes = cafs.simulate_comparator(
        model, n=20_000, months=H, rng=np.random.default_rng(24), baselines=at_24_months
    )

    deaths = outcomes.death_months[outcomes.died]
    assert deaths.min() >= 0
    assert deaths.max() <= H
    for months in (3.0, 6.0, 9.0, H):
        expected = nh.death_probability(model, months_since_onset=24.0, months=months)
        assert float(np.mean(outcomes.death_months <= months)) == pytest.approx(expected, abs=0.014)


def test_a_patient_past_any_survival_the_model_allows_dies_at_baseline(model):
    """Survival from onset underflows to 0: conditioning is undefined, the death is put at month 0."""
    outcomes = cafs.simulate_comparator(
        model,
        n=2,
        months=H,
        rng=np.random.default_rng(0),
        baselines=cafs.resampled_baselines([30.0], [1e30]),
    )

    np.testing.assert_array_equal(outcomes.death_months, [0.0, 0.0])


def test_resampled_baselines_keep_each_patients_values_together():
    draw = cafs.resampled_baselines([30, 40], [10, 20])

    drawn = draw(np.random.default_rng(3), 1_000)

    assert set(zip(drawn.totals.tolist(), drawn.months_since_onset.tolist(), strict=True)) == {
        (30.0, 10.0),
        (40.0, 20.0),
    }


@pytest.mark.parametrize(
    ("totals", "onset", "match"),
    [
        ([30, 40], [10], "differ"),
        ([49], [10], "totals"),
        ([NAN], [10], "totals"),
        ([30], [0], "months_since_onset"),
        ([30], [math.inf], "months_since_onset"),
        ([], [], "at least one"),
    ],
)
def test_bad_baselines_are_refused(totals, onset, match):
    with pytest.raises(ValueError, match=match):
        cafs.resampled_baselines(totals, onset)


@pytest.mark.parametrize(
    ("n", "months", "match"), [(0, H, "n must"), (5, 0.0, "months"), (5, NAN, "months")]
)
def test_the_simulator_refuses_bad_arguments(model, n, months, match):
    draw = cafs.resampled_baselines([30], [10])

    with pytest.raises(ValueError, match=match):
        cafs.simulate_comparator(
            model, n=n, months=months, rng=np.random.default_rng(0), baselines=draw
        )


def test_the_simulator_refuses_a_draw_of_the_wrong_size(model):
    def one_patient(rng: np.random.Generator, n: int) -> cafs.Baselines:
        return cafs.Baselines(np.array([30.0]), np.array([10.0]))

    with pytest.raises(ValueError, match="returned 1 patients, not 3"):
        cafs.simulate_comparator(
            model, n=3, months=H, rng=np.random.default_rng(0), baselines=one_patient
        )
