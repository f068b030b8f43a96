"""The clinical data set's whole-set checks: each rule broken once, named at its record and column."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from alscell.domain.dataset import ClinicalDataset, PatientRecord, WeightRecord, dataset_problems
from alscell.errors import InvalidImport
from tests.interop.sample import sample_dataset


def _one_broken(**changes: dict[str, Any]) -> list[str]:
    """Problems of the sample after replacing the first record of each named table with changed values."""
    sample = sample_dataset()
    tables: dict[str, Any] = {}
    for name, fields in changes.items():
        first, *rest = sample.table(name)
        tables[name] = (dataclasses.replace(first, origin=f"{name} #1", **fields), *rest)
    return [str(problem) for problem in dataset_problems(dataclasses.replace(sample, **tables))]


def test_the_sample_has_no_problem():
    assert dataset_problems(sample_dataset()) == []


@pytest.mark.parametrize(
    ("table", "changes", "expected"),
    [
        ("patients", {"birth_year": 1899}, "patients #1 column birth_year: must be a year between 1900 and 2100"),
        ("patients", {"status": "cured"}, "patients #1 column status: must be one of"),
        ("diagnoses", {"diagnosis_on": date(2025, 3, 9)}, "diagnoses #1 column diagnosis_on: 2025-03-09 is before symptom onset (2025-03-10)"),
        # the rules of a registration and a diagnosis entered at the clinic (domain/registration.py)
        ("patients", {"study_code": "../p1"}, "patients #1 column study_code: must be 3-40 capital letters, digits or hyphens, got '../p1'"),
        ("patients", {"sex": "M"}, "patients #1 column sex: must be female, male, other or unknown, got 'M'"),
        ("identities", {"given_name": " "}, "identities #1 column given_name: must not be empty"),
        ("diagnoses", {"onset_site": "arm"}, "diagnoses #1 column onset_site: must be one of bulbar, spinal, respiratory, generalized, got 'arm'"),
        ("diagnoses", {"el_escorial": "likely"}, "diagnoses #1 column el_escorial: must be one of definite, probable"),
        ("diagnoses", {"awaji": "sure"}, "diagnoses #1 column awaji: must be one of definite, probable"),
        ("vital_capacities", {"percent_predicted": 200.5}, "vital_capacities #1 column percent_predicted: must be between 0 and 200"),
        ("weights", {"weight_kg": 0.0}, "weights #1 column weight_kg: must be above 0 and at most 400"),
        ("product_units", {"cells": 0.0}, "product_units #1 column cells: must be above 0"),
        ("product_units", {"lot_code": "LOT-X"}, "product_units #1 column lot_code: no product lot 'LOT-X'"),
        ("release_tests", {"din": "A999926999999"}, "release_tests #1 column din: no product unit with DIN 'A999926999999'"),
        ("release_tests", {"result": "ok"}, "release_tests #1 column result: must be one of"),
        ("administrations", {"unit_din": "A999926999999"}, "administrations #1 column unit_din: no product unit with DIN 'A999926999999'"),
        ("administrations", {"kind": "surgery"}, "administrations #1 column kind: must be one of"),
        ("administrations", {"protocol_version": "9.9"}, "administrations #1 column protocol_version: patient 'P-0001' is not enrolled in seed-program 9.9"),
        ("adverse_events", {"ctcae_grade": 6}, "adverse_events #1 column ctcae_grade: must be a CTCAE grade from 1 to 5"),
        ("adverse_events", {"resolved_on": date(2026, 1, 19)}, "adverse_events #1 column resolved_on: must not be before onset_on"),
        ("adverse_events", {"causality_product": "maybe"}, "adverse_events #1 column causality_product: must be one of"),
        ("adverse_events", {"administration_given_on": date(2026, 1, 20)}, "adverse_events #1 column administration_activity_id: no administration of 'lp' on 2026-01-20 for 'P-0001'"),
        ("alsfrs_ratings", {"form": "nurse"}, "alsfrs_ratings #1 column form: must be one of clinician, self"),
        ("screenings", {"criteria_json": "{"}, "screenings #1 column criteria_json: must be a JSON array of findings"),
        ("screenings", {"criteria_json": '{"id": "x"}'}, "screenings #1 column criteria_json: must be a JSON array"),
        ("screenings", {"criteria_json": "[" * 100_000}, "screenings #1 column criteria_json: must be a JSON array"),
        ("schedule_events", {"kind": "'); DROP TABLE patients;--"}, "schedule_events #1 column kind: must be one of done, skipped"),
        ("weights", {"study_code": "P-0404"}, "weights #1 column study_code: no patient with study code 'P-0404'"),
        # the items of the sample's first rating (q1 2, q3 0, q5a 2, the other nine 3) add up to 31
        ("alsfrs_ratings", {"total": 30}, "alsfrs_ratings #1 column total: is 30 but the items add up to 31"),
        ("alsfrs_ratings", {"q1": 5}, "alsfrs_ratings #1 column q1: out of range: 5 is not in 0-4"),
        ("alsfrs_ratings", {"q2": True}, "alsfrs_ratings #1 column q2: not an int: got True"),
        ("alsfrs_ratings", {"q5b": 1}, "alsfrs_ratings #1 column q5a/q5b: both given"),
        ("alsfrs_ratings", {"q5a": None}, "alsfrs_ratings #1 column q5a/q5b: missing item 5"),
        ("alsfrs_ratings", {"q3": np.int64(0), "total": 0}, "alsfrs_ratings #1 column total: is 0 but the items add up to 31"),
    ],
)  # fmt: skip
def test_each_rule_is_named_at_its_record_and_column(table, changes, expected):
    problems = _one_broken(**{table: changes})
    assert any(problem.startswith(expected) for problem in problems), problems


def test_birth_and_diagnosis_after_today_are_problems_when_today_is_given():
    sample = sample_dataset()
    identity, diagnosis = sample.identities[0], sample.diagnoses[0]
    today = max(identity.birth_on, diagnosis.diagnosis_on)
    tomorrow = today + timedelta(days=1)
    future = dataclasses.replace(
        sample,
        identities=(dataclasses.replace(identity, birth_on=tomorrow), *sample.identities[1:]),
        diagnoses=(dataclasses.replace(diagnosis, diagnosis_on=tomorrow), *sample.diagnoses[1:]),
    )

    found = {
        (p.location.rsplit(" ", 1)[-1], p.message) for p in dataset_problems(future, today=today)
    }

    assert found == {
        ("birth_on", f"{tomorrow} is in the future"),
        ("diagnosis_on", f"{tomorrow} is in the future"),
    }
    assert dataset_problems(future) == []  # without today, no date is in the future
    assert dataset_problems(sample, today=today) == []


def test_a_record_without_origin_is_named_by_its_table_and_key():
    sample = sample_dataset()
    weight = WeightRecord(study_code="P-0001", measured_on=date(2026, 1, 7), weight_kg=500.0)
    [problem] = dataset_problems(dataclasses.replace(sample, weights=(weight,)))
    assert str(problem).startswith(
        "weights ('P-0001', datetime.date(2026, 1, 7)) column weight_kg:"
    )


def test_require_valid_raises_with_every_problem():
    dataset = ClinicalDataset(
        patients=(PatientRecord(study_code="P-A", site_code="S", status="x", birth_year=3000),)
    )
    with pytest.raises(InvalidImport) as caught:
        dataset.require_valid(source="test")
    assert len(caught.value.problems) == 2


def test_tables_are_built_by_name_and_type():
    patient = PatientRecord(study_code="P-A", site_code="S", status="referred")
    assert ClinicalDataset.from_tables({"patients": [patient]}).patients == (patient,)
    with pytest.raises(ValueError, match="no table 'patient'"):
        ClinicalDataset.from_tables({"patient": [patient]})
    with pytest.raises(TypeError, match="weights holds a PatientRecord"):
        ClinicalDataset.from_tables({"weights": [patient]})
    assert ClinicalDataset.from_tables({"patients": [patient]}).without_origins().patients == (
        patient,
    )


def test_a_rating_of_plain_ints_or_of_other_whole_numbers_is_accepted():
    """Item responses that are whole numbers of another type (numpy's) are checked in full, and pass."""
    sample = sample_dataset()
    first, *rest = sample.alsfrs_ratings
    other = dataclasses.replace(first, q3=np.int64(0), form="self")  # type: ignore[arg-type]  # on purpose
    assert dataset_problems(dataclasses.replace(sample, alsfrs_ratings=(other, *rest))) == []


def test_each_record_with_a_duplicate_key_is_named():
    one = PatientRecord(study_code="P-A", site_code="S", status="referred", origin="row 2")
    again = PatientRecord(study_code="P-A", site_code="S", status="died", origin="row 3")
    other = PatientRecord(study_code="P-B", site_code="S", status="referred", origin="row 4")

    problems = dataset_problems(ClinicalDataset(patients=(one, again, other)))

    assert [str(problem) for problem in problems] == [
        "row 2 column study_code: duplicate patients record for ('P-A',)",
        "row 3 column study_code: duplicate patients record for ('P-A',)",
    ]


def test_counts_sorted_and_a_valid_set():
    later = PatientRecord(study_code="P-B", site_code="S", status="referred")
    earlier = PatientRecord(study_code="P-A", site_code="S", status="referred")
    dataset = ClinicalDataset(patients=(later, earlier))

    assert dataset.counts()["patients"] == 2
    assert dataset.counts()["weights"] == 0
    assert dataset.sorted().patients == (earlier, later)
    dataset.require_valid()  # no problem: nothing raised
