"""Power by simulation from the natural-history model: how often a planned analysis would reject.

For a design, a number of patients N and a *hypothetical* true slowing of ALSFRS-R decline s, many
trials are simulated from the natural-history model (:mod:`alscell.domain.stats.natural_history`,
clinical.md §6) and the planned analysis is run on each; the power is the share of trials in which it
rejects at ``alpha``, with an exact (Clopper-Pearson) 95% Monte-Carlo interval. A slowing of 20-50% is
what clinicians and patients call meaningful (clinical.md §7.4). At s = 0 the share is the design's
false-positive rate, which should be close to alpha. A power figure says what a design could detect
*if the model were right*; it is never evidence that a treatment works.

Every trial, with t the time point T in months (default 6)::

    true baseline ~ Normal(38, 5) clipped to 20..48     ASSUMED, configurable (BaselineDistribution)
    ΔFS           ~ the model's population distribution  (natural_history.population_delta_fs)
    change        = rating(T) − rating(0)                 each rating with its own noise
    treatment     decline accumulated after the start multiplied by (1 − s)

Designs and their planned analyses:

``single-arm``
    N treated patients (from month 0), rated at baseline and at T. For each, d = observed change −
    expected change, where the expected change and its variance v are the model's, without
    treatment, for a patient with that ΔFS over T months (:func:`expected_change`,
    :func:`change_variance`, computed analytically). Analysis: a one-sample test that the mean of d
    is above 0, **one-sided** at alpha, against the model's own spread: z = Σ d / √(Σ v), rejecting
    when z exceeds the standard normal's 1 − alpha quantile. Under no effect and a correctly
    specified model this rejects in about alpha of trials (slightly fewer for small N, about 0.04
    at N = 10 for alpha 0.05: decline is skewed by a few fast progressors). A t-test that
    estimated the spread from the patients would reject too often under no effect, for the same
    skew (about 1.5 times alpha at N = 30 with the shipped model), so it is not the planned test.
    **In reality a single arm's comparator is only as good as the model:** any mis-calibration of the
    model for these patients, selection of who is treated, or unblinded rating moves the
    false-positive rate away from alpha, and a simulation from the same model cannot show that
    (clinical.md §7.5). The expected change ignores the floor and ceiling of the scale (0 and 48);
    with the default baselines this shifts it by about a hundredth of a point, which matters only for
    very large N.
``randomized``
    N patients (even) allocated exactly 1:1, treated from month 0 or never. Analysis: Student's
    two-sample t-test with pooled variance (N − 2 degrees of freedom) of the change at T, treated
    against control, **two-sided** at alpha unless ``alternative`` says otherwise. Pooled rather than
    Welch's: with exactly equal arms the pooled test keeps its level even where treatment narrows one
    arm's spread, and Welch's is conservative for small arms of these skewed changes.
``delayed-start``
    N patients (even) 1:1: the early arm treated from month 0, the delayed arm from T/2. Analysis:
    the pooled t-test of the change from baseline to T, early against delayed arm, two-sided by default:
    the delayed-start question of whether the early arm's advantage persists. In this model a slowing
    is disease-modifying (decline avoided is never regained), so any advantage persists by
    construction; a purely symptomatic effect, which would vanish once both arms are treated, is not
    simulated.

A rejection is p < alpha for the planned test; for a two-sided test this counts a difference in either
direction. Deaths are ignored: the model simulates decline and survival independently, so a death
before T only removes a patient at random from a change-based analysis, and N is the number of
patients *with a rating at T* (enrol more to allow for deaths and withdrawals). In reality death is
informative (clinical.md §7.6), which the model cannot show either.

References
----------
clinical.md §6 (natural history), §7.4 (clinically meaningful slowing), §7.5 (pre/post comparisons
and their biases), §7.6 (informative dropout by death).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import integrate
from scipy.stats import norm
from scipy.stats import t as student_t

from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats.intervals import Interval, clopper_pearson
from alscell.errors import InvalidInput, Problem

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_BASELINES",
    "DEFAULT_MONTHS",
    "DEFAULT_SIMULATIONS",
    "Alternative",
    "BaselineDistribution",
    "PowerResult",
    "PowerTable",
    "SimulatedTrials",
    "TrialDesign",
    "change_variance",
    "estimate_power",
    "expected_change",
    "p_values",
    "power_table",
    "simulate_trials",
]

DEFAULT_MONTHS: Final = 6.0
DEFAULT_ALPHA: Final = 0.05
DEFAULT_SIMULATIONS: Final = 2000
MAX_N: Final = 5000
MAX_SIMULATIONS: Final = 100_000
MAX_MONTHS: Final = 60.0
CHUNK_PATIENTS: Final = 500_000
"""Patients simulated per numpy call: whole trials, bounding memory for large tables."""
SUBJECT: Final = "power calculation"


class TrialDesign(StrEnum):
    """A design whose power is simulated (see the module docstring for each planned analysis)."""

    SINGLE_ARM = "single-arm"
    RANDOMIZED = "randomized"
    DELAYED_START = "delayed-start"


class Alternative(StrEnum):
    """The alternative hypothesis of the planned test."""

    TWO_SIDED = "two-sided"
    """A difference in either direction."""
    GREATER = "greater"
    """The treated (or early) patients decline less: a larger change (less negative)."""


@dataclass(frozen=True, slots=True)
class BaselineDistribution:
    """True ALSFRS-R totals at baseline: Normal(mean, sd) clipped to low..high (ASSUMED, not published).

    The default resembles trial populations (NurOwn phase 3 mean about 31 with a floor at 25, clinical.md
    §7.2, is lower); decline in the model does not depend on the baseline except at the scale's ends.
    """

    mean: float = 38.0
    sd: float = 5.0
    low: float = 20.0
    high: float = 48.0

    def problems(self) -> Iterable[Problem]:
        numbers = (self.mean, self.sd, self.low, self.high)
        if not all(math.isfinite(value) for value in numbers):
            yield Problem("baselines", f"must be finite numbers, got {numbers}")
            return
        if self.sd < 0:
            yield Problem("baselines.sd", f"must be >= 0, got {self.sd}")
        if not 0 <= self.low <= self.mean <= self.high <= MAX_TOTAL:
            rule = f"must satisfy 0 <= low <= mean <= high <= {MAX_TOTAL}"
            yield Problem("baselines", f"{rule}, got {self.low}, {self.mean}, {self.high}")

    def draw(self, size: tuple[int, ...], rng: np.random.Generator) -> NDArray[np.float64]:
        drawn = np.clip(rng.normal(self.mean, self.sd, size), self.low, self.high)
        return np.asarray(drawn, dtype=np.float64)


DEFAULT_BASELINES: Final = BaselineDistribution()


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedTrials:
    """What each simulated trial's planned analysis is run on: one row per trial, one column per patient."""

    design: TrialDesign
    treated: NDArray[np.float64]
    """Change at T of the treated arm (randomized) or early arm (delayed start); for a single arm,
    each treated patient's change minus the model's expected change."""
    comparison: NDArray[np.float64] | None
    """Change at T of the control or delayed arm; None for a single arm (the model is the comparator)."""
    model_variance: NDArray[np.float64] | None = None
    """For a single arm, the model's variance of each patient's change; None for two arms."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerResult:
    """How often the planned analysis rejected in simulated trials of one design, N and slowing."""

    design: TrialDesign
    n: int
    """Patients in the trial (both arms), each with a rating at T."""
    slowing: float
    months: float
    alpha: float
    alternative: Alternative
    simulations: int
    rejections: int
    power: float
    """rejections / simulations: the false-positive rate when slowing is 0."""
    interval: Interval
    """Exact (Clopper-Pearson) 95% interval of the power: Monte-Carlo error only."""
    seed: int
    model: str
    """The natural-history model's id and version."""
    baselines: BaselineDistribution
    method: str
    caveats: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerTable:
    """Power over a grid of N (rows) and slowing (columns); every cell simulated with the same seed."""

    design: TrialDesign
    ns: tuple[int, ...]
    slowings: tuple[float, ...]
    results: tuple[PowerResult, ...]
    """Row by row: every slowing for the first N, then for the next."""
    method: str
    caveats: tuple[str, ...]

    def cell(self, n: int, slowing: float) -> PowerResult:
        """The result for one N and slowing."""
        for result in self.results:
            if result.n == n and result.slowing == slowing:
                return result
        raise KeyError((n, slowing))


