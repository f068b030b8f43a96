"""Benchmark: what ``alscell --help`` costs to start, against a bare Python interpreter.

Runs ``python -X importtime -m alscell --help`` and ``python -c pass`` a few times each in fresh
processes (best wall-clock time of each), prints the import cost of the alscell package and the
slowest imports under it, and fails if any library of :data:`alscell.cli.startup.HEAVY_LIBRARIES`
(statsmodels, lifelines, matplotlib, …) was imported: each command loads those when it runs.
"""

from __future__ import annotations

import subprocess
import sys

from alscell.cli.startup import HEAVY_LIBRARIES, imported_modules
from benchmarks.common import CorrectnessError, Line, Measure, best_of, section_main

RUNS = 5


def _run(*arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, check=True
    )
    return completed.stderr


def _cumulative_microseconds(trace: str) -> dict[str, int]:
    """Each module's cumulative import time in µs, from an ``-X importtime`` trace."""
    costs = {}
    for line in trace.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            costs[parts[2].strip()] = int(parts[1])
    return costs


def run(quick: bool) -> list[Line]:
    runs = 2 if quick else RUNS
    help_seconds, trace = best_of(runs, lambda: _run("-X", "importtime", "-m", "alscell", "--help"))
    bare_seconds, _ = best_of(runs, lambda: _run("-c", "pass"))
    loaded = {name.split(".")[0] for name in imported_modules(trace)}
    heavy = sorted(loaded & HEAVY_LIBRARIES)
    costs = _cumulative_microseconds(trace)
    slowest = sorted(
        ((cost, name) for name, cost in costs.items() if name.count(".") <= 2), reverse=True
    )[:6]
    detail = (
        f"-X importtime: alscell.cli {costs.get('alscell.cli', 0) / 1e6:.2f} s cumulative; slowest: "
        + ", ".join(f"{name} {cost / 1e6:.2f} s" for cost, name in slowest)
        + f"; heavy libraries loaded: {', '.join(heavy) or 'none'}"
    )
    line = Line(
        what="alscell --help start-up",
        size="one process",
        alscell=Measure(help_seconds),
        reference_name="python -c pass",
        reference=Measure(bare_seconds),
        ratio=help_seconds / bare_seconds,
        ratio_means="alscell --help / bare interpreter",
        target="no heavy library",
        met=not heavy,
        detail=detail,
    )
    if heavy:
        raise CorrectnessError(f"alscell --help imported {', '.join(heavy)}")
    return [line]


if __name__ == "__main__":
    section_main(run)
