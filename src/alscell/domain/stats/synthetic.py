"""Synthetic cohorts drawn from the natural-history model: demographics, diagnosis, ratings, VC, deaths.

A synthetic cohort is test and demonstration data, never evidence: every patient is simulated, and a
simulated slowing is an input, not a finding. Every patient's baseline visit is the cohort's start date
(day 0); all other dates are days from it. For one patient (every ASSUMED value is an attribute of
:class:`Assumptions`, configurable, and listed with its source in docs/synthetic.md)::

    sex              male with probability 0.6                                     ASSUMED
    onset site       bulbar with probability 0.30, else spinal                     ASSUMED
    age at onset     Normal(60, 11) years, clipped to 18..90                       ASSUMED
    diagnostic delay log-normal, median 11.5 months, log SD 0.6                    ASSUMED
    diagnosis → baseline   Uniform(0, 6) months                                    ASSUMED
    El Escorial      definite / probable / probable lab-supported / possible
                     with probabilities 0.25 / 0.40 / 0.20 / 0.15                  ASSUMED
    ΔFS              the model's population log-normal (natural_history.population_delta_fs)
    true ALSFRS-R at baseline = clip(48 − ΔFS · months since onset, 0, 48)        (Kimura 2006, §2)
    ratings          natural_history.simulate_ratings at the visit months, with the patient's ΔFS and,
                     optionally, a slowing s from a treatment start month
    event            death, tracheostomy or permanent ventilation: the model's log-normal time from
                     onset conditional on being alive at baseline
                     (natural_history.simulate_death_months; clinical.md §5.5);
                     a tracheostomy with probability 0.10 of events, else death          ASSUMED
    censoring        alive at the last scheduled visit: censored there; nobody drops out
    VC % predicted   Normal(85, 15) at baseline; per-patient decline Normal(2.24, 1.5) %/month
                     (mean: Atassi 2014, clinical.md §6; spread ASSUMED); rating noise SD 4     ASSUMED

Ratings and VC stop at the event: a visit is kept only if it falls before the event month. Decline,
VC and death are drawn independently given ΔFS (a limitation shared with the natural-history model).

The cohort is drawn in chunks of patients; chunk k uses a generator seeded with (seed, k), so a cohort
is a function of (seed, chunk size) alone, and chunks can be written while the next is drawn.

:func:`alscell_tables` turns chunks into rows of alscell's CSV format (docs/interop.md): patients,
diagnoses, ALSFRS-R ratings (items split from the total by :mod:`.synthetic_items`), vital capacities
and outcome events, as ``read_csv_dir`` and ``alscell import csv`` read them.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Final, TypeAlias

import numpy as np
from numpy.typing import NDArray

from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.dataset import (
    AlsfrsRecord,
    DiagnosisRecord,
    OutcomeEventRecord,
    PatientRecord,
    Record,
    VitalCapacityRecord,
    record_fields,
)
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats.synthetic_items import ITEM_KEYS, items_from_totals

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SITE_CODE",
    "DEFAULT_VISIT_MONTHS",
    "OUTCOME_SOURCE",
    "RECORDED_EL_ESCORIAL",
    "Assumptions",
    "CohortChunk",
    "CohortSpec",
    "ElEscorial",
    "Event",
    "Table",
    "alscell_tables",
    "synthesize",
    "visit_schedule",
]

DEFAULT_CHUNK_SIZE: Final = 10_000
DAYS_PER_YEAR: Final = 365.25


def visit_schedule(months: float, every: float = 3.0) -> tuple[float, ...]:
    """Visit months 0, every, 2·every, ... up to and including ``months``."""
    if not (math.isfinite(months) and months >= 0):
        raise ValueError(f"months must be a finite number >= 0, got {months}")
    if not (math.isfinite(every) and every > 0):
        raise ValueError(f"every must be a finite number > 0, got {every}")
    return tuple(float(k * every) for k in range(int(months // every) + 1))


DEFAULT_VISIT_MONTHS: Final = visit_schedule(18.0)


class ElEscorial(StrEnum):
    """Revised El Escorial categories (Brooks 2000; clinical.md §8), in the order of the codes."""

    DEFINITE = "definite"
    PROBABLE = "probable"
    PROBABLE_LAB = "probable-laboratory-supported"
    POSSIBLE = "possible"


EL_ESCORIAL: Final = tuple(ElEscorial)


class Event(StrEnum):
    """How a patient's follow-up ends, in the order of the codes."""

    CENSORED = "censored"
    DEATH = "death"
    TRACHEOSTOMY = "tracheostomy"


EVENTS: Final = tuple(Event)


