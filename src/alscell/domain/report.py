"""The program report as data: everything the HTML and PDF show, and nothing they must look up.

:class:`ProgramReport` holds the one :class:`~alscell.domain.evaluation.Evaluation` (its evidence
statement first, as on the Results page), the CONSORT-style flow of patients (Schulz 2010, CONSORT
flow diagram), the baseline table, each patient's row and ALSFRS-R course for the figures, the
natural-history band those courses are drawn against, and the provenance that makes every number
reproducible (DESIGN.md, "Quality bars"). The renderers in :mod:`alscell.reports` only format it.

Pure helpers: :func:`tally_flow` counts the flow from one record per patient; :func:`summarise_baseline`
writes the baseline table; :func:`natural_history_band` simulates untreated courses of patients like
these (:func:`alscell.domain.stats.natural_history.simulate_ratings`); :func:`relative_dates` turns the
ISO dates in a sentence into days from a patient's first cell dose for a de-identified report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

import numpy as np

from alscell.domain.evaluation import Evaluation, PatientResult
from alscell.domain.stats import natural_history as nh

__all__ = [
    "Amendment",
    "Band",
    "BaselinePatient",
    "BaselineRow",
    "Exit",
    "Flow",
    "FlowRecord",
    "PatientRow",
    "ProgramReport",
    "Provenance",
    "Trajectory",
    "natural_history_band",
    "relative_dates",
    "summarise_baseline",
    "tally_flow",
]

BAND_COVERAGE: Final = 0.95
"""The share of simulated untreated courses inside the natural-history band."""
_ISO_DATE: Final = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


class Exit(StrEnum):
    """How an enrolled patient's participation stands at the data cut-off."""

    ONGOING = "ongoing"
    COMPLETED = "completed"
    DIED = "died"
    WITHDRAWN = "withdrawn"
    LOST = "lost_to_follow_up"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowRecord:
    """One referred patient as the flow counts them, as the records stand at the data cut-off."""

    screened: bool
    eligible: bool | None = None
    """The latest screening against the protocol: True met, False not met, None undecided or none."""
    failed_criteria: tuple[str, ...] = ()
    """Criteria not met at the latest screening."""
    enrolled: bool = False
    treated: bool = False
    """Given at least one cell dose."""
    exit: Exit = Exit.ONGOING


@dataclass(frozen=True, slots=True)
class Reason:
    """An ineligibility criterion and how many patients failed it (a patient may fail several)."""

    criterion: str
    patients: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """CONSORT-style counts of patients from referral to the end of follow-up."""

    referred: int
    screened: int
    ineligible: int
    reasons: tuple[Reason, ...]
    undecided: int
    """Screened, neither ineligible nor enrolled: eligible and waiting, or the screening undecided."""
    enrolled: int
    treated: int
    completed: int
    died: int
    withdrawn: int
    lost: int
    ongoing: int


