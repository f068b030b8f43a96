"""Importing PRO-ACT tables (interop/proact/transfer.py through services/comparators.py).

The round trip writes a cohort with ``alscell synth``'s writer and compares what is stored with the
generator's own arrays. ``samples/download`` holds files shaped like the PRO-ACT download (extra
columns, CRLF line ends, a UTF-8 byte-order mark, item 5b, an original-ALSFRS row); the expected values
below are read off those files by hand. Every bad file must name file, row and column, and leave no row.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.cli.synth import write_tables
from alscell.domain.stats import synthetic as syn
from alscell.errors import InvalidImport
from alscell.interop.proact import PROACT_TABLES, ProactReader, items_from_totals
from alscell.services.comparators import import_comparator_cohort
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.models import (
    ComparatorCohort,
    ComparatorFvc,
    ComparatorRating,
    ComparatorSubject,
)
from alscell.storage.session import make_session_factory
from tests.factories import NOW

SAMPLES = Path(__file__).parent / "samples" / "download"
START = date(2024, 1, 1)
TABLES = (ComparatorCohort, ComparatorSubject, ComparatorRating, ComparatorFvc)
ITEMS = ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12")


def run(
    session: Session, directory: Path, *, name: str = "cohort", skip: bool = False
) -> tuple[ComparatorCohort, ProactReader]:
    reader = ProactReader(directory, skip_bad_rows=skip)
    cohort = import_comparator_cohort(session, name=name, source="test", files=reader.files,
                                      batches=reader.batches(), by=None, now=NOW)  # fmt: skip
    return cohort, reader


def counts(session: Session) -> list[int]:
    return [session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in TABLES]


# ---------------------------------------------------------------- round trip


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, syn.CohortChunk]:
    folder = tmp_path_factory.mktemp("synth")
    spec = syn.CohortSpec(patients=250, seed=11, start=START)
    [chunk] = list(syn.synthesize(builtin_natural_history(), spec))
    write_tables(iter([chunk]), START, [(folder, PROACT_TABLES)])
    return folder, chunk


def test_a_synthetic_cohort_round_trips_value_for_value(session, synthetic):
    folder, chunk = synthetic
    cohort, reader = run(session, folder)

    patient, visit = np.nonzero(chunk.rated)
    assert (cohort.subject_count, cohort.rating_count, cohort.fvc_count, cohort.skipped_count) == (
        chunk.n, len(patient), len(patient), 0,
    )  # fmt: skip
    stored = session.execute(
        sa.select(ComparatorRating).where(ComparatorRating.cohort_id == cohort.id)
    ).scalars().all()  # fmt: skip
    got = {
        (int(r.subject_id), r.delta_days): (r.form, r.total, [getattr(r, k) for k in ITEMS], r.q5b)
        for r in stored
    }
    items = items_from_totals(chunk.alsfrs[patient, visit], chunk.bulbar[patient])
    expected = {
        (int(p) + 1, int(chunk.visit_days[v])): (
            "alsfrs_r",
            int(chunk.alsfrs[p, v]),
            row.tolist(),
            None,
        )
        for p, v, row in zip(patient, visit, items, strict=True)
    }
    assert got == expected
    subjects = {int(s.subject_id): s for s in session.execute(
        sa.select(ComparatorSubject).where(ComparatorSubject.cohort_id == cohort.id)).scalars()}  # fmt: skip
    died = chunk.event == syn.EVENTS.index(syn.Event.DEATH)
    for i in range(chunk.n):
        s = subjects[i + 1]
        assert (s.sex, s.onset_site) == (
            "male" if chunk.male[i] else "female",
            "bulbar" if chunk.bulbar[i] else "spinal",
        )
        assert s.age_years == float(np.floor(-chunk.birth_day[i] / 365.25))
        assert (s.onset_delta_days, s.diagnosis_delta_days) == (
            chunk.onset_day[i],
            chunk.diagnosis_day[i],
        )
        assert (s.died, s.death_days) == ((True, chunk.event_day[i]) if died[i] else (False, None))
    fvc = session.execute(sa.select(ComparatorFvc.subject_id, ComparatorFvc.delta_days, ComparatorFvc.percent_predicted)
                          .where(ComparatorFvc.cohort_id == cohort.id)).all()  # fmt: skip
    assert sorted((int(s), d, v) for s, d, v in fvc) == sorted(
        (int(p) + 1, int(chunk.visit_days[v]), float(chunk.vc[p, v]))
        for p, v in zip(patient, visit, strict=True)
    )
    assert reader.summary.deaths == int(died.sum())
    assert set(cohort.files) == {
        t.file_name for t in PROACT_TABLES if t.file_name != "PROACT_ELESCORIAL.csv"
    }


# ---------------------------------------------------------------- the download's shape


def test_files_shaped_like_the_download_are_read_with_both_forms(session):
    cohort, reader = run(session, SAMPLES)

    assert (cohort.subject_count, cohort.rating_count, cohort.fvc_count) == (3, 7, 3)
    assert reader.summary.deaths == 1
    subjects = session.execute(
        sa.select(ComparatorSubject.subject_id, ComparatorSubject.sex, ComparatorSubject.age_years,
                  ComparatorSubject.onset_site, ComparatorSubject.onset_delta_days,
                  ComparatorSubject.diagnosis_delta_days, ComparatorSubject.died, ComparatorSubject.death_days)
        .where(ComparatorSubject.cohort_id == cohort.id).order_by(ComparatorSubject.subject_id)
    ).all()  # fmt: skip
    assert [tuple(s) for s in subjects] == [
        ("101", "male", 61.0, "spinal", -540, -200, False, None),
        ("102", "female", 54.0, "bulbar", -400, -120, True, 400),  # -20000 days: 54.76 years
        ("103", "female", 47.5, "bulbar_and_spinal", -700, -350, None, None),
    ]
    ratings = session.execute(
        sa.select(ComparatorRating.subject_id, ComparatorRating.delta_days, ComparatorRating.form,
                  ComparatorRating.q5a, ComparatorRating.q5b, ComparatorRating.q10, ComparatorRating.q12,
                  ComparatorRating.total)
        .where(ComparatorRating.cohort_id == cohort.id)
        .order_by(ComparatorRating.subject_id, ComparatorRating.delta_days)
    ).all()  # fmt: skip
    assert [tuple(r) for r in ratings] == [
        ("101", 0, "alsfrs_r", 3, None, 4, 4, 43),
        ("101", 91, "alsfrs_r", 2, None, 4, 4, 40),
        ("101", 182, "alsfrs_r", 2, None, 3, 4, 37),
        ("102", -7, "alsfrs", 4, None, 3, None, 36),  # original ALSFRS, Q10_Respiratory = 3
        ("102", 0, "alsfrs_r", None, 4, 4, 4, 43),  # gastrostomy: 5b "4.0"
        ("102", 95, "alsfrs_r", None, 3, 3, 4, 39),  # empty total: 2+3+1+4+3+4+4+4+3+3+4+4
        ("103", 30, "alsfrs_r", 3, None, 4, 4, 41),
    ]
    fvc = session.execute(sa.select(ComparatorFvc.subject_id, ComparatorFvc.delta_days, ComparatorFvc.percent_predicted)
                          .order_by(ComparatorFvc.subject_id, ComparatorFvc.delta_days)).all()  # fmt: skip
    assert [tuple(f) for f in fvc] == [("101", 0, 82.5), ("101", 91, None), ("102", 0, 64.0)]


def test_only_the_alsfrs_file_is_required(session, tmp_path):
    shutil.copy(SAMPLES / "PROACT_ALSFRS.csv", tmp_path)
    cohort, reader = run(session, tmp_path)
    assert (cohort.subject_count, cohort.rating_count, cohort.fvc_count) == (3, 7, 0)
    assert reader.summary.deaths == 0


def test_a_directory_without_ratings_is_refused(tmp_path):
    with pytest.raises(InvalidImport, match=r"has no PROACT_ALSFRS\.csv"):
        ProactReader(tmp_path)
    with pytest.raises(InvalidImport, match="is not a directory"):
        ProactReader(tmp_path / "nowhere")


# ---------------------------------------------------------------- bad files

Edit = Callable[[Path], None]


def replace(name: str, old: str, new: str, *, count: int = 1) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / name
        text = path.read_bytes().decode("utf-8-sig")
        assert old in text
        path.write_bytes(text.replace(old, new, count).encode("utf-8"))

    return edit


def encode(name: str, encoding: str, old: str = "", new: str = "") -> Edit:
    def edit(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8-sig").replace(old, new)
        path.write_bytes(text.encode(encoding))

    return edit


def cut_end(name: str, characters: int) -> Edit:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[:-characters])

    return edit


def write(name: str, data: bytes) -> Edit:
    def edit(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return edit


ALSFRS_ROW_3 = "101,4,4,4,3,2,,3,3,3,2,,4,4,4,32,40,91,In person,Patient"
BAD_FILES = {
    "wrong columns": (replace("PROACT_ALSFRS.csv", "Q3_Swallowing,", "Q3_Swallow,"),
                      "PROACT_ALSFRS.csv column Q3_Swallowing: required column is missing"),
    "bad number": (replace("PROACT_FVC.csv", "82.5", "8x.5"),
                   "PROACT_FVC.csv row 2 column pct_of_Normal_Trial_1: must be a number from 0 to 300, got '8x.5'"),
    "bad delta": (replace("PROACT_ALSFRS.csv", ",91,In", ",91.5,In"),
                  "PROACT_ALSFRS.csv row 3 column ALSFRS_Delta: must be whole days from trial start"),
    "item out of range": (replace("PROACT_ALSFRS.csv", "103,3,4,4", "103,3,4,5"),
                          "PROACT_ALSFRS.csv row 8 column Q3_Swallowing: must be an item score from 0 to 4, got '5'"),
    "total is not the sum": (replace("PROACT_ALSFRS.csv", ",37,182", ",36,182"),
                             "PROACT_ALSFRS.csv row 4 column ALSFRS_R_Total: ALSFRS-R total 36 is not the sum of the 12 items (37"),
    "duplicate row": (replace("PROACT_ALSFRS.csv", ALSFRS_ROW_3, f"{ALSFRS_ROW_3}\r\n{ALSFRS_ROW_3}"),
                      "PROACT_ALSFRS.csv row 4 column ALSFRS_Delta: subject '101' at delta 91 is already in an earlier row"),
    "duplicate subject": (replace("PROACT_DEATHDATA.csv", "102,Yes,400", "102,Yes,400\r\n102,Yes,401"),
                          "PROACT_DEATHDATA.csv row 4 column subject_id: subject '102' is already in an earlier row"),
    "latin-1": (encode("PROACT_DEMOGRAPHICS.csv", "latin-1", "Unknown", "Hispánico"),
                "PROACT_DEMOGRAPHICS.csv: is not UTF-8"),
    "utf-16": (encode("PROACT_ALSFRS.csv", "utf-16"), "PROACT_ALSFRS.csv: is UTF-16, not UTF-8"),
    "row cut short": (replace("PROACT_ALSFRS.csv", ALSFRS_ROW_3, "101,4,4,4,3,2"),
                      "PROACT_ALSFRS.csv row 3: has 6 fields, the header has 20: the row is cut short"),
    "last line cut": (cut_end("PROACT_FVC.csv", 5),  # "...,0,Liters\r\n" becomes "...,0,Lit"
                      "PROACT_FVC.csv row 4: the file does not end with a line break"),
    "unknown subject": (replace("PROACT_FVC.csv", "102,2.2", "104,2.2"),
                        "PROACT_FVC.csv row 4 column subject_id: subject '104' is not in PROACT_DEMOGRAPHICS.csv"),
    "empty file": (write("PROACT_DEATHDATA.csv", b""), "PROACT_DEATHDATA.csv: is empty: no header row"),
    "no ratings": (write("PROACT_ALSFRS.csv", (SAMPLES / "PROACT_ALSFRS.csv").read_bytes().splitlines(keepends=True)[0]),
                   "PROACT_ALSFRS.csv: has no ratings"),
    "broken quoting": (replace("PROACT_DEATHDATA.csv", "101,No,", '101,"No,'),
                       "PROACT_DEATHDATA.csv row"),
}  # fmt: skip


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "proact"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_names_the_place_and_nothing_is_written(session, sample, case):
    edit, expected = BAD_FILES[case]
    edit(sample)

    with pytest.raises(InvalidImport) as raised:
        run(session, sample)
    session.rollback()

    found = [str(problem) for problem in raised.value.problems]
    assert any(problem.startswith(expected) for problem in found), found
    assert counts(session) == [0, 0, 0, 0]


def test_a_bad_row_found_after_rows_were_inserted_still_leaves_nothing(fresh_engine, sample):
    BAD_FILES["bad number"][0](sample)  # FVC is read last: subjects and ratings are inserted first
    factory = make_session_factory(fresh_engine)
    with factory() as session, pytest.raises(InvalidImport):
        run(session, sample)
    with factory() as session:
        assert counts(session) == [0, 0, 0, 0]


def test_skipping_bad_rows_imports_the_rest_and_reports_them(session, sample):
    for case in ("bad delta", "item out of range", "unknown subject"):
        BAD_FILES[case][0](sample)

    cohort, reader = run(session, sample, skip=True)

    # ALSFRS: rows 3 (delta) and 8 (item) of 7 skipped; FVC: row 4 (unknown subject) of 3 skipped
    assert (cohort.subject_count, cohort.rating_count, cohort.fvc_count, cohort.skipped_count) == (
        3,
        5,
        2,
        3,
    )
    assert [str(p).split(":")[0] for p in reader.summary.problems] == [
        "PROACT_ALSFRS.csv row 3 column ALSFRS_Delta",
        "PROACT_ALSFRS.csv row 8 column Q3_Swallowing",
        "PROACT_FVC.csv row 4 column subject_id",
    ]
    assert reader.summary.skipped == 3


def test_file_problems_stop_the_import_even_when_skipping(session, sample):
    BAD_FILES["utf-16"][0](sample)
    with pytest.raises(InvalidImport, match="is UTF-16"):
        run(session, sample, skip=True)


def test_at_most_200_problems_are_listed_with_the_count_of_the_rest(session, sample):
    header, *rows = (sample / "PROACT_ALSFRS.csv").read_text(encoding="utf-8").splitlines()
    bad = [
        f"101,9,4,4,3,2,,3,3,3,2,,4,4,4,,,{day},x,y" for day in range(1000, 1250)
    ]  # 250 bad rows
    (sample / "PROACT_ALSFRS.csv").write_text(
        "\n".join([header, *rows, *bad]) + "\n", encoding="utf-8"
    )

    with pytest.raises(InvalidImport) as raised:
        run(session, sample)

    listed = raised.value.problems
    assert len(listed) == 201
    assert str(listed[-1]).endswith("50 more problems not listed")
