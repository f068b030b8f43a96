"""Pure conversion of one alscell record to a REDCap form's cells, and of a form's cells back.

Which field fills which column comes from the mapping file (:class:`ProjectMap`); what a cell may
hold comes from the data dictionary (choices, validation, range). Reading collects every problem of
a form instance, each naming file, row and column, and builds the record only when there are none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from alscell.domain.dataset import Record
from alscell.errors import Problem
from alscell.interop.redcap.columns import TABLES
from alscell.interop.redcap.dictionary import CODED_TYPES, DataDictionary, DictionaryField
from alscell.interop.redcap.fieldmap import FieldMap, FormMap, ProjectMap
from alscell.interop.redcap.values import parse_value, to_text

__all__ = ["FormCells", "from_form", "to_form"]


@dataclass(frozen=True, slots=True)
class FormCells:
    """One form instance as read: its row's cells, where the row is, and its record id."""

    cells: Mapping[str, str]
    place: str
    origin: str
    record_id: str


def to_form(
    record: Record, form: FormMap, mapping: ProjectMap, dictionary: DataDictionary
) -> tuple[dict[str, str], list[Problem]]:
    """The export cells of ``record`` on ``form`` (``<form>_complete`` = 2), and values with no code."""
    cells = {f"{form.name}_complete": "2"}
    problems: list[Problem] = []
    for item in mapping.fields_of(form.table):
        field = dictionary.field(item.name)
        if field is None:
            continue
        value = getattr(record, item.column)
        if field.field_type == "checkbox":
            chosen = {item.code_of(to_text(each)) for each in value}
            cells |= {column: str(int(code in chosen)) for code, column in _boxes(field)}
            missing = [each for each in value if item.code_of(to_text(each)) is None]
        else:
            text = to_text(value)
            code = item.code_of(text) if field.field_type in CODED_TYPES and text else text
            cells[item.name] = code or ""
            missing = [text] if code is None else []
        problems += [
            Problem(record.where(item.column), f"{each!r} has no code in REDCap field {item.name}")
            for each in missing
        ]
    return cells, problems


def from_form(
    cells: FormCells, form: FormMap, mapping: ProjectMap, dictionary: DataDictionary
) -> tuple[Record | None, list[Problem]]:
    """The record a form instance holds (None if all its fields are empty), or its problems."""
    values: dict[str, object] = {}
    problems: list[Problem] = []
    blank = True
    for item in mapping.fields_of(form.table):
        field = dictionary.field(item.name)
        if field is None:
            continue
        raw = _raw(cells.cells, field)
        blank = blank and (raw == "" or (isinstance(raw, tuple) and "1" not in raw))
        value, found = _read(raw, item, field, mapping, cells.place)
        problems += found
        if value is not None or found:
            values[item.column] = value
    if blank:
        return None, []
    values |= {column: _default(mapping, form.table, column) for column in _defaults(mapping, form)}
    record_column = mapping.record_column(form)
    if record_column is not None:
        values[record_column] = cells.record_id
    problems += _missing(values, form, mapping, cells.place)
    if problems:
        return None, problems
    return TABLES[form.table](**values, origin=cells.origin), []


def _boxes(field: DictionaryField) -> Iterator[tuple[str, str]]:
    return zip((code for code, _ in field.choices), field.columns(), strict=True)


def _raw(cells: Mapping[str, str], field: DictionaryField) -> str | tuple[str, ...]:
    if field.field_type != "checkbox":
        return cells.get(field.name, "").strip()
    return tuple(cells.get(column, "").strip() for _, column in _boxes(field))


def _read(
    raw: str | tuple[str, ...], item: FieldMap, field: DictionaryField, mapping: ProjectMap,
    place: str,
) -> tuple[object, list[Problem]]:  # fmt: skip
    where = f"{place} column {field.name}"
    kind = mapping.column(item.table, item.column).kind
    if isinstance(raw, tuple):
        return _read_boxes(raw, item, field, place)
    if raw == "":
        return None, []
    text: str | None = raw
    if field.field_type in CODED_TYPES:
        codes = [code for code, _ in field.choices]
        if raw not in codes:
            listed = ", ".join(codes)
            return None, [
                Problem(where, f"{raw!r} is not one of the choices of {field.name} ({listed})")
            ]
        text = item.value_of(raw)
    elif field.field_type in ("yesno", "truefalse") and raw not in ("0", "1"):
        return None, [Problem(where, f"{raw!r} is not 1 (yes) or 0 (no)")]
    try:
        value = parse_value(text or "", kind)
    except ValueError as error:
        return None, [Problem(where, str(error))]
    return value, list(_range(value, field, kind, where))


def _read_boxes(
    raw: tuple[str, ...], item: FieldMap, field: DictionaryField, place: str
) -> tuple[object, list[Problem]]:
    problems = [
        Problem(f"{place} column {column}", f"{cell!r} is not 1 (checked) or 0 (unchecked)")
        for cell, column in zip(raw, field.columns(), strict=True)
        if cell not in ("", "0", "1")
    ]
    chosen = (code for cell, (code, _) in zip(raw, field.choices, strict=True) if cell == "1")
    return tuple(item.value_of(code) or code for code in chosen), problems


def _range(value: object, field: DictionaryField, kind: str, where: str) -> Iterator[Problem]:
    if kind not in ("integer", "number", "date"):
        return
    for bound, text, outside in (("minimum", field.minimum, -1), ("maximum", field.maximum, 1)):
        if not text:
            continue
        try:
            limit = parse_value(text, kind)
        except ValueError:
            continue
        if (value > limit) - (value < limit) == outside:  # type: ignore[operator]
            yield Problem(where, f"{to_text(value)} is beyond the {bound} {text} of {field.name}")


def _defaults(mapping: ProjectMap, form: FormMap) -> Iterator[str]:
    mapped = {item.column for item in mapping.fields_of(form.table)}
    for table, column, _ in mapping.defaults:
        if table == form.table and column not in mapped:
            yield column


def _default(mapping: ProjectMap, table: str, column: str) -> object:
    text = next(v for t, c, v in mapping.defaults if (t, c) == (table, column))
    return parse_value(text, mapping.column(table, column).kind)


def _missing(
    values: Mapping[str, object], form: FormMap, mapping: ProjectMap, place: str
) -> Iterator[Problem]:
    names = {item.column: item.name for item in mapping.fields_of(form.table)}
    for column in mapping.column_names(form.table):
        if mapping.column(form.table, column).required and column not in values:
            field = names.get(column, column)
            yield Problem(
                f"{place} column {field}", f"is empty; alscell requires {form.table}.{column}"
            )
