"""What every benchmark reports: lines of one table, each a measure of alscell against a reference.

Machines here are shared and noisy, so no figure is judged alone: each line sets alscell's measure
beside a reference measured in the same run (a library doing the same work, or the I/O floor), and
states the ratio and its target. A missed speed target is reported, never raised; a wrong *result*
raises :class:`CorrectnessError`, which makes ``make bench`` exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.table import Table

T = TypeVar("T")

__all__ = [
    "CorrectnessError", "Line", "Measure", "best_of", "peak_mb", "print_lines", "section_main", "timed",
]  # fmt: skip


class CorrectnessError(Exception):
    """A benchmark's result disagrees with its reference (or with what must hold): not a speed miss."""


@dataclass(frozen=True, slots=True)
class Measure:
    """One measured figure: ``value`` in ``unit`` (``s`` for seconds, ``req/s`` for throughput…)."""

    value: float
    unit: str = "s"

    def text(self) -> str:
        if self.unit == "s":
            if self.value < 0.1:
                return f"{self.value * 1e3:.2f} ms"
            return f"{self.value:.3f} s" if self.value < 10 else f"{self.value:.1f} s"
        if self.unit == "MB":
            return f"{self.value:,.0f} MB"
        return f"{self.value:,.0f} {self.unit}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One line of the table.

    ``ratio`` is expressed the way its target reads (``ratio_means`` says how, e.g. "MixedLM time /
    alscell time"); ``met`` is None when there is no target yet.
    """

    what: str
    size: str
    alscell: Measure
    reference_name: str = ""
    reference: Measure | None = None
    ratio: float | None = None
    ratio_means: str = ""
    target: str = "none yet"
    met: bool | None = None
    detail: str = ""

    def as_data(self) -> dict[str, object]:
        return {
            "what": self.what,
            "size": self.size,
            "alscell": {"value": self.alscell.value, "unit": self.alscell.unit},
            "reference_name": self.reference_name,
            "reference": None
            if self.reference is None
            else {"value": self.reference.value, "unit": self.reference.unit},
            "ratio": self.ratio,
            "ratio_means": self.ratio_means,
            "target": self.target,
            "met": self.met,
            "detail": self.detail,
        }


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of one call, and its result."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def best_of(runs: int, work: Callable[[], T]) -> tuple[float, T]:
    """The shortest of ``runs`` wall-clock times (noise only ever adds time), and the last result."""
    best, result = float("inf"), None
    for _ in range(max(runs, 1)):
        seconds, result = timed(work)
        best = min(best, seconds)
    return best, result  # type: ignore[return-value]


def peak_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def section_main(run: Callable[[bool], list[Line]]) -> None:
    """The command line of one benchmark module: ``python -m benchmarks.<name> [--quick] [--json F]``.

    Prints the module's lines, writes them as JSON to ``--json`` (for :mod:`benchmarks.run`), and exits
    1 when a correctness check failed (after writing what was measured before it).
    """
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run, not figures"
    )
    parser.add_argument("--json", type=Path, help="write the lines here as JSON")
    options = parser.parse_args()
    lines: list[Line] = []
    failure = None
    try:
        lines = run(options.quick)
    except CorrectnessError as error:
        failure = str(error)
    if options.json is not None:
        data = {"lines": [line.as_data() for line in lines], "correctness_failure": failure}
        options.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print_lines(lines)
    if failure is not None:
        sys.stderr.write(f"CORRECTNESS CHECK FAILED: {failure}\n")
        raise SystemExit(1)


def print_lines(
    lines: list[Line], title: str = "alscell against its references (same run)"
) -> None:
    table = Table(title=title, show_lines=False)
    for column in ("what", "size", "alscell", "reference", "ratio", "target", "met"):
        table.add_column(column, justify="left" if column in ("what", "size") else "right")
    for line in lines:
        reference = (
            "" if line.reference is None else f"{line.reference_name}: {line.reference.text()}"
        )
        ratio = "" if line.ratio is None else f"{line.ratio:,.2f} ({line.ratio_means})"
        met = {True: "yes", False: "NO", None: "-"}[line.met]
        table.add_row(line.what, line.size, line.alscell.text(), reference, ratio, line.target, met)
    console = Console(width=200)
    console.print(table)
    for line in lines:
        if line.detail:
            console.print(f"[bold]{line.what}[/] ({line.size}): {line.detail}")
