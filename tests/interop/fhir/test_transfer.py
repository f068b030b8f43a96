"""FHIR files (interop/fhir/transfer.py): writing, byte-stability, de-identification and bad files.

Each bad file must be reported with its file name, entry index, resource type and element, together
with every other problem found in the same import.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from alscell.errors import InvalidImport, InvalidInput
from alscell.interop.fhir import read_fhir, write_fhir
from tests.interop.sample import sample_dataset

IDENTITY_VALUES = ("Zoë", "O'Brien, Jr.", "Wei", "Zhang", "1961-02-28", "1970-07-01", "MRN-77")
RATING = 5
"""Entry index of P-0002's rating: Patient, ResearchStudy, Condition, Consent, screening, rating."""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    out = tmp_path / "export"
    write_fhir(sample_dataset(), out)
    return out


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InvalidImport) as caught:
        read_fhir(path)
    return [str(problem) for problem in caught.value.problems]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def test_writes_one_file_per_patient_and_products(tmp_path: Path) -> None:
    written = write_fhir(sample_dataset(), tmp_path / "out")
    assert [p.name for p in written] == ["P-0001.json", "P-0002.json", "products.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in written]


def test_every_file_validates_as_an_r4b_bundle(export: Path) -> None:
    for path in export.iterdir():
        bundle = Bundle.model_validate_json(path.read_text(encoding="utf-8"))
        assert bundle.type == "collection"


def test_read_back_equals_the_data_set(export: Path) -> None:
    back = read_fhir(export)
    dataset = sample_dataset()
    assert back.sorted().patients == dataset.sorted().patients
    assert back.sorted().adverse_events == dataset.sorted().adverse_events
    assert back.counts()["alsfrs_ratings"] == 3
    assert back.counts()["planned_activities"] == 0  # derived: rebuilt from the protocol


def test_reads_a_single_file(export: Path) -> None:
    back = read_fhir(export / "products.json")
    assert [lot.lot_code for lot in back.product_lots] == ["LOT-26-001"]


def test_output_is_byte_stable(tmp_path: Path) -> None:
    write_fhir(sample_dataset(), tmp_path / "a")
    write_fhir(sample_dataset(), tmp_path / "b")
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_deidentified_export_holds_no_identity_value(tmp_path: Path) -> None:
    write_fhir(sample_dataset(identified=False), tmp_path / "out")
    text = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir())
    for value in IDENTITY_VALUES:
        assert value not in text
        assert json.dumps(value)[1:-1] not in text  # nor JSON-escaped


def test_identified_export_holds_them(export: Path) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in export.iterdir())
    for value in IDENTITY_VALUES:
        assert value in text


def test_refuses_a_non_empty_directory(export: Path) -> None:
    with pytest.raises(InvalidInput, match="must be a new or empty directory"):
        write_fhir(sample_dataset(), export)


def test_no_temporary_files_are_left(export: Path) -> None:
    assert not [p for p in export.iterdir() if p.name.startswith(".")]


def test_invalid_json(export: Path) -> None:
    (export / "P-0002.json").write_text("{not json", encoding="utf-8")
    assert problems_of(export) == [
        "P-0002.json line 1 column 2: is not valid JSON "
        "(Expecting property name enclosed in double quotes); is the file complete?"
    ]


def test_truncated_file(export: Path) -> None:
    path = export / "P-0002.json"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:8]), encoding="utf-8")  # cut after a complete line
    (problem,) = problems_of(export)
    assert problem.startswith("P-0002.json line 9 column 1: is not valid JSON")


def test_latin1_file(export: Path) -> None:
    path = export / "P-0001.json"
    raw = path.read_text(encoding="utf-8").encode("latin-1")
    path.write_bytes(raw)
    byte = raw.index("ë".encode("latin-1"))
    assert problems_of(export) == [f"P-0001.json: is not UTF-8 (byte {byte}); save it as UTF-8"]


def test_utf16_file(export: Path) -> None:
    path = export / "P-0002.json"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert problems_of(export) == ["P-0002.json: is not UTF-8 (byte 0); save it as UTF-8"]