# ---------------------------------------------------------------- the comparator


def expected_change(
    model: nh.NaturalHistoryModel, *, delta_fs: nh.Floats, months: float
) -> NDArray[np.float64]:
    """The model's mean ALSFRS-R change over ``months`` without treatment, for each ΔFS.

    ``−μ · m(ΔFS) · E[H]``, where m(ΔFS) = (1 − w) + w · ΔFS / ΔFS̄, the rate's gamma factor has mean 1,
    and H = h(max(T − L, 0)) is the decline curve after the plateau L (0 with probability 1 − π, else
    Exponential with mean m_L)::

        E[Hʲ] = (1 − π) · h(T)ʲ + π · ∫₀ᵀ h(T − l)ʲ · e^(−l/m_L) / m_L dl

    The rating noise has mean 0; the floor and ceiling of the scale (0 and 48) are ignored.
    """
    mean_active, _ = _active_moments(model, months)
    return -model.decline.rate_mean.value * _multiplier(model, delta_fs) * mean_active


def change_variance(
    model: nh.NaturalHistoryModel, *, delta_fs: nh.Floats, months: float
) -> NDArray[np.float64]:
    """The model's variance of the ALSFRS-R change over ``months`` without treatment, for each ΔFS.

    ``(μ · m(ΔFS))² · ((1 + 1/k) · E[H²] − E[H]²) + 2·sigma² + 2/12``: the decline's variance (the gamma
    factor of shape k has second moment 1 + 1/k; see :func:`expected_change` for H), the noise of two
    ratings, and Sheppard's 1/12 for rounding each of them to a whole point. The floor and ceiling of
    the scale are ignored.
    """
    p = model.decline
    mean_active, square_active = _active_moments(model, months)
    scale = p.rate_mean.value * _multiplier(model, delta_fs)
    second_moment = 1 + 1 / p.rate_shape.value
    decline = scale**2 * (second_moment * square_active - mean_active**2)
    return np.asarray(decline + 2 * p.rating_noise_sd.value**2 + 2 / 12, dtype=np.float64)


