"""Files: write alscell's REDCap project (dictionary, records, mapping) and read a project back.

Reading checks everything before it returns: the files' encoding and shape, the data dictionary
against REDCap's rules, the mapping against the dictionary, every row and cell, and finally the data
set as a whole (:func:`~alscell.domain.dataset.dataset_problems`). Every problem found is raised at
once in one :class:`~alscell.errors.InvalidImport`, each naming file, row and column.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

from alscell.domain.dataset import ClinicalDataset, dataset_problems
from alscell.errors import InvalidImport, InvalidInput, Problem
from alscell.interop.redcap.dictionary import DataDictionary, parse_dictionary
from alscell.interop.redcap.fieldcheck import check_field_map
from alscell.interop.redcap.fieldmap import ProjectMap, parse_field_map
from alscell.interop.redcap.project import alscell_project
from alscell.interop.redcap.records import header_problems, read_rows, to_rows

__all__ = ["DICTIONARY_FILE", "MAPPING_FILE", "RECORDS_FILE", "read_redcap", "write_redcap"]

RECORDS_FILE: Final = "records.csv"
DICTIONARY_FILE: Final = "data_dictionary.csv"
MAPPING_FILE: Final = "mapping.yaml"
SOURCE: Final = "REDCap import"
_MAPPING_NOTE: Final = (
    "# alscell REDCap field mapping (docs/redcap.md): events -> record table.column,\n"
    "# forms -> alscell table, fields -> table.column with REDCap code -> alscell value.\n"
)
_BOMS: Final = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def write_redcap(dataset: ClinicalDataset, out: Path) -> list[Path]:
    """Write records, data dictionary and mapping of ``dataset`` into the new or empty ``out``.

    Returns ``[records, dictionary, mapping]``, the arguments of :func:`read_redcap`. The planned
    calendar is derived and not written. Raises InvalidInput if ``out`` holds anything or a value
    cannot be written; nothing is written then.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(
            [Problem(str(out), "is not an empty directory; choose a new or empty one")],
            subject="REDCap export",
        )
    dictionary, mapping = alscell_project(dataset)
    rows, problems = to_rows(dataset, mapping, dictionary)
    if problems:
        raise InvalidInput(problems, subject="REDCap export")
    header = dictionary.record_columns(longitudinal=True, repeating=True)
    texts = {
        RECORDS_FILE: _csv([header, *([row.get(name, "") for name in header] for row in rows)]),
        DICTIONARY_FILE: _csv(dictionary.rows()),
        MAPPING_FILE: _MAPPING_NOTE
        + yaml.safe_dump(mapping.document(), sort_keys=False, allow_unicode=True, width=100),
    }
    out.mkdir(parents=True, exist_ok=True)
    _write_all(out, texts)
    return [out / RECORDS_FILE, out / DICTIONARY_FILE, out / MAPPING_FILE]


def read_redcap(records: Path, dictionary: Path, mapping: Path) -> ClinicalDataset:
    """The data set in a REDCap record export, read through ``mapping`` checked against ``dictionary``.

    Raises InvalidImport listing every problem (file, row, column and what is wrong) if any.
    """
    dictionary_rows, problems = _read_csv(dictionary)
    record_rows, found = _read_csv(records)
    problems += found
    document, found = _read_yaml(mapping)
    problems += found
    project, found = (
        parse_dictionary(dictionary_rows, dictionary.name) if dictionary_rows else (None, [])
    )
    problems += found
    field_map, found = (
        parse_field_map(document, mapping.name) if document is not None else (None, [])
    )
    problems += found
    if project is not None and field_map is not None:
        problems += check_field_map(field_map, project)
    if problems or project is None or field_map is None or not record_rows:
        raise InvalidImport(problems or [Problem(records.name, "could not be read")], source=SOURCE)
    dataset = _dataset(record_rows, field_map, project, records.name)
    dataset_wide = dataset_problems(dataset)
    if dataset_wide:
        raise InvalidImport(_with_fields(dataset_wide, field_map), source=SOURCE)
    return dataset


