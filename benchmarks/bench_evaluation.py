"""Benchmark: the whole-cohort evaluation against the I/O floor (pandas reading the same CSV files).

For each size a synthetic cohort (fixed seed) is written in alscell's CSV format, then timed:

- **alscell**: read the files with alscell's reader (``interop.csv.read_csv_dir``, every cell and the
  whole data set checked), build each patient's course (:func:`courses_from_dataset`), evaluate every
  patient and the cohort (``domain.evaluation.evaluate``) and run the standard analyses
  (``domain.analyses.analyse``: mixed model, survival against ENCALS, CAFS, safety). The power
  simulation is left out (``power_simulations=0``), as the issue asks;
- **reference**: ``pandas.read_csv`` of the same files, best of a few runs: the I/O floor.

alscell is timed best of two up to 10,000 patients, once at 100,000; the line of the judged size also
says how long numpy takes just to draw the evaluation's random numbers (:func:`draws_floor`).

Targets: at 10,000 patients alscell takes at most 25 times the pandas read, and the cost grows no
faster than n^1.15 from 1,000 to 100,000 patients (least-squares slope of log time on log n). That
CAFS is not quadratic is benchmarks/bench_cafs.py's line.

The synthetic CSV has no doses. Each patient is given the protocol's four lumbar-puncture
implantations, 7 days apart, from the rating at month 3 (:data:`FIRST_DOSE_DAY`, the baseline), and is
rated at month 0 (a referral rating, so the pre-treatment slope exists), at the baseline, and at the
protocol's follow-up visits 1, 3 and 6 months after the last implantation, then every 3 months to 18
months after it (:func:`visit_months`). Were the doses given from the first rating, no patient would
have a pre-treatment slope and no rating would fall in the 6-month window (the generator's visits
every 3 months from day 0 miss day 21 + 183 ± 14), so the benchmark would time an evaluation that
computes little. A patient is not dosed after death, tracheostomy or permanent ventilation.

    .venv/bin/python -m benchmarks.bench_evaluation [--quick]
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from alscell.cli.synth import write_tables
from alscell.domain import analyses, encals
from alscell.domain import evaluation as ev
from alscell.domain.dataset import ClinicalDataset, DiagnosisRecord
from alscell.domain.months import DAYS_PER_MONTH, months_between
from alscell.domain.progression import delta_fs
from alscell.domain.protocol import ActivityKind, Protocol
from alscell.domain.stats import synthetic as syn
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.interop.csv import read_csv_dir
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.protocol_files import builtin_protocol_path, read_protocol
from benchmarks.common import CorrectnessError, Line, Measure, best_of, section_main, timed

__all__ = ["cohort_evaluation", "courses_from_dataset", "run", "visit_months"]

SEED: Final = 20_260_101
START: Final = date(2020, 1, 6)
SIZES: Final = (1_000, 10_000, 100_000)
QUICK_SIZES: Final = (200, 1_000, 3_000)
TARGET_RATIO: Final = 25.0
TARGET_EXPONENT: Final = 1.15
READ_RUNS: Final = 3
ALSCELL_RUNS: Final = 2
"""alscell's best of two up to the judged size (noise only ever adds time); once above it."""
FIRST_DOSE_DAY: Final = round(3 * DAYS_PER_MONTH)
"""The baseline visit, 3 months after the referral rating: the first implantation is given that day."""
LATER_MONTHS: Final = (9.0, 12.0, 15.0, 18.0)
"""Visits after the protocol's follow-up, months after the last implantation."""


# ---------------------------------------------------------------- the synthetic program


def _implantation(protocol: Protocol) -> tuple[str, int, int]:
    """The lumbar-puncture implantation activity: its id, how many, and the days between them."""
    [activity] = [
        activity
        for phase in protocol.phases
        for activity in phase.activities
        if activity.kind is ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION
    ]
    return activity.id, activity.repeat.count, activity.repeat.every_days or 0


