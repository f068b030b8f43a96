"""Exact intervals and tests for counts: binomial (Clopper-Pearson) and Poisson (Garwood).

Every proportion and rate alscell reports carries one of these 95% intervals (clinical.md §7, §9); they
are exact, so they stay honest for the small series a clinic's program produces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from scipy.stats import beta, chi2, poisson

__all__ = ["CONFIDENCE", "Interval", "clopper_pearson", "poisson_interval", "poisson_p_value"]

CONFIDENCE: Final = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    """A 95% interval."""

    low: float
    high: float


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval:
    """The exact (Clopper-Pearson) interval of a binomial proportion.

    low = Beta(a/2; k, n − k + 1), high = Beta(1 − a/2; k + 1, n − k) for a = 1 − confidence, with 0
    and 1 at the edges (the quantile of Beta(p, q) at level x written Beta(x; p, q)).
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(
            f"need 0 <= successes <= trials and trials > 0, got {successes} of {trials}"
        )
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = (
        1.0
        if successes == trials
        else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    )
    return Interval(low, high)


def poisson_interval(count: int, *, confidence: float = CONFIDENCE) -> Interval:
    """The exact (Garwood) interval of a Poisson mean from an observed ``count``.

    low = χ²(a/2; 2k) / 2 (0 when k = 0), high = χ²(1 − a/2; 2(k + 1)) / 2, for a = 1 − confidence
    and χ²(x; df) the quantile at level x of the chi-square distribution with df degrees of freedom.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a whole number >= 0, got {count!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    alpha = 1 - confidence
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    return Interval(low, float(chi2.ppf(1 - alpha / 2, 2 * (count + 1))) / 2)


def poisson_p_value(observed: int, expected: float) -> float:
    """Two-sided exact Poisson p-value of ``observed`` events against a mean of ``expected``.

    p = min(1, 2 · min(P(X <= O), P(X >= O))) for X ~ Poisson(E): twice the smaller tail, the test
    that the Garwood interval inverts.
    """
    if isinstance(observed, bool) or not isinstance(observed, int) or observed < 0:
        raise ValueError(f"observed must be a whole number >= 0, got {observed!r}")
    if not math.isfinite(expected) or expected <= 0:
        raise ValueError(f"expected must be a finite number > 0, got {expected}")
    lower_tail = float(poisson.cdf(observed, expected))
    upper_tail = float(poisson.sf(observed - 1, expected))
    return min(1.0, 2 * min(lower_tail, upper_tail))
