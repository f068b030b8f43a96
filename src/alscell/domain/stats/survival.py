"""Survival from enrollment against the ENCALS prediction for the same patients (clinical.md §5.4, §5.5).

The outcome is the first of death, tracheostomy or permanent ventilation. Each patient is followed
from enrollment, T0 months after symptom onset, for f months, ending in the event or censored at f.
Three things are computed:

- the **Kaplan-Meier** estimate of time from enrollment (lifelines' ``KaplanMeierFitter``), returned as
  a plain step function with 95% intervals and numbers at risk;
- the **expected** survival of the same patients under ENCALS, *conditional on the time each had
  already survived at enrollment* (the direct-adjusted curve)::

      S̄(t) = (1/n) Σ_i S(T0_i + t | LP_i) / S(T0_i | LP_i)

- **observed against expected events**: with Λ = −ln S the model's cumulative hazard from onset,
  E = Σ_i [Λ_i(T0_i + f_i) − Λ_i(T0_i)] is the number of events the model expects over each patient's
  own follow-up, O the number observed, and O/E has an exact Poisson interval for O (Garwood) divided
  by E, with a two-sided exact Poisson p-value.

ENCALS predicts from symptom onset, so only conditional curves are compared with a cohort followed
from enrollment (clinical.md §5.5); the unconditional from-onset curve would overstate the expected
deaths of patients who had already survived to enrollment. Patients whose ENCALS linear predictor is
unknown (a missing predictor) are left out of the expected side and of O, and counted. An O/E near 1
in a small series says little: its interval is wide, and the model's own calibration outside its
development cohorts is unknown, as is whether it used the odds or the hazard scale (clinical.md §5.4;
the scale is an argument and is named in every result). Nothing here is evidence that a treatment
works: a single-arm series differs from the model's cohorts in selection as well as treatment.

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. JASA 1958;53:457-481.
Garwood F. Fiducial limits for the Poisson distribution. Biometrika 1936;28:437-442.
Westeneng H-J et al. Lancet Neurol 2018;17:423-433 (ENCALS; clinical.md §5).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from lifelines import KaplanMeierFitter
from numpy.typing import NDArray
from scipy.special import expit

from alscell.domain import encals
from alscell.domain.encals import SurvivalScale
from alscell.domain.stats.intervals import Interval, poisson_interval, poisson_p_value
from alscell.errors import InsufficientData, InvalidInput, Problem

__all__ = [
    "CAVEATS",
    "ExpectedCurve",
    "FollowUp",
    "KaplanMeier",
    "ObservedExpected",
    "SurvivalComparison",
    "compare_with_encals",
    "expected_survival",
    "kaplan_meier",
    "observed_vs_expected",
    "poisson_interval",
    "poisson_p_value",
]

CONFIDENCE: Final = 0.95
SUBJECT: Final = "survival follow-up"
KM_METHOD: Final = (
    "Kaplan-Meier from enrollment (lifelines KaplanMeierFitter); pointwise intervals by the "
    "exponential Greenwood (log(-log)) formula"
)
EXPECTED_METHOD: Final = (
    "ENCALS direct-adjusted survival conditional on survival to enrollment: mean of S(T0+t)/S(T0)"
)
OE_METHOD: Final = (
    "observed events against ENCALS expected events over each patient's follow-up, "
    "E = sum of cumulative-hazard increments; exact Poisson (Garwood) interval and two-sided p-value"
)
CAVEATS: Final = (
    "ENCALS predicts survival from symptom onset; only curves conditional on each patient's survival "
    "to enrollment are compared (clinical.md §5.5).",
    "An observed-to-expected ratio near 1 in a small series says little: the interval is wide.",
    "The model's calibration outside its development cohorts is unknown, and which survival scale "
    "the paper used is unverified (clinical.md §5.4).",
    "A single-arm series differs from the model's cohorts in selection as well as treatment; "
    "a difference from the expectation is not evidence that the treatment works.",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUp:
    """One patient followed from enrollment for death, tracheostomy or permanent ventilation."""

    onset_to_enrollment_months: float
    """T0: months from symptom onset to enrollment (> 0)."""
    follow_up_months: float
    """f: months from enrollment to the event, or to the last time known event-free (>= 0)."""
    event: bool
    """True when the event happened at ``follow_up_months``; False when censored there."""
    encals_lp: float | None = None
    """The ENCALS linear predictor; None when a predictor is missing (left out of the expected side)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KaplanMeier:
    """A Kaplan-Meier step function: S(t) is ``survival[i]`` for ``months[i] <= t < months[i + 1]``."""

    months: tuple[float, ...]
    """Months from enrollment: 0 and every distinct follow-up time, ascending."""
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    at_risk: tuple[int, ...]
    """Patients still followed just before each time."""
    events: tuple[int, ...]
    censored: tuple[int, ...]
    median_months: float | None
    """The first time at which S(t) <= 0.5; None when the estimate stays above 0.5 (not reached)."""
    n: int
    confidence: float
    method: str = KM_METHOD

    def survival_at(self, months: float) -> float:
        """S(t) at ``months`` from enrollment (the value of the step containing it)."""
        if not math.isfinite(months) or months < 0:
            raise ValueError(f"months must be a finite number >= 0, got {months}")
        index = int(np.searchsorted(self.months, months, side="right")) - 1
        return self.survival[index]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedCurve:
    """ENCALS expected survival from enrollment of the patients with a prediction."""

    months: tuple[float, ...]
    survival: tuple[float, ...]
    patients: int
    """Patients with a linear predictor: the curve is their average."""
    excluded: int
    """Patients without a linear predictor, left out."""
    scale: SurvivalScale
    method: str = EXPECTED_METHOD


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedExpected:
    """Observed against ENCALS expected events over the patients' own follow-up."""

    observed: int
    expected: float
    ratio: float
    interval: Interval
    """Exact (Garwood) interval of the observed count, divided by ``expected``."""
    p_value: float
    """Two-sided exact Poisson test of O against a Poisson mean of E."""
    patients: int
    excluded: int
    scale: SurvivalScale
    confidence: float
    method: str = OE_METHOD
    caveats: tuple[str, ...] = CAVEATS