def test_utf8_byte_order_mark(export: Path) -> None:
    path = export / "P-0002.json"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-8-sig"))
    assert problems_of(export) == [
        "P-0002.json: starts with a byte order mark; save it as UTF-8 without one"
    ]


def test_wrong_resource_type(export: Path) -> None:
    save(export / "P-0002.json", {"resourceType": "Patient", "gender": "male"})
    assert problems_of(export) == [
        "P-0002.json element resourceType: is 'Patient', must be 'Bundle'"
    ]


def test_non_bundle_json(export: Path) -> None:
    save(export / "P-0002.json", [1, 2, 3])
    assert problems_of(export) == ["P-0002.json element resourceType: is 'list', must be 'Bundle'"]


def test_fhir_validation_error_names_entry_and_element(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    data["entry"][RATING]["resource"]["component"][0]["valueInteger"] = "three"
    save(path, data)
    assert problems_of(export) == [
        "P-0002.json entry 5 (Observation) element component[0].valueInteger: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def test_missing_required_element(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    del data["entry"][RATING]["resource"]["code"]
    save(path, data)
    assert problems_of(export) == ["P-0002.json entry 5 (Observation) element code: Field required"]


def test_item_value_out_of_range(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    components = data["entry"][RATING]["resource"]["component"]
    walking = next(c for c in components if c["code"]["coding"][0]["code"] == "82948-1")
    walking["valueInteger"] = 7
    save(path, data)
    problems = problems_of(export)
    assert "P-0002.json entry 5 (Observation) column q8: out of range: 7 is not in 0-4" in problems


def test_unknown_item_code(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    component = data["entry"][RATING]["resource"]["component"][2]  # item 3: alscell code only
    component["code"]["coding"] = [
        {"system": "urn:alscell:fhir:code-system:alsfrs-r-item", "code": "13"}
    ]
    save(path, data)
    assert problems_of(export) == [
        "P-0002.json entry 5 (Observation) element component[2].code: "
        "is not an ALSFRS-R item or total code",
        "P-0002.json entry 5 (Observation) element component: has no q3",
    ]


def test_duplicate_rating(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    copy = json.loads(json.dumps(data["entry"][RATING]))
    copy["fullUrl"] = "urn:uuid:00000000-0000-5000-8000-000000000001"
    data["entry"].append(copy)
    last = len(data["entry"]) - 1
    save(path, data)
    problems = problems_of(export)
    message = "duplicate alsfrs_ratings record for ('P-0002', datetime.date(2026, 1, 8))"
    assert problems == [
        f"P-0002.json entry 5 (Observation) column study_code, rated_on: {message}",
        f"P-0002.json entry {last} (Observation) column study_code, rated_on: {message}",
    ]


def test_missing_subject_reference(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    del data["entry"][RATING]["resource"]["subject"]
    save(path, data)
    assert problems_of(export) == [
        "P-0002.json entry 5 (Observation) element subject: is required: a reference to the patient"
    ]


def test_unknown_observation_code_and_resource_type(export: Path) -> None:
    path = export / "P-0002.json"
    data = load(path)
    data["entry"][RATING]["resource"]["code"] = {
        "coding": [{"system": "http://loinc.org", "code": "1-8"}]
    }
    data["entry"].append({"fullUrl": "urn:uuid:00000000-0000-5000-8000-000000000002",
                          "resource": {"resourceType": "Basic", "code": {"text": "x"}}})  # fmt: skip
    save(path, data)
    assert problems_of(export) == [
        "P-0002.json entry 5 (Observation) element code: is not an observation code that alscell exports",
        "P-0002.json entry 6 (Basic) element resourceType: Basic is not part of an alscell export",
    ]


def test_problems_of_all_files_are_reported_together(export: Path) -> None:
    (export / "P-0001.json").write_text("[", encoding="utf-8")
    save(export / "products.json", {"resourceType": "Bundle"})
    problems = problems_of(export)
    assert problems[0].startswith("P-0001.json line 1 column 2: is not valid JSON")
    assert problems[1] == "products.json element type: Value for the field 'type' is required."
    assert len(problems) == 2


def test_empty_directory_has_nothing_to_read(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: holds no FHIR bundle (.json) to read"]
