"""Benchmark: ``alscell import proact`` against its floor, a pandas read plus the driver's executemany.

A synthetic PRO-ACT cohort (the ``alscell synth`` writer, fixed seed) is written once, in a child
process. Then, each in a fresh child process and a fresh migrated SQLite database:

- **alscell**: :class:`~alscell.interop.proact.ProactReader` and
  :func:`~alscell.services.comparators.import_comparator_cohort`, as ``alscell import proact`` runs
  them: every row checked, every bad row reported (file, row, column, rule), one transaction. Its peak
  memory is the child's ru_maxrss, so it counts the import (and Python with its modules), not the
  generator.
- **floor**: ``pandas.read_csv`` of the same five files, the same values mapped with vectorised pandas
  (lower-case sex, onset site, died, age from the birth date when there is no age), and the same rows
  inserted into the same three tables (same schema, same indexes, same pragmas) with the sqlite3
  driver's ``executemany`` in one transaction: the least work that gets these rows from CSV into
  these tables, with no row checked.

Both databases must then hold the rows the files hold: counts per table and sums of a few columns
(subject, delta, subject × delta, items, totals, FVC, ages, deaths) compared with what pandas read, and
the CAFS outcomes query must run on alscell's; otherwise :class:`CorrectnessError`. Targets: alscell's
time at most 4× the floor's, its peak memory under 600 MB. Run from the project folder:
``.venv/bin/python -m benchmarks.bench_proact_import [--quick]``.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from benchmarks.common import CorrectnessError, Line, Measure, peak_mb, section_main, timed

T = TypeVar("T")

QUICK_PATIENTS: Final = 5_000
FULL_PATIENTS: Final = 100_000
SEED: Final = 1
START: Final = date(2020, 1, 6)
TARGET_RATIO: Final = 4.0
TARGET_PEAK_MB: Final = 600.0
MONTHS, WINDOW_DAYS = 6.0, 14  # the CAFS outcomes read back

ITEMS_SUM: Final = (
    "q1 + q2 + q3 + q4 + COALESCE(q5a, 0) + COALESCE(q5b, 0) + q6 + q7 + q8 + q9 + q10"
    " + COALESCE(q11, 0) + COALESCE(q12, 0)"
)
SUBJECT: Final = "CAST(subject_id AS INTEGER)"
CHECKSUMS: Final = {
    "comparator_subjects": f"SELECT COUNT(*), SUM({SUBJECT}), SUM(sex = 'male'), SUM(onset_site = 'bulbar'), "
    "COALESCE(SUM(CAST(ROUND(age_years * 1000) AS INTEGER)), 0), COALESCE(SUM(onset_delta_days), 0), "
    "COALESCE(SUM(diagnosis_delta_days), 0), SUM(died), COALESCE(SUM(death_days), 0) "
    "FROM comparator_subjects",
    "comparator_ratings": f"SELECT COUNT(*), SUM({SUBJECT}), SUM(delta_days), SUM({SUBJECT} * delta_days), "
    f"SUM(total), SUM({ITEMS_SUM}), COUNT(q5b), SUM(form = 'alsfrs_r') FROM comparator_ratings",
    "comparator_fvc": f"SELECT COUNT(*), SUM({SUBJECT}), SUM(delta_days), SUM({SUBJECT} * delta_days), "
    "COALESCE(SUM(CAST(ROUND(percent_predicted * 1000) AS INTEGER)), 0), COUNT(percent_predicted) FROM comparator_fvc",
}  # fmt: skip
"""Per table: the row count and sums of a few columns, as stored (the same figures from pandas below)."""

Checksums = dict[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Run:
    """What one child process measured: seconds in all, the part spent reading (and, for alscell,
    checking) the files, its peak memory and its memory before the work began."""

    seconds: float
    reading: float
    peak_mb: float
    start_mb: float


def run(quick: bool) -> list[Line]:
    patients = QUICK_PATIENTS if quick else FULL_PATIENTS
    runs = 1 if quick else 2
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = root / "proact"
        _in_child(_write_files, patients, files)
        floors: list[Run] = []
        alscells: list[Run] = []
        expected: Checksums = {}
        for attempt in range(runs):  # interleaved, so a busy spell of the machine hits both
            floor, expected = _in_child(_floor, files, root / f"floor{attempt}.sqlite3")
            floors.append(floor)
            alscells.append(_in_child(_alscell, files, root / f"alscell{attempt}.sqlite3"))
        for database in (root / "floor0.sqlite3", root / "alscell0.sqlite3"):
            _check_stored(database, expected)
        outcomes_seconds, outcomes_n = _in_child(_outcomes, root / "alscell0.sqlite3")
    if outcomes_n != patients:
        raise CorrectnessError(f"CAFS outcomes cover {outcomes_n:,} subjects, not {patients:,}")
    return _lines(patients, expected, floors, alscells, outcomes_seconds)


def _lines(patients: int, expected: Checksums, floors: list[Run], alscells: list[Run],
           outcomes_seconds: float) -> list[Line]:  # fmt: skip
    floor = min(floors, key=lambda r: r.seconds)
    alscell = min(alscells, key=lambda r: r.seconds)
    peak = max(r.peak_mb for r in alscells)
    subjects, ratings, fvc = (int(expected[t][0]) for t in CHECKSUMS)
    ratio = alscell.seconds / floor.seconds
    size = f"{patients:,} patients, {ratings:,} ALSFRS-R rows"
    rows = subjects + ratings + fvc
    detail = (
        f"{rows:,} rows ({subjects:,} subjects, {ratings:,} ratings, {fvc:,} FVC); best of {len(floors)}. "
        f"alscell {rows / alscell.seconds:,.0f} rows/s: reading and checking {alscell.reading:.1f} s, "
        f"storing {alscell.seconds - alscell.reading:.1f} s. Floor {rows / floor.seconds:,.0f} rows/s: "
        f"read_csv and mapping {floor.reading:.1f} s, executemany and commit "
        f"{floor.seconds - floor.reading:.1f} s. CAFS outcomes read back in {outcomes_seconds:.1f} s."
    )
    return [
        Line(what="PRO-ACT import", size=size, alscell=Measure(alscell.seconds),
             reference_name="pandas read + executemany", reference=Measure(floor.seconds),
             ratio=ratio, ratio_means="alscell time / floor time", target=f"≤ {TARGET_RATIO:g}",
             met=ratio <= TARGET_RATIO, detail=detail),
        Line(what="PRO-ACT import peak memory", size=size, alscell=Measure(peak, "MB"),
             target=f"< {TARGET_PEAK_MB:g} MB", met=peak < TARGET_PEAK_MB,
             detail=f"peak resident memory of the importing process (ru_maxrss), {alscell.start_mb:.0f} MB "
             "of it before the import began (Python and the modules the import loads)"),
    ]  # fmt: skip


def _in_child(work: Callable[..., T], *arguments: Any) -> T:
    """``work(*arguments)`` in a fresh Python process, so its ru_maxrss is its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(work, *arguments).result()


