"""alscell's CSV format: every value back as written, and every bad file refused with its place named."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.dataset import (
    ClinicalDataset,
    IdentityRecord,
    PatientRecord,
    VitalCapacityRecord,
    WeightRecord,
)
from alscell.domain.registration import SEXES
from alscell.errors import InvalidImport, InvalidInput
from alscell.interop.csv import read_csv_dir, write_csv_dir
from alscell.interop.csv.mapping import from_cells, row_parser
from tests.interop.sample import sample_dataset


def _written(tmp_path: Path, dataset: ClinicalDataset | None = None) -> Path:
    folder = tmp_path / "export"
    write_csv_dir(dataset or sample_dataset(), folder)
    return folder


def _problems(folder: Path) -> list[str]:
    with pytest.raises(InvalidImport) as caught:
        read_csv_dir(folder)
    return [str(problem) for problem in caught.value.problems]


def test_every_value_of_every_record_comes_back(tmp_path):
    sample = sample_dataset()
    back = read_csv_dir(_written(tmp_path, sample))
    # The planned calendar is derived: written for readers, rebuilt from the protocol, never read.
    assert back.sorted() == dataclasses.replace(sample, planned_activities=()).sorted()
    assert (tmp_path / "export" / "planned_activities.csv").exists()


def test_cells_are_written_as_documented(tmp_path):
    folder = _written(tmp_path)
    patients = (folder / "patients.csv").read_text(encoding="utf-8").splitlines()
    assert patients[0] == "study_code,site_code,status,sex,birth_year,registered_at"
    assert patients[1] == "P-0001,S1,died,female,1961,2026-01-05T09:30:15+00:00"
    events = (folder / "adverse_events.csv").read_text(encoding="utf-8")
    assert '"[""death"", ""hospitalisation""]"' in events
    identities = (folder / "identities.csv").read_text(encoding="utf-8")
    assert '"O\'Brien, Jr."' in identities


def test_a_de_identified_data_set_writes_no_identity_file(tmp_path):
    folder = _written(tmp_path, sample_dataset(identified=False))
    assert not (folder / "identities.csv").exists()
    text = "".join(path.read_text(encoding="utf-8") for path in folder.iterdir())
    for value in ("Zoë", "O'Brien", "1961-02-28", "MRN-77", "Zhang"):
        assert value not in text


def test_refuses_to_write_into_a_folder_with_files(tmp_path):
    (tmp_path / "x.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InvalidInput, match="must be an empty or new directory"):
        write_csv_dir(sample_dataset(), tmp_path)
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "keep me"


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_unknown_and_missing_columns_are_named(tmp_path):
    folder = _written(tmp_path)
    _replace_line(folder / "weights.csv", 1, "study_code,measured_on,weight_lbs")
    assert _problems(folder) == [
        "weights.csv row 1 column 'weight_lbs': is not a column of this table",
        "weights.csv row 1 column 'weight_kg': is missing",
    ]


def test_bad_dates_numbers_and_flags_name_row_and_column(tmp_path):
    folder = _written(tmp_path)
    _replace_line(folder / "weights.csv", 2, "P-0001,2026-13-07,sixty")
    _replace_line(folder / "diagnoses.csv", 3, "P-0002,2023-11-20,spinal,2024-06-03,yes,,,,,,false")
    problems = _problems(folder)
    assert (
        "weights.csv row 2 column measured_on: must be a date YYYY-MM-DD (got '2026-13-07')"
        in problems
    )
    assert "weights.csv row 2 column weight_kg: must be a number (got 'sixty')" in problems
    assert "diagnoses.csv row 3 column familial: must be true or false (got 'yes')" in problems


def test_an_out_of_range_item_and_a_wrong_total_are_named(tmp_path):
    folder = _written(tmp_path)
    ratings = folder / "alsfrs_ratings.csv"
    header = ratings.read_text(encoding="utf-8").splitlines()[0].split(",")
    row = ratings.read_text(encoding="utf-8").splitlines()[1].split(",")
    row[header.index("q3")] = "5"
    _replace_line(ratings, 2, ",".join(row))
    row = ratings.read_text(encoding="utf-8").splitlines()[2].split(",")
    row[header.index("total")] = str(int(row[header.index("total")]) + 1)
    _replace_line(ratings, 3, ",".join(row))
    problems = _problems(folder)
    assert any(p.startswith("alsfrs_ratings.csv row 2 column q3:") and "0-4" in p for p in problems)
    assert any(p.startswith("alsfrs_ratings.csv row 3 column total:") for p in problems)


def test_duplicate_rows_are_named_both_times(tmp_path):
    folder = _written(tmp_path)
    path = folder / "weights.csv"
    path.write_text(path.read_text(encoding="utf-8") + "P-0001,2026-01-07,60.0\n", encoding="utf-8")
    problems = _problems(folder)
    assert [p.split(":")[0] for p in problems] == [
        "weights.csv row 2 column study_code, measured_on",
        "weights.csv row 3 column study_code, measured_on",
    ]


def test_a_file_not_in_utf8_is_refused_with_its_line(tmp_path):
    folder = _written(tmp_path)
    text = (folder / "identities.csv").read_text(encoding="utf-8")
    (folder / "identities.csv").write_bytes(text.encode("latin-1"))
    [problem] = _problems(folder)
    assert problem.startswith("identities.csv row 2: is not UTF-8")


def test_a_byte_order_mark_is_accepted(tmp_path):
    folder = _written(tmp_path)
    text = (folder / "weights.csv").read_text(encoding="utf-8")
    (folder / "weights.csv").write_text(text, encoding="utf-8-sig")
    assert read_csv_dir(folder).weights == sample_dataset().weights


def test_a_truncated_file_is_refused(tmp_path):
    folder = _written(tmp_path)
    path = folder / "lab_results.csv"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("inr,1.05,1\n")
    path.write_text(text[: -len(",1\n")], encoding="utf-8")
    assert _problems(folder) == [
        "lab_results.csv row 3: has 4 fields, the header has 5 (truncated or misquoted row)"
    ]


def test_a_file_cut_inside_a_quoted_cell_is_refused(tmp_path):
    folder = _written(tmp_path)
    path = folder / "identities.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("Jr.") + 3], encoding="utf-8")
    [problem] = _problems(folder)
    assert problem.startswith("identities.csv row 2: is not valid CSV")


def test_empty_files_unknown_files_and_empty_folders(tmp_path):
    folder = _written(tmp_path)
    (folder / "weights.csv").write_text("", encoding="utf-8")
    (folder / "patient.csv").write_text("study_code\n", encoding="utf-8")
    problems = _problems(folder)
    assert problems[0].startswith("patient.csv: is not an alscell table")
    assert problems[1] == "weights.csv: is empty (expected a header row)"
    (tmp_path / "none").mkdir()
    assert _problems(tmp_path / "none") == [f"{tmp_path / 'none'}: holds no .csv file"]
    assert _problems(tmp_path / "missing") == [f"{tmp_path / 'missing'}: is not a directory"]


def test_references_to_unknown_patients_are_named(tmp_path):
    folder = _written(tmp_path)
    path = folder / "weights.csv"
    path.write_text(path.read_text(encoding="utf-8") + "P-9999,2026-01-08,60.0\n", encoding="utf-8")
    assert _problems(folder) == [
        "weights.csv row 3 column study_code: no patient with study code 'P-9999'"
    ]


texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


@given(
    code=st.from_regex(r"[A-Z][A-Z0-9-]{2,12}", fullmatch=True),
    name=texts.filter(str.strip),  # a blank name is refused
    mrn=st.none() | texts,
    sex=st.none() | st.sampled_from(SEXES),
    percent=st.floats(0, 200, allow_nan=False),
    year=st.none() | st.integers(1900, 2100),
    on=st.dates(date(1990, 1, 1), date(2100, 1, 1)),
)
def test_any_text_number_and_date_comes_back_exactly(
    tmp_path_factory, code, name, mrn, sex, percent, year, on
):
    dataset = ClinicalDataset(
        patients=(
            PatientRecord(
                study_code=code, site_code="S", status="referred", sex=sex, birth_year=year
            ),
        ),
        identities=(
            IdentityRecord(
                study_code=code, given_name=name, family_name="Doe", birth_on=on, mrn=mrn
            ),
        ),
        vital_capacities=(
            VitalCapacityRecord(study_code=code, measured_on=on, percent_predicted=percent),
        ),
    )
    folder = tmp_path_factory.mktemp("prop") / "out"
    write_csv_dir(dataset, folder)
    assert read_csv_dir(folder) == dataset


@pytest.mark.parametrize("inside", ["\r", "\n", "\r\n", "\x0b", "\x85", "\u2028", '"', ","])
def test_a_cell_holding_a_line_break_or_a_quote_is_one_cell(tmp_path, inside):
    """A lone carriage return was written bare (rows ended in LF, which alone made the writer quote)
    and read back as two short rows: found by the round trip above."""
    dataset = ClinicalDataset(
        patients=(PatientRecord(study_code="AMS-001", site_code="S", status="referred"),),
        identities=(IdentityRecord(study_code="AMS-001", given_name=f"An{inside}na",
                                   family_name="Doe", birth_on=date(1960, 1, 1)),),
    )  # fmt: skip
    write_csv_dir(dataset, tmp_path / "out")

    assert read_csv_dir(tmp_path / "out") == dataset


def test_each_row_of_a_file_reads_alike_whatever_the_column_order_and_repeats():
    """A file's parser is made once; each text parsed once is shared by the rows that repeat it, and a
    bad cell is named on every row that holds it."""
    parse = row_parser(WeightRecord, ["weight_kg", "measured_on", "study_code"])

    first, none = parse(["60.5", "2026-01-07", "P-1"], "weights.csv row 2")
    bad, errors = parse(["sixty", "2026-01-07", "P-1"], "weights.csv row 3")
    again, _ = parse(["60.5", "2026-01-07", "P-2"], "weights.csv row 4")
    worse, more = parse(["sixty", "", "P-3"], "weights.csv row 5")

    assert (first, none) == (
        WeightRecord(study_code="P-1", measured_on=date(2026, 1, 7), weight_kg=60.5),
        [],
    )
    assert first is not None
    assert first.origin == "weights.csv row 2"
    assert (bad, errors) == (None, [("weight_kg", "must be a number (got 'sixty')")])
    assert again == WeightRecord(study_code="P-2", measured_on=date(2026, 1, 7), weight_kg=60.5)
    assert (worse, more) == (
        None,
        [("measured_on", "is required"), ("weight_kg", "must be a number (got 'sixty')")],
    )
    cells = {"study_code": "P-1", "measured_on": "2026-01-07", "weight_kg": "60.5"}
    assert from_cells(WeightRecord, cells, origin="x") == (first, [])


def test_a_column_that_may_be_empty_may_be_left_out():
    record, errors = from_cells(PatientRecord, {"study_code": "A", "site_code": "S", "status": "referred"},
                                origin="patients.csv row 2")  # fmt: skip
    assert (record, errors) == (PatientRecord(study_code="A", site_code="S", status="referred"), [])
    assert from_cells(PatientRecord, {"study_code": "A"}, origin="x") == (
        None, [("site_code", "is required"), ("status", "is required")]
    )  # fmt: skip
