"""CDISC ODM 1.3.2 snapshot of a clinical data set: a pure mapping to XML bytes.

Metadata mirror the data set: one FormDef and one repeating ItemGroupDef per table, one ItemDef per
field (DataType from the field's type; the study code is the SubjectKey, not an item), all under one
StudyEventDef of Type "Common" (alscell records are not tied to visits). Codelists give the
ALSFRS-R anchors (``alsfrs.ITEMS``), causality, CTCAE grade (clinical.md §9.3), patient status and
release-test result. Subject data go in ClinicalData, each record an ItemGroupData numbered by
ItemGroupRepeatKey; product lots, units and release tests, which belong to no subject, go in
ReferenceData. A missing value has no ItemData. Output is deterministic: records are sorted by key,
and the creation time is an argument, never read from a clock.
"""

from __future__ import annotations

import types
import typing
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Final

from alscell import __version__
from alscell.domain import alsfrs
from alscell.domain.adverse_events import Causality
from alscell.domain.dataset import RECORD_TYPES, ClinicalDataset, Record, record_fields
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.interop.cdisc.codes import ODM_VERSION

__all__ = ["CODELISTS", "ODM_NS", "REFERENCE_TABLES", "item_oid", "to_odm"]

ODM_NS: Final = "http://www.cdisc.org/ns/odm/v1.3"
_XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"
REFERENCE_TABLES: Final = ("product_lots", "product_units", "release_tests")
_EVENT_OID: Final = "SE.RECORDS"
_CTCAE: Final = ("mild", "moderate", "severe or medically significant", "life-threatening", "death")

