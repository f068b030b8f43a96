"""The ENCALS survival prediction model (Westeneng 2018): linear predictor, survival, median.

The model predicts the time from **symptom onset** to death, tracheostomy or non-invasive ventilation
for more than 23 h/day (clinical.md §5.1). Predictors are transformed (§5.2), weighted by one of two
coefficient sets (§5.3) into a linear predictor LP without intercept, and combined with a
Royston-Parmar restricted cubic spline baseline on log-months (§5.4)::

    x      = ln(t),  t in months since onset
    s(x)   = γ0 + γ1·x + γ2·v1(x) + γ3·v2(x)
    v_j(x) = (x − k_j)₊³ − λ_j·(x − k_min)₊³ − (1 − λ_j)·(x − k_max)₊³,  λ_j = (k_max − k_j)/(k_max − k_min)
    S(t | LP) = 1 / (1 + exp(s(ln t) + LP))       odds scale (default)
    S(t | LP) = exp(−exp(s(ln t) + LP))           hazard scale (alternative)

The last basis term is cubed (clinical.md §5.5, warning 1); the median is solved exactly, not drawn at
random (warning 2); ΔFS is passed as a positive decline (warning 3). Which scale the paper used is
unverified, so the scale is an argument and must be named beside every prediction, with the
coefficient set (:attr:`CoefficientSet.name`).

References
----------
Westeneng H-J et al. Prognosis for patients with amyotrophic lateral sclerosis: development and
validation of a personalised prediction model. Lancet Neurol 2018;17:423-433.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from numbers import Real
from typing import Final

from scipy.optimize import brentq
from scipy.special import expit

from alscell.errors import InvalidInput, Problem

__all__ = [
    "BASELINE",
    "WITHOUT_C9ORF72",
    "WITH_C9ORF72",
    "BaselineSpline",
    "CoefficientSet",
    "SurvivalScale",
    "coefficient_set_for",
    "conditional_survival",
    "linear_predictor",
    "median_survival_months",
    "survival",
]

DELTA_FS_FLOOR: Final = -0.1
"""ΔFS must exceed this: the slope transform is (ΔFS + 0.1)^−0.5 (clinical.md §5.2, §5.5)."""

MAX_MEDIAN_SEARCH_MONTHS: Final = 1200.0
"""Upper end of the median search (100 years); beyond it the median is reported as not reached."""


class SurvivalScale(StrEnum):
    """How the spline and LP map to survival (clinical.md §5.4); the odds scale is the default."""

    ODDS = "odds"
    HAZARD = "hazard"


@dataclass(frozen=True, slots=True)
class CoefficientSet:
    """Named ENCALS coefficients for the transformed predictors (clinical.md §5.3)."""

    name: str
    source: str
    slope: float
    diagnostic_delay: float
    age: float
    vital_capacity: float
    bulbar_onset: float
    definite_el_escorial: float
    ftd: float
    c9orf72: float | None


WITHOUT_C9ORF72: Final = CoefficientSet(
    name="encals-without-c9orf72",
    source="TRICALS risk-profile code (clinical.md §5.3, VERIFIED-1; check against the paper's Table 2)",
    slope=-1.839, diagnostic_delay=-2.376, age=-0.264, vital_capacity=0.474,
    bulbar_onset=0.271, definite_el_escorial=0.238, ftd=0.415, c9orf72=None,
)  # fmt: skip
WITH_C9ORF72: Final = CoefficientSet(
    name="encals-with-c9orf72",
    source="encals_beta_function code (clinical.md §5.3, VERIFIED-1; check against the paper's Table 2)",
    slope=-1.837, diagnostic_delay=-2.373, age=-0.267, vital_capacity=0.477,
    bulbar_onset=0.269, definite_el_escorial=0.233, ftd=0.388, c9orf72=0.256,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BaselineSpline:
    """Royston-Parmar restricted cubic spline s(x) on x = ln(months) with two interior knots."""

    gamma: tuple[float, float, float, float]
    knots: tuple[float, float, float, float]  # k_min, k1, k2, k_max on ln-months

    def __call__(self, x: float) -> float:
        """s(x) = γ0 + γ1·x + γ2·v1(x) + γ3·v2(x) (clinical.md §5.4)."""
        g0, g1, g2, g3 = self.gamma
        _, k1, k2, _ = self.knots
        return g0 + g1 * x + g2 * self._basis(x, k1) + g3 * self._basis(x, k2)

    def _basis(self, x: float, k_j: float) -> float:
        k_min, _, _, k_max = self.knots
        lam = (k_max - k_j) / (k_max - k_min)
        return _cube_plus(x - k_j) - lam * _cube_plus(x - k_min) - (1 - lam) * _cube_plus(x - k_max)


BASELINE: Final = BaselineSpline(
    gamma=(-6.409, 2.643, -0.546, 0.585), knots=(0.081, 3.108, 3.638, 5.917)
)
"""Westeneng 2018 baseline as in the public code (clinical.md §5.4, VERIFIED-1)."""


def coefficient_set_for(c9orf72: bool | None) -> CoefficientSet:
    """The set :func:`linear_predictor` uses: with C9orf72 when the status is known, else without."""
    return WITHOUT_C9ORF72 if c9orf72 is None else WITH_C9ORF72


def linear_predictor(
    *,
    age_at_onset_years: float,
    delta_fs: float,
    diagnostic_delay_months: float,
    vital_capacity_percent: float,
    bulbar_onset: bool,
    definite_el_escorial: bool,
    ftd: bool,
    c9orf72: bool | None = None,
) -> float:
    """ENCALS linear predictor LP = Σ β × transformed predictor, no intercept (clinical.md §5.2, §5.3).

    Transformations: tSLOPE = (ΔFS + 0.1)^−0.5; tDX = (D/10)^−0.5 + ln(D/10) with D the diagnostic
    delay in months; tAGE = (A/100)^−2 with A the age at onset; tVC = (V/100)^−1 + (V/100)^−0.5 with V
    the vital capacity in % predicted. Binary predictors enter as 0/1. The coefficient set is
    :data:`WITH_C9ORF72` when ``c9orf72`` is given, else :data:`WITHOUT_C9ORF72`
    (see :func:`coefficient_set_for`). A lower LP means longer predicted survival.

    Raises
    ------
    InvalidInput
        Listing every problem: ΔFS not above −0.1; age, delay or vital capacity not positive; any
        number not finite; a binary predictor not True/False (or 0/1). Invalid values are rejected,
        never clipped.
    """
    problems = [
        *_check_number("age_at_onset_years", age_at_onset_years, above=0.0),
        *_check_number("delta_fs", delta_fs, above=DELTA_FS_FLOOR),
        *_check_number("diagnostic_delay_months", diagnostic_delay_months, above=0.0),
        *_check_number("vital_capacity_percent", vital_capacity_percent, above=0.0),
        *_check_binary("bulbar_onset", bulbar_onset),
        *_check_binary("definite_el_escorial", definite_el_escorial),
        *_check_binary("ftd", ftd),
        *([] if c9orf72 is None else _check_binary("c9orf72", c9orf72)),
    ]
    if problems:
        raise InvalidInput(problems, subject="ENCALS predictors")
    beta = coefficient_set_for(c9orf72)
    dx = diagnostic_delay_months / 10
    vc = vital_capacity_percent / 100
    lp = (
        beta.slope * (delta_fs + 0.1) ** -0.5
        + beta.diagnostic_delay * (dx**-0.5 + math.log(dx))
        + beta.age * (age_at_onset_years / 100) ** -2
        + beta.vital_capacity * (vc**-1 + vc**-0.5)
        + beta.bulbar_onset * int(bulbar_onset)
        + beta.definite_el_escorial * int(definite_el_escorial)
        + beta.ftd * int(ftd)
    )
    if beta.c9orf72 is not None and c9orf72 is not None:
        lp += beta.c9orf72 * int(c9orf72)
    return float(lp)


def survival(
    lp: float, months_since_onset: float, *, scale: SurvivalScale = SurvivalScale.ODDS
) -> float:
    """Predicted probability of being event-free ``months_since_onset`` months after onset (§5.4).

    Raises
    ------
    InvalidInput
        If ``lp`` is not finite or ``months_since_onset`` is not a positive finite number.
    """
    _require([*_check_lp(lp), *_check_number("months_since_onset", months_since_onset, above=0.0)])
    return _survival(BASELINE(math.log(months_since_onset)) + lp, scale)


def median_survival_months(
    lp: float,
    *,
    scale: SurvivalScale = SurvivalScale.ODDS,
    max_months: float = MAX_MEDIAN_SEARCH_MONTHS,
) -> float | None:
    """Months from onset at which predicted survival is exactly 0.5; None if not reached (§5.5).

    Solves s(ln t) = −LP (odds scale) or s(ln t) = ln(ln 2) − LP (hazard scale). Below the first knot
    the spline is linear, so the root there is closed-form; elsewhere it is found by Brent's method on
    ln(t) to machine precision. s increases with x for the published coefficients, so the root is
    unique. Returns None ("not reached") when survival is still above 0.5 at ``max_months``.

    Raises
    ------
    InvalidInput
        If ``lp`` is not finite or ``max_months`` is not a positive finite number.
    """
    _require([*_check_lp(lp), *_check_number("max_months", max_months, above=0.0)])
    target = (math.log(math.log(2)) if scale is SurvivalScale.HAZARD else 0.0) - lp
    g0, g1 = BASELINE.gamma[:2]
    k_min = BASELINE.knots[0]
    x_max = math.log(max_months)
    if target <= BASELINE(k_min):
        x = (target - g0) / g1  # s is linear below k_min: no search needed
        return math.exp(x) if x <= x_max else None
    if BASELINE(x_max) < target:
        return None
    root: float = brentq(lambda x: BASELINE(x) - target, k_min, x_max, xtol=1e-14, rtol=1e-15)
    return math.exp(root)


def conditional_survival(
    lp: float,
    months_since_onset: float,
    months_already_survived: float,
    *,
    scale: SurvivalScale = SurvivalScale.ODDS,
) -> float:
    """Predicted survival to ``months_since_onset`` given survival to ``months_already_survived``.

    S(t | alive at T0) = S(t) / S(T0) for t >= T0, both counted in months from onset
    (clinical.md §5.5): use it to compare a cohort followed from enrollment (T0 = onset to enrollment)
    with the model, never the unconditional from-onset curve.

    Raises
    ------
    InvalidInput
        If ``lp`` is not finite, a time is not a positive finite number, ``months_since_onset`` is
        before ``months_already_survived``, or the model gives no survival at all to T0.
    """
    _require(
        [
            *_check_lp(lp),
            *_check_number("months_since_onset", months_since_onset, above=0.0),
            *_check_number("months_already_survived", months_already_survived, above=0.0),
        ]
    )
    if months_since_onset < months_already_survived:
        rule = f"must be >= months_already_survived ({months_already_survived}), got {months_since_onset}"
        raise InvalidInput([Problem("months_since_onset", rule)], subject="ENCALS query")
    survived = survival(lp, months_already_survived, scale=scale)
    if survived == 0.0:
        rule = "the model gives no survival to this time, so survival beyond it is undefined"
        raise InvalidInput([Problem("months_already_survived", rule)], subject="ENCALS query")
    return survival(lp, months_since_onset, scale=scale) / survived


def _survival(z: float, scale: SurvivalScale) -> float:
    if scale is SurvivalScale.HAZARD:
        return math.exp(-math.exp(min(z, 700.0)))  # exp(700) is finite; beyond, S is 0 anyway
    return float(expit(-z))


def _cube_plus(u: float) -> float:
    return u**3 if u > 0 else 0.0


def _check_number(name: str, value: object, *, above: float) -> list[Problem]:
    if isinstance(value, bool) or not isinstance(value, Real):
        return [Problem(name, f"must be a number, got {value!r}")]
    number = float(value)
    if not math.isfinite(number) or not number > above:
        return [Problem(name, f"must be a finite number > {above:g}, got {value!r}")]
    return []


def _check_binary(name: str, value: object) -> list[Problem]:
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return []
    return [Problem(name, f"must be True or False (1 or 0), got {value!r}")]


def _check_lp(lp: object) -> list[Problem]:
    if isinstance(lp, bool) or not isinstance(lp, Real) or not math.isfinite(lp):
        return [Problem("lp", f"must be a finite number, got {lp!r}")]
    return []


def _require(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(problems, subject="ENCALS query")
