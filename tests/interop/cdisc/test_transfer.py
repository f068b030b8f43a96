"""SDTM and ODM files (interop/cdisc/transfer.py): layout, XPT = CSV, refusals, de-identification."""

from __future__ import annotations

import csv
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pyreadstat
import pytest

from alscell.domain.dataset import ClinicalDataset
from alscell.errors import InvalidInput
from alscell.interop.cdisc import write_odm, write_sdtm
from tests.interop.sample import sample_dataset

CREATED = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)

# SDTMIG 3.3 order of the variables alscell writes, written out independently of domains.py
HEADERS = {
    "DM": "STUDYID DOMAIN USUBJID SUBJID RFSTDTC RFENDTC RFXSTDTC RFXENDTC RFICDTC RFPENDTC DTHDTC "
    "DTHFL SITEID BRTHDTC AGE AGEU SEX RACE ETHNIC ARMCD ARM ACTARMCD ACTARM ARMNRS COUNTRY",
    "AE": "STUDYID DOMAIN USUBJID AESEQ AETERM AEDECOD AESER AEREL AEOUT AESCONG AESDISAB AESDTH "
    "AESHOSP AESLIFE AESMIE AETOXGR AESTDTC AEENDTC AESTDY AEENDY",
    "EX": "STUDYID DOMAIN USUBJID EXSEQ EXREFID EXSPID EXTRT EXCAT EXDOSE EXDOSTXT EXDOSU EXDOSFRM "
    "EXROUTE EXLOT EXSTDTC EXENDTC EXSTDY EXENDY EXDUR",
    "PR": "STUDYID DOMAIN USUBJID PRSEQ PRSPID PRTRT PRCAT PRSTDTC PRENDTC PRSTDY PRENDY PRDUR",
    "DS": "STUDYID DOMAIN USUBJID DSSEQ DSTERM DSDECOD DSCAT DSSTDTC DSSTDY",
    "SV": "STUDYID DOMAIN USUBJID VISITNUM VISIT VISITDY SVSTDTC SVENDTC SVSTDY SVENDY",
    "QS": "STUDYID DOMAIN USUBJID QSSEQ QSTESTCD QSTEST QSCAT QSORRES QSSTRESC QSSTRESN QSDRVFL "
    "QSEVAL QSDTC QSDY",
    "RE": "STUDYID DOMAIN USUBJID RESEQ RETESTCD RETEST REORRES REORRESU RESTRESC RESTRESN RESTRESU "
    "REDTC REDY",
    "VS": "STUDYID DOMAIN USUBJID VSSEQ VSTESTCD VSTEST VSORRES VSORRESU VSSTRESC VSSTRESN VSSTRESU "
    "VSDTC VSDY",
    "LB": "STUDYID DOMAIN USUBJID LBSEQ LBTESTCD LBTEST LBCAT LBORRES LBORRESU LBSTRESC LBSTRESN "
    "LBSTRESU LBDTC LBDY",
    "SUPPAE": "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL QNAM QLABEL QVAL QORIG QEVAL",
    "SUPPEX": "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL QNAM QLABEL QVAL QORIG QEVAL",
}


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("sdtm") / "sdtm"
    return out, write_sdtm(sample_dataset(), out, study_id="ALS1")


def test_every_domain_is_written_as_csv_and_xpt_with_sdtmig_variable_order(
    export: tuple[Path, list[Path]],
) -> None:
    out, paths = export
    assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path in paths)
    for name, header in HEADERS.items():
        for suffix in ("csv", "xpt"):
            assert (out / f"{name.lower()}.{suffix}").is_file(), (name, suffix)
        assert _read_csv(out / f"{name.lower()}.csv")[0] == header.split(), name


def test_the_index_names_each_dataset_with_sdtmig_and_ct_versions(
    export: tuple[Path, list[Path]],
) -> None:
    out, _ = export
    index = _read_csv(out / "datasets.csv")
    assert index[0] == ["dataset", "label", "records", "sdtmig_version", "ct_version", "meddra"]
    rows = {row[0]: row for row in index[1:]}
    assert set(rows) == set(HEADERS)
    assert rows["QS"][1:] == ["Questionnaires", "39", "3.3", "SDTM CT 2024-09-27", "not applied"]
    assert rows["DM"][2] == "2"


def test_xpt_files_read_back_equal_to_the_csv_files(export: tuple[Path, list[Path]]) -> None:
    out, _ = export
    for name in HEADERS:
        header, *rows = _read_csv(out / f"{name.lower()}.csv")
        frame, meta = pyreadstat.read_xport(str(out / f"{name.lower()}.xpt"))
        assert meta.table_name == name
        assert list(frame.columns) == header
        assert all(len(label or "") <= 40 for label in meta.column_labels)
        assert len(frame) == len(rows), name
        for number, row in enumerate(rows):
            for column, text in zip(header, row, strict=True):
                value = frame[column].iloc[number]
                if isinstance(value, float):
                    assert (math.isnan(value) and text == "") or value == float(text), (
                        name,
                        column,
                    )
                else:
                    assert value == text, (name, column)


