"""Synthetic cohorts (domain/stats/synthetic.py): properties true by construction of the model.

The published figures are written here from clinical.md §6, not read from the code. Every cohort is
seeded; tolerances are several Monte-Carlo standard errors wide.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from alscell.domain import alsfrs
from alscell.domain.dataset import (
    AlsfrsRecord,
    DiagnosisRecord,
    OutcomeEventRecord,
    PatientRecord,
    VitalCapacityRecord,
    record_fields,
)
from alscell.domain.eligibility import CATEGORIES, DiagnosticSystem
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats import synthetic as syn
from alscell.domain.stats.synthetic_items import ITEM_KEYS
from alscell.storage.comparator_files import builtin_natural_history

START = date(2024, 3, 4)
VC_DECLINE = 2.24  # % predicted per month, Atassi 2014 (clinical.md §6)
BULBAR_SHARE = 0.30  # ASSUMED, docs/synthetic.md


@pytest.fixture(scope="module")
def model() -> nh.NaturalHistoryModel:
    return builtin_natural_history()


def cohort(model: nh.NaturalHistoryModel, n: int, **options: object) -> list[syn.CohortChunk]:
    spec = syn.CohortSpec(patients=n, seed=11, start=START, **options)  # type: ignore[arg-type]
    return list(syn.synthesize(model, spec))


def stacked(chunks: list[syn.CohortChunk], name: str) -> np.ndarray:
    return np.concatenate([getattr(chunk, name) for chunk in chunks])


@pytest.fixture(scope="module")
def big(model: nh.NaturalHistoryModel) -> list[syn.CohortChunk]:
    return cohort(model, 20_000, chunk_size=7_000)


def test_the_same_seed_gives_the_same_cohort(model: nh.NaturalHistoryModel) -> None:
    first, second = cohort(model, 300, chunk_size=100), cohort(model, 300, chunk_size=100)
    for a, b in zip(first, second, strict=True):
        for name in ("alsfrs", "vc", "rated", "event_day", "birth_day", "el_escorial"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
    other = list(syn.synthesize(model, syn.CohortSpec(patients=300, seed=12, start=START)))
    assert not np.array_equal(other[0].alsfrs[:100], first[0].alsfrs)


def test_chunks_cover_the_cohort_and_report_progress(model: nh.NaturalHistoryModel) -> None:
    seen: list[int] = []
    spec = syn.CohortSpec(patients=25, seed=1, start=START, chunk_size=10)
    chunks = list(syn.synthesize(model, spec, seen.append))
    assert seen == [10, 10, 5]
    assert spec.chunks == 3
    assert [c.first for c in chunks] == [0, 10, 20]
    assert chunks[2].codes == [f"SYN-{i:06d}" for i in range(21, 26)]


def test_totals_stay_on_the_scale_and_visits_follow_the_schedule(
    big: list[syn.CohortChunk],
) -> None:
    totals = stacked(big, "alsfrs")
    assert totals.min() >= 0
    assert totals.max() <= 48
    expected_days = [round(3 * k * DAYS_PER_MONTH) for k in range(7)]
    assert all(chunk.visit_days.tolist() == expected_days for chunk in big)
    assert totals.shape[1] == 7


def test_nobody_is_rated_on_or_after_their_event(big: list[syn.CohortChunk]) -> None:
    for chunk in big:
        ended = chunk.event != 0
        after = chunk.visit_days[None, :] > chunk.event_day[:, None]
        assert not np.any(chunk.rated & after)  # day rounding may put a last visit on the event day
        assert np.any(ended)
        assert np.any(~chunk.rated[ended])
        assert np.all(chunk.rated[~ended])  # censored at the last visit: every visit took place
        assert np.all(chunk.event_day[~ended] == chunk.visit_days[-1])


def test_dates_run_onset_then_diagnosis_then_baseline(big: list[syn.CohortChunk]) -> None:
    for chunk in big:
        assert np.all(chunk.birth_day < chunk.onset_day)
        assert np.all(chunk.onset_day <= chunk.diagnosis_day)
        assert np.all(chunk.diagnosis_day <= 0)
        ages = chunk.age_at_onset_years
        assert ages.min() >= 18
        assert ages.max() <= 90


def test_the_bulbar_share_is_the_assumed_one(big: list[syn.CohortChunk]) -> None:
    bulbar = stacked(big, "bulbar")
    n = len(bulbar)
    se = math.sqrt(BULBAR_SHARE * (1 - BULBAR_SHARE) / n)
    assert abs(bulbar.mean() - BULBAR_SHARE) < 4 * se


def test_vital_capacity_falls_by_the_published_mean(big: list[syn.CohortChunk]) -> None:
    vc, rated = stacked(big, "vc"), stacked(big, "rated")
    both = rated[:, 0] & rated[:, -1]
    slopes = (vc[both, 0] - vc[both, -1]) / 18.0
    se = slopes.std() / math.sqrt(both.sum())
    assert abs(slopes.mean() - VC_DECLINE) < 4 * se + 0.02  # 0.02: rare clipping at 0


def test_a_simulated_slowing_means_less_decline_at_the_same_seed(
    model: nh.NaturalHistoryModel,
) -> None:
    untreated = cohort(model, 5_000, chunk_size=5_000)[0]
    slowed = cohort(model, 5_000, chunk_size=5_000, slowing=0.5)[0]
    assert np.array_equal(untreated.rated, slowed.rated)  # the same patients
    keep = untreated.rated[:, -1]
    loss_untreated = untreated.alsfrs[keep, 0] - untreated.alsfrs[keep, -1]
    loss_slowed = slowed.alsfrs[keep, 0] - slowed.alsfrs[keep, -1]
    difference = loss_untreated - loss_slowed  # paired: same patients, same noise
    se = difference.std() / math.sqrt(len(difference))
    assert difference.mean() > 0.2 * loss_untreated.mean()
    assert difference.mean() > 6 * se
    assert np.array_equal(untreated.alsfrs[:, 0], slowed.alsfrs[:, 0])  # baseline untouched


def test_the_treatment_starts_at_the_first_visit_after_baseline_unless_given() -> None:
    assert syn.CohortSpec(patients=1, seed=0, start=START).treatment_start_months == 3.0
    assert (
        syn.CohortSpec(
            patients=1, seed=0, start=START, treated_from_months=0.0
        ).treatment_start_months
        == 0.0
    )
    single = syn.CohortSpec(patients=1, seed=0, start=START, visit_months=(0.0,))
    assert single.treatment_start_months == 0.0


@pytest.mark.parametrize(
    "options",
    [{"patients": 0}, {"chunk_size": 0}, {"visit_months": ()}, {"visit_months": (1.0, 2.0)},
     {"visit_months": (0.0, 3.0, 3.0)}, {"visit_months": (0.0, 0.01)}, {"slowing": 1.0},
     {"slowing": -0.1}],
)  # fmt: skip
def test_a_spec_refuses_impossible_values(options: dict[str, object]) -> None:
    arguments: dict[str, object] = {"patients": 1, "seed": 0, "start": START, **options}
    with pytest.raises(ValueError, match="must"):
        syn.CohortSpec(**arguments)  # type: ignore[arg-type]


def test_the_visit_schedule() -> None:
    assert syn.visit_schedule(18) == (0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0)
    assert syn.visit_schedule(7, every=2) == (0.0, 2.0, 4.0, 6.0)
    assert syn.visit_schedule(0) == (0.0,)
    for months, every in ((-1.0, 3.0), (math.inf, 3.0), (6.0, 0.0)):
        with pytest.raises(ValueError, match="must be a finite number"):
            syn.visit_schedule(months, every)


def test_death_after_baseline_follows_the_conditional_log_normal(
    model: nh.NaturalHistoryModel,
) -> None:
    since_onset = np.full(40_000, 12.0)
    deaths = nh.simulate_death_months(model, since_onset, np.random.default_rng(5))
    expected = nh.death_probability(model, months_since_onset=12.0, months=12.0)
    share = (deaths <= 12.0).mean()
    assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected) / len(deaths))
    assert np.all(deaths >= 0)


def alscell_rows(
    chunk: syn.CohortChunk, site_code: str = "SYN"
) -> dict[str, list[dict[str, object]]]:
    """Each alscell table's rows of a chunk, by file name, as column -> value."""
    return {
        table.file_name: [
            dict(zip(table.columns, row, strict=True)) for row in table.rows(chunk, START)
        ]
        for table in syn.alscell_tables(site_code)
    }