def tally_flow(records: Sequence[FlowRecord]) -> Flow:
    """The flow of the patients in ``records``; reasons most frequent first, then by name."""
    enrolled = [r for r in records if r.enrolled]
    ineligible = [r for r in records if r.eligible is False and not r.enrolled]
    reasons = Counter(c for r in ineligible for c in dict.fromkeys(r.failed_criteria))
    exits = Counter(r.exit for r in enrolled)
    screened = sum(1 for r in records if r.screened)
    return Flow(
        referred=len(records), screened=screened, ineligible=len(ineligible),
        reasons=tuple(Reason(c, n) for c, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        undecided=screened - len(ineligible) - sum(1 for r in enrolled if r.screened),
        enrolled=len(enrolled), treated=sum(1 for r in enrolled if r.treated),
        completed=exits[Exit.COMPLETED], died=exits[Exit.DIED], withdrawn=exits[Exit.WITHDRAWN],
        lost=exits[Exit.LOST], ongoing=exits[Exit.ONGOING],
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselinePatient:
    """What the baseline table is computed from for one enrolled patient (no identifiers)."""

    age_years: int | None
    sex: str | None
    onset_site: str | None
    months_onset_to_enrollment: float | None
    alsfrs_r_total: int | None
    delta_fs: float | None
    vital_capacity_percent: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BaselineRow:
    """One line of the baseline table: a median with its quartiles and range, or a count."""

    characteristic: str
    unit: str
    n: int
    """Patients with the value on record."""
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    low: float | None = None
    high: float | None = None
    count: int | None = None
    """For a category: the patients in it (of ``n``)."""


_CONTINUOUS: Final = (
    ("age_years", "Age at enrollment", "years"),
    ("months_onset_to_enrollment", "Symptom onset to enrollment", "months"),
    ("alsfrs_r_total", "ALSFRS-R total at baseline", "points (0-48)"),
    ("delta_fs", "ΔFS at baseline", "points/month"),
    ("vital_capacity_percent", "Vital capacity", "% predicted"),
)


def summarise_baseline(patients: Sequence[BaselinePatient]) -> tuple[BaselineRow, ...]:
    """The baseline table: medians (quartiles, range) of the measures, counts of sex and onset site."""
    rows = [
        BaselineRow(
            characteristic="Patients enrolled", unit="", n=len(patients), count=len(patients)
        )
    ]
    for name, label, unit in _CONTINUOUS:
        values = [float(v) for p in patients if (v := getattr(p, name)) is not None]
        if not values:
            rows.append(BaselineRow(characteristic=label, unit=unit, n=0))
            continue
        q1, median, q3 = (float(q) for q in np.percentile(values, [25, 50, 75]))
        rows.append(BaselineRow(characteristic=label, unit=unit, n=len(values), median=median, q1=q1, q3=q3,
                                low=min(values), high=max(values)))  # fmt: skip
    for name, label in (("sex", "Sex"), ("onset_site", "Site of onset")):
        known = [str(v) for p in patients if (v := getattr(p, name)) is not None]
        for value, count in sorted(Counter(known).items()):
            rows.append(
                BaselineRow(characteristic=f"{label}: {value}", unit="", n=len(known), count=count)
            )
    return tuple(rows)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trajectory:
    """One patient's ALSFRS-R totals in months from their first cell dose (the spaghetti chart)."""

    study_code: str
    months: tuple[float, ...]
    totals: tuple[int, ...]
    treatment_months: float
    """Months from the first to the last cell dose (0 after one dose): the shaded period."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Band:
    """Untreated ALSFRS-R courses of patients like these: the median and central interval by month."""

    months: tuple[float, ...]
    low: tuple[float, ...]
    median: tuple[float, ...]
    high: tuple[float, ...]
    coverage: float
    patients: int
    draws: int
    model: str


def natural_history_band(
    model: nh.NaturalHistoryModel,
    *,
    baselines: Sequence[int],
    delta_fs: Sequence[float | None],
    months: Sequence[float],
    rng: np.random.Generator,
    draws: int = 200,
) -> Band | None:
    """Simulated untreated courses from each patient's baseline (``draws`` each, pooled); None without
    a baseline. A missing ΔFS is drawn from the population (the model's own rule)."""
    if not baselines:
        return None
    rows = []
    for baseline, rate in zip(baselines, delta_fs, strict=True):
        true = np.full(draws, float(baseline))
        dfs = None if rate is None else np.full(draws, rate)
        rows.append(
            nh.simulate_ratings(model, true_baselines=true, months=months, rng=rng, delta_fs=dfs)
        )
    pooled = np.vstack(rows).astype(float)
    tail = (1 - BAND_COVERAGE) / 2 * 100
    low, median, high = np.percentile(pooled, [tail, 50, 100 - tail], axis=0)
    return Band(months=tuple(float(m) for m in months), low=tuple(map(float, low)),
                median=tuple(map(float, median)), high=tuple(map(float, high)), coverage=BAND_COVERAGE,
                patients=len(baselines), draws=draws, model=model.label)  # fmt: skip


def relative_dates(text: str, origin: date | None) -> str:
    """``text`` with every ISO date written as days from ``origin`` (``day +12``), or ``[date]`` without one."""

    def shift(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return "[date]" if origin is None else f"day {(day - origin).days:+d}"

    return _ISO_DATE.sub(shift, text)


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientRow:
    """One patient's line: the evaluation's result, and who it is only in an identified report."""

    result: PatientResult
    first_dose_on: date | None
    """Day 0 of a de-identified report's relative days."""
    name: str | None = None
    birth_on: date | None = None
    remarks: tuple[str, ...] = ()
    """The patient's note, deviations and overrides (dates relative in a de-identified report)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Amendment:
    """An amendment of the analysis plan: when, why, and what changed."""

    amended_on: date
    reason: str
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """What makes the report reproducible."""

    data_cutoff: date
    software_version: str
    protocol: str
    protocol_sha256: str
    plan_version: str
    plan_locked_on: date | None
    scale_versions: tuple[str, ...]
    natural_history_model: str
    safety_reference: str
    seed: int
    draws: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramReport:
    """One protocol version's program report."""

    title: str
    evaluation: Evaluation
    amendments: tuple[Amendment, ...]
    flow: Flow
    baseline: tuple[BaselineRow, ...]
    patients: tuple[PatientRow, ...]
    trajectories: tuple[Trajectory, ...]
    band: Band | None
    provenance: Provenance
    deidentified: bool
    notes: tuple[str, ...] = ()
    """How the report's data were chosen (flow definitions, de-identification)."""
