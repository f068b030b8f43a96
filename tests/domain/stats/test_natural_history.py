"""The natural-history model (domain/stats/natural_history.py) against the published figures of clinical.md §6.

The published figures are written here from the clinical reference, not read from the model's file:
the file's calibration is what is under test. Every simulation is seeded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from alscell.domain import encals
from alscell.domain.stats import natural_history as nh
from alscell.errors import InvalidInput
from alscell.storage.comparator_files import builtin_natural_history

PATIENTS = 20_000
MONTHS = np.arange(25, dtype=float)  # monthly ratings over 24 months


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


@pytest.fixture(scope="module")
def cohort(model):
    """A simulated untreated cohort: true baseline totals 30-46, ΔFS from the population, 24 months."""
    rng = np.random.default_rng(2016)
    baselines = rng.uniform(30, 46, PATIENTS)
    dfs = nh.population_delta_fs(model, PATIENTS, rng)
    ratings = nh.simulate_ratings(
        model, true_baselines=baselines, months=MONTHS, rng=rng, delta_fs=dfs
    )
    return ratings, dfs


# ---------------------------------------------------------------- calibration targets (clinical.md §6)


@pytest.mark.parametrize(
    ("months", "published"),
    [(6, 0.25), (12, 0.16), (18, 0.07)],  # Bedlack 2016: 25% of 3,132; 16% of 2,105; 7% of 1,218
)
def test_the_share_without_decline_matches_bedlack_2016(cohort, months, published):
    ratings, _ = cohort

    share = float(np.mean(ratings[:, months] >= ratings[:, 0]))

    # ± 3 points: the three figures are fitted jointly with the slopes below, and no smooth model of
    # plateaus meets each exactly (the fit leaves 12 months about 2 points low).
    assert share == pytest.approx(published, abs=0.03)


def test_mean_decline_over_24_months_matches_precision_als(cohort):
    ratings, _ = cohort

    slopes = (ratings[:, 0] - ratings[:, 24]) / 24

    assert float(slopes.mean()) == pytest.approx(0.89, abs=0.06)  # PRECISION-ALS: 0.89 points/month


def test_the_spread_between_patients_matches_precision_als(cohort):
    ratings, _ = cohort

    slopes = (ratings[:, 0] - ratings[:, 24]) / 24
    low, high = np.quantile(slopes, [0.025, 0.975])

    # PRECISION-ALS: 95% of patients between 0.04 and 1.96 points/month (slopes from a joint model).
    # The model's slowing pulls the fastest 24-month slopes in, so the upper limit sits up to 0.25 low.
    assert 0.0 <= low <= 0.2
    assert float(high) == pytest.approx(1.96, abs=0.25)


def test_mean_decline_over_the_first_year_is_about_one_point_a_month(cohort):
    ratings, _ = cohort

    slope = float(np.mean(ratings[:, 0] - ratings[:, 12]) / 12)

    # About 0.9-1.0 points/month: PRO-ACT 1.02 (Atassi 2014), PRECISION-ALS 0.89 (clinical.md §6).
    assert 0.85 <= slope <= 1.05


def test_later_decline_follows_delta_fs_only_weakly(cohort):
    ratings, dfs = cohort

    slope_12 = (ratings[:, 0] - ratings[:, 12]) / 12
    coefficient = np.polyfit(dfs, slope_12, 1)[0]

    # Ibric 2025 (210 patients): the 12-month slope changes 0.206 points/month per point/month of ΔFS.
    assert coefficient == pytest.approx(0.206, abs=0.05)


def test_sustained_improvement_of_4_points_is_rare(cohort):
    ratings, _ = cohort

    gain = ratings - ratings[:, [0]]
    # >= 4 points above baseline at every monthly rating for 12 months running, inside the 24 months
    sustained = np.zeros(len(gain), dtype=bool)
    for start in range(1, 13):
        sustained |= np.all(gain[:, start : start + 13] >= 4, axis=1)

    assert float(sustained.mean()) < 0.01  # clinical.md §6: < 1%


# ---------------------------------------------------------------- one patient


def test_a_change_carries_the_noise_of_both_ratings(model):
    """Without decline, a change is the difference of two ratings' noise: SD sigma·√2 (regression to the mean)."""
    frozen = _with(model, rate_mean=1e-9, plateau_probability=0.0)
    rng = np.random.default_rng(7)

    changes = nh.simulate_changes(
        frozen, baseline_total=30, months=6, delta_fs=0.5, draws=40_000, rng=rng
    )

    sigma = model.decline.rating_noise_sd.value
    assert float(changes.mean()) == pytest.approx(0.0, abs=0.02)
    # the observed baseline is already whole; rounding the later rating adds a uniform step's 1/12
    assert float(changes.std()) == pytest.approx(math.sqrt(2 * sigma**2 + 1 / 12), rel=0.02)