# ---------------------------------------------------------------- child processes


def _write_files(patients: int, folder: Path) -> None:
    from alscell.cli.synth import write_tables
    from alscell.domain.stats import synthetic as syn
    from alscell.interop.proact import PROACT_TABLES
    from alscell.storage.comparator_files import builtin_natural_history

    spec = syn.CohortSpec(patients=patients, seed=SEED, start=START)
    write_tables(syn.synthesize(builtin_natural_history(), spec), START, [(folder, PROACT_TABLES)])


def _migrated(database: Path) -> None:
    from alscell.storage import migrate
    from alscell.storage.session import make_engine

    engine = make_engine(f"sqlite:///{database}")
    migrate.upgrade(engine)
    engine.dispose()


def _alscell(files: Path, database: Path) -> Run:
    """``alscell import proact FILES`` into ``database``, timed, with the time spent in the reader."""
    from alscell.interop.proact import ProactReader
    from alscell.services.comparators import import_comparator_cohort
    from alscell.storage.session import make_engine, make_session_factory

    _migrated(database)
    engine = make_engine(f"sqlite:///{database}")
    start_mb = peak_mb()
    reading = [0.0]
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        reader = ProactReader(files)
        import_comparator_cohort(session, name="bench", source="benchmark", files=reader.files,
                                 batches=_timed(reader.batches(), reading), by=None, now=datetime.now(UTC))  # fmt: skip
    seconds = time.perf_counter() - started
    engine.dispose()
    return Run(seconds, reading[0], peak_mb(), start_mb)


