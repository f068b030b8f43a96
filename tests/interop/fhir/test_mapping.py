"""FHIR R4B mapping (interop/fhir/mapping.py): every record survives to_bundles -> JSON -> from_bundles.

Expected codes are written from their sources (clinical.md §1.3 for ALSFRS-R, the FHIR R4 vital signs
profile for weight and vital signs, SNOMED CT 86044005 for ALS), never read off the mapping's output.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from alscell.domain.dataset import (
    DERIVED,
    RECORD_TYPES,
    AlsfrsRecord,
    ClinicalDataset,
    PatientRecord,
    VitalCapacityRecord,
    VitalSignsRecord,
    WeightRecord,
)
from alscell.errors import InvalidImport
from alscell.interop.fhir import from_bundles, to_bundles
from tests.interop.sample import sample_dataset


def through_json(bundles: list[Bundle]) -> list[Bundle]:
    """The bundles as they come back from files: serialised, then validated by the R4B models."""
    return [Bundle.model_validate_json(bundle.model_dump_json()) for bundle in bundles]


def expected(dataset: ClinicalDataset) -> ClinicalDataset:
    """What an import should give: every table but the derived ones."""
    return ClinicalDataset.from_tables(
        {
            kind.TABLE: dataset.table(kind.TABLE)
            for kind in RECORD_TYPES
            if kind.TABLE not in DERIVED
        }
    ).sorted()


def resources(bundle: Any, kind: str) -> list[Any]:
    """The resources of one type in a bundle (typed Any: tests reach into any element)."""
    return [e.resource for e in bundle.entry or [] if e.resource.get_resource_type() == kind]


@pytest.mark.parametrize("identified", [True, False])
def test_sample_round_trips_exactly(identified: bool) -> None:
    dataset = sample_dataset(identified=identified)
    back = from_bundles(through_json(to_bundles(dataset)))
    for kind in RECORD_TYPES:
        if kind.TABLE not in DERIVED:
            assert back.sorted().table(kind.TABLE) == expected(dataset).table(kind.TABLE), (
                kind.TABLE
            )
    assert back.planned_activities == ()
    assert len(back.identities) == (2 if identified else 0)


def test_round_trip_keeps_types_not_only_equality() -> None:
    back = from_bundles(through_json(to_bundles(sample_dataset()))).sorted()
    signs = back.vital_signs[0]
    assert signs.measured_at == datetime(2026, 1, 19, 8, 5, 42, tzinfo=UTC)
    assert signs.measured_at.utcoffset() == timedelta(0)
    assert type(signs.systolic_mmhg) is int
    assert type(signs.temperature_c) is float
    assert signs.temperature_c == 36.8
    unit = next(u for u in back.product_units if u.din == "A999926000011")
    assert unit.cells == 5.1e6
    assert unit.endotoxin_eu == 0.75
    dose = next(d for d in back.administrations if d.occurrence == 2)
    assert dose.overridden_rules == ("pre_puncture.platelets",)
    event = next(e for e in back.adverse_events if e.serious)
    assert event.seriousness == ("death", "hospitalisation")


def test_origin_names_bundle_entry_and_resource_type() -> None:
    back = from_bundles(to_bundles(sample_dataset()), names=["a.json", "b.json", "c.json"])
    patient = next(p for p in back.patients if p.study_code == "P-0001")
    assert patient.origin == "a.json entry 0 (Patient)"
    lot = back.product_lots[0]
    assert lot.origin == "c.json entry 0 (BiologicallyDerivedProduct)"


def test_one_bundle_per_patient_then_products() -> None:
    bundles: list[Any] = to_bundles(sample_dataset())
    assert [b.identifier.value for b in bundles] == ["P-0001", "P-0002", "products"]
    assert all(b.type == "collection" for b in bundles)
    urls = [e.fullUrl for b in bundles for e in b.entry or []]
    assert all(url.startswith("urn:uuid:") for url in urls)
    assert len(set(urls)) == len(urls)
    products = bundles[2]
    # both sample units are assigned to P-0001, so the products bundle holds only the lot
    assert [e.resource.get_resource_type() for e in products.entry] == [
        "BiologicallyDerivedProduct"
    ]


def test_unassigned_unit_goes_to_products_bundle() -> None:
    dataset = sample_dataset()
    unit = replace(dataset.product_units[1], assigned_study_code=None)
    dataset = replace(dataset, product_units=(dataset.product_units[0], unit))
    bundles: list[Any] = to_bundles(dataset)
    products = bundles[-1]
    dins = [
        i.value for r in resources(products, "BiologicallyDerivedProduct") for i in r.identifier
    ]
    assert dins == ["LOT-26-001", "A999926000012"]
    back = from_bundles(through_json(bundles))
    assert back.sorted().product_units == dataset.sorted().product_units


def test_loinc_codes_of_alsfrs_r() -> None:
    bundle = to_bundles(sample_dataset())[0]
    panels = [o for o in resources(bundle, "Observation") if o.code.coding[0].code == "82954-9"]
    assert len(panels) == 2
    component_codes = {c.code for comp in panels[0].component for c in comp.code.coding}
    assert {"82953-1", "82940-8", "82941-6", "82948-1"} <= component_codes  # total, items 1, 2, 8
    # unconfirmed item codes (e.g. 82942-4 for item 3) are placeholders and must not be sent
    assert "82942-4" not in component_codes
    assert {"3", "5a", "12"} <= component_codes  # alscell item numbers instead
    total = next(comp for comp in panels[0].component if comp.code.coding[0].code == "82953-1")
    assert total.valueInteger == 3 * 9 + 2 + 2 + 0  # q1 = 2, q3 = 0, q5a = 2, nine items at 3


def test_vital_sign_and_diagnosis_codes() -> None:
    bundle = to_bundles(sample_dataset())[0]
    codes = {(c.system, c.code) for o in resources(bundle, "Observation") for c in o.code.coding}
    assert ("http://loinc.org", "29463-7") in codes
    signs = [c.code for o in resources(bundle, "Observation") for comp in o.component or []
             for c in comp.code.coding if c.system == "http://loinc.org"]  # fmt: skip
    assert {"8480-6", "8462-4", "8867-4", "8310-5", "59408-5"} <= set(signs)
    (condition,) = resources(bundle, "Condition")
    assert (condition.code.coding[0].system, condition.code.coding[0].code) == (
        "http://snomed.info/sct",
        "86044005",
    )
    assert str(condition.onsetDateTime) == "2025-03-10"
    assert str(condition.recordedDate) == "2025-09-01"


def test_death_sets_deceased_and_keeps_the_event() -> None:
    bundle = to_bundles(sample_dataset())[0]
    (patient,) = resources(bundle, "Patient")
    assert patient.deceasedDateTime == date(2026, 6, 30)


def test_deidentified_patient_has_no_name_birth_date_or_mrn() -> None:
    bundle = to_bundles(sample_dataset(identified=False))[0]
    (patient,) = resources(bundle, "Patient")
    assert patient.name is None
    assert patient.birthDate is None
    assert [i.system for i in patient.identifier] == ["urn:alscell:study-code"]


def test_puncture_references_its_unit_and_event_its_puncture() -> None:
    bundle: Any = to_bundles(sample_dataset())[0]
    by_url = {e.fullUrl: e.resource for e in bundle.entry}
    punctures = [
        p
        for p in resources(bundle, "Procedure")
        if p.category.coding[0].code == "lumbar_puncture_implantation"
    ]
    assert len(punctures) == 2
    unit_refs = [
        x.valueReference for p in punctures for x in p.extension if x.url.endswith("product-unit")
    ]
    assert [by_url[r.reference].identifier[0].value for r in unit_refs] == [
        "A999926000011",
        "A999926000012",
    ]
    headache = next(a for a in resources(bundle, "AdverseEvent") if a.suspectEntity)
    linked = by_url[headache.suspectEntity[0].instance.reference]
    assert linked.performedDateTime == date(2026, 1, 19)
    infusion = resources(bundle, "MedicationAdministration")
    assert [m.medicationCodeableConcept.text for m in infusion] == ["neurotrophic factor infusion"]


def test_care_plan_is_exported_but_not_read_back() -> None:
    bundle = to_bundles(sample_dataset())[0]
    (plan,) = resources(bundle, "CarePlan")
    assert plan.activity[0].detail.description == "Lumbar puncture 1"
    assert plan.activity[0].detail.status == "completed"


def test_mapping_problems_are_collected_not_raised_one_by_one() -> None:
    bundle = to_bundles(sample_dataset())[1]  # P-0002
    data = bundle.model_dump()
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "Observation":  # subject is optional in FHIR
            entry["resource"].pop("subject")
    with pytest.raises(InvalidImport) as caught:
        from_bundles([Bundle.model_validate(data)], names=["x.json"])
    locations = {p.location for p in caught.value.problems}
    # P-0002: Patient, ResearchStudy, Condition, Consent, screening, then the rating
    assert locations == {"x.json entry 4 (Observation) element subject",
                         "x.json entry 5 (Observation) element subject"}  # fmt: skip


# ---------------------------------------------------------------- property: values round trip

CODE = "P-9"
offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
days = st.dates(date(1990, 1, 1), date(2090, 12, 31))
scores = st.integers(0, 4)


@st.composite
def ratings(draw: st.DrawFn) -> AlsfrsRecord:
    items: dict[str, Any] = {f"q{n}": draw(scores) for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)}
    five: dict[str, Any] = {draw(st.sampled_from(["q5a", "q5b"])): draw(scores)}
    total = sum(items.values()) + sum(five.values())
    form = draw(st.sampled_from(["clinician", "self"]))
    return AlsfrsRecord(
        study_code=CODE, rated_on=draw(days), total=total, form=form, **items, **five
    )


signs = st.builds(
    VitalSignsRecord,
    study_code=st.just(CODE),
    measured_at=st.datetimes(  # hypothesis takes naive bounds and adds the time zone
        datetime.fromisoformat("2000-01-01"),
        datetime.fromisoformat("2080-01-01"),
        timezones=offsets,
    ),
    systolic_mmhg=st.none() | st.integers(40, 260),
    diastolic_mmhg=st.none() | st.integers(20, 160),
    heart_rate_bpm=st.none() | st.integers(20, 250),
    temperature_c=st.none() | st.floats(30, 45),
    spo2_percent=st.none() | st.floats(50, 100),
)


@given(
    rated=st.lists(ratings(), max_size=4, unique_by=lambda r: r.rated_on),
    vc=st.floats(0, 200),
    kg=st.floats(1e-3, 400),
    measured=st.lists(signs, max_size=3, unique_by=lambda s: s.measured_at),
)
def test_values_round_trip(
    rated: list[AlsfrsRecord], vc: float, kg: float, measured: list[VitalSignsRecord]
) -> None:
    dataset = ClinicalDataset(
        patients=(PatientRecord(study_code=CODE, site_code="S", status="enrolled"),),
        alsfrs_ratings=tuple(rated),
        vital_capacities=(VitalCapacityRecord(study_code=CODE, measured_on=date(2026, 1, 1), percent_predicted=vc),),
        weights=(WeightRecord(study_code=CODE, measured_on=date(2026, 1, 1), weight_kg=kg),),
        vital_signs=tuple(measured),
    )  # fmt: skip
    back = from_bundles(through_json(to_bundles(dataset)))
    assert back.sorted() == dataset.sorted()


# ---------------------------------------------------------------- every required value is reported

DECORATIVE = {"category", "verificationStatus", "status", "severity", "title", "suspectEntity",
              "deceasedDateTime", "gender", "productCategory", "note", "statusReason",
              "executionPeriod", "scope", "activity", "intent", "text"}  # fmt: skip
"""Elements whose loss an import does not notice: derived, constant, or optional in the record."""


def mangled(data: dict[str, Any], index: int, element: str) -> Bundle | None:
    copy = json.loads(json.dumps(data))
    copy["entry"][index]["resource"].pop(element)
    try:
        return Bundle.model_validate(copy)
    except ValidationError:
        return None  # FHIR itself requires it: covered by the file tests


def test_each_missing_element_is_reported_at_its_entry() -> None:
    bundle = to_bundles(sample_dataset())[0]
    data = json.loads(bundle.model_dump_json())
    unnoticed: set[tuple[str, str]] = set()
    for index, entry in enumerate(data["entry"]):
        kind = entry["resource"]["resourceType"]
        for element in sorted(set(entry["resource"]) - {"resourceType"} - DECORATIVE):
            broken = mangled(data, index, element)
            if broken is None:
                continue
            try:
                from_bundles([broken], names=["b.json"])
            except InvalidImport as error:
                places = {p.location.split(" element ")[0] for p in error.problems}
                # a ResearchStudy's loss is also reported where it is referenced
                assert f"b.json entry {index} ({kind})" in places, (kind, element)
            else:
                unnoticed.add((kind, element))
    assert unnoticed == {
        ("ResearchSubject", "extension"),  # treatment start and end reason: optional
        ("Task", "extension"),  # occurrence: optional
        ("Observation", "component"),  # vital signs: each value optional
        ("Observation", "extension"),  # outcome event source: optional
        ("Observation", "valueQuantity"),  # release test value: optional
        ("AdverseEvent", "study"),  # protocol of an adverse event: optional
        ("Procedure", "code"),  # the activity is read from its extension
        ("CarePlan", "extension"),  # derived: never read back
    }


def test_a_time_where_a_date_belongs_is_reported() -> None:
    data = json.loads(to_bundles(sample_dataset())[1].model_dump_json())
    data["entry"][5]["resource"]["effectiveDateTime"] = "2026-01-08T10:00:00Z"
    data["type"] = "searchset"
    with pytest.raises(InvalidImport) as caught:
        from_bundles([Bundle.model_validate(data)], names=["b.json"])
    assert [str(p) for p in caught.value.problems] == [
        "b.json element type: must be collection",
        "b.json entry 5 (Observation) element effectiveDateTime: must be a date (YYYY-MM-DD) without a time",
    ]


def test_an_identity_without_its_patient_is_refused() -> None:
    dataset = sample_dataset()
    with pytest.raises(ValueError, match="P-0002"):
        to_bundles(replace(dataset, patients=dataset.patients[:1]))
