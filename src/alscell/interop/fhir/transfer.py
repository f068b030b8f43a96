"""FHIR files: write the data set as one JSON bundle per patient, read a directory or file back.

Reading checks everything before anything is returned: encoding (UTF-8), JSON syntax, the Bundle
shape (validated by the fhir.resources R4B models), the mapping (codes, references, required values),
then the data set's own rules. Every problem, across all files, names its file, entry, resource type
and element, and the import fails with :class:`~alscell.errors.InvalidImport` listing them all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from alscell.domain.dataset import ClinicalDataset
from alscell.errors import InvalidImport, InvalidInput, Problem
from alscell.interop.fhir.mapping import read_bundles, to_bundles

__all__ = ["read_fhir", "write_fhir"]

MAX_JSON_DEPTH: Final = 100
"""Far deeper than any bundle alscell writes or reads (about 10 levels)."""


def write_fhir(dataset: ClinicalDataset, out: Path) -> list[Path]:
    """Write ``<study code>.json`` per patient and ``products.json`` into ``out`` (new or empty)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(
            [Problem(str(out), "must be a new or empty directory")], subject="output"
        )
    bundles = to_bundles(dataset)
    names = [str(bundle.identifier.value) for bundle in bundles if bundle.identifier]
    unsafe = [
        name for name in names if not name or name.startswith(".") or "/" in name or "\\" in name
    ]
    if unsafe:
        problems = [Problem(name, "cannot be used as a file name") for name in unsafe]
        raise InvalidInput(problems, subject="study codes")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, bundle in zip(names, bundles, strict=True):
        written.append(
            _write_atomically(out / f"{name}.json", bundle.model_dump_json(indent=2) + "\n")
        )
    return written


def _write_atomically(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def read_fhir(path: Path) -> ClinicalDataset:
    """The data set in a directory of ``.json`` bundles or in one bundle file."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        raise InvalidImport(
            [Problem(str(path), "holds no FHIR bundle (.json) to read")], source=str(path)
        )
    problems: list[Problem] = []
    bundles: list[Bundle] = []
    names: list[str] = []
    for file in files:
        bundle = _parse(file, problems)
        if bundle is not None:
            bundles.append(bundle)
            names.append(file.name)
    dataset, found = read_bundles(bundles, names=names)
    problems.extend(found)
    if problems:
        raise InvalidImport(problems, source=str(path))
    dataset.require_valid(source=str(path))
    return dataset


def _parse(file: Path, problems: list[Problem]) -> Bundle | None:
    name = file.name
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(name, f"is not UTF-8 (byte {error.start}); save it as UTF-8"))
        return None
    if text.startswith("\ufeff"):
        problems.append(
            Problem(name, "starts with a byte order mark; save it as UTF-8 without one")
        )
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"{name} line {error.lineno} column {error.colno}"
        problems.append(Problem(where, f"is not valid JSON ({error.msg}); is the file complete?"))
        return None
    except RecursionError:
        where = f"{name} line {_deepest_line(text)} column 1"
        problems.append(Problem(where, "nests arrays or objects too deeply to be a FHIR bundle"))
        return None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        problems.append(Problem(f"{name} element resourceType", f"is {found!r}, must be 'Bundle'"))
        return None
    try:
        return Bundle.model_validate_json(text)
    except ValidationError as error:
        problems.extend(_validation_problem(name, data, item) for item in error.errors())
        return None
    except (KeyError, TypeError):  # fhir.resources looks each resourceType up, and fails
        problems.append(_unknown_type(name, data))
        return None


def _unknown_type(name: str, data: dict[str, Any]) -> Problem:
    """A resource whose ``resourceType`` FHIR R4B does not have, at the entry that holds it."""
    entries = data.get("entry")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and not _known_type(kind := resource.get("resourceType")):
            place = f"{name} element entry[{index}].resource.resourceType"
            return Problem(place, f"{kind!r} is not a FHIR R4B resource type")
    return Problem(f"{name} element resourceType", "a resource names a type FHIR R4B does not have")


def _known_type(kind: object) -> bool:
    if not isinstance(kind, str):
        return False
    try:
        get_fhir_model_class(kind)
    except (KeyError, ValueError):
        return False
    return True


def _validation_problem(name: str, data: dict[str, Any], error: Any) -> Problem:
    loc = list(error["loc"])
    place = name
    if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        kind = _entry_type(data, loc[1])
        place, loc = f"{name} entry {loc[1]} ({kind})", loc[3:]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    message = _PYTHON_CLASS.sub(r"\1", str(error["msg"]))
    return Problem(f"{place} element {path.lstrip('.') or 'resource'}", message)


_PYTHON_CLASS: Final = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")
"""A Python class in a validator's message (``<class 'list'>``), written as its plain name."""


def _deepest_line(text: str) -> int:
    """The line where JSON nesting first goes beyond what a bundle could need."""
    depth = 0
    for index, char in enumerate(text):
        depth += (char in "[{") - (char in "]}")
        if depth > MAX_JSON_DEPTH:
            return text.count("\n", 0, index) + 1
    return 1


def _entry_type(data: dict[str, Any], index: int) -> str:
    try:
        return str(data["entry"][index]["resource"]["resourceType"])
    except (KeyError, IndexError, TypeError):
        return "unknown"