@dataclass(frozen=True, slots=True)
class Assumptions:
    """The cohort's parameters that the natural-history model does not hold; all ASSUMED except the
    mean VC decline (Atassi 2014; clinical.md §6). docs/synthetic.md gives each one's source."""

    male_share: float = 0.6
    bulbar_share: float = 0.30
    onset_age_mean_years: float = 60.0
    onset_age_sd_years: float = 11.0
    onset_age_range_years: tuple[float, float] = (18.0, 90.0)
    diagnostic_delay_median_months: float = 11.5
    diagnostic_delay_log_sd: float = 0.6
    diagnosis_to_baseline_max_months: float = 6.0
    el_escorial_shares: tuple[float, float, float, float] = (0.25, 0.40, 0.20, 0.15)
    tracheostomy_share: float = 0.10
    vc_baseline_mean: float = 85.0
    vc_baseline_sd: float = 15.0
    vc_decline_mean_per_month: float = 2.24
    vc_decline_sd_per_month: float = 1.5
    vc_noise_sd: float = 4.0


@dataclass(frozen=True, slots=True)
class CohortSpec:
    """What to simulate: ``patients`` patients from ``seed``, seen at ``visit_months`` after a baseline
    on ``start``; a simulated ``slowing`` in [0, 1) applies from ``treated_from_months`` (by default
    the first visit after baseline)."""

    patients: int
    seed: int
    start: date
    visit_months: tuple[float, ...] = DEFAULT_VISIT_MONTHS
    slowing: float = 0.0
    treated_from_months: float | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    assumptions: Assumptions = field(default_factory=Assumptions)

    def __post_init__(self) -> None:
        if self.patients < 1 or self.chunk_size < 1:
            raise ValueError(f"patients and chunk_size must be >= 1, got {self}")
        months = self.visit_months
        if not months or months[0] != 0 or any(b <= a for a, b in itertools.pairwise(months)):
            raise ValueError(f"visit_months must start at 0 and increase, got {months}")
        if len(set(self.visit_days.tolist())) < len(months):  # a rating is keyed by its date
            raise ValueError(f"visit_months must fall on different days, got {months}")
        if not 0 <= self.slowing < 1:
            raise ValueError(f"slowing must be in [0, 1), got {self.slowing}")

    @property
    def treatment_start_months(self) -> float:
        """When the simulated slowing starts: as given, else the first visit after baseline."""
        if self.treated_from_months is not None:
            return self.treated_from_months
        return self.visit_months[1] if len(self.visit_months) > 1 else 0.0

    @property
    def visit_days(self) -> NDArray[np.int64]:
        """Visit days from the start date."""
        return np.rint(np.asarray(self.visit_months) * DAYS_PER_MONTH).astype(np.int64)

    @property
    def chunks(self) -> int:
        """How many chunks :func:`synthesize` yields."""
        return -(-self.patients // self.chunk_size)


@dataclass(frozen=True, slots=True, eq=False)
class CohortChunk:
    """Consecutive patients of a cohort as parallel arrays: one row per patient (and one column per
    visit for ``alsfrs``, ``vc`` and ``rated``). Days count from the start date (baseline is day 0)."""

    first: int
    """Index of the chunk's first patient in the cohort (0-based)."""
    width: int
    """Digits of the study code, the same for the whole cohort."""
    male: NDArray[np.bool_]
    bulbar: NDArray[np.bool_]
    age_at_onset_years: NDArray[np.float64]
    birth_day: NDArray[np.int64]
    onset_day: NDArray[np.int64]
    diagnosis_day: NDArray[np.int64]
    el_escorial: NDArray[np.int64]
    """Index into :data:`EL_ESCORIAL`."""
    delta_fs: NDArray[np.float64]
    visit_days: NDArray[np.int64]
    alsfrs: NDArray[np.int64]
    vc: NDArray[np.float64]
    """VC % predicted, one decimal."""
    rated: NDArray[np.bool_]
    """Whether the visit took place (before the event)."""
    event: NDArray[np.int64]
    """Index into :data:`EVENTS`."""
    event_day: NDArray[np.int64]
    """Day of death or tracheostomy, or of censoring (the last scheduled visit)."""

    @property
    def n(self) -> int:
        return len(self.male)

    @property
    def codes(self) -> list[str]:
        """Study codes SYN-000001, ... numbered through the cohort."""
        return [f"SYN-{i:0{self.width}d}" for i in range(self.first + 1, self.first + self.n + 1)]

    def age_at_day(self, day: int | NDArray[np.int64]) -> NDArray[np.float64]:
        """Age in whole years on ``day``."""
        return np.floor((day - self.birth_day) / DAYS_PER_YEAR)


def synthesize(
    model: nh.NaturalHistoryModel,
    spec: CohortSpec,
    progress: Callable[[int], None] | None = None,
) -> Iterator[CohortChunk]:
    """The cohort, one chunk at a time; ``progress`` is called with each chunk's patient count."""
    width = max(6, len(str(spec.patients)))
    for k in range(spec.chunks):
        first = k * spec.chunk_size
        n = min(spec.chunk_size, spec.patients - first)
        rng = np.random.default_rng([spec.seed, k])
        chunk = _chunk(model, spec, first, width, n, rng)
        if progress is not None:
            progress(n)
        yield chunk


def _chunk(
    model: nh.NaturalHistoryModel,
    spec: CohortSpec,
    first: int,
    width: int,
    n: int,
    rng: np.random.Generator,
) -> CohortChunk:
    a = spec.assumptions
    male = rng.random(n) < a.male_share
    bulbar = rng.random(n) < a.bulbar_share
    age = np.clip(
        rng.normal(a.onset_age_mean_years, a.onset_age_sd_years, n), *a.onset_age_range_years
    )
    delay = rng.lognormal(math.log(a.diagnostic_delay_median_months), a.diagnostic_delay_log_sd, n)
    to_baseline = rng.uniform(0.0, a.diagnosis_to_baseline_max_months, n)
    since_onset = delay + to_baseline
    escorial = rng.choice(len(EL_ESCORIAL), n, p=np.asarray(a.el_escorial_shares))
    onset_day = -_days(since_onset)
    dfs = nh.population_delta_fs(model, n, rng)
    true_baselines = np.clip(MAX_TOTAL - dfs * since_onset, 0.0, MAX_TOTAL)
    months = np.asarray(spec.visit_months, dtype=np.float64)
    alsfrs = nh.simulate_ratings(model, true_baselines=true_baselines, months=months, rng=rng,
                                 delta_fs=dfs, slowing=spec.slowing,
                                 treated_from_months=spec.treatment_start_months)  # fmt: skip
    dies_after = nh.simulate_death_months(model, since_onset, rng)
    trach = rng.random(n) < a.tracheostomy_share
    vc = _vital_capacity(a, months, n, rng)
    end = months[-1]
    died = dies_after <= end
    event = np.where(died, np.where(trach, 2, 1), 0)
    event_day = np.where(died, _days(dies_after), _days(np.array([end]))[0])
    return CohortChunk(
        first=first, width=width, male=male, bulbar=bulbar, age_at_onset_years=age,
        birth_day=onset_day - np.rint(age * DAYS_PER_YEAR).astype(np.int64), onset_day=onset_day,
        diagnosis_day=onset_day + _days(delay), el_escorial=escorial, delta_fs=dfs,
        visit_days=spec.visit_days, alsfrs=alsfrs, vc=vc,
        rated=months[None, :] < dies_after[:, None], event=event, event_day=event_day,
    )  # fmt: skip


def _days(months: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.rint(months * DAYS_PER_MONTH).astype(np.int64)


def _vital_capacity(
    a: Assumptions, months: NDArray[np.float64], n: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """VC % predicted: a baseline, a linear per-patient decline and rating noise, floored at 0."""
    baseline = rng.normal(a.vc_baseline_mean, a.vc_baseline_sd, n)
    slope = rng.normal(a.vc_decline_mean_per_month, a.vc_decline_sd_per_month, n)
    noise = rng.normal(0.0, a.vc_noise_sd, (n, len(months)))
    vc = baseline[:, None] - slope[:, None] * months[None, :] + noise
    return np.asarray(np.round(np.clip(vc, 0.0, None), 1), dtype=np.float64)


# ---------------------------------------------------------------- alscell's CSV format

DEFAULT_SITE_CODE: Final = "SYN"
"""The site a synthetic cohort's patients belong to, unless told otherwise."""

OUTCOME_SOURCE: Final = "synthetic"
"""The ``source`` of every simulated outcome event."""

RECORDED_EL_ESCORIAL: Final = {
    ElEscorial.DEFINITE: "definite",
    ElEscorial.PROBABLE: "probable",
    ElEscorial.PROBABLE_LAB: "probable_laboratory_supported",
    ElEscorial.POSSIBLE: "possible",
}
"""Each category as alscell records it (``domain.eligibility.CATEGORIES``); PRO-ACT's files keep the
hyphenated names of :class:`ElEscorial`."""

_Columns: TypeAlias = dict[str, Sequence[object]]


@dataclass(frozen=True, slots=True)
class Table:
    """One CSV file: its name, header and the rows a chunk contributes."""

    file_name: str
    columns: tuple[str, ...]
    rows: Callable[[CohortChunk, date], Iterator[Sequence[object]]]


def alscell_tables(site_code: str = DEFAULT_SITE_CODE) -> tuple[Table, ...]:
    """The cohort in alscell's CSV format (docs/interop.md), its patients at the site ``site_code``.

    One file per record type, named ``<table>.csv``, with the record's fields as columns in
    :func:`~alscell.domain.dataset.record_fields` order; a value the simulation does not give is an
    empty cell (a missing value). A patient who died is ``died``, everyone else ``referred``.
    """
    return (
        _record_table(PatientRecord, functools.partial(_patients, site_code=site_code)),
        _record_table(DiagnosisRecord, _diagnoses),
        _record_table(AlsfrsRecord, _ratings),
        _record_table(VitalCapacityRecord, _capacities),
        _record_table(OutcomeEventRecord, _outcomes),
    )


def _record_table(kind: type[Record], columns: Callable[[CohortChunk, date], _Columns]) -> Table:
    names = record_fields(kind)

    def rows(chunk: CohortChunk, start: date) -> Iterator[Sequence[object]]:
        values = columns(chunk, start)
        blank = [""] * len(values["study_code"])
        return zip(*(values.get(name, blank) for name in names), strict=True)

    return Table(f"{kind.TABLE}.csv", names, rows)


def _iso(start: date, days: NDArray[np.int64]) -> list[str]:
    return [str(d) for d in (np.datetime64(start, "D") + days).tolist()]


def _years(start: date, days: NDArray[np.int64]) -> list[int]:
    years = (np.datetime64(start, "D") + days).astype("datetime64[Y]").astype(np.int64) + 1970
    return [int(year) for year in years.tolist()]


def _patients(chunk: CohortChunk, start: date, *, site_code: str) -> _Columns:
    died = chunk.event == EVENTS.index(Event.DEATH)
    return {
        "study_code": chunk.codes,
        "site_code": [site_code] * chunk.n,
        "status": np.where(died, PatientStatus.DIED.value, PatientStatus.REFERRED.value).tolist(),
        "sex": np.where(chunk.male, "male", "female").tolist(),
        "birth_year": _years(start, chunk.birth_day),
    }


def _diagnoses(chunk: CohortChunk, start: date) -> _Columns:
    no = ["false"] * chunk.n  # a yes/no cell of alscell's format; never simulated, so always no
    return {
        "study_code": chunk.codes,
        "onset_on": _iso(start, chunk.onset_day),
        "onset_site": np.where(chunk.bulbar, "bulbar", "spinal").tolist(),
        "diagnosis_on": _iso(start, chunk.diagnosis_day),
        "familial": no,
        "el_escorial": [RECORDED_EL_ESCORIAL[EL_ESCORIAL[i]] for i in chunk.el_escorial.tolist()],
        "ftd": no,
    }


def _visits(chunk: CohortChunk, start: date, date_column: str) -> _Columns:
    """The study code and date of every visit held, patient by patient."""
    patient, visit = np.nonzero(chunk.rated)
    codes, dates = chunk.codes, _iso(start, chunk.visit_days)
    return {
        "study_code": [codes[p] for p in patient.tolist()],
        date_column: [dates[v] for v in visit.tolist()],
    }


def _ratings(chunk: CohortChunk, start: date) -> _Columns:
    patient, visit = np.nonzero(chunk.rated)
    totals = chunk.alsfrs[patient, visit]
    items = items_from_totals(totals, chunk.bulbar[patient])
    return {
        **_visits(chunk, start, "rated_on"),
        **{key: items[:, i].tolist() for i, key in enumerate(ITEM_KEYS)},
        "total": totals.tolist(),
        "form": ["clinician"] * len(totals),
    }


def _capacities(chunk: CohortChunk, start: date) -> _Columns:
    patient, visit = np.nonzero(chunk.rated)
    return {
        **_visits(chunk, start, "measured_on"),
        "percent_predicted": chunk.vc[patient, visit].tolist(),
        "method": ["fvc"] * len(patient),
    }


def _outcomes(chunk: CohortChunk, start: date) -> _Columns:
    [ended] = np.nonzero(chunk.event != EVENTS.index(Event.CENSORED))
    codes = chunk.codes
    return {
        "study_code": [codes[p] for p in ended.tolist()],
        "kind": [EVENTS[i].value for i in chunk.event[ended].tolist()],
        "occurred_on": _iso(start, chunk.event_day[ended]),
        "source": [OUTCOME_SOURCE] * len(ended),
    }
