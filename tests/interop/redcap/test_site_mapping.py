"""A site's own REDCap project (other field and form names, a classic project) read through a hand-written mapping."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from alscell.domain.dataset import AlsfrsRecord, ClinicalDataset, DiagnosisRecord, PatientRecord
from alscell.errors import InvalidImport
from alscell.interop.redcap import read_redcap

SAMPLES = Path(__file__).parent / "samples"


def _site_b(tmp_path: Path, mapping: str | None = None) -> tuple[Path, Path, Path]:
    records = shutil.copy(SAMPLES / "site_b_records.csv", tmp_path / "site_b_records.csv")
    dictionary = shutil.copy(SAMPLES / "site_b_dictionary.csv", tmp_path / "site_b_dictionary.csv")
    mapping_path = tmp_path / "site_b_mapping.yaml"
    text = (SAMPLES / "site_b_mapping.yaml").read_text(encoding="utf-8")
    mapping_path.write_text(mapping if mapping is not None else text, encoding="utf-8")
    return Path(records), Path(dictionary), mapping_path


def _problems(paths: tuple[Path, Path, Path]) -> list[str]:
    with pytest.raises(InvalidImport) as caught:
        read_redcap(*paths)
    return [str(problem) for problem in caught.value.problems]


def test_site_b_imports_through_its_own_mapping() -> None:
    dataset = read_redcap(
        SAMPLES / "site_b_records.csv",
        SAMPLES / "site_b_dictionary.csv",
        SAMPLES / "site_b_mapping.yaml",
    )
    expected = ClinicalDataset(
        patients=(
            PatientRecord(study_code="B-101", site_code="B", status="follow_up", sex="female", birth_year=1958),
            PatientRecord(study_code="B-102", site_code="B", status="follow_up", sex="male", birth_year=1966),
        ),
        diagnoses=(
            DiagnosisRecord(study_code="B-101", onset_on=date(2024, 2, 11), onset_site="bulbar",
                            diagnosis_on=date(2024, 9, 30), familial=False),
            DiagnosisRecord(study_code="B-102", onset_on=date(2023, 5, 20), onset_site="spinal",
                            diagnosis_on=date(2023, 12, 1), familial=True, other_genetics="C9orf72"),
        ),
        alsfrs_ratings=(
            AlsfrsRecord(study_code="B-101", rated_on=date(2024, 10, 2), q1=4, q2=3, q3=3, q4=4, q5a=3,
                         q6=3, q7=4, q8=3, q9=3, q10=4, q11=4, q12=4, total=42),
            AlsfrsRecord(study_code="B-101", rated_on=date(2025, 1, 8), q1=3, q2=3, q3=2, q4=4, q5a=3,
                         q6=3, q7=3, q8=2, q9=2, q10=4, q11=4, q12=4, total=37),
            AlsfrsRecord(study_code="B-102", rated_on=date(2024, 6, 15), q1=2, q2=1, q3=0, q4=3, q5b=2,
                         q6=2, q7=2, q8=1, q9=1, q10=3, q11=3, q12=3, total=23),
        ),
    )  # fmt: skip
    assert dataset.sorted() == expected.sorted()
    assert dataset.alsfrs_ratings[1].origin == (
        "site_b_records.csv row 4 (record B-101, instrument alsfrs, instance 2)"
    )
    assert (
        dataset.patients[1].origin == "site_b_records.csv row 6 (record B-102, form demographics)"
    )


def test_every_mismatch_between_mapping_and_dictionary_names_its_entry(tmp_path: Path) -> None:
    text = (SAMPLES / "site_b_mapping.yaml").read_text(encoding="utf-8")
    text = text.replace("  fam_hx: diagnoses.familial\n", "")  # a required column left unfilled
    text = text.replace(
        "alsfrs_date: alsfrs_ratings.rated_on", "alsfrs_visit_date: alsfrs_ratings.rated_on"
    )
    text = text.replace("choices: {1: male, 2: female}", "choices: {1: male, 3: female}")
    text = text.replace("yob: patients.birth_year", "yob: patients.registered_at")
    text = text.replace("als_history: {table: diagnoses}", "history: {table: diagnoses}")
    problems = _problems(_site_b(tmp_path, text))
    assert problems == [
        "site_b_mapping.yaml forms.history: no form 'history' in the data dictionary",
        "site_b_mapping.yaml fields.sex.choices: no alscell value for code(s) 2",
        "site_b_mapping.yaml fields.sex.choices: code(s) 3 are not choices of sex in the data dictionary",
        "site_b_mapping.yaml fields.yob: a REDCap text (integer) field cannot hold patients.registered_at (datetime)",
        "site_b_mapping.yaml fields.dx_onset: is on form 'als_history', which the mapping does not list",
        "site_b_mapping.yaml fields.dx_date: is on form 'als_history', which the mapping does not list",
        "site_b_mapping.yaml fields.onset_region: is on form 'als_history', which the mapping does not list",
        "site_b_mapping.yaml fields.fam_hx_gene: is on form 'als_history', which the mapping does not list",
        "site_b_mapping.yaml fields.alsfrs_visit_date: no field 'alsfrs_visit_date' in the data dictionary",
        "site_b_mapping.yaml forms.history: no field fills diagnoses.familial, which alscell requires",
    ]


def test_a_mapping_that_is_not_ours_or_names_no_column_is_refused(tmp_path: Path) -> None:
    assert _problems(_site_b(tmp_path, "fields: {}\n")) == [
        "site_b_mapping.yaml: is not an alscell REDCap mapping (format: alscell-redcap-mapping)"
    ]
    text = (SAMPLES / "site_b_mapping.yaml").read_text(encoding="utf-8")
    text = text.replace("yob: patients.birth_year", "yob: patients.year_of_birth")
    text = text.replace("version: 1", "version: 2")
    text = text.replace("patients.status: follow_up", "patients.birth_year: nineteen")
    assert _problems(_site_b(tmp_path, text)) == [
        "site_b_mapping.yaml version: must be 1",
        "site_b_mapping.yaml fields.yob: 'patients.year_of_birth' is not an alscell table.column",
    ]


def test_defaults_must_fit_their_column_and_required_columns_be_filled(tmp_path: Path) -> None:
    text = (SAMPLES / "site_b_mapping.yaml").read_text(encoding="utf-8")
    text = text.replace("  patients.status: follow_up\n", "  patients.birth_year: nineteen\n")
    assert _problems(_site_b(tmp_path, text)) == [
        "site_b_mapping.yaml forms.demographics: no field fills patients.status, which alscell requires",
        "site_b_mapping.yaml defaults.patients.birth_year: 'nineteen' is not a whole number",
    ]


def test_a_site_projects_bad_cells_name_its_own_fields(tmp_path: Path) -> None:
    paths = _site_b(tmp_path)
    text = paths[0].read_text(encoding="utf-8-sig").splitlines()
    text[2] = text[2].replace("2024-10-02,4,", "2024-10-02,5,")  # item 1 of B-101's first rating
    text[5] = text[5].replace(
        "2023-12-01,2,1,", "2023-12-01,4,yes,"
    )  # onset region, family history
    paths[0].write_text("\r\n".join(text) + "\r\n", encoding="utf-8")
    assert _problems(paths) == [
        "site_b_records.csv row 3 column alsfrs_speech: '5' is not one of the choices of "
        "alsfrs_speech (4, 3, 2, 1, 0)",
        "site_b_records.csv row 6 column onset_region: '4' is not one of the choices of "
        "onset_region (1, 2, 3)",
        "site_b_records.csv row 6 column fam_hx: 'yes' is not 1 (yes) or 0 (no)",
    ]