@dataclass(frozen=True, slots=True, kw_only=True)
class SurvivalComparison:
    """Kaplan-Meier from enrollment beside the ENCALS expectation for the same patients."""

    observed: KaplanMeier
    """Kaplan-Meier of the patients with a prediction: the same patients as ``expected``."""
    expected: ExpectedCurve
    events: ObservedExpected
    caveats: tuple[str, ...] = CAVEATS


def kaplan_meier(patients: Sequence[FollowUp], *, confidence: float = CONFIDENCE) -> KaplanMeier:
    """The Kaplan-Meier estimate of time from enrollment to the event (product-limit estimator).

    S(t) = Π_{t_j <= t} (1 − d_j / n_j), with d_j events and n_j at risk at time t_j; the pointwise
    interval is exp(−exp(ln(−ln S) ± z·se)), se² = Σ d_j / (n_j (n_j − d_j)) / (ln S)² (exponential
    Greenwood), as lifelines computes it. Patients without an ENCALS prediction are included.

    Raises
    ------
    InvalidInput
        Listing every invalid follow-up (see :class:`FollowUp`).
    InsufficientData
        When there are no patients.
    """
    _check_patients(patients)
    if not patients:
        raise InsufficientData("Kaplan-Meier needs at least one patient followed from enrollment")
    fitter = KaplanMeierFitter().fit(
        np.array([p.follow_up_months for p in patients], dtype=np.float64),
        np.array([p.event for p in patients], dtype=bool),
        alpha=1 - confidence,
    )
    table = fitter.event_table
    bounds = fitter.confidence_interval_survival_function_.to_numpy()
    median = float(fitter.median_survival_time_)
    return KaplanMeier(
        months=_floats(table.index),
        survival=_floats(fitter.survival_function_.iloc[:, 0]),
        lower=_floats(bounds[:, 0]),
        upper=_floats(bounds[:, 1]),
        at_risk=_ints(table["at_risk"]),
        events=_ints(table["observed"]),
        censored=_ints(table["censored"]),
        median_months=median if math.isfinite(median) else None,
        n=len(patients),
        confidence=confidence,
    )


def expected_survival(
    patients: Sequence[FollowUp],
    *,
    months: Sequence[float],
    scale: SurvivalScale = SurvivalScale.ODDS,
) -> ExpectedCurve:
    """The ENCALS survival from enrollment expected for these patients, at each of ``months``.

    S̄(t) = (1/n) Σ_i S(T0_i + t | LP_i) / S(T0_i | LP_i) over the n patients with a linear predictor
    (clinical.md §5.5: conditional on survival to enrollment; never the from-onset curve).

    Raises
    ------
    InvalidInput
        Listing every invalid follow-up; or when the model gives a patient no survival to enrollment.
    InsufficientData
        When no patient has a linear predictor.
    ValueError
        When a time in ``months`` is negative or not finite.
    """
    _check_patients(patients)
    grid = np.asarray(months, dtype=np.float64)
    if not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"months must be finite numbers >= 0, got {list(months)}")
    predicted = _with_prediction(patients)
    curves = _conditional_survival(predicted, grid, scale)
    return ExpectedCurve(
        months=_floats(grid),
        survival=_floats(np.mean(curves, axis=0)),
        patients=len(predicted),
        excluded=len(patients) - len(predicted),
        scale=scale,
    )