def test_a_faster_patient_is_expected_to_lose_more(model):
    slow = nh.simulate_changes(
        model, baseline_total=40, months=6, delta_fs=0.3, draws=20_000, rng=np.random.default_rng(1)
    )
    fast = nh.simulate_changes(
        model, baseline_total=40, months=6, delta_fs=2.0, draws=20_000, rng=np.random.default_rng(1)
    )

    assert fast.mean() < slow.mean() < 0


def test_ratings_stay_on_the_scale(model):
    changes = nh.simulate_changes(
        model, baseline_total=2, months=24, delta_fs=3.0, draws=2_000, rng=np.random.default_rng(3)
    )

    assert changes.min() >= -2
    assert changes.max() <= 46


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline_total": 49}, "baseline_total"),
        ({"months": -1.0}, "months"),
        ({"delta_fs": -0.5}, "delta_fs"),
    ],
)
def test_impossible_inputs_are_refused(model, kwargs, message):
    arguments = {"baseline_total": 40, "months": 6.0, "delta_fs": 0.5} | kwargs

    with pytest.raises(ValueError, match=message):
        nh.simulate_changes(model, draws=10, rng=np.random.default_rng(0), **arguments)


def test_a_cohort_needs_one_delta_fs_per_patient(model):
    with pytest.raises(ValueError, match="one value per patient"):
        nh.simulate_ratings(
            model,
            true_baselines=[40, 41],
            months=[0, 6],
            rng=np.random.default_rng(0),
            delta_fs=[0.5],
        )


# ---------------------------------------------------------------- survival


def test_the_fallback_survival_has_the_published_median_and_knibb_spread(model):
    median = model.survival.median_from_onset_months.value
    log_sd = model.survival.log_sd.value

    within = norm.cdf(math.log(2) / log_sd) - norm.cdf(-math.log(2) / log_sd)

    assert median == 30  # clinical.md §6: about 30 months from onset (cited)
    assert within == pytest.approx(
        0.5, abs=0.001
    )  # Knibb 2016: half within half to twice the median


def test_death_probability_without_encals_is_conditional_on_time_survived(model):
    # 18 months after onset, the chance of dying in the next 6: 1 - S(24)/S(18) for a log-normal time.
    def alive(t: float) -> float:
        return float(1 - norm.cdf((math.log(t) - math.log(30)) / model.survival.log_sd.value))

    expected = 1 - alive(24) / alive(18)

    assert nh.death_probability(model, months_since_onset=18, months=6) == pytest.approx(
        expected, rel=1e-9
    )


def test_death_probability_with_encals_uses_the_conditional_survival(model):
    lp = -3.5
    expected = 1 - encals.conditional_survival(lp, 24.0, 18.0, scale=model.survival.encals_scale)

    assert nh.death_probability(
        model, months_since_onset=18, months=6, encals_lp=lp
    ) == pytest.approx(expected)


def test_death_probability_is_certain_when_the_model_gives_no_survival(model):
    assert (
        nh.death_probability(model, months_since_onset=1e300, months=6) == 1.0
    )  # S(T0) underflows to 0


@pytest.mark.parametrize(("onset", "months"), [(0.0, 6.0), (12.0, -1.0), (math.nan, 6.0)])
def test_death_probability_refuses_impossible_times(model, onset, months):
    with pytest.raises(ValueError, match="months"):
        nh.death_probability(model, months_since_onset=onset, months=months)


# ---------------------------------------------------------------- the model as data


def test_every_parameter_has_a_status_and_a_source(model):
    parameters = dict(model.parameters())

    assert set(parameters) >= {
        "decline.rate_mean",
        "decline.plateau_probability",
        "survival.log_sd",
    }
    assert all(value.source.strip() for value in parameters.values())
    assert {value.status for value in parameters.values()} == set(nh.Status)
    assert model.label == "natural-history 1.0"