def _timed(items: Iterable[T], spent: list[float]) -> Iterator[T]:
    """``items``, adding the time spent producing each one to ``spent[0]``."""
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            spent[0] += time.perf_counter() - started
        yield item


def _outcomes(database: Path) -> tuple[float, int]:
    from alscell.services.comparators import get_comparator_outcomes
    from alscell.storage.session import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine)() as session:
        seconds, outcomes = timed(
            lambda: get_comparator_outcomes(
                session, "bench", months=MONTHS, window_days=WINDOW_DAYS
            )
        )
    engine.dispose()
    return seconds, outcomes.n


# ---------------------------------------------------------------- the floor


def _floor(files: Path, database: Path) -> tuple[Run, Checksums]:
    """pandas.read_csv, vectorised mapping and sqlite3 executemany into a migrated ``database``."""
    import pandas  # noqa: F401 - modules are loaded before the clock starts, as alscell's are

    import alscell.interop.proact.mapping  # noqa: F401

    _migrated(database)
    start_mb = peak_mb()
    started = time.perf_counter()
    subjects, ratings, fvc = _frames(files)
    reading = time.perf_counter() - started
    connection = sqlite3.connect(database, isolation_level=None)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = FULL"):  # as alscell's
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("BEGIN IMMEDIATE")
    cohort = connection.execute(
        "INSERT INTO comparator_cohorts (name, source, imported_at, files, subject_count, rating_count,"
        " fvc_count, skipped_count) VALUES ('floor', 'benchmark', ?, '{}', ?, ?, ?, 0)",
        (datetime.now(UTC).isoformat(), len(subjects), len(ratings), len(fvc)),
    ).lastrowid
    for table, frame in (("comparator_subjects", subjects), ("comparator_ratings", ratings),
                         ("comparator_fvc", fvc)):  # fmt: skip
        columns = ["cohort_id", *frame.columns]
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            zip(
                [cohort] * len(frame),
                *(_values(frame[column]) for column in frame.columns),
                strict=True,
            ),
        )
    connection.execute("COMMIT")
    connection.close()
    seconds = time.perf_counter() - started
    return Run(seconds, reading, peak_mb(), start_mb), _frame_checksums(subjects, ratings, fvc)


def _frames(files: Path) -> tuple[Any, Any, Any]:
    """Subjects, ratings and FVC as frames with the stored columns and values."""
    import numpy as np
    import pandas as pd

    from alscell.interop.proact import mapping as m

    def read(name: str, columns: list[str]) -> Any:
        return pd.read_csv(files / name, usecols=columns, dtype={"subject_id": str})

    demographics = read(m.DEMOGRAPHICS, ["subject_id", "Age", "Date_of_Birth", "Sex"])
    history = read(m.HISTORY, ["subject_id", "Site_of_Onset", "Onset_Delta", "Diagnosis_Delta"])
    death = read("PROACT_DEATHDATA.csv", ["subject_id", "Subject_Died", "Death_Days"])
    subjects = pd.DataFrame({"subject_id": demographics["subject_id"]})
    subjects["sex"] = demographics["Sex"].str.strip().str.lower().map(m.SEXES)
    from_birth = np.floor(-demographics["Date_of_Birth"] / m.DAYS_PER_YEAR)
    subjects["age_years"] = demographics["Age"].astype(float).fillna(from_birth)
    history = history.set_index("subject_id").reindex(subjects["subject_id"])
    onset = history["Site_of_Onset"].str.lower().str.removeprefix("onset:").str.strip()
    subjects["onset_site"] = onset.map({k: v.value for k, v in m.ONSETS.items()}).to_numpy()
    subjects["onset_delta_days"] = history["Onset_Delta"].astype("Int64").to_numpy()
    subjects["diagnosis_delta_days"] = history["Diagnosis_Delta"].astype("Int64").to_numpy()
    death = death.set_index("subject_id").reindex(subjects["subject_id"])
    subjects["died"] = death["Subject_Died"].str.strip().str.lower().map(m.YES_NO).to_numpy()
    subjects["death_days"] = death["Death_Days"].astype("Int64").to_numpy()

    items = {**m.ITEM_COLUMNS, "q5a": m.Q5A, **m.ALSFRS_R_ITEMS}
    alsfrs = pd.read_csv(files / "PROACT_ALSFRS.csv", dtype={"subject_id": str},
                         usecols=["subject_id", "ALSFRS_Delta", "ALSFRS_R_Total", *items.values()])  # fmt: skip
    ratings = pd.DataFrame({"subject_id": alsfrs["subject_id"], "delta_days": alsfrs["ALSFRS_Delta"],
                            "form": "alsfrs_r"})  # fmt: skip
    for key in ("q1", "q2", "q3", "q4", "q5a", "q5b", "q6", "q7", "q8", "q9", "q10", "q11", "q12"):
        ratings[key] = alsfrs[items[key]] if key in items else None
    ratings["total"] = alsfrs["ALSFRS_R_Total"]

    fvc = read(
        "PROACT_FVC.csv", ["subject_id", "Forced_Vital_Capacity_Delta", "pct_of_Normal_Trial_1"]
    )
    fvc = fvc.rename(columns={"Forced_Vital_Capacity_Delta": "delta_days",
                              "pct_of_Normal_Trial_1": "percent_predicted"})  # fmt: skip
    return subjects, ratings, fvc[["subject_id", "delta_days", "percent_predicted"]]