def test_the_alscell_tables_are_the_record_types_with_their_fields_in_order() -> None:
    tables = syn.alscell_tables()
    kinds = (PatientRecord, DiagnosisRecord, AlsfrsRecord, VitalCapacityRecord, OutcomeEventRecord)
    assert [t.file_name for t in tables] == [f"{kind.TABLE}.csv" for kind in kinds]
    assert [t.columns for t in tables] == [record_fields(kind) for kind in kinds]
    assert syn.DEFAULT_SITE_CODE == "SYN"


def test_the_alscell_tables_hold_one_row_per_patient_rated_visit_or_event(
    model: nh.NaturalHistoryModel,
) -> None:
    chunk = cohort(model, 50)[0]
    rows = alscell_rows(chunk, site_code="LON-2")
    assert len(rows["patients.csv"]) == len(rows["diagnoses.csv"]) == 50
    assert len(rows["alsfrs_ratings.csv"]) == len(rows["vital_capacities.csv"]) == chunk.rated.sum()
    assert len(rows["outcome_events.csv"]) == np.count_nonzero(chunk.event)
    for table in syn.alscell_tables():
        assert all(len(row) == len(table.columns) for row in rows[table.file_name])
    first = rows["alsfrs_ratings.csv"][0]
    assert (first["study_code"], first["rated_on"]) == ("SYN-000001", "2024-03-04")
    assert first["total"] == chunk.alsfrs[0, 0]
    assert (first["q5b"], first["form"]) == ("", "clinician")
    onset = START + timedelta(days=int(chunk.onset_day[0]))
    assert rows["diagnoses.csv"][0]["onset_on"] == onset.isoformat()
    assert {row["site_code"] for row in rows["patients.csv"]} == {"LON-2"}
    assert {row["kind"] for row in rows["outcome_events.csv"]} <= {"death", "tracheostomy"}
    assert {row["source"] for row in rows["outcome_events.csv"]} == {"synthetic"}


