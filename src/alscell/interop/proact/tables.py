"""Synthetic cohorts in PRO-ACT's table format: one CSV per PRO-ACT form, keyed by ``subject_id``.

PRO-ACT distributes one file per form (``PROACT_DEMOGRAPHICS.csv``, ``PROACT_ALSFRS.csv``,
``PROACT_FVC.csv``, ``PROACT_DEATHDATA.csv``, ``PROACT_ALSHISTORY.csv``, ``PROACT_ELESCORIAL.csv``),
with every time a *delta*: whole days from the patient's trial start (negative before it). The column
names below follow the PRO-ACT data dictionary as cited in public code that reads those files; they
were not checked against the current dictionary (https://ncri1.partners.org/ProACT), so they are
ASSUMED, and only the columns alscell fills are written. docs/synthetic.md lists them.

Item-level ALSFRS-R: a synthetic patient has only a total, so the 48 − total points lost are taken
from the items in a fixed order, each item down to 0 before the next: bulbar items first (1, 2, 3)
for bulbar onset, limb items first (4, 5a, 6, 7, 8, 9) for spinal onset, respiratory items (10, 11,
12) last. This is deterministic and the items always sum to the total; it is not a realistic pattern
of item scores, and nobody has a gastrostomy (item 5a is always the one scored).

Tracheostomies have no PRO-ACT table here: such a patient's ALSFRS and FVC records stop at the
tracheostomy and ``Subject_Died`` is "No" (alscell's ``outcome_events.csv`` records the event).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Final

import numpy as np

from alscell.domain.stats.synthetic import EL_ESCORIAL, EVENTS, CohortChunk, Event, Table
from alscell.domain.stats.synthetic_items import items_from_totals

__all__ = ["ALSFRS_ITEM_COLUMNS", "PROACT_TABLES", "items_from_totals"]

ALSFRS_ITEM_COLUMNS: Final = (
    "Q1_Speech", "Q2_Salivation", "Q3_Swallowing", "Q4_Handwriting",
    "Q5a_Cutting_without_Gastrostomy", "Q6_Dressing_and_Hygiene", "Q7_Turning_in_Bed",
    "Q8_Walking", "Q9_Climbing_Stairs", "R_1_Dyspnea", "R_2_Orthopnea",
    "R_3_Respiratory_Insufficiency",
)  # fmt: skip
"""The twelve ALSFRS-R items in scale order (items 1-4, 5a, 6-9, then R1-R3 for 10-12)."""


def _subjects(chunk: CohortChunk) -> list[int]:
    return list(range(chunk.first + 1, chunk.first + chunk.n + 1))


def _demographics(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    yield from zip(
        _subjects(chunk),
        [0] * chunk.n,
        chunk.age_at_day(0).astype(np.int64).tolist(),
        chunk.birth_day.tolist(),
        np.where(chunk.male, "Male", "Female").tolist(),
        strict=True,
    )


def _alsfrs(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    patient, visit = np.nonzero(chunk.rated)
    totals = chunk.alsfrs[patient, visit]
    items = items_from_totals(totals, chunk.bulbar[patient])
    subjects = (patient + chunk.first + 1).tolist()
    deltas = chunk.visit_days[visit].tolist()
    for subject, row, total, delta in zip(
        subjects, items.tolist(), totals.tolist(), deltas, strict=True
    ):
        yield subject, *row, total, delta


def _fvc(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    patient, visit = np.nonzero(chunk.rated)
    yield from zip(
        (patient + chunk.first + 1).tolist(),
        chunk.vc[patient, visit].tolist(),
        chunk.visit_days[visit].tolist(),
        strict=True,
    )


def _death(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    died = chunk.event == EVENTS.index(Event.DEATH)
    for subject, dead, day in zip(
        _subjects(chunk), died.tolist(), chunk.event_day.tolist(), strict=True
    ):
        yield (subject, "Yes", day) if dead else (subject, "No", "")


def _history(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    yield from zip(
        _subjects(chunk),
        np.where(chunk.bulbar, "Onset: Bulbar", "Onset: Limb").tolist(),
        chunk.onset_day.tolist(),
        chunk.diagnosis_day.tolist(),
        strict=True,
    )


def _el_escorial(chunk: CohortChunk, _start: date) -> Iterator[Sequence[object]]:
    names = [category.value for category in EL_ESCORIAL]
    yield from zip(
        _subjects(chunk), [0] * chunk.n, [names[i] for i in chunk.el_escorial.tolist()], strict=True
    )


PROACT_TABLES: Final = (
    Table("PROACT_DEMOGRAPHICS.csv",
          ("subject_id", "Demographics_Delta", "Age", "Date_of_Birth", "Sex"), _demographics),
    Table("PROACT_ALSFRS.csv",
          ("subject_id", *ALSFRS_ITEM_COLUMNS, "ALSFRS_R_Total", "ALSFRS_Delta"), _alsfrs),
    Table("PROACT_FVC.csv",
          ("subject_id", "pct_of_Normal_Trial_1", "Forced_Vital_Capacity_Delta"), _fvc),
    Table("PROACT_DEATHDATA.csv", ("subject_id", "Subject_Died", "Death_Days"), _death),
    Table("PROACT_ALSHISTORY.csv",
          ("subject_id", "Site_of_Onset", "Onset_Delta", "Diagnosis_Delta"), _history),
    Table("PROACT_ELESCORIAL.csv", ("subject_id", "delta_days", "el_escorial"), _el_escorial),
)  # fmt: skip
"""The PRO-ACT tables written for a synthetic cohort, in the order they are written."""