def _values(column: Any) -> list[object]:
    """A column as Python values for the driver, missing values (NaN, NA) as None."""
    missing = column.isna()
    if missing.any():
        column = column.astype(object).where(~missing, None)
    return list(column.tolist())


def _frame_checksums(subjects: Any, ratings: Any, fvc: Any) -> Checksums:
    """The figures of :data:`CHECKSUMS`, from the frames pandas read."""

    def common(frame: Any) -> tuple[int, ...]:
        subject = frame["subject_id"].astype("int64")
        delta = frame["delta_days"]
        return len(frame), int(subject.sum()), int(delta.sum()), int((subject * delta).sum())

    subject = subjects["subject_id"].astype("int64")
    keys = ("q1", "q2", "q3", "q4", "q5a", "q5b", "q6", "q7", "q8", "q9", "q10", "q11", "q12")
    items = sum(int(ratings[key].sum()) for key in keys)  # missing items count 0, as COALESCE
    return {
        "comparator_subjects": (
            len(subjects), int(subject.sum()), int((subjects["sex"] == "male").sum()),
            int((subjects["onset_site"] == "bulbar").sum()), _thousandths(subjects["age_years"]),
            int(subjects["onset_delta_days"].sum()), int(subjects["diagnosis_delta_days"].sum()),
            int(subjects["died"].eq(True).sum()), int(subjects["death_days"].sum()),
        ),
        "comparator_ratings": (
            *common(ratings), int(ratings["total"].sum()), int(items), int(ratings["q5b"].notna().sum()),
            int((ratings["form"] == "alsfrs_r").sum()),
        ),
        "comparator_fvc": (
            *common(fvc), _thousandths(fvc["percent_predicted"]),
            int(fvc["percent_predicted"].notna().sum()),
        ),
    }  # fmt: skip


def _thousandths(column: Any) -> int:
    """Sum of the column in whole thousandths, as SQL's ROUND(x * 1000) sums it (exact, unlike floats)."""
    return int((column.dropna() * 1000).round().astype("int64").sum())


def _check_stored(database: Path, expected: Checksums) -> None:
    """CorrectnessError unless ``database`` holds the rows pandas read (counts and column sums)."""
    connection = sqlite3.connect(database)
    try:
        for table, query in CHECKSUMS.items():
            stored = tuple(connection.execute(query).fetchone())
            if stored != expected[table]:
                raise CorrectnessError(
                    f"{database.stem}: {table} holds {stored} (count and column sums), "
                    f"the files {expected[table]}"
                )
    finally:
        connection.close()


if __name__ == "__main__":
    section_main(run)
