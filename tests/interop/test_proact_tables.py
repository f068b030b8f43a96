"""PRO-ACT tables of a synthetic cohort (interop/proact/tables.py): columns and a csv round trip.

The item split itself is tested in tests/domain/stats/test_synthetic_items.py.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import pytest

from alscell.domain.stats import synthetic as syn
from alscell.interop.proact import PROACT_TABLES
from alscell.interop.proact.tables import ALSFRS_ITEM_COLUMNS
from alscell.storage.comparator_files import builtin_natural_history

START = date(2023, 1, 2)


@pytest.fixture(scope="module")
def chunk() -> syn.CohortChunk:
    spec = syn.CohortSpec(patients=400, seed=4, start=START)
    return next(syn.synthesize(builtin_natural_history(), spec))


def written(table: syn.Table, chunk: syn.CohortChunk) -> list[dict[str, str]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows(chunk, START))
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_every_table_has_its_columns_keyed_by_subject_id(chunk: syn.CohortChunk) -> None:
    names = {table.file_name: table.columns for table in PROACT_TABLES}
    assert set(names) == {"PROACT_DEMOGRAPHICS.csv", "PROACT_ALSFRS.csv", "PROACT_FVC.csv",
                          "PROACT_DEATHDATA.csv", "PROACT_ALSHISTORY.csv", "PROACT_ELESCORIAL.csv"}  # fmt: skip
    assert names["PROACT_ALSFRS.csv"] == (
        "subject_id",
        *ALSFRS_ITEM_COLUMNS,
        "ALSFRS_R_Total",
        "ALSFRS_Delta",
    )
    assert names["PROACT_ALSHISTORY.csv"] == (
        "subject_id",
        "Site_of_Onset",
        "Onset_Delta",
        "Diagnosis_Delta",
    )
    for table in PROACT_TABLES:
        rows = written(table, chunk)
        assert table.columns[0] == "subject_id"
        assert all(set(row) == set(table.columns) for row in rows)


def test_the_alsfrs_table_round_trips_with_items_summing_to_totals(chunk: syn.CohortChunk) -> None:
    table = next(t for t in PROACT_TABLES if t.file_name == "PROACT_ALSFRS.csv")
    rows = written(table, chunk)
    assert len(rows) == chunk.rated.sum()
    for row in rows:
        assert sum(int(row[column]) for column in ALSFRS_ITEM_COLUMNS) == int(row["ALSFRS_R_Total"])
    patient, visit = np.nonzero(chunk.rated)
    assert [int(r["ALSFRS_R_Total"]) for r in rows] == chunk.alsfrs[patient, visit].tolist()
    assert [int(r["ALSFRS_Delta"]) for r in rows] == chunk.visit_days[visit].tolist()
    assert [int(r["subject_id"]) for r in rows] == (patient + 1).tolist()


def test_patient_tables_hold_one_row_each_with_deaths_and_onsets(chunk: syn.CohortChunk) -> None:
    tables = {t.file_name: written(t, chunk) for t in PROACT_TABLES}
    for name in ("PROACT_DEMOGRAPHICS.csv", "PROACT_DEATHDATA.csv", "PROACT_ALSHISTORY.csv",
                 "PROACT_ELESCORIAL.csv"):  # fmt: skip
        assert [int(r["subject_id"]) for r in tables[name]] == list(range(1, chunk.n + 1))
    deaths = tables["PROACT_DEATHDATA.csv"]
    died = chunk.event == syn.EVENTS.index(syn.Event.DEATH)
    assert [r["Subject_Died"] == "Yes" for r in deaths] == died.tolist()
    assert [int(r["Death_Days"]) for r in deaths if r["Death_Days"]] == chunk.event_day[
        died
    ].tolist()
    history = tables["PROACT_ALSHISTORY.csv"]
    assert [r["Site_of_Onset"] == "Onset: Bulbar" for r in history] == chunk.bulbar.tolist()
    assert [int(r["Onset_Delta"]) for r in history] == chunk.onset_day.tolist()
    assert all(int(r["Onset_Delta"]) <= int(r["Diagnosis_Delta"]) <= 0 for r in history)
    sexes = {r["Sex"] for r in tables["PROACT_DEMOGRAPHICS.csv"]}
    assert sexes == {"Male", "Female"}
    fvc = tables["PROACT_FVC.csv"]
    assert len(fvc) == chunk.rated.sum()