def _dose_days(protocol: Protocol) -> tuple[int, ...]:
    _, count, every = _implantation(protocol)
    return tuple(FIRST_DOSE_DAY + every * k for k in range(count))


def visit_months(protocol: Protocol) -> tuple[float, ...]:
    """Rating visits, months from the referral rating: referral, baseline (the first implantation),
    the protocol's follow-up visits after the last implantation, then :data:`LATER_MONTHS`."""
    last = _dose_days(protocol)[-1]
    after = [visit.months for visit in protocol.follow_up.visits] + list(LATER_MONTHS)
    days = [0, FIRST_DOSE_DAY] + [last + round(m * DAYS_PER_MONTH) for m in after]
    return tuple(day / DAYS_PER_MONTH for day in days)


def cutoff_of(protocol: Protocol) -> date:
    """The data cut-off: a month after the last visit, so every window has closed."""
    return START + timedelta(days=round(visit_months(protocol)[-1] * DAYS_PER_MONTH) + 30)


def write_cohort(folder: Path, patients: int, protocol: Protocol, *, seed: int = SEED) -> None:
    """A synthetic cohort of ``patients`` in alscell's CSV format, in ``folder``."""
    spec = syn.CohortSpec(
        patients=patients, seed=seed, start=START, visit_months=visit_months(protocol)
    )
    chunks = syn.synthesize(builtin_natural_history(), spec)
    write_tables(chunks, START, [(folder, syn.alscell_tables())])


# ---------------------------------------------------------------- the data set as patient courses


def courses_from_dataset(dataset: ClinicalDataset, protocol: Protocol) -> list[ev.PatientCourse]:
    """Each patient's course from a data set without doses: ratings, onset, the first outcome event,
    the protocol's implantations from :data:`FIRST_DOSE_DAY` (while alive) and the ENCALS linear
    predictor at the first dose where every predictor is known (age at onset from the birth year,
    taken as 1 July)."""
    activity, _, _ = _implantation(protocol)
    all_doses = tuple(
        ev.Dose(START + timedelta(days=day), activity) for day in _dose_days(protocol)
    )
    ratings: dict[str, list[ev.Rating]] = defaultdict(list)
    shared: dict[tuple[date, int], ev.Rating] = {}  # frozen values: one object per day and total
    for rating in dataset.alsfrs_ratings:
        key = (rating.rated_on, rating.total)
        ratings[rating.study_code].append(
            shared.get(key) or shared.setdefault(key, ev.Rating(*key))
        )
    capacities: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for capacity in dataset.vital_capacities:
        capacities[capacity.study_code].append((capacity.measured_on, capacity.percent_predicted))
    events: dict[str, tuple[str, date]] = {}
    for outcome in sorted(dataset.outcome_events, key=lambda e: e.occurred_on):
        events.setdefault(outcome.study_code, (outcome.kind, outcome.occurred_on))
    diagnoses = {diagnosis.study_code: diagnosis for diagnosis in dataset.diagnoses}
    courses = []
    for number, patient in enumerate(dataset.patients, start=1):
        code = patient.study_code
        event = events.get(code)
        alive = len(all_doses) if event is None else sum(d.given_on < event[1] for d in all_doses)
        doses = all_doses[:alive]
        mine = sorted(ratings[code], key=lambda r: r.rated_on)
        diagnosis = diagnoses.get(code)
        courses.append(
            ev.PatientCourse(
                patient_id=number, study_code=code,
                onset_on=diagnosis.onset_on if diagnosis else None, ratings=tuple(mine), doses=doses,
                event=event, enrolled_on=mine[0].rated_on if mine else None,
                encals_lp=_encals_lp(patient.birth_year, diagnosis, mine, capacities[code], doses),
            )
        )  # fmt: skip
    return courses