def _dataset(
    rows: Sequence[Sequence[str]], mapping: ProjectMap, dictionary: DataDictionary, file: str
) -> ClinicalDataset:
    header = [name.strip() for name in rows[0]]
    problems = header_problems(header, mapping, dictionary, file)
    numbered: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            how = "the file looks truncated" if len(row) < len(header) else "more than the header"
            problems.append(
                Problem(f"{file} row {number}", f"has {len(row)} of {len(header)} fields; {how}")
            )
        elif any(cell.strip() for cell in row):
            numbered.append((number, dict(zip(header, row, strict=True))))
    if problems:
        raise InvalidImport(problems, source=SOURCE)
    dataset, problems = read_rows(numbered, mapping, dictionary, file)
    if problems:
        raise InvalidImport(problems, source=SOURCE)
    return dataset


_FIELD_PLACE: Final = re.compile(
    r"\((?:record [^,]*), (?:instrument|form) (\w+)[^)]*\) column (\w+)$"
)


def _with_fields(problems: Iterable[Problem], mapping: ProjectMap) -> list[Problem]:
    """Name the REDCap field next to the alscell column of each located problem."""
    named = []
    for problem in problems:
        match = _FIELD_PLACE.search(problem.location)
        form = mapping.form(match.group(1)) if match else None
        field = next(
            (f.name for f in mapping.fields_of(form.table) if match and f.column == match.group(2)),
            None,
        ) if form else None  # fmt: skip
        location = f"{problem.location} (REDCap field {field})" if field else problem.location
        named.append(Problem(location, problem.message))
    return named


def _decoded(path: Path) -> tuple[str | None, list[Problem]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Problem(path.name, f"cannot be read ({error.strerror})")]
    name = next((name for bom, name in _BOMS.items() if data.startswith(bom)), None)
    if name is not None:
        return None, [Problem(path.name, f"is {name}; save it as UTF-8 (with or without a BOM)")]
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        return None, [
            Problem(
                path.name,
                f"is not UTF-8 (byte 0x{byte:02x} at offset {error.start}); "
                "save it as UTF-8 (with or without a BOM)",
            )
        ]
    if not text.strip():
        return None, [Problem(path.name, "is empty")]
    return text, []


def _read_csv(path: Path) -> tuple[list[list[str]], list[Problem]]:
    text, problems = _decoded(path)
    if text is None:
        return [], problems
    rows: list[list[str]] = []
    try:
        rows.extend(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        where = f"{path.name} row {len(rows) + 1}"
        return [], [Problem(where, f"is not a readable CSV row ({error}); is the file complete?")]
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        return [], [Problem(path.name, "is empty (only blank rows)")]
    return rows, []


class _DatesAsText(yaml.SafeLoader):
    """A safe loader that leaves text shaped like a date as text and refuses explicit tags: a field
    map holds names and codes, never dates or tagged values, and an impossible date (``2026-02-30``)
    or a bad tagged one (``!!bool maybe``) failed inside PyYAML, with no place."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "tag", None) not in (None, "!"):
            problem = f"tags ({event.tag.replace('tag:yaml.org,2002:', '!!')}) are not allowed"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        return super().compose_node(parent, index)


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> tuple[object | None, list[Problem]]:
    text, problems = _decoded(path)
    if text is None:
        return None, problems
    try:
        document = yaml.load(text, Loader=_DatesAsText)  # a SafeLoader: no objects
    except RecursionError:
        return None, [Problem(path.name, "nests lists or mappings too deeply to be a mapping")]
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (a NUL, say)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        where = f"{path.name} line {line} column {column}"
        return None, [Problem(where, f"is not valid YAML ({error.reason})")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path.name} line {mark.line + 1} column {mark.column + 1}" if mark else path.name
        rule = getattr(error, "problem", None) or str(error)
        return None, [Problem(where, f"is not valid YAML ({rule})")]
    if document is None:
        return None, [Problem(path.name, "is empty (no mapping in it)")]
    return document, []


def _csv(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _write_all(out: Path, texts: dict[str, str]) -> None:
    """Write every file to a temporary name first, then move each into place."""
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in texts.items():
            handle, temporary = tempfile.mkstemp(dir=out, prefix=f".{name}.", suffix=".tmp")
            staged.append((temporary, out / name))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
        for temporary, final in staged:
            Path(temporary).replace(final)
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
