"""Record fields carried as alscell extensions: declared once per resource, written and read alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.reference import Reference

from alscell.domain.dataset import Record
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, decimal

ELEMENT: Final = {
    "string": "valueString", "strings": "valueString", "code": "valueCode", "date": "valueDate",
    "datetime": "valueDateTime", "integer": "valueInteger", "decimal": "valueDecimal",
    "boolean": "valueBoolean", "coding": "valueCoding",
}  # fmt: skip
"""The value element of an extension, by kind of field ("strings": a tuple, one extension each)."""

PROTOCOL_URL: Final = codes.extension_url("protocol")
UNIT_URL: Final = codes.extension_url("product-unit")
REFERENCES: Final = frozenset({PROTOCOL_URL, UNIT_URL})
"""Extensions holding a reference, read by the resource's own mapping rather than by a Spec."""


@dataclass(frozen=True, slots=True)
class Spec:
    """A record field carried as the extension ``urn:alscell:fhir:extension:<name>``."""

    field: str
    name: str
    kind: str
    required: bool = False
    system: str | None = None

    @property
    def url(self) -> str:
        """The extension's URL."""
        return codes.extension_url(self.name)


def to_extensions(record: Record, specs: Sequence[Spec]) -> list[Extension]:
    """The extensions carrying a record's fields (a missing value: no extension)."""
    found: list[Extension] = []
    for spec in specs:
        value = getattr(record, spec.field)
        values: Iterable[Any] = value if spec.kind == "strings" else [value]
        found.extend(
            Extension(url=spec.url, **{ELEMENT[spec.kind]: _to_fhir(spec, item)})
            for item in values
            if item is not None
        )
    return found


def _to_fhir(spec: Spec, value: Any) -> Any:
    if spec.kind == "decimal":
        return decimal(value)
    if spec.kind == "coding":
        return Coding(system=spec.system, code=str(value))
    return value


def from_extensions(
    extensions: Sequence[Extension] | None, specs: Sequence[Spec], entry: Entry, *, path: str
) -> dict[str, Any]:
    """The record fields read from a resource's extensions; a problem for each bad or missing one."""
    by_url = {spec.url: spec for spec in specs}
    values: dict[str, Any] = {spec.field: [] for spec in specs if spec.kind == "strings"}
    for index, extension in enumerate(extensions or []):
        url, where = str(extension.url), f"{path}[{index}]"
        spec = by_url.get(url)
        if spec is None:
            if url.startswith(codes.PREFIX) and url not in REFERENCES:
                entry.problem(where, f"unknown extension {url}")
            continue
        element = ELEMENT[spec.kind]
        value = _from_fhir(spec, getattr(extension, element), entry, f"{where}.{element}")
        if value is None:
            continue
        if spec.kind == "strings":
            values[spec.field].append(value)
        elif spec.field in values:
            entry.problem(where, f"extension {url} may appear only once")
        else:
            values[spec.field] = value
    for spec in specs:
        if spec.required and spec.field not in values:
            entry.problem(path, f"extension {spec.url} is required")
        elif spec.kind == "strings":
            values[spec.field] = tuple(values[spec.field])
    return values


def _from_fhir(spec: Spec, value: Any, entry: Entry, path: str) -> Any:
    if value is None:
        entry.problem(path, "is required")
        return None
    if spec.kind == "date":
        return entry.date(value, path)
    if spec.kind == "datetime":
        return entry.instant(value, path)
    if spec.kind == "decimal":
        return float(value) if isinstance(value, Decimal) else value
    if spec.kind == "coding":
        if value.system != spec.system or value.code is None:
            entry.problem(path, f"must be a code of {spec.system}")
            return None
        return str(value.code)
    return value


def reference_extension(
    extensions: Sequence[Extension] | None, url: str
) -> tuple[Reference | None, str]:
    """The reference held by the extension ``url``, and its path (None when absent)."""
    for index, extension in enumerate(extensions or []):
        if extension.url == url:
            return extension.valueReference, f"extension[{index}].valueReference"
    return None, f"extension({url})"
