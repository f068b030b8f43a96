"""The program report's pure helpers (domain/report.py): flow, baseline table, band, relative dates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from alscell.domain.report import (
    Band,
    BaselinePatient,
    Exit,
    FlowRecord,
    natural_history_band,
    relative_dates,
    summarise_baseline,
    tally_flow,
)
from alscell.domain.stats import natural_history as nh
from alscell.storage.comparator_files import builtin_natural_history


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


def test_the_flow_counts_each_stage_and_the_reasons():
    records = [
        FlowRecord(screened=False),  # referred, awaiting screening
        FlowRecord(screened=True, eligible=False, failed_criteria=("vital_capacity", "delta_fs")),
        FlowRecord(screened=True, eligible=False, failed_criteria=("delta_fs", "delta_fs")),
        FlowRecord(screened=True, eligible=None),  # undecided
        FlowRecord(screened=True, eligible=True),  # eligible, waiting
        FlowRecord(screened=True, eligible=True, enrolled=True, treated=True, exit=Exit.COMPLETED),
        FlowRecord(screened=True, eligible=True, enrolled=True, treated=True, exit=Exit.DIED),
        FlowRecord(screened=True, eligible=True, enrolled=True, treated=False, exit=Exit.WITHDRAWN),
        FlowRecord(screened=True, eligible=True, enrolled=True, treated=True, exit=Exit.LOST),
        FlowRecord(screened=True, eligible=True, enrolled=True, treated=True),
    ]

    flow = tally_flow(records)

    assert (flow.referred, flow.screened, flow.ineligible, flow.undecided) == (10, 9, 2, 2)
    assert [(r.criterion, r.patients) for r in flow.reasons] == [
        ("delta_fs", 2),
        ("vital_capacity", 1),
    ]
    assert (flow.enrolled, flow.treated) == (5, 4)
    assert (flow.completed, flow.died, flow.withdrawn, flow.lost, flow.ongoing) == (1, 1, 1, 1, 1)


def test_an_empty_flow_is_all_zeros():
    flow = tally_flow([])

    assert (flow.referred, flow.enrolled, flow.reasons, flow.undecided) == (0, 0, (), 0)


def test_the_baseline_table_gives_medians_quartiles_ranges_and_counts():
    patients = [
        BaselinePatient(age_years=50, sex="female", onset_site="spinal", months_onset_to_enrollment=10.0,
                        alsfrs_r_total=40, delta_fs=0.5, vital_capacity_percent=None),
        BaselinePatient(age_years=60, sex="male", onset_site="bulbar", months_onset_to_enrollment=20.0,
                        alsfrs_r_total=44, delta_fs=None, vital_capacity_percent=None),
        BaselinePatient(age_years=70, sex="female", onset_site=None, months_onset_to_enrollment=None,
                        alsfrs_r_total=36, delta_fs=1.5, vital_capacity_percent=None),
    ]  # fmt: skip

    rows = {row.characteristic: row for row in summarise_baseline(patients)}

    assert rows["Patients enrolled"].count == 3
    age = rows["Age at enrollment"]
    assert (age.n, age.median, age.q1, age.q3, age.low, age.high) == (
        3,
        60.0,
        55.0,
        65.0,
        50.0,
        70.0,
    )
    assert rows["ALSFRS-R total at baseline"].median == 40.0
    assert (rows["ΔFS at baseline"].n, rows["ΔFS at baseline"].median) == (2, 1.0)
    assert (rows["Vital capacity"].n, rows["Vital capacity"].median) == (0, None)
    assert (rows["Sex: female"].count, rows["Sex: female"].n, rows["Sex: male"].count) == (2, 3, 1)
    assert (rows["Site of onset: bulbar"].n, rows["Site of onset: spinal"].count) == (2, 1)


def test_the_band_is_none_without_a_baseline(model):
    assert natural_history_band(model, baselines=[], delta_fs=[], months=[0.0, 6.0],
                                rng=np.random.default_rng(1)) is None  # fmt: skip


def test_the_band_pools_simulated_courses_and_is_seeded(model):
    def band(seed: int) -> Band | None:
        return natural_history_band(model, baselines=[46, 40], delta_fs=[0.4, None], months=[0.0, 3.0, 6.0],
                                    rng=np.random.default_rng(seed), draws=300)  # fmt: skip

    first, again = band(7), band(7)

    assert first == again
    assert first is not None
    assert first.months == (0.0, 3.0, 6.0)
    assert all(
        lo <= mid <= hi for lo, mid, hi in zip(first.low, first.median, first.high, strict=True)
    )
    assert first.median[-1] < first.median[0]  # untreated ALS declines
    assert (first.patients, first.draws, first.coverage, first.model) == (2, 300, 0.95, model.label)


def test_relative_dates_count_days_from_the_first_dose():
    text = "2026-01-15: unit.not_dispensed overridden; window 2026-07-03 to 2026-07-31"

    assert relative_dates(text, date(2026, 1, 15)) == (
        "day +0: unit.not_dispensed overridden; window day +169 to day +197"
    )
    assert relative_dates("rated 2025-12-20", date(2026, 1, 15)) == "rated day -26"
    assert relative_dates("rated 2025-12-20", None) == "rated [date]"
    assert relative_dates("code 2026-02-30 stays", date(2026, 1, 1)) == "code 2026-02-30 stays"
