"""Benchmark: importing a synthetic PRO-ACT cohort into a temporary SQLite database.

Writes ``--patients`` patients (default 100,000: about 560,000 ALSFRS-R ratings and as many FVC rows)
with the synthetic-cohort generator at a fixed seed, imports them as a comparator cohort, and prints
the time of each step, the rows stored and the peak resident memory of the process (ru_maxrss, which
also counts the generator's own peak). Prints; asserts nothing. Run:
``.venv/bin/python benchmarks/bench_proact_import.py [--patients N]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from alscell.cli.synth import write_tables
from alscell.domain.stats import synthetic as syn
from alscell.interop.proact import PROACT_TABLES, ProactReader
from alscell.services.comparators import get_comparator_outcomes, import_comparator_cohort
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.session import make_engine, make_session_factory

SEED = 1
START = date(2020, 1, 6)


def peak_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    patients = parser.parse_args().patients
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        spec = syn.CohortSpec(patients=patients, seed=SEED, start=START)
        write_tables(
            syn.synthesize(builtin_natural_history(), spec),
            START,
            [(root / "proact", PROACT_TABLES)],
        )
        written = time.perf_counter()
        report(f"wrote {patients:,} patients in {written - started:.1f} s; peak {peak_mb():.0f} MB")
        engine = make_engine(f"sqlite:///{root / 'bench.sqlite3'}")
        migrate.upgrade(engine)
        with make_session_factory(engine)() as session:
            reader = ProactReader(root / "proact")
            cohort = import_comparator_cohort(session, name="bench", source="benchmark", files=reader.files,
                                              batches=reader.batches(), by=None, now=datetime.now(UTC))  # fmt: skip
            imported = time.perf_counter()
            report(f"imported {cohort.subject_count:,} subjects, {cohort.rating_count:,} ratings, "
                   f"{cohort.fvc_count:,} FVC rows in {imported - written:.1f} s "
                   f"({(cohort.rating_count + cohort.fvc_count) / (imported - written):,.0f} visit rows/s); "
                   f"peak {peak_mb():.0f} MB")  # fmt: skip
            outcomes = get_comparator_outcomes(session, "bench", months=6.0, window_days=14)
            report(f"CAFS outcomes of {outcomes.n:,} subjects at 6 months in "
                   f"{time.perf_counter() - imported:.1f} s; peak {peak_mb():.0f} MB")  # fmt: skip
        engine.dispose()


def report(line: str) -> None:
    sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
