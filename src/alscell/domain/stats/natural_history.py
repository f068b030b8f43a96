"""A natural-history model of ALSFRS-R and survival without an effective treatment (clinical.md §5, §6).

What untreated patients do is the comparator for every outcome alscell reports: about 1 in 4 show no
ALSFRS-R decline over 6 months, decline slows with time, and a pre/post comparison regresses to the mean
(clinical.md §6, §7.5). The model reproduces those published figures so that each patient's observed
change can be set against the range natural history gives *for that patient*. It is phenomenological:
its parameters are fitted to published marginal figures, not identified biologically, and they are data
(``reference-data/natural-history.yaml``) with their sources, never constants in code.

For one patient, with t in months from the baseline rating::

    rate      ~ Gamma(shape k, mean μ · ((1 − w) + w · ΔFS / ΔFS̄))     underlying decline, points/month
    L         = 0 with probability 1 − π, else ~ Exponential(mean m)       an initial plateau, months
    h(u)      = τ · ln(1 + u / τ)                                          decline slows with time
    true(t)   = true(0) − rate · h(max(t − L, 0))
    rating(t) = clip(round(true(t) + ε_t), 0, 48),   ε_t ~ N(0, σ²) independently per rating

A simulated treatment (for power calculations, never an observed effect) that starts at month t₀ and
slows decline by a fraction s multiplies the decline accumulated after t₀ by (1 − s)::

    D(t)      = rate · h(max(t − L, 0))                                    decline without treatment
    true(t)   = true(0) − D(t) + s · (D(t) − D(min(t, t₀)))

A patient's own ΔFS (clinical.md §2) shifts the mean rate only by the weight w, because the rate since
onset predicts the later slope weakly. Where ΔFS is unknown it is drawn from the published population
distribution (log-normal with the published mean and SD). Given an observed baseline rating, the true
value is the rating minus its own noise, so a simulated change carries the noise of both ratings:
that is regression to the mean.

Survival to a time point uses ENCALS (clinical.md §5) conditional on the time already survived when
the patient's predictors are known, and otherwise a log-normal time from onset with the published
median and the spread of Knibb 2016 (a 50% chance that survival lies between half and twice the
median), again conditional on the time already survived. Decline and death are simulated independently:
a limitation stated wherever expected deaths are shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Final, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from alscell.domain import encals
from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.schema import build, constraint

__all__ = [
    "DeclineParameters",
    "NaturalHistoryModel",
    "Sourced",
    "Status",
    "SurvivalParameters",
    "death_probability",
    "parse_natural_history",
    "population_delta_fs",
    "simulate_changes",
    "simulate_death_months",
    "simulate_ratings",
]

MIN_TOTAL: Final = 0
Floats: TypeAlias = Sequence[float] | NDArray[np.float64]
"""Numbers, one per patient or per time."""


class Status(StrEnum):
    """How a parameter's value was obtained."""

    PUBLISHED = "published"
    """Taken from a published figure (the source says which)."""
    CALIBRATED = "calibrated"
    """Fitted so that simulated cohorts reproduce published figures (the source lists them)."""
    ASSUMED = "assumed"
    """A modelling choice without a published value (UNVERIFIED): configurable, and shown as such."""


@dataclass(frozen=True, slots=True)
class Sourced:
    """A parameter value with how it was obtained and where from."""

    value: float
    status: Status
    source: str


def _bounded(
    parameters: object, bounds: dict[str, tuple[float | None, float | None, bool]]
) -> Iterable[tuple[str, str]]:
    """Problems for parameters outside (low, high); the flag makes the low end inclusive.

    The schema has already refused values that are not finite numbers and sources that are empty.
    """
    for name, (low, high, low_inclusive) in bounds.items():
        value = getattr(parameters, name).value
        if low is not None and (value < low if low_inclusive else value <= low):
            yield (f"{name}.value", f"must be {'>=' if low_inclusive else '>'} {low}, got {value}")
        if high is not None and value > high:
            yield (f"{name}.value", f"must be <= {high}, got {value}")


