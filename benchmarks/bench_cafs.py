"""Benchmark: CAFS scores by sorting (alscell.domain.stats.cafs.scores) against the pairwise definition.

The fast path sorts once, O(n log n): ten times the patients should cost about 10-13 times as much.
The pairwise reference (cafs.pairwise_scores) is O(n²): ten times the patients, a hundred times the
cost, so it is timed only at 1,000 and 3,000 patients, where both must give the same scores. Cohorts have
many ties (deaths at whole months, integer changes) and 10% excluded patients. The growth exponent is
fitted from 10,000 patients up. Part of ``make bench``; takes well under a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from alscell.domain.stats import cafs
from benchmarks.common import CorrectnessError, Line, Measure, section_main

HORIZON_MONTHS = 12.0
FAST_SIZES = (1_000, 3_000, 10_000, 100_000, 1_000_000)
PAIRWISE_SIZES = (1_000, 3_000)
BUDGET_SECONDS = 1.0  # per fast timing: repeat until spent, keep the best run


def cohort(n: int, rng: np.random.Generator) -> cafs.Outcomes:
    """About 30% deaths at whole months, 60% integer changes, 10% alive without a change."""
    state = rng.choice(3, n, p=[0.3, 0.6, 0.1])
    deaths = np.where(state == 0, rng.integers(0, 13, n).astype(float), np.nan)
    changes = np.where(state == 1, rng.integers(-20, 4, n).astype(float), np.nan)
    return cafs.Outcomes(HORIZON_MONTHS, deaths, changes)


def best_seconds(
    run: Callable[[cafs.Outcomes], NDArray[np.float64]], outcomes: cafs.Outcomes, budget: float
) -> float:
    """The fastest of repeated runs, repeating until ``budget`` seconds are spent (at least once)."""
    best, spent = float("inf"), 0.0
    while spent == 0.0 or spent < budget:
        start = time.perf_counter()
        run(outcomes)
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return best


def run(quick: bool) -> list[Line]:
    rng = np.random.default_rng(2013)
    sizes = FAST_SIZES[:3] if quick else FAST_SIZES
    cohorts = {n: cohort(n, rng) for n in sizes}
    budget = 0.2 if quick else BUDGET_SECONDS
    fast = {n: best_seconds(cafs.scores, cohorts[n], budget) for n in sizes}
    lines = []
    for n in PAIRWISE_SIZES:
        pairwise = best_seconds(cafs.pairwise_scores, cohorts[n], 0.0)
        if not np.array_equal(
            cafs.scores(cohorts[n]), cafs.pairwise_scores(cohorts[n]), equal_nan=True
        ):
            raise CorrectnessError(f"CAFS: fast and pairwise scores differ at n = {n:,}")
        lines.append(
            Line(
                what="CAFS scores (sort and count)",
                size=f"{n:,} patients",
                alscell=Measure(fast[n]),
                reference_name="pairwise definition",
                reference=Measure(pairwise),
                ratio=pairwise / fast[n],
                ratio_means="pairwise time / alscell time",
                detail="scores equal to the pairwise definition's",
            )
        )
    large = [n for n in sizes if n >= (1_000 if quick else 10_000)]
    exponent = float(np.polyfit(np.log(large), np.log([fast[n] for n in large]), 1)[0])
    lines.append(
        Line(
            what="CAFS scores: growth with patients",
            size=" → ".join(f"{n:,}" for n in large) + " patients",
            alscell=Measure(fast[large[-1]]),
            ratio=exponent,
            ratio_means="fitted exponent of n",
            target="≤ 1.15 (not quadratic)",
            met=exponent <= 1.15,
            detail="times: " + ", ".join(f"{n:,}: {fast[n] * 1e3:,.3f} ms" for n in sizes),
        )
    )
    return lines


if __name__ == "__main__":
    section_main(run)
