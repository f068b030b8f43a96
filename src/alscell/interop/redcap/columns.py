"""What each alscell column holds (text, number, date, ...), read from the record dataclasses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from alscell.domain.dataset import DERIVED, RECORD_TYPES, Record

__all__ = ["COLUMNS", "TABLES", "Column", "table_columns"]

_KINDS: Final = {
    "str": "text", "int": "integer", "float": "number", "bool": "boolean", "date": "date",
    "datetime": "datetime", "tuple[str, ...]": "list",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an alscell table: its kind, whether it may be missing, and its default."""

    table: str
    name: str
    kind: str
    optional: bool
    required: bool
    default: object = None


def _column(table: str, item: dataclasses.Field[object]) -> Column:
    annotation = str(item.type)
    optional = annotation.endswith(" | None")
    kind = _KINDS[annotation.removesuffix(" | None")]
    has_default = item.default is not dataclasses.MISSING
    factory = item.default_factory
    if factory is not dataclasses.MISSING:
        return Column(table, item.name, kind, optional, False, factory())
    return Column(table, item.name, kind, optional, not has_default, item.default)


def table_columns(kind: type[Record]) -> dict[str, Column]:
    """The columns of a record type, by name (``origin`` left out)."""
    return {
        item.name: _column(kind.TABLE, item)
        for item in dataclasses.fields(kind)
        if item.name != "origin"
    }


TABLES: Final = {kind.TABLE: kind for kind in RECORD_TYPES if kind.TABLE not in DERIVED}
"""The record types REDCap carries (derived tables left out), by table name."""

COLUMNS: Final = {name: table_columns(kind) for name, kind in TABLES.items()}
"""Every column REDCap can carry: ``COLUMNS[table][column]``."""