def model_data(**decline: dict[str, object]) -> dict[str, object]:
    return {
        "id": "nh", "version": "1", "title": "t",
        "decline": {name: {"value": 1.0, "status": "assumed", "source": "s"} for name in _DECLINE} | decline,
        "survival": {name: {"value": 1.0, "status": "published", "source": "s"}
                     for name in ("median_from_onset_months", "log_sd")},
    }  # fmt: skip


def test_a_bad_model_lists_every_problem_with_its_path():
    data = model_data(
        plateau_mean_months={"value": math.inf, "status": "calibrated", "source": " "}
    )
    data["survival"]["log_sd"]["status"] = "guessed"  # type: ignore[index]

    with pytest.raises(InvalidInput) as caught:
        nh.parse_natural_history(data)

    assert [str(problem) for problem in caught.value.problems] == [
        "decline.plateau_mean_months.value: must be a finite number, got inf",
        "decline.plateau_mean_months.source: must be non-empty text, got str ' '",
        "survival.log_sd.status: must be one of published, calibrated, assumed; got 'guessed'",
    ]


def test_parameters_outside_their_range_are_refused_each_by_name():
    data = model_data(
        rate_mean={"value": -1.0, "status": "calibrated", "source": "s"},
        plateau_probability={"value": 1.5, "status": "calibrated", "source": "s"},
        rating_noise_sd={
            "value": 0.0,
            "status": "assumed",
            "source": "s",
        },  # no noise at all is allowed
    )
    data["survival"]["log_sd"]["value"] = 0.0  # type: ignore[index]

    with pytest.raises(InvalidInput) as caught:
        nh.parse_natural_history(data)

    assert [str(problem) for problem in caught.value.problems] == [
        "decline.rate_mean.value: must be > 0.0, got -1.0",
        "decline.plateau_probability.value: must be <= 1.0, got 1.5",
        "survival.log_sd.value: must be > 0.0, got 0.0",
    ]


_DECLINE = ("rate_mean", "rate_shape", "delta_fs_weight", "delta_fs_mean", "delta_fs_sd", "plateau_probability",
            "plateau_mean_months", "slowing_months", "rating_noise_sd")  # fmt: skip


def _with(model: nh.NaturalHistoryModel, **values: float) -> nh.NaturalHistoryModel:
    import dataclasses

    changes = {
        name: dataclasses.replace(getattr(model.decline, name), value=value)
        for name, value in values.items()
    }
    return dataclasses.replace(model, decline=dataclasses.replace(model.decline, **changes))


# ---------------------------------------------------------------- a hypothetical treatment (for power)