def observed_vs_expected(
    patients: Sequence[FollowUp],
    *,
    scale: SurvivalScale = SurvivalScale.ODDS,
    confidence: float = CONFIDENCE,
) -> ObservedExpected:
    """Observed events against the number ENCALS expects over each patient's own follow-up.

    E = Σ_i [Λ_i(T0_i + f_i) − Λ_i(T0_i)] with Λ = −ln S: ln(1 + exp(s(ln t) + LP)) on the odds scale,
    exp(s(ln t) + LP) on the hazard scale (clinical.md §5.4). O counts the events of the same patients
    (those with a linear predictor). O/E has the interval [L, U] / E with the exact Poisson limits of
    :func:`poisson_interval`, and the p-value of :func:`poisson_p_value`; the two agree (the interval
    leaves out 1 exactly when p < 1 − confidence).

    An O/E near 1 in a small series says little, and the model's calibration outside its development
    cohorts is unknown; a ratio below 1 in a single-arm series is not evidence of efficacy.

    Raises
    ------
    InvalidInput
        Listing every invalid follow-up.
    InsufficientData
        When no patient has a linear predictor, or the expected count is zero (no follow-up time).
    """
    _check_patients(patients)
    predicted = _with_prediction(patients)
    lps = np.array([lp for _, lp in predicted])
    since = np.array([p.onset_to_enrollment_months for p, _ in predicted])
    until = np.array([p.onset_to_enrollment_months + p.follow_up_months for p, _ in predicted])
    expected = math.fsum(
        (_cumulative_hazard(lps, until, scale) - _cumulative_hazard(lps, since, scale)).tolist()
    )
    if expected <= 0:
        raise InsufficientData(
            "ENCALS expects no events over zero follow-up; observed against expected needs follow-up time"
        )
    observed = sum(p.event for p, _ in predicted)
    count = poisson_interval(observed, confidence=confidence)
    return ObservedExpected(
        observed=observed,
        expected=expected,
        ratio=observed / expected,
        interval=Interval(count.low / expected, count.high / expected),
        p_value=poisson_p_value(observed, expected),
        patients=len(predicted),
        excluded=len(patients) - len(predicted),
        scale=scale,
        confidence=confidence,
    )


def compare_with_encals(
    patients: Sequence[FollowUp],
    *,
    months: Sequence[float],
    scale: SurvivalScale = SurvivalScale.ODDS,
    confidence: float = CONFIDENCE,
) -> SurvivalComparison:
    """Kaplan-Meier, expected curve and O/E, all for the patients with an ENCALS prediction.

    Raises
    ------
    InvalidInput, InsufficientData, ValueError
        As :func:`expected_survival` and :func:`observed_vs_expected`.
    """
    expected = expected_survival(patients, months=months, scale=scale)
    return SurvivalComparison(
        observed=kaplan_meier([p for p, _ in _with_prediction(patients)], confidence=confidence),
        expected=expected,
        events=observed_vs_expected(patients, scale=scale, confidence=confidence),
    )


# ---------------------------------------------------------------- ENCALS for a whole cohort at once
#
# encals computes one patient at a time; these compute every patient (and time) at once with the same
# operations in the same order, so the numbers are the same to the last bit. Sums, differences and
# products are numpy's (IEEE, as Python's); logarithms, powers and exponentials go through Python's
# math one value at a time, because numpy's own may differ from it in the last bit.


def _cumulative_hazard(
    lps: NDArray[np.float64], months_since_onset: NDArray[np.float64], scale: SurvivalScale
) -> NDArray[np.float64]:
    """Λ(t) = −ln S(t | LP) from onset, computed without forming S (no underflow for large Λ)."""
    z = _baseline(_each(math.log, months_since_onset)) + lps
    if scale is SurvivalScale.HAZARD:
        return _each(math.exp, z)
    return np.asarray(np.logaddexp(0.0, z), dtype=np.float64)