def _encals_lp(
    birth_year: int | None,
    diagnosis: DiagnosisRecord | None,
    ratings: Sequence[ev.Rating],
    capacities: Sequence[tuple[date, float]],
    doses: Sequence[ev.Dose],
) -> float | None:
    if birth_year is None or diagnosis is None or not doses:
        return None
    on = doses[0].given_on
    rated = [r for r in ratings if r.rated_on <= on]
    measured = sorted(c for c in capacities if c[0] <= on)
    delay = months_between(diagnosis.onset_on, diagnosis.diagnosis_on)
    if not rated or not measured or delay <= 0 or rated[-1].rated_on <= diagnosis.onset_on:
        return None
    return encals.linear_predictor(
        age_at_onset_years=months_between(date(birth_year, 7, 1), diagnosis.onset_on) / 12,
        delta_fs=delta_fs(rated[-1].total, diagnosis.onset_on, rated[-1].rated_on),
        diagnostic_delay_months=delay, vital_capacity_percent=measured[-1][1],
        bulbar_onset=diagnosis.onset_site == "bulbar",
        definite_el_escorial=diagnosis.el_escorial == "definite", ftd=diagnosis.ftd,
        c9orf72=diagnosis.c9orf72,
    )  # fmt: skip


# ---------------------------------------------------------------- the evaluation


def design_of(protocol: Protocol) -> ev.Design:
    """A single-arm program whose plan was locked on the start date, before any dose."""
    plan = protocol.analysis_plan
    return ev.Design(
        control=plan.control, rater_blinded=plan.rater_blinded, comparator=plan.comparator.value,
        plan_version=plan.version, plan_locked_on=START,
        first_treatment_on=START + timedelta(days=FIRST_DOSE_DAY), amendments_after_first_treatment=0,
    )  # fmt: skip


def _evaluated(
    courses: Sequence[ev.PatientCourse], protocol: Protocol, model: NaturalHistoryModel, seed: int
) -> ev.Evaluation:
    return ev.evaluate(courses, protocol, design=design_of(protocol), plan_locked=True, model=model,
                       cutoff=cutoff_of(protocol), seed=seed)  # fmt: skip


def _analysed(
    courses: Sequence[ev.PatientCourse], result: ev.Evaluation, protocol: Protocol,
    model: NaturalHistoryModel, seed: int,
) -> ev.Evaluation:  # fmt: skip
    """The analyses attached as services.evaluation attaches them; the power simulation left out."""
    done = analyses.analyse(courses, result, protocol, model=model, safety_reference=builtin_safety_reference(),
                            seed=seed, power_simulations=0)  # fmt: skip
    return dataclasses.replace(
        result,
        analyses=done,
        statement=result.statement + analyses.analyses_statement(done, result),
    )


def cohort_evaluation(
    patients: int, seed: int = SEED
) -> tuple[ev.Evaluation, list[ev.PatientCourse], Protocol]:
    """A synthetic cohort of ``patients`` evaluated with its analyses (power left out), its courses
    and the protocol: what the reports benchmark renders."""
    protocol = read_protocol(builtin_protocol_path())
    model = builtin_natural_history()
    with tempfile.TemporaryDirectory() as folder:
        write_cohort(Path(folder), patients, protocol, seed=seed)
        dataset = read_csv_dir(Path(folder))
    courses = courses_from_dataset(dataset, protocol)
    result = _analysed(courses, _evaluated(courses, protocol, model, seed), protocol, model, seed)
    return result, courses, protocol


# ---------------------------------------------------------------- timing


@dataclasses.dataclass(frozen=True, slots=True)
class Timing:
    """Seconds of each part of alscell's whole-cohort evaluation."""

    read: float
    courses: float
    evaluate: float
    analyse: float

    @property
    def total(self) -> float:
        return self.read + self.courses + self.evaluate + self.analyse

    def text(self) -> str:
        return (
            f"read {self.read:.2f} s, courses {self.courses:.2f} s, evaluate {self.evaluate:.2f} s, "
            f"analyses {self.analyse:.2f} s"
        )


