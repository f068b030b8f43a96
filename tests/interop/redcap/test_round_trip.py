"""alscell -> REDCap files -> alscell: the sample comes back whole, and the files are REDCap's shape."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from alscell.domain.dataset import ClinicalDataset
from alscell.errors import InvalidInput
from alscell.interop.redcap import read_redcap, write_redcap
from tests.interop.sample import sample_dataset

REDCAP_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
    "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
]  # fmt: skip
IDENTITY_VALUES = ("Zoë", "O'Brien", "MRN-77", "1961-02-28", "Wei", "Zhang", "1970-07-01")


def _expected(dataset: ClinicalDataset) -> ClinicalDataset:
    return replace(dataset, planned_activities=()).sorted().without_origins()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.mark.parametrize("identified", [True, False])
def test_the_sample_survives_the_round_trip(tmp_path: Path, identified: bool) -> None:
    dataset = sample_dataset(identified=identified)
    back = read_redcap(*write_redcap(dataset, tmp_path / "out"))
    assert back.sorted().without_origins() == _expected(dataset)
    assert back.planned_activities == ()


def test_write_returns_records_dictionary_and_mapping(tmp_path: Path) -> None:
    paths = write_redcap(sample_dataset(), tmp_path)
    assert [path.name for path in paths] == ["records.csv", "data_dictionary.csv", "mapping.yaml"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_a_de_identified_export_holds_no_identity_value_in_any_file(tmp_path: Path) -> None:
    paths = write_redcap(sample_dataset(identified=False), tmp_path)
    for path in paths:
        text = path.read_text(encoding="utf-8")
        found = [value for value in IDENTITY_VALUES if re.search(rf"\b{re.escape(value)}\b", text)]
        assert found == [], path.name
    main = _rows(paths[0])[0]
    assert main["idn_given_name"] == main["identity_complete"] == ""


def test_an_identified_export_flags_the_identity_fields(tmp_path: Path) -> None:
    dictionary = _rows(write_redcap(sample_dataset(), tmp_path)[1])
    flagged = {row["Variable / Field Name"] for row in dictionary if row["Identifier?"] == "y"}
    assert flagged == {"idn_given_name", "idn_family_name", "idn_birth_on", "idn_mrn"}


def test_records_are_rows_of_redcap_shape(tmp_path: Path) -> None:
    rows = _rows(write_redcap(sample_dataset(), tmp_path)[0])
    main = rows[0]
    assert (main["record_id"], main["redcap_event_name"], main["redcap_repeat_instrument"]) == (
        "P-0001", "program_arm_1", "",
    )  # fmt: skip
    assert main["pt_registered_at"] == "2026-01-05 09:30:15"
    assert main["pt_status"] == "11"  # died
    assert main["idn_given_name"] == "Zoë"
    assert main["dx_other_genetics"] == 'SOD1 negative; "FUS" not tested'
    ratings = [row for row in rows if row["redcap_repeat_instrument"] == "alsfrs_r"]
    assert [(r["record_id"], r["redcap_repeat_instance"]) for r in ratings] == [
        ("P-0001", "1"), ("P-0001", "2"), ("P-0002", "1"),
    ]  # fmt: skip
    assert (ratings[1]["alsfrs_q5a"], ratings[1]["alsfrs_q5b"], ratings[1]["alsfrs_q3"]) == (
        "",
        "1",
        "0",
    )
    fatal = next(row for row in rows if row["ae_term"] == "Aspiration pneumonia")
    boxes = {key: value for key, value in fatal.items() if key.startswith("ae_seriousness___")}
    assert boxes == {f"ae_seriousness___{n}": "1" if n in (1, 7) else "0" for n in range(1, 8)}
    unit = next(row for row in rows if row["unit_din"] == "A999926000011")
    assert (unit["record_id"], unit["redcap_event_name"], unit["unit_cells"]) == (
        "LOT-26-001", "product_arm_2", "5100000.0",
    )  # fmt: skip
    assert all(row["release_test_complete"] == "2" for row in rows if row["rt_din"])


def test_the_dictionary_is_valid_by_redcaps_rules(tmp_path: Path) -> None:
    records, dictionary_path, _ = write_redcap(sample_dataset(), tmp_path)
    with dictionary_path.open(encoding="utf-8", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == REDCAP_HEADER
    fields = [dict(zip(REDCAP_HEADER, row, strict=True)) for row in table[1:]]
    names = [field["Variable / Field Name"] for field in fields]
    assert names[0] == "record_id"
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names)
    allowed_types = {"text", "notes", "radio", "dropdown", "checkbox", "yesno", "calc"}
    assert {field["Field Type"] for field in fields} <= allowed_types
    validations = {field["Text Validation Type OR Show Slider Number"] for field in fields}
    assert validations <= {"", "date_ymd", "datetime_seconds_ymd", "integer", "number"}
    expected_columns = {"record_id", "redcap_event_name", "redcap_repeat_instrument",
                        "redcap_repeat_instance"}  # fmt: skip
    for field in fields:
        choices = field["Choices, Calculations, OR Slider Labels"]
        if field["Field Type"] in ("radio", "dropdown", "checkbox"):
            codes = [part.split(",", 1)[0].strip() for part in choices.split("|")]
            assert all(re.fullmatch(r"[0-9]+", code) for code in codes), field
        if field["Field Type"] == "checkbox":
            expected_columns |= {f"{field['Variable / Field Name']}___{code}" for code in codes}
        else:
            expected_columns.add(field["Variable / Field Name"])
        expected_columns.add(f"{field['Form Name']}_complete")
    with records.open(encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream))
    assert set(header) == expected_columns
    total = next(field for field in fields if field["Variable / Field Name"] == "alsfrs_total")
    assert total["Field Type"] == "calc"
    assert total["Choices, Calculations, OR Slider Labels"].startswith("sum([alsfrs_q1], ")


def test_the_mapping_file_names_every_written_field(tmp_path: Path) -> None:
    records, _, mapping_path = write_redcap(sample_dataset(), tmp_path)
    mapping = yaml.safe_load(mapping_path.read_text(encoding="utf-8"))
    assert mapping["events"] == {
        "program_arm_1": "patients.study_code", "product_arm_2": "product_lots.lot_code",
    }  # fmt: skip
    assert mapping["fields"]["alsfrs_q1"] == "alsfrs_ratings.q1"
    assert mapping["fields"]["pt_sex"]["choices"] == {
        "1": "female",
        "2": "male",
        "3": "other",
        "4": "unknown",
    }
    # a value outside alscell's list is kept by a code of its own
    assert mapping["fields"]["ae_seriousness"]["choices"]["7"] == "hospitalisation"
    header = records.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert all(name.split("___")[0] in header or name.split("___")[0] in mapping["fields"]
               for name in header[4:] if not name.endswith("_complete"))  # fmt: skip


def test_an_export_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InvalidInput, match="is not an empty directory"):
        write_redcap(sample_dataset(), tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_an_export_refuses_a_release_test_of_an_unknown_unit(tmp_path: Path) -> None:
    dataset = sample_dataset()
    stray = replace(dataset.release_tests[0], din="A999926000099")
    with pytest.raises(InvalidInput) as caught:
        write_redcap(replace(dataset, release_tests=(stray,)), tmp_path / "out")
    assert [str(p) for p in caught.value.problems] == [
        "release_tests ('A999926000099', 'viability', datetime.date(2026, 1, 15)) column din: "
        "leads to no product_lots record"
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_empty_data_set_writes_a_header_and_reads_back_empty(tmp_path: Path) -> None:
    paths = write_redcap(ClinicalDataset(), tmp_path)
    assert len(paths[0].read_text(encoding="utf-8").splitlines()) == 1
    assert read_redcap(*paths) == ClinicalDataset()