def test_a_non_empty_directory_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(InvalidInput, match="not an empty directory"):
        write_sdtm(sample_dataset(), tmp_path, study_id="ALS1")
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_an_empty_directory_is_filled_and_csv_only_skips_xpt(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    paths = write_sdtm(sample_dataset(), out, study_id="ALS1", xpt=False)
    assert not [path for path in paths if path.suffix == ".xpt"]
    assert (out / "dm.csv").is_file()
    assert [path.name for path in tmp_path.iterdir()] == ["empty"]  # no staging left behind


def test_an_empty_data_set_writes_dm_and_the_index_only(tmp_path: Path) -> None:
    paths = write_sdtm(ClinicalDataset(), tmp_path / "out", study_id="ALS1")
    assert [path.name for path in paths] == ["dm.csv", "dm.xpt", "datasets.csv"]
    assert _read_csv(tmp_path / "out" / "dm.csv") == [HEADERS["DM"].split()]


def test_a_value_too_long_for_xpt_is_refused_before_writing(tmp_path: Path) -> None:
    sample = sample_dataset()
    event = replace(sample.adverse_events[0], term="headache " * 30)
    out = tmp_path / "out"
    with pytest.raises(InvalidInput, match="AE row 1 AETERM"):
        write_sdtm(replace(sample, adverse_events=(event,)), out, study_id="ALS1")
    assert list(tmp_path.iterdir()) == []


def test_write_odm_writes_once_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "odm" / "study.xml"
    written = write_odm(
        sample_dataset(), out, study_oid="ST.ALS1", study_name="ALS1", protocol_name="seed-program",
        created_at=CREATED,
    )  # fmt: skip
    assert written == out
    assert out.read_bytes().startswith(b"<?xml")
    with pytest.raises(InvalidInput, match="already exists"):
        write_odm(
            sample_dataset(), out, study_oid="ST.ALS1", study_name="ALS1", protocol_name="x",
            created_at=CREATED,
        )  # fmt: skip
    assert [path.name for path in out.parent.iterdir()] == ["study.xml"]


def _identity_values() -> list[str]:
    values: list[str] = []
    for identity in sample_dataset(identified=True).identities:
        values += [identity.given_name, identity.family_name, identity.birth_on.isoformat()]
        values += [identity.mrn] if identity.mrn else []
    return values


def _cells(path: Path) -> list[str]:
    """Every value of a file as text: CSV cells, XPT values read back, ODM attributes and texts."""
    if path.suffix == ".csv":
        return [cell for row in _read_csv(path) for cell in row]
    if path.suffix == ".xpt":
        frame, _ = pyreadstat.read_xport(str(path))
        return [str(value) for column in frame.columns for value in frame[column]]
    root = ET.fromstring(path.read_bytes())
    return [text for node in root.iter() for text in (*node.attrib.values(), node.text or "")]


def _files_with_identities(folder: Path) -> dict[str, set[str]]:
    """Identity values found in each file: as raw bytes (values of 4 bytes or more, so that "Wei"
    does not match "Weight") and as whole words of any value read back."""
    found: dict[str, set[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        words = {word for cell in _cells(path) for word in re.split(r"[^\w'-]+", cell)}
        for value in _identity_values():
            raw = len(value.encode()) >= 4 and value.encode() in content
            if (
                raw
                or value in words
                or any(value in cell for cell in _cells(path) if len(value) >= 4)
            ):
                found.setdefault(path.name, set()).add(value)
    return found


def test_a_deidentified_export_holds_no_identity_values_in_any_file(tmp_path: Path) -> None:
    anonymous = sample_dataset(identified=False)
    write_sdtm(anonymous, tmp_path / "sdtm", study_id="ALS1")
    write_odm(
        anonymous, tmp_path / "study.xml", study_oid="ST.ALS1", study_name="ALS1",
        protocol_name="seed-program", created_at=CREATED,
    )  # fmt: skip
    assert _files_with_identities(tmp_path) == {}


def test_the_identity_scan_finds_identities_in_an_identified_export(tmp_path: Path) -> None:
    write_sdtm(sample_dataset(identified=True), tmp_path / "sdtm", study_id="ALS1")
    write_odm(
        sample_dataset(identified=True), tmp_path / "study.xml", study_oid="ST.ALS1",
        study_name="ALS1", protocol_name="seed-program", created_at=CREATED,
    )  # fmt: skip
    found = _files_with_identities(tmp_path)
    assert found == {
        "dm.csv": {"1961-02-28", "1970-07-01"},  # BRTHDTC
        "dm.xpt": {"1961-02-28", "1970-07-01"},
        "study.xml": set(_identity_values()),
    }
