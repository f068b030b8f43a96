"""Write the CDISC exports to files: SDTM as CSV and SAS transport v5, ODM as XML.

Both writers are all-or-nothing. ``write_sdtm`` fills a temporary directory beside ``out`` and renames
it into place only when every file is written; ``write_odm`` writes ``.NAME.tmp`` and renames it. They
refuse to overwrite: ``out`` must be an empty or missing directory (SDTM) or a missing file (ODM).

CSV: UTF-8, comma-separated, ``\\n`` line endings, header = variable names, empty for a missing value.
XPT: version 5 via pyreadstat, dataset name = domain, variable labels from SDTMIG. Text that is not
ASCII is written as UTF-8 bytes (version 5 files are meant to be ASCII; docs/cdisc.md). A character
value longer than 200 bytes cannot go in a version 5 file and is refused before anything is written.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Final

import pandas as pd
import pyreadstat

from alscell.domain.dataset import ClinicalDataset
from alscell.errors import InvalidInput, Problem
from alscell.interop.cdisc import codes
from alscell.interop.cdisc.domains import DOMAINS, Dataset
from alscell.interop.cdisc.odm import to_odm
from alscell.interop.cdisc.sdtm import to_sdtm
from alscell.interop.cdisc.tabulation import Row, Value, format_number
from alscell.interop.csv.transfer import CRLF

__all__ = ["INDEX_FILE", "write_odm", "write_sdtm"]

INDEX_FILE: Final = "datasets.csv"
XPT_MAX_BYTES: Final = 200
_INDEX_HEADER: Final = ("dataset", "label", "records", "sdtmig_version", "ct_version", "meddra")


def write_sdtm(
    dataset: ClinicalDataset, out: Path, *, study_id: str, xpt: bool = True,
    arms: Mapping[str, str] | None = None, country: str | None = None,
    cell_route: str = "INTRATHECAL", tz: tzinfo = UTC,
) -> list[Path]:  # fmt: skip
    """Write each non-empty SDTM dataset (DM always) as ``name.csv`` (and ``name.xpt``), and
    ``datasets.csv`` listing them with label, record count, SDTMIG and CT versions.

    Returns the paths written, in order. Raises :class:`~alscell.errors.InvalidInput` if ``out`` is
    not empty or a value cannot be written; nothing is written then.
    """
    _require_empty_dir(out)
    tables = to_sdtm(
        dataset, study_id=study_id, arms=arms, country=country, cell_route=cell_route, tz=tz
    )
    written = {name: rows for name, rows in tables.items() if rows or name == "DM"}
    if xpt:
        problems = [problem for name, rows in written.items() for problem in _too_long(name, rows)]
        if problems:
            raise InvalidInput(problems, subject="SDTM export")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        names = _write_tables(staging, written, xpt=xpt)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out / name for name in names]


def write_odm(
    dataset: ClinicalDataset, out: Path, *, study_oid: str, study_name: str, protocol_name: str,
    created_at: datetime, description: str = "",
) -> Path:  # fmt: skip
    """Write the ODM 1.3.2 snapshot of ``dataset`` to ``out`` (which must not exist yet)."""
    if out.exists():
        raise InvalidInput(
            [Problem(str(out), "already exists; choose a new file name")], subject="ODM export"
        )
    content = to_odm(
        dataset, study_oid=study_oid, study_name=study_name, protocol_name=protocol_name,
        created_at=created_at, description=description,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        temporary.write_bytes(content)
        temporary.replace(out)
    finally:
        temporary.unlink(missing_ok=True)
    return out


def _require_empty_dir(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        problem = Problem(str(out), "is not an empty directory; choose a new or empty one")
        raise InvalidInput([problem], subject="SDTM export")


def _too_long(name: str, rows: Sequence[Row]) -> list[Problem]:
    return [
        Problem(f"{name} row {number} {variable}", f"longer than {XPT_MAX_BYTES} bytes")
        for number, row in enumerate(rows, start=1)
        for variable, value in row.items()
        if isinstance(value, str) and len(value.encode()) > XPT_MAX_BYTES
    ]


def _write_tables(folder: Path, tables: Mapping[str, list[Row]], *, xpt: bool) -> list[str]:
    names: list[str] = []
    for name, rows in tables.items():
        spec = DOMAINS[name]
        _write_csv(folder / f"{name.lower()}.csv", spec, rows)
        names.append(f"{name.lower()}.csv")
        if xpt:
            _write_xpt(folder / f"{name.lower()}.xpt", spec, rows)
            names.append(f"{name.lower()}.xpt")
    index = [
        (name, DOMAINS[name].label, str(len(rows)), codes.SDTMIG_VERSION, codes.CT_VERSION, "not applied")
        for name, rows in tables.items()
    ]  # fmt: skip
    with (folder / INDEX_FILE).open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator=CRLF)
        writer.writerow(_INDEX_HEADER)
        writer.writerows(index)
    return [*names, INDEX_FILE]


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _write_csv(path: Path, spec: Dataset, rows: Sequence[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator=CRLF)
        writer.writerow(spec.names)
        writer.writerows([_cell(row[name]) for name in spec.names] for row in rows)


def _write_xpt(path: Path, spec: Dataset, rows: Sequence[Row]) -> None:
    columns = {
        variable.name: (
            pd.Series([row[variable.name] for row in rows], dtype="float64")
            if variable.numeric
            else pd.Series([_cell(row[variable.name]) for row in rows], dtype="object")
        )
        for variable in spec.variables
    }
    frame = pd.DataFrame(columns)
    labels: list[str | None] = [variable.label for variable in spec.variables]
    pyreadstat.write_xport(
        frame, str(path), file_format_version=5, table_name=spec.name, column_labels=labels
    )
