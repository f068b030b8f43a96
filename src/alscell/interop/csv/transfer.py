"""Read and write a directory of alscell CSV files (one per table, see :mod:`.mapping`).

Writing refuses a directory that is not empty and writes each file to a temporary name first, so a
crash never leaves a half-written file under a real name. Reading checks every file before returning
anything: the encoding (UTF-8, with or without a byte-order mark), the header (every required column,
no unknown column), each row's field count (a short row is a truncated file), every cell's type, and
then the whole data set (duplicates, references, ranges); every problem names the file, the row
(the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from alscell.domain.dataset import (
    DERIVED,
    RECORD_TYPES,
    ClinicalDataset,
    Record,
    dataset_problems,
    record_fields,
)
from alscell.errors import InvalidImport, InvalidInput, Problem
from alscell.interop.csv.mapping import RowParser, column_types, row_parser, to_cells

__all__ = ["CRLF", "read_csv_dir", "write_csv_dir"]

CRLF: Final = "\r\n"
"""Rows end in CR LF, as RFC 4180 says. Python's writer quotes a cell holding a character of the row
ending, so a cell with a lone carriage return is quoted only when CR is part of it: with LF endings
such a cell was written bare, and read back as two rows."""

KINDS: Final = {kind.TABLE: kind for kind in RECORD_TYPES}
MAX_PROBLEMS: Final = 500


def write_csv_dir(dataset: ClinicalDataset, out: Path) -> list[Path]:
    """Write one ``<table>.csv`` per record type that has records; returns the files written."""
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(
            [Problem(str(out), "must be an empty or new directory")], subject="output"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in RECORD_TYPES:
        records = dataset.table(kind.TABLE)
        if not records:
            continue
        path = out / f"{kind.TABLE}.csv"
        temporary = path.with_suffix(".csv.partial")
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator=CRLF)
            writer.writerow(record_fields(kind))
            writer.writerows(to_cells(record) for record in records)
        temporary.replace(path)
        written.append(path)
    return written


def read_csv_dir(folder: Path, *, progress: Callable[[int], None] | None = None) -> ClinicalDataset:
    """The data set in ``folder``'s CSV files, or :class:`InvalidImport` listing every problem.

    Derived tables (the planned calendar) are not read: the protocol rebuilds them on import.
    ``progress`` is told the bytes of each file as it is read.
    """
    if not folder.is_dir():
        raise InvalidImport([Problem(str(folder), "is not a directory")], source=str(folder))
    problems: list[Problem] = []
    tables: dict[str, list[Record]] = {}
    files = sorted(folder.glob("*.csv"))
    if not files:
        problems.append(Problem(str(folder), "holds no .csv file"))
    for path in files:
        table = path.stem
        if table not in KINDS:
            known = ", ".join(f"{name}.csv" for name in KINDS)
            problems.append(
                Problem(path.name, f"is not an alscell table (expected one of {known})")
            )
            continue
        if table in DERIVED:
            continue
        tables[table] = list(_read_file(path, KINDS[table], problems))
        if progress is not None:
            progress(path.stat().st_size)
    dataset = ClinicalDataset.from_tables(tables) if not problems else None
    if dataset is not None:
        problems.extend(dataset_problems(dataset))
    if problems or dataset is None:
        raise InvalidImport(_capped(problems), source=str(folder))
    return dataset


def _read_file(path: Path, kind: type[Record], problems: list[Problem]) -> Iterator[Record]:
    text = _decoded(path, problems)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            problems.append(Problem(path.name, "is empty (expected a header row)"))
            return
        if not _header_ok(path.name, kind, header, problems):
            return
        parse = row_parser(kind, header)
        for row_number, cells in enumerate(reader, start=2):
            yield from _row(path.name, parse, header, cells, row_number, problems)
    except csv.Error as error:
        problems.append(
            Problem(
                f"{path.name} row {reader.line_num}", f"is not valid CSV ({error}); truncated file?"
            )
        )


def _decoded(path: Path, problems: list[Problem]) -> str | None:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(
            Problem(
                f"{path.name} row {line}",
                f"is not UTF-8 (byte {error.start}); save the file as UTF-8",
            )
        )
        return None


def _header_ok(name: str, kind: type[Record], header: list[str], problems: list[Problem]) -> bool:
    columns = column_types(kind)
    before = len(problems)
    for column in header:
        if column not in columns:
            problems.append(
                Problem(f"{name} row 1 column {column!r}", "is not a column of this table")
            )
    for column in record_fields(kind):
        if column not in header and not _may_be_absent(kind, column):
            problems.append(Problem(f"{name} row 1 column {column!r}", "is missing"))
    if len(set(header)) != len(header):
        problems.append(Problem(f"{name} row 1", "names a column twice"))
    return len(problems) == before


def _may_be_absent(kind: type[Record], column: str) -> bool:
    return column_types(kind)[column][1]


def _row(
    name: str, parse: RowParser, header: list[str], cells: list[str], row_number: int,
    problems: list[Problem],
) -> Iterator[Record]:  # fmt: skip
    if not cells:
        return  # a blank line
    if len(cells) != len(header):
        problems.append(
            Problem(f"{name} row {row_number}",
                    f"has {len(cells)} fields, the header has {len(header)} (truncated or misquoted row)")
        )  # fmt: skip
        return
    origin = f"{name} row {row_number}"
    record, errors = parse(cells, origin)
    for column, rule in errors:
        problems.append(Problem(f"{origin} column {column}", rule))
    if record is not None:
        yield record


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem("…", f"and {rest} more problems")]