@dataclass(frozen=True, slots=True)
class DeclineParameters:
    """How ALSFRS-R totals change without an effective treatment (see the module docstring)."""

    rate_mean: Sourced
    """μ: mean underlying decline at the start of follow-up, points/month."""
    rate_shape: Sourced
    """k: gamma shape of the spread of underlying rates between patients."""
    delta_fs_weight: Sourced
    """w: how much of the mean rate follows the patient's ΔFS (0 = not at all, 1 = in proportion)."""
    delta_fs_mean: Sourced
    """ΔFS̄: population mean ΔFS, points/month; also the mean of ΔFS drawn where it is unknown."""
    delta_fs_sd: Sourced
    """Population SD of ΔFS, points/month (for ΔFS drawn where it is unknown)."""
    plateau_probability: Sourced
    """π: probability of being in a plateau at baseline."""
    plateau_mean_months: Sourced
    """m: mean remaining length of a plateau, months."""
    slowing_months: Sourced
    """τ: time scale of the slowing of decline, months (decline over u months is τ·ln(1 + u/τ))."""
    rating_noise_sd: Sourced
    """sigma: SD of one rating around the true value, points."""

    def problems(self) -> Iterable[tuple[str, str]]:
        yield from _bounded(
            self,
            {
                "rate_mean": (0.0, None, False),
                "rate_shape": (0.0, None, False),
                "delta_fs_weight": (0.0, 1.0, True),
                "delta_fs_mean": (0.0, None, False),
                "delta_fs_sd": (0.0, None, False),
                "plateau_probability": (0.0, 1.0, True),
                "plateau_mean_months": (0.0, None, False),
                "slowing_months": (0.0, None, False),
                "rating_noise_sd": (0.0, None, True),
            },
        )


@dataclass(frozen=True, slots=True)
class SurvivalParameters:
    """Survival without treatment when a patient's ENCALS predictors are not all known."""

    median_from_onset_months: Sourced
    """Median time from symptom onset to death, tracheostomy or permanent ventilation, months."""
    log_sd: Sourced
    """SD of the natural logarithm of that time (log-normal spread between patients)."""
    encals_scale: encals.SurvivalScale = encals.SurvivalScale.ODDS
    """The ENCALS survival scale used where a patient's predictors are known (clinical.md §5.4)."""

    def problems(self) -> Iterable[tuple[str, str]]:
        yield from _bounded(
            self, {"median_from_onset_months": (0.0, None, False), "log_sd": (0.0, None, False)}
        )


@dataclass(frozen=True, slots=True)
class NaturalHistoryModel:
    """A versioned natural-history model: its parameters, each with its source."""

    id: str = field(metadata=constraint(pattern=r"^[a-z0-9][a-z0-9-]*$"))
    version: str
    title: str
    decline: DeclineParameters
    survival: SurvivalParameters

    @property
    def label(self) -> str:
        """How reports name the model: id and version."""
        return f"{self.id} {self.version}"

    def parameters(self) -> list[tuple[str, Sourced]]:
        """Every parameter as (dotted name, value with source), in file order."""
        return [
            (f"{group}.{name}", value)
            for group in ("decline", "survival")
            for name, value in _sourced_fields(getattr(self, group))
        ]


def _sourced_fields(group: object) -> list[tuple[str, Sourced]]:
    return [
        (item.name, value)
        for item in fields(group)  # type: ignore[arg-type]
        if isinstance(value := getattr(group, item.name), Sourced)
    ]


def parse_natural_history(data: object) -> NaturalHistoryModel:
    """Validate parsed YAML or JSON into a model.

    Raises
    ------
    InvalidInput
        Listing every problem with its path, e.g. ``decline.rate_mean.value: must be > 0.0, got -1``.
    """
    return build(NaturalHistoryModel, data, subject="natural-history model")


# ---------------------------------------------------------------- ALSFRS-R