def _conditional_survival(
    predicted: Sequence[tuple[FollowUp, float]], grid: NDArray[np.float64], scale: SurvivalScale
) -> NDArray[np.float64]:
    """encals.conditional_survival(LP, T0 + t, T0) of each patient (rows) at each time t (columns)."""
    lps = np.array([lp for _, lp in predicted])
    since = np.array([p.onset_to_enrollment_months for p, _ in predicted])
    later = since[:, None] + grid[None, :]
    at_enrollment = _survival_from_onset(lps, since, scale)
    if not (np.all(np.isfinite(later)) and np.all(at_enrollment > 0.0)):
        # encals refuses these, saying why: let it
        return np.array([[encals.conditional_survival(lp, p.onset_to_enrollment_months + t,
                                                      p.onset_to_enrollment_months, scale=scale)
                          for t in grid.tolist()] for p, lp in predicted])  # fmt: skip
    return _survival_from_onset(lps[:, None], later, scale) / at_enrollment[:, None]


def _survival_from_onset(
    lps: NDArray[np.float64], months_since_onset: NDArray[np.float64], scale: SurvivalScale
) -> NDArray[np.float64]:
    """encals.survival at every value: S = expit(−z) on the odds scale, exp(−exp(z)) on the hazard
    scale, z = s(ln t) + LP (clinical.md §5.4)."""
    z = _baseline(_each(math.log, months_since_onset)) + lps
    if scale is SurvivalScale.HAZARD:
        return _each(_hazard_survival, z)
    return np.asarray(expit(-z), dtype=np.float64)


def _hazard_survival(z: float) -> float:
    return math.exp(-math.exp(min(z, 700.0)))  # exp(700) is finite; beyond, S is 0 anyway


def _baseline(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """encals.BASELINE at every value: s(x) = γ0 + γ1·x + γ2·v1(x) + γ3·v2(x), with
    v_j(x) = (x − k_j)³₊ − λ_j (x − k_min)³₊ − (1 − λ_j)(x − k_max)³₊, λ_j = (k_max − k_j)/(k_max − k_min)."""
    g0, g1, g2, g3 = encals.BASELINE.gamma
    k_min, k1, k2, k_max = encals.BASELINE.knots
    from_min, from_max = _cube_plus(x - k_min), _cube_plus(x - k_max)

    def basis(k_j: float) -> NDArray[np.float64]:
        lam = (k_max - k_j) / (k_max - k_min)
        return _cube_plus(x - k_j) - lam * from_min - (1 - lam) * from_max

    return np.asarray(g0 + g1 * x + g2 * basis(k1) + g3 * basis(k2), dtype=np.float64)


def _cube_plus(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """u³ where u > 0, else 0: Python's u**3 (C's pow(u, 3.0)), as encals computes it."""
    cubes = np.zeros_like(u)
    positive = u > 0
    values = u[positive].tolist()
    cubes[positive] = np.fromiter(
        map(pow, values, itertools.repeat(3.0)), dtype=np.float64, count=len(values)
    )
    return cubes


def _each(function: Callable[[float], float], values: NDArray[np.float64]) -> NDArray[np.float64]:
    """``function`` of each value, through Python floats, in the shape of ``values``."""
    flat = values.ravel().tolist()
    return np.fromiter(map(function, flat), dtype=np.float64, count=len(flat)).reshape(values.shape)


def _with_prediction(patients: Sequence[FollowUp]) -> list[tuple[FollowUp, float]]:
    """The patients with a linear predictor, each with it (typed as a float)."""
    predicted = [(p, p.encals_lp) for p in patients if p.encals_lp is not None]
    if not predicted:
        raise InsufficientData(
            f"none of the {len(patients)} patients has an ENCALS linear predictor; "
            "record the missing predictors to compare survival with the model"
        )
    return predicted


def _check_patients(patients: Sequence[FollowUp]) -> None:
    problems: list[Problem] = []
    for i, patient in enumerate(patients):
        where = f"patients[{i}]"
        t0, f, lp = patient.onset_to_enrollment_months, patient.follow_up_months, patient.encals_lp
        if not (math.isfinite(t0) and t0 > 0):
            problems.append(
                Problem(f"{where}.onset_to_enrollment_months", f"must be > 0, got {t0}")
            )
        if not (math.isfinite(f) and f >= 0):
            problems.append(Problem(f"{where}.follow_up_months", f"must be >= 0, got {f}"))
        if lp is not None and not math.isfinite(lp):
            problems.append(Problem(f"{where}.encals_lp", f"must be a finite number, got {lp}"))
    if problems:
        raise InvalidInput(problems, subject=SUBJECT)


def _floats(values: object) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=np.float64))


def _ints(values: object) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(values, dtype=np.int64))