CODELISTS: Final[dict[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    **{
        f"CL.ALSFRS.{item.key.upper()}": (
            "integer",
            tuple((str(score), anchor) for score, anchor in enumerate(item.anchors)),
        )
        for item in alsfrs.ITEMS
    },
    "CL.CAUSALITY": ("text", tuple((c.value, c.value) for c in Causality)),
    "CL.CTCAE_GRADE": ("integer", tuple((str(n), text) for n, text in enumerate(_CTCAE, 1))),
    "CL.PATIENT_STATUS": (
        "text",
        tuple((s.value, s.value.replace("_", " ")) for s in PatientStatus),
    ),
    "CL.RELEASE_RESULT": ("text", tuple((r.value, r.value.replace("_", " ")) for r in TestResult)),
}
"""Codelists by OID: data type and (coded value, decode) pairs."""

_CODED: Final = {
    **{("alsfrs_ratings", item.key): f"CL.ALSFRS.{item.key.upper()}" for item in alsfrs.ITEMS},
    **{
        ("adverse_events", name): "CL.CAUSALITY"
        for name in ("causality_procedure", "causality_product", "causality_drug")
    },
    ("adverse_events", "ctcae_grade"): "CL.CTCAE_GRADE",
    ("patients", "status"): "CL.PATIENT_STATUS",
    ("release_tests", "result"): "CL.RELEASE_RESULT",
}


def item_oid(table: str, field: str) -> str:
    """The ItemOID of a field of a table."""
    return f"IT.{table.upper()}.{field.upper()}"


def to_odm(
    dataset: ClinicalDataset, *, study_oid: str, study_name: str, protocol_name: str,
    created_at: datetime, description: str = "", metadata_version: str = "1",
) -> bytes:  # fmt: skip
    """ODM 1.3.2 XML (UTF-8) of ``dataset``: a Snapshot with metadata, clinical and reference data."""
    data = dataset.sorted()
    tables = [kind for kind in RECORD_TYPES if data.table(kind.TABLE)]
    mdv_oid = f"MDV.{metadata_version}"
    root = _element(
        "ODM", FileType="Snapshot", FileOID=f"{study_oid}.{created_at:%Y%m%dT%H%M%S}",
        CreationDateTime=created_at.isoformat(), ODMVersion=ODM_VERSION, Granularity="All",
        SourceSystem="alscell", SourceSystemVersion=__version__,
    )  # fmt: skip
    study = _child(root, "Study", OID=study_oid)
    globals_ = _child(study, "GlobalVariables")
    for tag, text in (
        ("StudyName", study_name),
        ("StudyDescription", description),
        ("ProtocolName", protocol_name),
    ):
        _child(globals_, tag).text = text
    _metadata(_child(study, "MetaDataVersion", OID=mdv_oid, Name=f"alscell {__version__}"), tables)
    _reference_data(root, data, study_oid, mdv_oid)
    _clinical_data(root, data, study_oid, mdv_oid)
    ET.indent(root)
    content: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return content


def _element(tag: str, **attributes: str) -> ET.Element:
    # Unqualified tags and an explicit xmlns: ElementTree's default_namespace option rejects
    # unqualified attributes, and register_namespace would change global state.
    return ET.Element(tag, {"xmlns": ODM_NS, **attributes})


def _child(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, attributes)


def _text(parent: ET.Element, tag: str, text: str) -> None:
    translated = _child(_child(parent, tag), "TranslatedText", **{_XML_LANG: "en"})
    translated.text = text


# ---------------------------------------------------------------- metadata


def _item_fields(kind: type[Record]) -> tuple[str, ...]:
    fields = record_fields(kind)
    return (
        fields if kind.TABLE in REFERENCE_TABLES else tuple(f for f in fields if f != "study_code")
    )


def _metadata(mdv: ET.Element, tables: list[type[Record]]) -> None:
    subject_tables = [kind for kind in tables if kind.TABLE not in REFERENCE_TABLES]
    protocol = _child(mdv, "Protocol")
    _child(protocol, "StudyEventRef", StudyEventOID=_EVENT_OID, OrderNumber="1", Mandatory="Yes")
    event = _child(
        mdv, "StudyEventDef", OID=_EVENT_OID, Name="Program records", Repeating="No", Type="Common"
    )
    for order, kind in enumerate(subject_tables, start=1):
        _child(
            event,
            "FormRef",
            FormOID=f"F.{kind.TABLE.upper()}",
            OrderNumber=str(order),
            Mandatory="No",
        )
    for kind in subject_tables:
        form = _child(
            mdv, "FormDef", OID=f"F.{kind.TABLE.upper()}", Name=kind.TABLE, Repeating="No"
        )
        _child(form, "ItemGroupRef", ItemGroupOID=f"IG.{kind.TABLE.upper()}", Mandatory="Yes")
    for kind in tables:
        group = _child(
            mdv, "ItemGroupDef", OID=f"IG.{kind.TABLE.upper()}", Name=kind.TABLE, Repeating="Yes"
        )
        for order, name in enumerate(_item_fields(kind), start=1):
            _child(
                group,
                "ItemRef",
                ItemOID=item_oid(kind.TABLE, name),
                OrderNumber=str(order),
                Mandatory="No",
            )
    for kind in tables:
        hints = typing.get_type_hints(kind)
        for name in _item_fields(kind):
            _item_def(mdv, kind.TABLE, name, _data_type(hints[name]))
    for oid, (data_type, entries) in CODELISTS.items():
        codelist = _child(
            mdv, "CodeList", OID=oid, Name=oid.removeprefix("CL."), DataType=data_type
        )
        for value, decode in entries:
            _text(_child(codelist, "CodeListItem", CodedValue=value), "Decode", decode)


def _item_def(mdv: ET.Element, table: str, name: str, data_type: str) -> None:
    item = _child(
        mdv, "ItemDef", OID=item_oid(table, name), Name=f"{table}.{name}", DataType=data_type
    )
    label = (
        alsfrs.ITEM_BY_KEY[name].name
        if table == "alsfrs_ratings" and name in alsfrs.ITEM_BY_KEY
        else name.replace("_", " ")
    )
    _text(item, "Question", label)
    codelist = _CODED.get((table, name))
    if codelist is not None:
        _child(item, "CodeListRef", CodeListOID=codelist)


def _data_type(hint: Any) -> str:
    """ODM DataType of a field's annotation (Optional unwrapped; tuples are joined text)."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = args[0]
    names = {bool: "boolean", int: "integer", float: "float", datetime: "datetime", date: "date"}
    return names.get(hint, "text") if isinstance(hint, type) else "text"


# ---------------------------------------------------------------- data


def _value(value: object) -> str | None:
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(str(part) for part in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _group(parent: ET.Element, record: Record, repeat: int) -> None:
    group = _child(
        parent,
        "ItemGroupData",
        ItemGroupOID=f"IG.{record.TABLE.upper()}",
        ItemGroupRepeatKey=str(repeat),
    )
    for name in _item_fields(type(record)):
        value = _value(getattr(record, name))
        if value is not None:
            _child(group, "ItemData", ItemOID=item_oid(record.TABLE, name), Value=value)


def _reference_data(root: ET.Element, data: ClinicalDataset, study_oid: str, mdv_oid: str) -> None:
    records = [record for table in REFERENCE_TABLES for record in data.table(table)]
    if not records:
        return
    reference = _child(root, "ReferenceData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    for table in REFERENCE_TABLES:
        for repeat, record in enumerate(data.table(table), start=1):
            _group(reference, record, repeat)


def _subject_records(data: ClinicalDataset, code: str) -> Iterator[tuple[str, list[Record]]]:
    for kind in RECORD_TYPES:
        if kind.TABLE in REFERENCE_TABLES:
            continue
        records = [r for r in data.table(kind.TABLE) if getattr(r, "study_code", None) == code]
        if records:
            yield kind.TABLE, records


def _clinical_data(root: ET.Element, data: ClinicalDataset, study_oid: str, mdv_oid: str) -> None:
    clinical = _child(root, "ClinicalData", StudyOID=study_oid, MetaDataVersionOID=mdv_oid)
    for patient in data.patients:
        subject = _child(clinical, "SubjectData", SubjectKey=patient.study_code)
        event = _child(subject, "StudyEventData", StudyEventOID=_EVENT_OID)
        for table, records in _subject_records(data, patient.study_code):
            form = _child(event, "FormData", FormOID=f"F.{table.upper()}")
            for repeat, record in enumerate(records, start=1):
                _group(form, record, repeat)