def _underlying_decline(
    model: NaturalHistoryModel,
    months: NDArray[np.float64],
    delta_fs: NDArray[np.float64],
    rng: np.random.Generator,
    treatment: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> NDArray[np.float64]:
    """Points lost since baseline, without rating noise: one row per patient, one column per time.

    ``treatment`` is (slowing, month treatment starts), one value of each per patient; it draws no
    random numbers, so the same generator state gives the same patients with and without it.
    """
    p = model.decline
    n = len(delta_fs)
    multiplier = (
        1 - p.delta_fs_weight.value
    ) + p.delta_fs_weight.value * delta_fs / p.delta_fs_mean.value
    shape = p.rate_shape.value
    rate = rng.gamma(shape, 1.0 / shape, n) * p.rate_mean.value * multiplier
    in_plateau = rng.random(n) < p.plateau_probability.value
    plateau = np.where(in_plateau, rng.exponential(p.plateau_mean_months.value, n), 0.0)
    tau = p.slowing_months.value

    def decline(times: NDArray[np.float64]) -> NDArray[np.float64]:
        active = np.clip(times - plateau[:, None], 0.0, None)
        return np.asarray(rate[:, None] * tau * np.log1p(active / tau), dtype=np.float64)

    untreated = decline(months[None, :])
    if treatment is None:
        return untreated
    slowing, treated_from = treatment
    # D is non-decreasing, so D(min(t, t0)) = min(D(t), D(t0)): what was lost before treatment began
    before = np.minimum(untreated, decline(treated_from[:, None]))
    return untreated - slowing[:, None] * (untreated - before)


def population_delta_fs(
    model: NaturalHistoryModel, n: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """ΔFS drawn from the log-normal with the model's population mean and SD."""
    mean, sd = model.decline.delta_fs_mean.value, model.decline.delta_fs_sd.value
    log_sd = math.sqrt(math.log1p((sd / mean) ** 2))
    return np.asarray(rng.lognormal(math.log(mean) - log_sd**2 / 2, log_sd, n), dtype=np.float64)


def _delta_fs_or_drawn(
    model: NaturalHistoryModel, delta_fs: float | None, n: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    if delta_fs is None:
        return population_delta_fs(model, n, rng)
    if not math.isfinite(delta_fs) or delta_fs < 0:
        raise ValueError(f"delta_fs must be a finite decline >= 0 points/month, got {delta_fs}")
    return np.full(n, float(delta_fs))


def _rated(
    true: NDArray[np.float64], model: NaturalHistoryModel, rng: np.random.Generator
) -> NDArray[np.int64]:
    noisy = true + rng.normal(0.0, model.decline.rating_noise_sd.value, true.shape)
    return np.clip(np.rint(noisy), MIN_TOTAL, MAX_TOTAL).astype(np.int64)


def simulate_ratings(
    model: NaturalHistoryModel,
    *,
    true_baselines: Floats,
    months: Floats,
    rng: np.random.Generator,
    delta_fs: Floats | None = None,
    slowing: float | Floats = 0.0,
    treated_from_months: float | Floats = 0.0,
) -> NDArray[np.int64]:
    """ALSFRS-R ratings of a cohort: one row per patient, one column per time in ``months``.

    ``true_baselines`` are the patients' true totals at month 0 (before rating noise); ``delta_fs`` their
    ΔFS, drawn from the population where None. Used to check the model against published cohorts.

    By default the cohort is untreated. A hypothetical treatment, for power calculations, multiplies
    the decline accumulated after ``treated_from_months`` by (1 − ``slowing``) (the module docstring
    gives the formula); each is one number for everyone or one per patient, ``slowing`` in [0, 1) and
    the start month finite and >= 0. The treatment draws no random numbers: the same ``rng`` state
    gives the same patients, so treated and untreated cohorts can be compared patient by patient.
    """
    times = np.asarray(months, dtype=np.float64)
    baselines = np.asarray(true_baselines, dtype=np.float64)
    n = len(baselines)
    dfs = (
        population_delta_fs(model, n, rng)
        if delta_fs is None
        else np.asarray(delta_fs, dtype=np.float64)
    )
    if dfs.shape != (n,):
        raise ValueError(f"delta_fs must have one value per patient ({n}), got {dfs.shape}")
    treatment = _treatment(slowing, treated_from_months, n)
    true = baselines[:, None] - _underlying_decline(model, times, dfs, rng, treatment)
    return _rated(true, model, rng)


def _treatment(
    slowing: float | Floats, treated_from_months: float | Floats, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    effect = _per_patient("slowing", slowing, n)
    start = _per_patient("treated_from_months", treated_from_months, n)
    if not np.all((effect >= 0) & (effect < 1)):
        raise ValueError(f"slowing must be in [0, 1) for every patient, got {effect}")
    if not np.all(np.isfinite(start) & (start >= 0)):
        raise ValueError(f"treated_from_months must be finite and >= 0, got {start}")
    return effect, start


def _per_patient(name: str, values: float | Floats, n: int) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return np.full(n, float(array))
    if array.shape != (n,):
        raise ValueError(f"{name} must be one number or one per patient ({n}), got {array.shape}")
    return array


def simulate_changes(
    model: NaturalHistoryModel,
    *,
    baseline_total: int,
    months: float,
    delta_fs: float | None,
    draws: int,
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """Changes in the ALSFRS-R total ``months`` after an observed baseline, under natural history.

    The baseline rating is fixed at what was observed; its true value is the rating minus its noise,
    so each draw carries the noise of both ratings (regression to the mean). A change is a later
    rating minus the baseline, so negative is decline, as the analysis plan's thresholds read it.
    """
    if not MIN_TOTAL <= baseline_total <= MAX_TOTAL:
        raise ValueError(f"baseline_total must be {MIN_TOTAL}..{MAX_TOTAL}, got {baseline_total}")
    if not math.isfinite(months) or months < 0:
        raise ValueError(f"months must be a finite number >= 0, got {months}")
    dfs = _delta_fs_or_drawn(model, delta_fs, draws, rng)
    noise = model.decline.rating_noise_sd.value
    true_baseline = baseline_total - rng.normal(0.0, noise, draws)
    true = true_baseline[:, None] - _underlying_decline(model, np.array([months]), dfs, rng)
    return _rated(true, model, rng)[:, 0] - baseline_total


# ---------------------------------------------------------------- survival


def death_probability(
    model: NaturalHistoryModel,
    *,
    months_since_onset: float,
    months: float,
    encals_lp: float | None = None,
) -> float:
    """Probability of death, tracheostomy or permanent ventilation within ``months`` of a patient
    alive ``months_since_onset`` months after symptom onset (conditional survival, clinical.md §5.5).

    ENCALS with the model's scale when the patient's linear predictor is known; otherwise the model's
    log-normal time from onset.
    """
    if not math.isfinite(months_since_onset) or months_since_onset <= 0:
        raise ValueError(f"months_since_onset must be > 0, got {months_since_onset}")
    if not math.isfinite(months) or months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    later = months_since_onset + months
    if encals_lp is not None:
        scale = model.survival.encals_scale
        return 1.0 - encals.conditional_survival(encals_lp, later, months_since_onset, scale=scale)
    median = model.survival.median_from_onset_months.value
    log_sd = model.survival.log_sd.value

    def alive(t: float) -> float:
        return float(norm.sf((math.log(t) - math.log(median)) / log_sd))

    survived = alive(months_since_onset)
    if survived == 0.0:
        return 1.0
    return 1.0 - alive(later) / survived


def simulate_death_months(
    model: NaturalHistoryModel, months_since_onset: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.float64]:
    """Months from baseline to death, tracheostomy or permanent ventilation: the model's log-normal time
    from onset, conditional on being alive at baseline (clinical.md §5.5, §6).

    Inverse transform: with S the log-normal survival from onset and u uniform on (0, 1], the time from
    onset is S⁻¹(u · S(a)) for a patient alive a months after onset. A patient whose survival from onset
    underflows to 0 (implausibly long since onset) dies at baseline.
    """
    median = model.survival.median_from_onset_months.value
    log_sd = model.survival.log_sd.value
    alive_at_baseline = norm.sf(np.log(months_since_onset / median) / log_sd)
    u = 1.0 - rng.random(len(months_since_onset))  # (0, 1]: u = 1 is death at baseline
    from_onset = median * np.exp(log_sd * norm.isf(u * alive_at_baseline))
    after = np.where(alive_at_baseline > 0, from_onset - months_since_onset, 0.0)
    return np.asarray(np.maximum(after, 0.0), dtype=np.float64)  # rounding can give −1e-15