def _multiplier(model: nh.NaturalHistoryModel, delta_fs: nh.Floats) -> NDArray[np.float64]:
    weight = model.decline.delta_fs_weight.value
    dfs = np.asarray(delta_fs, dtype=np.float64)
    return np.asarray((1 - weight) + weight * dfs / model.decline.delta_fs_mean.value)


def _active_moments(model: nh.NaturalHistoryModel, months: float) -> tuple[float, float]:
    """E[H] and E[H²] for H = h(max(T − L, 0)) (see :func:`expected_change`)."""
    p = model.decline
    tau, mean_plateau = p.slowing_months.value, p.plateau_mean_months.value
    pi = p.plateau_probability.value

    def moment(power: int) -> float:
        def integrand(lag: float) -> float:
            h = tau * math.log1p((months - lag) / tau)
            return float(h**power * math.exp(-lag / mean_plateau) / mean_plateau)

        in_plateau = integrate.quad(integrand, 0.0, months)[0]
        return float((1 - pi) * (tau * math.log1p(months / tau)) ** power + pi * in_plateau)

    return moment(1), moment(2)


# ---------------------------------------------------------------- simulation


def simulate_trials(
    model: nh.NaturalHistoryModel,
    design: TrialDesign,
    *,
    n: int,
    slowing: float,
    months: float,
    trials: int,
    rng: np.random.Generator,
    baselines: BaselineDistribution = DEFAULT_BASELINES,
) -> SimulatedTrials:
    """Simulate ``trials`` trials of ``n`` patients in one numpy call (or one per ``CHUNK_PATIENTS``).

    Inputs are assumed valid (:func:`estimate_power` checks them). The first half of each trial's
    patients is the treated or early arm.
    """
    per_chunk = max(1, CHUNK_PATIENTS // n)
    chunks = [
        _simulate_chunk(model, design, n=n, slowing=slowing, months=months,
                        trials=min(per_chunk, trials - start), rng=rng, baselines=baselines)
        for start in range(0, trials, per_chunk)
    ]  # fmt: skip
    changes = np.concatenate([change for change, _ in chunks])
    if design is TrialDesign.SINGLE_ARM:
        return SimulatedTrials(design, changes, None, np.concatenate([v for _, v in chunks]))
    half = n // 2
    return SimulatedTrials(design, changes[:, :half], changes[:, half:])


def _simulate_chunk(
    model: nh.NaturalHistoryModel,
    design: TrialDesign,
    *,
    n: int,
    slowing: float,
    months: float,
    trials: int,
    rng: np.random.Generator,
    baselines: BaselineDistribution,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Changes at T (minus the expected change for a single arm) and, for a single arm, the model's
    variance of each; one row per trial."""
    effect, start = _arms(design, n=n, slowing=slowing, months=months)
    true_baselines = baselines.draw((trials, n), rng).ravel()
    dfs = nh.population_delta_fs(model, trials * n, rng)
    ratings = nh.simulate_ratings(
        model, true_baselines=true_baselines, months=[0.0, months], rng=rng, delta_fs=dfs,
        slowing=np.tile(effect, trials), treated_from_months=np.tile(start, trials),
    )  # fmt: skip
    change = (ratings[:, 1] - ratings[:, 0]).astype(np.float64)
    variance = np.zeros_like(change)
    if design is TrialDesign.SINGLE_ARM:
        change -= expected_change(model, delta_fs=dfs, months=months)
        variance = change_variance(model, delta_fs=dfs, months=months)
    return change.reshape(trials, n), variance.reshape(trials, n)


def _arms(
    design: TrialDesign, *, n: int, slowing: float, months: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each patient's slowing and month of first treatment, in one trial."""
    first = np.arange(n) < n // 2
    if design is TrialDesign.SINGLE_ARM:
        return np.full(n, slowing), np.zeros(n)
    if design is TrialDesign.RANDOMIZED:
        return np.where(first, slowing, 0.0), np.zeros(n)
    return np.full(n, slowing), np.where(first, 0.0, months / 2)


# ---------------------------------------------------------------- the planned analysis


def p_values(trials: SimulatedTrials, alternative: Alternative) -> NDArray[np.float64]:
    """The planned test's p-value in each trial (see the module docstring).

    Single arm: z = Σ d / √(Σ v) against the standard normal. Two arms: Student's t with pooled
    variance and N − 2 degrees of freedom; where every change within each arm is equal (no spread),
    a difference in the tested direction has p = 0 and no difference p = 1. Vectorised over trials.
    """
    if trials.comparison is None:
        variance = trials.model_variance
        if variance is None:
            raise ValueError("a single arm's trials need the model's variance of each change")
        z = trials.treated.sum(axis=1) / np.sqrt(variance.sum(axis=1))
        p = norm.sf(z) if alternative is Alternative.GREATER else 2 * norm.sf(np.abs(z))
        return np.asarray(p, dtype=np.float64)
    a, b = trials.treated, trials.comparison
    na, nb = a.shape[1], b.shape[1]
    difference = a.mean(axis=1) - b.mean(axis=1)
    pooled = ((na - 1) * a.var(axis=1, ddof=1) + (nb - 1) * b.var(axis=1, ddof=1)) / (na + nb - 2)
    return _t_p_value(difference, pooled * (1 / na + 1 / nb), na + nb - 2, alternative)


def _t_p_value(
    difference: NDArray[np.float64],
    variance: NDArray[np.float64],
    df: int,
    alternative: Alternative,
) -> NDArray[np.float64]:
    spread = variance > 0
    statistic = difference / np.sqrt(np.where(spread, variance, 1.0))
    # without spread, any difference is infinitely many standard errors: keep only its sign
    statistic = np.where(spread, statistic, np.copysign(np.inf, difference))
    statistic = np.where(spread | (difference != 0), statistic, 0.0)
    if alternative is Alternative.GREATER:
        p = student_t.sf(statistic, df)
    else:
        p = 2 * student_t.sf(np.abs(statistic), df)
    p = np.where(spread | (difference != 0), p, 1.0)
    return np.asarray(p, dtype=np.float64)


# ---------------------------------------------------------------- power


def estimate_power(
    model: nh.NaturalHistoryModel,
    design: TrialDesign,
    *,
    n: int,
    slowing: float,
    seed: int,
    months: float = DEFAULT_MONTHS,
    alpha: float = DEFAULT_ALPHA,
    simulations: int = DEFAULT_SIMULATIONS,
    alternative: Alternative | None = None,
    baselines: BaselineDistribution = DEFAULT_BASELINES,
) -> PowerResult:
    """The share of ``simulations`` seeded trials in which the planned analysis rejects at ``alpha``.

    ``alternative`` None is the design's planned test: one-sided (greater) for a single arm,
    two-sided for the randomized and delayed-start designs.

    Raises
    ------
    InvalidInput
        Listing every problem with the inputs, each naming its field (``n``, ``slowing``, ...).
    """
    _require(_problems(design, ns=[n], slowings=[slowing], months=months, alpha=alpha,
                       simulations=simulations, seed=seed, baselines=baselines))  # fmt: skip
    return _estimate(model, design, n=n, slowing=slowing, seed=seed, months=months, alpha=alpha,
                     simulations=simulations, alternative=_planned(design, alternative),
                     baselines=baselines)  # fmt: skip


def power_table(
    model: nh.NaturalHistoryModel,
    design: TrialDesign,
    *,
    ns: Sequence[int],
    slowings: Sequence[float],
    seed: int,
    months: float = DEFAULT_MONTHS,
    alpha: float = DEFAULT_ALPHA,
    simulations: int = DEFAULT_SIMULATIONS,
    alternative: Alternative | None = None,
    baselines: BaselineDistribution = DEFAULT_BASELINES,
    progress: Callable[[], None] | None = None,
) -> PowerTable:
    """:func:`estimate_power` for every N in ``ns`` and slowing in ``slowings``; ``progress`` is called
    after each cell. Every input is checked before any simulation. Each cell uses the same seed
    (common random numbers), so cells with the same N differ by the slowing, not by fresh noise.
    """
    _require(_problems(design, ns=ns, slowings=slowings, months=months, alpha=alpha,
                       simulations=simulations, seed=seed, baselines=baselines))  # fmt: skip
    planned = _planned(design, alternative)
    results = []
    for n in ns:
        for slowing in slowings:
            results.append(
                _estimate(model, design, n=n, slowing=slowing, seed=seed, months=months,
                          alpha=alpha, simulations=simulations, alternative=planned,
                          baselines=baselines)
            )  # fmt: skip
            if progress is not None:
                progress()
    return PowerTable(
        design=design,
        ns=tuple(ns),
        slowings=tuple(float(s) for s in slowings),
        results=tuple(results),
        method=results[0].method,
        caveats=results[0].caveats,
    )


def _estimate(
    model: nh.NaturalHistoryModel,
    design: TrialDesign,
    *,
    n: int,
    slowing: float,
    seed: int,
    months: float,
    alpha: float,
    simulations: int,
    alternative: Alternative,
    baselines: BaselineDistribution,
) -> PowerResult:
    trials = simulate_trials(model, design, n=n, slowing=slowing, months=months,
                             trials=simulations, rng=np.random.default_rng(seed),
                             baselines=baselines)  # fmt: skip
    rejections = int(np.count_nonzero(p_values(trials, alternative) < alpha))
    return PowerResult(
        design=design, n=n, slowing=float(slowing), months=float(months), alpha=float(alpha),
        alternative=alternative, simulations=simulations, rejections=rejections,
        power=rejections / simulations, interval=clopper_pearson(rejections, simulations),
        seed=seed, model=model.label, baselines=baselines,
        method=_method(design, months=months, alpha=alpha, alternative=alternative),
        caveats=_caveats(design, model, baselines),
    )  # fmt: skip


def _planned(design: TrialDesign, alternative: Alternative | None) -> Alternative:
    if alternative is not None:
        return alternative
    return Alternative.GREATER if design is TrialDesign.SINGLE_ARM else Alternative.TWO_SIDED


def _method(design: TrialDesign, *, months: float, alpha: float, alternative: Alternative) -> str:
    sided = "two-sided" if alternative is Alternative.TWO_SIDED else "one-sided"
    if design is TrialDesign.SINGLE_ARM:
        return (
            f"Single arm of N treated patients: one-sample z-test, {sided} at alpha {alpha:g}, of "
            f"each patient's ALSFRS-R change over {months:g} months minus the change the "
            "natural-history model expects for that patient's ΔFS, against the model's spread."
        )
    if design is TrialDesign.RANDOMIZED:
        return (
            f"Randomized 1:1, N patients in all: two-sample t-test (pooled variance), {sided} at "
            f"alpha {alpha:g}, of the ALSFRS-R change over {months:g} months, treated against control."
        )
    return (
        f"Delayed start 1:1, N patients in all, the delayed arm treated from month {months / 2:g}: "
        f"two-sample t-test (pooled variance), {sided} at alpha {alpha:g}, of the ALSFRS-R change "
        f"from baseline to month {months:g}, early against delayed arm."
    )


def _caveats(
    design: TrialDesign, model: nh.NaturalHistoryModel, baselines: BaselineDistribution
) -> tuple[str, ...]:
    common = (
        f"Simulated from the natural-history model {model.label}: the power is only as good as the "
        "model (clinical.md §6), and says nothing about whether a treatment works.",
        "Deaths are ignored (the model simulates decline and survival independently), so N counts "
        "patients with a rating at the time point; enrol more to allow for deaths and withdrawals.",
        f"Assumed true baselines: Normal({baselines.mean:g}, {baselines.sd:g}) clipped to "
        f"{baselines.low:g}-{baselines.high:g}; ΔFS from the model's population.",
    )
    if design is TrialDesign.SINGLE_ARM:
        return (
            "A single arm's comparator is the model itself: this power assumes the model is right for "
            "these patients. Mis-calibration, selection of patients or unblinded rating moves the "
            "false-positive rate away from alpha, which a simulation from the same model cannot show "
            "(clinical.md §7.5).",
            *common,
        )
    if design is TrialDesign.DELAYED_START:
        return (
            "In the model a slowing is never undone, so the early arm's advantage persists by "
            "construction; a purely symptomatic effect is not simulated.",
            *common,
        )
    return common


# ---------------------------------------------------------------- validation


def _problems(
    design: TrialDesign,
    *,
    ns: Sequence[int],
    slowings: Sequence[float],
    months: float,
    alpha: float,
    simulations: int,
    seed: int,
    baselines: BaselineDistribution,
) -> list[Problem]:
    problems = [Problem("n", "give at least one number of patients")] if not ns else []
    problems += [problem for n in ns for problem in _n_problems(design, n)]
    if not slowings:
        problems.append(Problem("slowing", "give at least one slowing"))
    problems += [
        Problem("slowing", f"must be a fraction in [0, 1), e.g. 0.25 for 25%, got {s!r}")
        for s in slowings
        if not _number(s) or not 0 <= s < 1
    ]
    if not _number(months) or not 0 < months <= MAX_MONTHS:
        problems.append(Problem("months", f"must be > 0 and <= {MAX_MONTHS:g}, got {months!r}"))
    if not _number(alpha) or not 0 < alpha <= 0.5:
        problems.append(Problem("alpha", f"must be > 0 and <= 0.5, got {alpha!r}"))
    if not _whole(simulations) or not 1 <= simulations <= MAX_SIMULATIONS:
        rule = f"must be a whole number from 1 to {MAX_SIMULATIONS}, got {simulations!r}"
        problems.append(Problem("simulations", rule))
    if not _whole(seed) or seed < 0:
        problems.append(Problem("seed", f"must be a whole number >= 0, got {seed!r}"))
    return [*problems, *baselines.problems()]


def _n_problems(design: TrialDesign, n: int) -> list[Problem]:
    single = design is TrialDesign.SINGLE_ARM
    least = 2 if single else 4
    if not _whole(n) or not least <= n <= MAX_N:
        return [Problem("n", f"must be a whole number from {least} to {MAX_N}, got {n!r}")]
    if not single and n % 2:
        return [Problem("n", f"must be even for a 1:1 allocation, got {n}")]
    return []


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems, subject=SUBJECT)
