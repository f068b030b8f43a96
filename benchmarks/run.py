"""``make bench``: every benchmark, each in its own process, then one table and one JSON file.

Each section (a module of this package with a ``run(quick)`` function) runs in a fresh Python process,
so the peak memory one reports is its own and no section warms another's caches. The combined table is
printed at the end and written to ``bench-results.json`` (or ``--json``), with the machine, Python and
time of the run. Exits 1 if any section's correctness check failed; a missed speed target only shows as
"NO" in the table.

    .venv/bin/python -m benchmarks.run [--quick] [--only NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Line, Measure, print_lines

SECTIONS = (
    "bench_import_time",
    "bench_mixed_model",
    "bench_cafs",
    "bench_evaluation",
    "bench_proact_import",
    "bench_api",
    "bench_reports",
)
"""In order of run; each is ``benchmarks/<name>.py``."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run, not figures"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    options = parser.parse_args()
    lines: list[Line] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in options.only or SECTIONS:
        section_lines, error = _run_section(name, quick=options.quick)
        lines += section_lines
        if error:
            failed.append(f"{name}: {error}")
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "quick": options.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "lines": [line.as_data() for line in lines],
        "failures": failed,
    }
    options.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_lines(lines, title="make bench: alscell against references measured in the same run")
    sys.stdout.write(f"Written to {options.json}.\n")
    if failed:
        sys.stderr.write("Correctness checks failed:\n" + "\n".join(failed) + "\n")
        raise SystemExit(1)


def _run_section(name: str, *, quick: bool) -> tuple[list[Line], str | None]:
    """Run ``benchmarks.<name>`` in its own process; its lines, and its failure (None if it passed)."""
    sys.stdout.write(f"\n=== {name} ===\n")
    sys.stdout.flush()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "lines.json"
        command = [sys.executable, "-m", f"benchmarks.{name}", "--json", str(out)]
        completed = subprocess.run(command + (["--quick"] if quick else []), check=False)
        if not out.exists():
            return [], f"exited {completed.returncode} without results"
        data = json.loads(out.read_text(encoding="utf-8"))
    lines = [_line(item) for item in data["lines"]]
    error = data["correctness_failure"]
    if error is None and completed.returncode != 0:
        error = f"exited {completed.returncode}"
    return lines, error


def _line(item: dict[str, object]) -> Line:
    def measure(value: object) -> Measure | None:
        return None if not isinstance(value, dict) else Measure(value["value"], value["unit"])

    alscell = measure(item["alscell"])
    assert alscell is not None
    return Line(
        what=str(item["what"]),
        size=str(item["size"]),
        alscell=alscell,
        reference_name=str(item["reference_name"]),
        reference=measure(item["reference"]),
        ratio=item["ratio"] if isinstance(item["ratio"], float | int) else None,
        ratio_means=str(item["ratio_means"]),
        target=str(item["target"]),
        met=item["met"] if isinstance(item["met"], bool) else None,
        detail=str(item["detail"]),
    )


if __name__ == "__main__":
    main()