def test_alscell_ratings_split_the_simulated_totals_into_items(
    model: nh.NaturalHistoryModel,
) -> None:
    chunk = cohort(model, 200)[0]
    ratings = alscell_rows(chunk)["alsfrs_ratings.csv"]
    patient, visit = np.nonzero(chunk.rated)
    assert [row["total"] for row in ratings] == chunk.alsfrs[patient, visit].tolist()
    expected_dates = [(START + timedelta(days=int(d))).isoformat() for d in chunk.visit_days[visit]]
    assert [row["rated_on"] for row in ratings] == expected_dates
    for row in ratings:
        items = {key: row[key] for key in ITEM_KEYS}
        assert (
            alsfrs.score(items).total == row["total"]
        )  # items 0-4, 5a scored, summing to the total
    vc = alscell_rows(chunk)["vital_capacities.csv"]
    assert [row["percent_predicted"] for row in vc] == chunk.vc[patient, visit].tolist()
    assert {row["method"] for row in vc} == {"fvc"}


def test_alscell_patients_and_diagnoses_carry_the_simulated_values(
    model: nh.NaturalHistoryModel,
) -> None:
    chunk = cohort(model, 300)[0]
    rows = alscell_rows(chunk)
    patients, diagnoses = rows["patients.csv"], rows["diagnoses.csv"]
    died = chunk.event == syn.EVENTS.index(syn.Event.DEATH)
    assert [row["status"] == "died" for row in patients] == died.tolist()
    assert {row["status"] for row in patients} == {"died", "referred"}
    assert [row["sex"] == "male" for row in patients] == chunk.male.tolist()
    births = [START + timedelta(days=int(day)) for day in chunk.birth_day]
    assert [row["birth_year"] for row in patients] == [birth.year for birth in births]
    assert {row["registered_at"] for row in patients} == {""}
    assert [row["onset_site"] == "bulbar" for row in diagnoses] == chunk.bulbar.tolist()
    for column, days in (("onset_on", chunk.onset_day), ("diagnosis_on", chunk.diagnosis_day)):
        expected = [(START + timedelta(days=int(day))).isoformat() for day in days]
        assert [row[column] for row in diagnoses] == expected
    assert {(row["familial"], row["ftd"]) for row in diagnoses} == {("false", "false")}
    recorded = CATEGORIES[DiagnosticSystem.REVISED_EL_ESCORIAL]
    assert {row["el_escorial"] for row in diagnoses} == set(syn.RECORDED_EL_ESCORIAL.values())
    assert set(syn.RECORDED_EL_ESCORIAL.values()) <= set(recorded)
    assert set(syn.RECORDED_EL_ESCORIAL) == set(syn.ElEscorial)


def test_alscell_outcome_events_are_the_deaths_and_tracheostomies(
    model: nh.NaturalHistoryModel,
) -> None:
    chunk = cohort(model, 300)[0]
    events = alscell_rows(chunk)["outcome_events.csv"]
    [ended] = np.nonzero(chunk.event)
    assert [row["study_code"] for row in events] == [chunk.codes[p] for p in ended]
    assert [row["kind"] for row in events] == [syn.EVENTS[i].value for i in chunk.event[ended]]
    occurred = [(START + timedelta(days=int(d))).isoformat() for d in chunk.event_day[ended]]
    assert [row["occurred_on"] for row in events] == occurred
    assert {row["kind"] for row in events} == {"death", "tracheostomy"}


def test_age_on_a_day_counts_whole_years(model: nh.NaturalHistoryModel) -> None:
    chunk = cohort(model, 20)[0]
    ages = chunk.age_at_day(0)
    expected = [math.floor(-day / 365.25) for day in chunk.birth_day.tolist()]
    assert ages.tolist() == expected
