"""Cells of alscell's CSV format to and from the data set's values (pure).

One file per table (``patients.csv``, ``alsfrs_ratings.csv``, ...), one column per field of the
record type, in the order :func:`~alscell.domain.dataset.record_fields` gives. A cell is written as:

- text as is; an empty cell is a missing value (so text values are never empty);
- dates as ``YYYY-MM-DD``; instants as ISO 8601 in UTC with seconds (``2026-01-19T08:05:42+00:00``);
- whole numbers in decimal; other numbers with the shortest text that reads back to the same float;
- yes/no as ``true`` / ``false``;
- lists (an adverse event's seriousness criteria, a dose's overridden rules) as a JSON array.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, TypeAlias, Union

from alscell.domain.dataset import RECORD_TYPES, Record, record_fields

__all__ = ["CellError", "RowParser", "column_types", "from_cells", "row_parser", "to_cells"]

TRUE: Final = "true"
FALSE: Final = "false"


class CellError(ValueError):
    """A cell that does not hold a value of its column's type; the message says what was expected."""


def _column_types(kind: type[Record]) -> dict[str, tuple[type, bool]]:
    hints = typing.get_type_hints(kind)
    defaults = {
        item.name
        for item in dataclasses.fields(kind)
        if item.default is not dataclasses.MISSING
        or item.default_factory is not dataclasses.MISSING
    }
    result: dict[str, tuple[type, bool]] = {}
    for name in record_fields(kind):
        hint = hints[name]
        if typing.get_origin(hint) in (Union, types.UnionType):
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        if typing.get_origin(hint) is tuple:
            hint = tuple
        result[name] = (hint, name in defaults)
    return result


_COLUMN_TYPES: Final = {kind.TABLE: _column_types(kind) for kind in RECORD_TYPES}


def column_types(kind: type[Record]) -> dict[str, tuple[type, bool]]:
    """Each column's value type, and whether its cell may be empty (the field has a default)."""
    return _COLUMN_TYPES[kind.TABLE]


def to_cells(record: Record) -> list[str]:
    """The record's values as CSV cells, in column order."""
    return [_cell(getattr(record, name)) for name in record_fields(type(record))]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | int | str):
        return str(value) if not isinstance(value, date) else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    raise TypeError(f"no CSV form for {type(value).__name__}")


RowParser: TypeAlias = Callable[[Sequence[str], str], tuple[Record | None, list[tuple[str, str]]]]
"""Cells of one row (in the header's order) and the row's origin to a record, or the (column, rule)
of every cell that is wrong."""


def from_cells(
    kind: type[Record], row: dict[str, str], *, origin: str
) -> tuple[Record | None, list[tuple[str, str]]]:
    """A record from one row's cells, or the (column, rule) of every cell that is wrong."""
    return row_parser(kind, tuple(row))(tuple(row.values()), origin)


def row_parser(kind: type[Record], header: Sequence[str]) -> RowParser:
    """:func:`from_cells` for the rows of one file with this ``header``, made once per file.

    Each column's position in the header is looked up once, not per row, and each distinct text of
    a column that is not text is parsed once per file: a file repeats the same dates and scores on
    many rows, and a parsed value (a date, a number, a tuple; never None) is immutable, so sharing
    it between records changes nothing.
    """
    position = {name: index for index, name in enumerate(header)}
    columns: list[
        tuple[str, int | None, Callable[[str], object] | None, dict[str, object], bool]
    ] = [
        (name, position.get(name), _parser(value_type), {}, may_be_empty)
        for name, (value_type, may_be_empty) in column_types(kind).items()
    ]

    def parse(cells: Sequence[str], origin: str) -> tuple[Record | None, list[tuple[str, str]]]:
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for name, index, convert, seen, may_be_empty in columns:
            text = "" if index is None else cells[index]
            if text == "":
                if not may_be_empty:
                    errors.append((name, "is required"))
            elif convert is None:
                values[name] = text
            elif (value := seen.get(text)) is not None:
                values[name] = value
            else:
                try:
                    values[name] = seen[text] = convert(text)
                except CellError as error:
                    errors.append((name, f"{error} (got {text!r})"))
        if errors:
            return None, errors
        return kind(origin=origin, **values), []

    return parse


def _parser(value_type: type) -> Callable[[str], object] | None:
    """The column's parser; None for text, which is its own value."""
    parse = _PARSERS.get(value_type)
    if parse is None:  # pragma: no cover - every field type of the data set has a parser
        raise TypeError(f"no CSV parser for {value_type.__name__}")
    return None if parse is str else parse


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else _fail("a date YYYY-MM-DD")
    except ValueError:
        return _fail("a date YYYY-MM-DD")


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return _fail("an instant YYYY-MM-DDTHH:MM:SS+00:00")
    if value.tzinfo is None:
        return _fail("an instant with its UTC offset (e.g. +00:00)")
    return value.astimezone(UTC)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return _fail("a whole number")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return _fail("a number")
    if value != value or value in (float("inf"), float("-inf")):
        return _fail("a finite number")
    return value


def _boolean(text: str) -> bool:
    if text not in (TRUE, FALSE):
        return _fail("true or false")
    return text == TRUE


def _texts(text: str) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return _fail('a JSON array of text, e.g. ["death"]')
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return _fail('a JSON array of text, e.g. ["death"]')
    return tuple(value)


def _fail(expected: str) -> typing.NoReturn:
    raise CellError(f"must be {expected}")


_PARSERS: Final[dict[type, Callable[[str], object]]] = {
    str: str, date: _date, datetime: _instant, int: _integer, float: _number, bool: _boolean,
    tuple: _texts,
}  # fmt: skip