def _alscell(
    folder: Path, protocol: Protocol, model: NaturalHistoryModel, progress: Progress, task: TaskID
) -> tuple[Timing, ClinicalDataset, list[ev.PatientCourse], ev.Evaluation]:
    prefix = str(progress.tasks[task].description).split(":")[0]

    def step(name: str) -> None:
        progress.update(task, description=f"{prefix}: {name}", advance=1)

    step("reading CSV (alscell)")
    read, dataset = timed(lambda: read_csv_dir(folder))
    step("building courses")
    built, courses = timed(lambda: courses_from_dataset(dataset, protocol))
    step("evaluating patients")
    evaluated, result = timed(lambda: _evaluated(courses, protocol, model, SEED))
    step("analyses")
    analysed, result = timed(lambda: _analysed(courses, result, protocol, model, SEED))
    return Timing(read, built, evaluated, analysed), dataset, courses, result


def _pandas_read(folder: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}


def draws_floor(patients: int, model: NaturalHistoryModel, draws: int = ev.DEFAULT_DRAWS) -> float:
    """Seconds numpy takes to draw the random numbers the evaluation draws for ``patients`` simulated
    patients (natural_history.simulate_changes: rating noise, rate, plateau or not, plateau length,
    rating noise again; ``draws`` of each) and nothing else: the evaluation cannot take less while
    its numbers stay the same."""
    rng = np.random.default_rng(0)
    p = model.decline
    shape, noise = p.rate_shape.value, p.rating_noise_sd.value

    def draw() -> None:
        for _ in range(patients):
            rng.normal(0.0, noise, draws)
            rng.gamma(shape, 1.0 / shape, draws)
            rng.random(draws)
            rng.exponential(p.plateau_mean_months.value, draws)
            rng.normal(0.0, noise, draws)

    seconds, _ = timed(draw)
    return seconds


# ---------------------------------------------------------------- checks


def _check(
    n: int, frames: dict[str, pd.DataFrame], dataset: ClinicalDataset,
    courses: Sequence[ev.PatientCourse], result: ev.Evaluation,
) -> None:  # fmt: skip
    """What must hold whatever the numbers: every row read, every patient evaluated once, categories
    that add up, a complete set of analyses and CAFS ranks that add up."""
    problems = [f"{table}: pandas read {len(frame)} rows, alscell {len(dataset.table(table))}"
                for table, frame in frames.items() if len(frame) != len(dataset.table(table))]  # fmt: skip
    cohort = result.cohort
    if not len(dataset.patients) == len(courses) == len(result.patients) == cohort.enrolled == n:
        problems.append(
            f"{n} patients written, {len(result.patients)} evaluated, enrolled {cohort.enrolled}"
        )
    if len({p.patient_id for p in result.patients}) != n:
        problems.append("a patient was evaluated twice")
    recount = {c: sum(1 for p in result.patients if p.category is c) for c in ev.Category}
    if recount != dict(cohort.counts) or sum(cohort.counts.values()) != n:
        problems.append(f"categories {dict(cohort.counts)} do not add up to {n} ({recount})")
    problems += _check_analyses(courses, result)
    if problems:
        raise CorrectnessError(f"{n:,} patients: " + "; ".join(problems))


def _check_analyses(courses: Sequence[ev.PatientCourse], result: ev.Evaluation) -> list[str]:
    done = result.analyses
    if done is None or None in (done.mixed_model, done.survival, done.cafs, done.safety):
        return [f"an analysis was left out: {done.notes if done else 'no analyses'}"]
    problems = []
    treated = sum(1 for c in courses if c.doses and c.ratings)
    assert done.mixed_model is not None
    assert done.cafs is not None
    if done.mixed_model.n_patients != treated:
        problems.append(f"mixed model of {done.mixed_model.n_patients} patients, {treated} treated")
    if done.power:
        problems.append("power was simulated although power_simulations=0")
    ours, theirs = done.cafs.program, done.cafs.comparator
    total = ours.n + theirs.n
    rank_sum = ours.n * ours.mean_rank + theirs.n * theirs.mean_rank
    u = ours.n * ours.mean_rank - ours.n * (ours.n + 1) / 2
    if not math.isclose(rank_sum, total * (total + 1) / 2, rel_tol=1e-9):
        problems.append(f"CAFS ranks sum to {rank_sum}, not {total * (total + 1) / 2}")
    if not math.isclose(u, done.cafs.u_statistic, rel_tol=1e-9, abs_tol=1e-6):
        problems.append(f"CAFS U is {done.cafs.u_statistic}, the ranks give {u}")
    return problems


