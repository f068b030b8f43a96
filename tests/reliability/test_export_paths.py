"""Path traversal through exports: whatever the records hold, files are written inside the folder given.

Study codes, lot codes and DINs end up in file contents, and FHIR names one file per patient after the
study code. A data set whose codes are paths (``../``, absolute, hidden, with separators) must either be
refused, naming the code and the rule, or written entirely inside ``out``; nothing may appear outside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest

from alscell.domain.dataset import RECORD_TYPES, ClinicalDataset
from alscell.errors import InvalidInput
from alscell.interop.cdisc.transfer import write_odm, write_sdtm
from alscell.interop.csv.transfer import write_csv_dir
from alscell.interop.fhir.transfer import write_fhir
from alscell.interop.redcap.transfer import write_redcap
from tests.factories import NOW
from tests.interop.sample import sample_dataset

HOSTILE_CODES: Final = ("../../escaped", "..", "/tmp/absolute", ".hidden", "a\\..\\b", "sub/dir")
WRITERS: Final[dict[str, Callable[[ClinicalDataset, Path], Any]]] = {
    "alscell CSV": write_csv_dir,
    "FHIR R4B": write_fhir,
    "REDCap": write_redcap,
    "CDISC SDTM": lambda data, out: write_sdtm(data, out, study_id="ALS"),
    "CDISC ODM": lambda data, out: write_odm(
        data,
        _made(out) / "odm.xml",
        study_oid="ALS",
        study_name="ALS",
        protocol_name="ALS",
        created_at=NOW,
    ),
}


def _made(folder: Path) -> Path:
    folder.mkdir()
    return folder


def _renamed(dataset: ClinicalDataset, code: str) -> ClinicalDataset:
    """The data set with its first patient's study code replaced by ``code`` in every table."""
    old = dataset.patients[0].study_code
    tables = {}
    for kind in RECORD_TYPES:
        rows = dataset.table(kind.TABLE)
        tables[kind.TABLE] = [
            dataclasses.replace(row, study_code=code)  # type: ignore[call-arg]
            if getattr(row, "study_code", None) == old else row
            for row in rows
        ]  # fmt: skip
    return ClinicalDataset.from_tables(tables)


def _written_or_refused(
    writer: Callable[[ClinicalDataset, Path], Any], dataset: ClinicalDataset, out: Path
) -> InvalidInput | None:
    try:
        writer(dataset, out)
    except InvalidInput as refused:
        return refused
    return None


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("code", HOSTILE_CODES)
@pytest.mark.parametrize("name", list(WRITERS))
def test_exports_write_only_inside_their_folder(
    tmp_path: Path, name: str, code: str, figures: Any
) -> None:
    root = tmp_path / "root"
    out = root / "a" / "b" / "export"
    out.parent.mkdir(parents=True)
    dataset = _renamed(sample_dataset(identified=False), code)

    refusal = _written_or_refused(WRITERS[name], dataset, out)
    if refusal is None:
        figures.add("files written, all inside the folder", len(_files(out)))
    else:  # refused is fine when it says which value and why, and wrote nothing
        assert code in str(refusal) or any(code in p.location for p in refusal.problems), str(
            refusal
        )
        assert not out.exists() or _files(out) == set()
        figures.add("refused", str(refusal)[:60])

    outside = {path for path in _files(tmp_path) if out not in path.parents}
    assert outside == set(), f"{name} wrote outside its folder: {sorted(outside)}"
    assert not Path("/tmp/absolute.json").exists()