class TestSimulatedTreatment:
    """simulate_ratings(slowing=, treated_from_months=): the decline accumulated after treatment starts
    is multiplied by (1 − slowing). A simulation device for power (clinical.md §7.4), never an effect
    anyone has observed."""

    MONTHS = (0.0, 3.0, 6.0, 12.0)

    @staticmethod
    def ratings(
        model: nh.NaturalHistoryModel, seed: int = 11, patients: int = 500, **treatment: Any
    ) -> np.ndarray:
        rng = np.random.default_rng(seed)
        baselines = rng.uniform(30, 46, patients)
        return nh.simulate_ratings(
            model,
            true_baselines=baselines,
            months=TestSimulatedTreatment.MONTHS,
            rng=rng,
            **treatment,
        )

    def test_no_slowing_changes_nothing(self, model):
        untreated = self.ratings(model)

        assert np.array_equal(self.ratings(model, slowing=0.0, treated_from_months=3.0), untreated)
        assert np.array_equal(self.ratings(model, slowing=np.zeros(500)), untreated)

    def test_the_treatment_draws_no_random_numbers(self, model):
        """The same seed gives the same patients: before treatment starts their ratings are identical."""
        untreated = self.ratings(model)
        treated = self.ratings(model, slowing=0.5, treated_from_months=3.0)

        assert np.array_equal(treated[:, :2], untreated[:, :2])  # months 0 and 3
        assert np.all(treated[:, 2:] >= untreated[:, 2:] - 1)  # never worse beyond rounding
        assert np.mean(treated[:, 3]) > np.mean(untreated[:, 3])

    def test_a_worked_example_without_spread(self, model):
        """Everyone declines at exactly μ = 1.6 points/month (gamma shape 10¹², ΔFS = ΔFS̄, no plateau,
        no rating noise), τ = 36 months. Treated from month 3 with a 50% slowing, from a true 40:

            D(t)    = 1.6 · 36 · ln(1 + t/36):  D(3) = 4.6105, D(6) = 8.8791, D(12) = 16.5705
            treated = 40 − D(t) + 0.5 · (D(t) − D(min(t, 3))) = 40, 35.3895, 33.2552, 29.4095 → 40, 35, 33, 29
            untreated = 40 − D(t) = 40, 35.3895, 31.1209, 23.4295 → 40, 35, 31, 23
        """
        exact = _with(model, rate_mean=1.6, rate_shape=1e12, slowing_months=36.0,
                      plateau_probability=0.0, rating_noise_sd=0.0)  # fmt: skip
        mean_dfs = model.decline.delta_fs_mean.value

        ratings = nh.simulate_ratings(
            exact, true_baselines=[40.0, 40.0], months=self.MONTHS, rng=np.random.default_rng(0),
            delta_fs=[mean_dfs, mean_dfs], slowing=[0.5, 0.0], treated_from_months=3.0,
        )  # fmt: skip

        def decline(t: float) -> float:
            return 1.6 * 36 * math.log1p(t / 36)

        expected = [
            40 - decline(t) + 0.5 * (decline(t) - decline(min(t, 3.0))) for t in self.MONTHS
        ]
        assert expected == pytest.approx([40.0, 35.3895, 33.2552, 29.4095], abs=1e-4)
        assert ratings[0].tolist() == [40, 35, 33, 29]
        assert (
            ratings[1].tolist() == [round(40 - decline(t)) for t in self.MONTHS] == [40, 35, 31, 23]
        )

    def test_treated_from_the_start_every_patients_decline_is_scaled(self, model):
        """Plateau or not, fast or slow: from month 0 each patient's decline is (1 − s) times what the
        same patient loses untreated. Without rating noise and from whole-number baselines, only the
        rounding of each rating (± 0.5) separates the two: |treated loss − 0.7 · untreated loss| ≤ 0.5
        + 0.7 · 0.5 = 0.85."""
        quiet = _with(model, rating_noise_sd=0.0)
        baselines = np.full(2_000, 44.0)

        def losses(**treatment: Any) -> np.ndarray:
            ratings = nh.simulate_ratings(quiet, true_baselines=baselines, months=self.MONTHS,
                                          rng=np.random.default_rng(5), **treatment)  # fmt: skip
            return 44 - ratings

        untreated, treated = losses(), losses(slowing=0.3, treated_from_months=0.0)
        off_the_floor = untreated[:, -1] < 44  # a rating of 0 hides how much more was lost

        assert np.all(np.abs(treated - 0.7 * untreated)[off_the_floor] <= 0.85)
        assert np.mean(off_the_floor) > 0.99
        assert np.mean(untreated[:, 3] == 0) > 0.1  # some are still in a plateau at 12 months

    def test_per_patient_values(self, model):
        untreated = self.ratings(model, patients=4)
        treated = self.ratings(model, patients=4, slowing=[0.0, 0.5, 0.0, 0.5],
                               treated_from_months=[0.0, 0.0, 6.0, 12.0])  # fmt: skip

        assert np.array_equal(treated[[0, 2]], untreated[[0, 2]])  # slowing 0
        assert np.array_equal(treated[3], untreated[3])  # treated only from the last rating on

    @pytest.mark.parametrize(
        ("treatment", "message"),
        [
            ({"slowing": 1.0}, r"slowing must be in \[0, 1\)"),
            ({"slowing": -0.1}, "slowing must be"),
            ({"slowing": math.nan}, "slowing must be"),
            ({"slowing": [0.5, 0.5]}, r"slowing must be one number or one per patient \(3\)"),
            ({"treated_from_months": -1.0}, "treated_from_months must be finite and >= 0"),
            ({"treated_from_months": math.inf}, "treated_from_months must be"),
            ({"treated_from_months": [[0.0]]}, "treated_from_months must be one number"),
        ],
    )
    def test_impossible_treatments_are_refused(self, model, treatment, message):
        with pytest.raises(ValueError, match=message):
            nh.simulate_ratings(model, true_baselines=[40, 41, 42], months=[0, 6],
                                rng=np.random.default_rng(0), **treatment)  # fmt: skip