# ---------------------------------------------------------------- the lines


def _exponent(sizes: Sequence[int], seconds: Sequence[float]) -> float:
    """The least-squares slope of log(seconds) on log(patients)."""
    slope, _ = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)
    return float(slope)


def _size_line(n: int, timing: Timing, reference: float, floor: tuple[int, float] | None) -> Line:
    """One size's line; judged against the target when ``floor`` (patients simulated, seconds of
    their random draws alone) is given."""
    ratio = timing.total / reference
    detail = timing.text()
    if floor is not None:
        simulated, seconds = floor
        detail += (f"; the random draws alone of the {simulated:,} patients simulated take {seconds:.2f} s "
                   f"({seconds / reference:.0f} × the pandas read)")  # fmt: skip
    return Line(
        what="whole-cohort evaluation", size=f"{n:,} patients", alscell=Measure(timing.total),
        reference_name="pandas read_csv", reference=Measure(reference), ratio=ratio,
        ratio_means="alscell / pandas CSV read", target="-" if floor is None else f"≤ {TARGET_RATIO:g}",
        met=None if floor is None else ratio <= TARGET_RATIO, detail=detail,
    )  # fmt: skip


def _growth_line(sizes: Sequence[int], timings: Sequence[Timing]) -> Line:
    exponent = _exponent(sizes, [t.total for t in timings])
    parts = ", ".join(
        f"{name} n^{_exponent(sizes, [getattr(t, name) for t in timings]):.2f}"
        for name in ("read", "courses", "evaluate", "analyse")
    )
    return Line(
        what="whole-cohort evaluation growth", size=f"{sizes[0]:,} to {sizes[-1]:,} patients",
        alscell=Measure(timings[-1].total), ratio=exponent, ratio_means="fitted exponent of n",
        target=f"≤ {TARGET_EXPONENT:g}", met=exponent <= TARGET_EXPONENT, detail=f"by part: {parts}",
    )  # fmt: skip


def run(quick: bool) -> list[Line]:
    sizes = QUICK_SIZES if quick else SIZES
    judged_at = sizes[1]
    protocol = read_protocol(builtin_protocol_path())
    model = builtin_natural_history()
    lines: list[Line] = []
    timings: list[Timing] = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True)) as progress:  # fmt: skip
        for n in sizes:
            runs = ALSCELL_RUNS if n <= judged_at else 1
            task = progress.add_task(f"{n:,} patients", total=2 + 4 * runs)
            with _cohort_folder() as folder:
                progress.update(task, description=f"{n:,} patients: writing the cohort")
                write_cohort(folder, n, protocol)
                progress.update(task, description=f"{n:,} patients: pandas read", advance=1)
                reference, frames = best_of(READ_RUNS, lambda: _pandas_read(folder))
                timing, dataset, courses, result = min(
                    (_alscell(folder, protocol, model, progress, task) for _ in range(runs)),
                    key=lambda measured: measured[0].total,
                )
            _check(n, frames, dataset, courses, result)
            simulated = sum(1 for patient in result.patients if patient.expected_change is not None)
            del frames, dataset, courses, result
            floor = None
            if n == judged_at:
                progress.update(task, description=f"{n:,} patients: the random draws alone")
                floor = simulated, draws_floor(simulated, model)
            progress.update(task, description=f"{n:,} patients: done", advance=1)
            timings.append(timing)
            lines.append(_size_line(n, timing, reference, floor))
    lines.append(_growth_line(sizes, timings))
    return lines


@contextmanager
def _cohort_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="alscell-bench-evaluation-") as folder:
        yield Path(folder)


if __name__ == "__main__":
    section_main(run)
