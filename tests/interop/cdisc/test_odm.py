"""ODM 1.3.2 snapshot of the sample (interop/cdisc/odm.py): shape, definitions, codelists, values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from alscell.interop.cdisc import to_odm
from tests.interop.sample import sample_dataset

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
CREATED = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def _odm(identified: bool = True) -> bytes:
    return to_odm(
        sample_dataset(identified=identified), study_oid="ST.ALS1", study_name="ALS1",
        protocol_name="seed-program 1.0", created_at=CREATED, description="Sample",
    )  # fmt: skip


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.fromstring(_odm())


def test_root_is_an_odm_1_3_2_snapshot(root: ET.Element) -> None:
    assert root.tag == "{http://www.cdisc.org/ns/odm/v1.3}ODM"
    assert root.get("ODMVersion") == "1.3.2"
    assert root.get("FileType") == "Snapshot"
    assert root.get("CreationDateTime") == "2026-07-01T12:00:00+00:00"
    assert root.findtext("odm:Study/odm:GlobalVariables/odm:StudyName", namespaces=NS) == "ALS1"
    assert root.findtext("odm:Study/odm:GlobalVariables/odm:ProtocolName", namespaces=NS) == (
        "seed-program 1.0"
    )


def test_output_is_deterministic() -> None:
    assert _odm() == _odm()


def test_every_item_data_and_group_is_defined(root: ET.Element) -> None:
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    items = {item.get("OID") for item in mdv.findall("odm:ItemDef", NS)}
    groups = {group.get("OID") for group in mdv.findall("odm:ItemGroupDef", NS)}
    forms = {form.get("OID") for form in mdv.findall("odm:FormDef", NS)}
    data = root.findall(".//odm:ItemData", NS)
    assert len(data) > 100
    assert {item.get("ItemOID") for item in data} <= items
    assert {
        group.get("ItemGroupOID") for group in root.findall(".//odm:ItemGroupData", NS)
    } <= groups
    assert {form.get("FormOID") for form in root.findall(".//odm:FormData", NS)} <= forms
    for item in mdv.findall("odm:ItemDef", NS):
        assert item.get("DataType") in {"text", "integer", "float", "date", "datetime", "boolean"}


def test_every_coded_value_is_in_its_codelist(root: ET.Element) -> None:
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    assert mdv is not None
    codelists = {
        codelist.get("OID"): {
            entry.get("CodedValue") for entry in codelist.findall("odm:CodeListItem", NS)
        }
        for codelist in mdv.findall("odm:CodeList", NS)
    }
    coded = {
        item.get("OID"): ref.get("CodeListOID")
        for item in mdv.findall("odm:ItemDef", NS)
        if (ref := item.find("odm:CodeListRef", NS)) is not None
    }
    assert coded["IT.ADVERSE_EVENTS.CTCAE_GRADE"] == "CL.CTCAE_GRADE"
    assert codelists["CL.ALSFRS.Q1"] == {"0", "1", "2", "3", "4"}
    checked = 0
    for data in root.findall(".//odm:ItemData", NS):
        codelist = coded.get(data.get("ItemOID"))
        if codelist is not None:
            assert data.get("Value") in codelists[codelist], data.attrib
            checked += 1
    assert (
        checked >= 3 * 12 + 2 * 4 + 2 + 2
    )  # items, causality and grade, statuses, release results


def test_every_alsfrs_item_value_of_the_sample_appears(root: ET.Element) -> None:
    for rating in sample_dataset().alsfrs_ratings:
        subject = root.find(f".//odm:SubjectData[@SubjectKey='{rating.study_code}']", NS)
        assert subject is not None
        groups = subject.findall(".//odm:ItemGroupData[@ItemGroupOID='IG.ALSFRS_RATINGS']", NS)
        values = [
            {item.get("ItemOID"): item.get("Value") for item in group.findall("odm:ItemData", NS)}
            for group in groups
        ]
        expected = {f"IT.ALSFRS_RATINGS.{key.upper()}": str(v) for key, v in rating.items().items()}
        assert any(expected.items() <= found.items() for found in values), rating.rated_on
        matched = next(found for found in values if expected.items() <= found.items())
        assert matched["IT.ALSFRS_RATINGS.RATED_ON"] == rating.rated_on.isoformat()
        assert matched["IT.ALSFRS_RATINGS.TOTAL"] == str(rating.total)


def test_product_records_are_reference_data_and_identities_only_when_identified(
    root: ET.Element,
) -> None:
    reference = root.find("odm:ReferenceData", NS)
    assert reference is not None
    units = reference.findall("odm:ItemGroupData[@ItemGroupOID='IG.PRODUCT_UNITS']", NS)
    assert len(units) == 2
    assert root.findall(".//odm:ItemGroupData[@ItemGroupOID='IG.IDENTITIES']", NS)
    anonymous = ET.fromstring(_odm(identified=False))
    assert not anonymous.findall(".//odm:ItemGroupData[@ItemGroupOID='IG.IDENTITIES']", NS)
    assert anonymous.find(".//odm:ItemDef[@OID='IT.IDENTITIES.GIVEN_NAME']", NS) is None


def test_values_keep_types_and_awkward_text(root: ET.Element) -> None:
    def value(oid: str) -> list[str | None]:
        return [
            item.get("Value") for item in root.findall(f".//odm:ItemData[@ItemOID='{oid}']", NS)
        ]

    assert value("IT.DIAGNOSES.FAMILIAL") == ["0", "1"]
    assert value("IT.DIAGNOSES.OTHER_GENETICS") == ['SOD1 negative; "FUS" not tested']
    assert value("IT.ADVERSE_EVENTS.SERIOUSNESS") == ["death; hospitalisation"]
    assert "2026-01-19T08:05:42+00:00" in value("IT.VITAL_SIGNS.MEASURED_AT")
    assert value("IT.VITAL_CAPACITIES.PERCENT_PREDICTED") == ["71.35", "68.0"]
