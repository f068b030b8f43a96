"""Benchmark: CAFS scores by sorting (alscell.domain.stats.cafs.scores) against the pairwise definition.

The fast path sorts once, O(n log n): ten times the patients should cost about 10-13 times as much.
The pairwise reference (cafs.pairwise_scores) is O(n²): ten times the patients, a hundred times the
cost, so it is timed only at 1,000 and 3,000 patients. Cohorts have many ties (deaths at whole
months, integer changes) and 10% excluded patients. Run with ``make bench``; takes well under a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from alscell.domain.stats import cafs

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


def milliseconds(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1e3:,.2f}"


def main() -> None:
    rng = np.random.default_rng(2013)
    cohorts = {n: cohort(n, rng) for n in FAST_SIZES}
    fast = {n: best_seconds(cafs.scores, cohorts[n], BUDGET_SECONDS) for n in FAST_SIZES}
    pairwise: dict[int, float] = {}
    for n in PAIRWISE_SIZES:
        pairwise[n] = best_seconds(cafs.pairwise_scores, cohorts[n], 0.0)
        if not np.array_equal(
            cafs.scores(cohorts[n]), cafs.pairwise_scores(cohorts[n]), equal_nan=True
        ):
            raise SystemExit(f"fast and pairwise scores differ at n = {n}")

    table = Table(title="CAFS scores: sort-and-count against the pairwise definition")
    for column in (
        "patients",
        "fast (ms)",
        "pairwise (ms)",
        "pairwise / fast",
        "fast growth per 10×",
    ):
        table.add_column(column, justify="right")
    for n in FAST_SIZES:
        slow = pairwise.get(n)
        ratio = "" if slow is None else f"{slow / fast[n]:,.0f}×"
        growth = f"{fast[n] / fast[n // 10]:.1f}×" if n // 10 in fast else ""
        table.add_row(f"{n:,}", milliseconds(fast[n]), milliseconds(slow), ratio, growth)
    console = Console()
    console.print(table)
    console.print(
        "Fast growth per 10× patients: about 10-13× is n log n, 100× would be quadratic; below "
        "10,000 patients the fixed cost of each numpy call dominates, so growth there is smaller.\n"
        f"Pairwise 1,000 → 3,000 patients: {pairwise[3_000] / pairwise[1_000]:.1f}× (9× is quadratic)."
    )


if __name__ == "__main__":
    main()
