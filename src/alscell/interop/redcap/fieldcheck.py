"""Hold a field mapping against a project's data dictionary before any record is read.

Every mapped form and field must exist, each field's REDCap type must be able to hold its alscell
column, every choice must have an alscell value, and every required column must be filled. Each
problem names the mapping file entry (``mapping.yaml fields.alsfrs_speech``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from alscell.errors import Problem
from alscell.interop.redcap.columns import COLUMNS, Column
from alscell.interop.redcap.dictionary import CODED_TYPES, DataDictionary, DictionaryField
from alscell.interop.redcap.fieldmap import FieldMap, ProjectMap
from alscell.interop.redcap.values import EXPECTED, parse_value

__all__ = ["check_field_map"]


def check_field_map(mapping: ProjectMap, dictionary: DataDictionary) -> list[Problem]:
    """Every mismatch between ``mapping`` and ``dictionary``, each naming its mapping entry."""
    file = mapping.file
    problems = []
    if mapping.record_id != dictionary.record_id:
        problems.append(
            Problem(
                f"{file} record_id",
                f"{mapping.record_id!r} is not the data dictionary's record id "
                f"(its first field, {dictionary.record_id!r})",
            )
        )
    problems += _forms(mapping, dictionary)
    for item in mapping.fields:
        problems += _field(item, mapping, dictionary)
    problems += _twice(mapping)
    problems += _required(mapping)
    return problems


def _forms(mapping: ProjectMap, dictionary: DataDictionary) -> Iterator[Problem]:
    tables = Counter((form.event, form.table) for form in mapping.forms)
    for form in mapping.forms:
        place = f"{mapping.file} forms.{form.name}"
        if form.name not in dictionary.forms():
            yield Problem(place, f"no form {form.name!r} in the data dictionary")
        if tables[form.event, form.table] > 1:
            yield Problem(place, f"table {form.table} is filled by more than one form")
    for event in mapping.events:
        anchors = [
            form for form in mapping.forms
            if form.event == event.name and form.table == event.table and not form.repeating
        ]  # fmt: skip
        if not anchors:
            where = f"events.{event.name}" if event.name else "record"
            yield Problem(f"{mapping.file} {where}", f"no non-repeating form fills {event.table}")


def _field(item: FieldMap, mapping: ProjectMap, dictionary: DataDictionary) -> Iterator[Problem]:
    place = f"{mapping.file} fields.{item.name}"
    found = dictionary.field(item.name)
    if found is None:
        yield Problem(place, f"no field {item.name!r} in the data dictionary")
        return
    form = mapping.form(found.form)
    if form is None:
        yield Problem(place, f"is on form {found.form!r}, which the mapping does not list")
    elif form.table != item.table:
        yield Problem(
            place, f"is on form {found.form!r}, which fills {form.table}, not {item.table}"
        )
    column = mapping.column(item.table, item.column)
    if not _holds(found, column):
        kind = found.field_type + (f" ({found.validation})" if found.validation else "")
        yield Problem(
            place, f"a REDCap {kind} field cannot hold {item.table}.{item.column} ({column.kind})"
        )
    elif found.field_type in CODED_TYPES:
        yield from _choices(item, found, column, place)
    elif item.choices is not None:
        yield Problem(f"{place}.choices", "only radio, dropdown and checkbox fields have choices")


def _holds(found: DictionaryField, column: Column) -> bool:
    kind, validation = column.kind, found.validation
    by_type = {
        "radio": {"text", "integer", "number", "boolean"},
        "dropdown": {"text", "integer", "number", "boolean"},
        "checkbox": {"list"},
        "yesno": {"boolean"},
        "truefalse": {"boolean"},
        "calc": {"integer", "number"},
        "notes": {"text", "list"},
    }
    if found.field_type != "text":
        return kind in by_type.get(found.field_type, set())
    if validation.startswith("date"):
        return kind == ("datetime" if validation.startswith("datetime") else "date")
    if kind == "integer":
        return validation == "integer"
    if kind == "number":
        return validation in ("integer", "number") or validation.startswith("number_")
    return kind in ("text", "list")


def _choices(
    item: FieldMap, found: DictionaryField, column: Column, place: str
) -> Iterator[Problem]:
    codes = [code for code, _ in found.choices]
    if item.choices is not None:
        unmapped = [code for code in codes if item.value_of(code) is None]
        unknown = [code for code, _ in item.choices if code not in codes]
        if unmapped:
            yield Problem(f"{place}.choices", f"no alscell value for code(s) {', '.join(unmapped)}")
        if unknown:
            yield Problem(
                f"{place}.choices",
                f"code(s) {', '.join(unknown)} are not choices of {item.name} in the data dictionary",
            )
    kind = "text" if column.kind == "list" else column.kind
    for code in codes:
        value = item.value_of(code)
        try:
            parse_value(value or "", kind)
        except ValueError:
            yield Problem(
                f"{place}.choices", f"code {code} gives {value!r}, which is not {EXPECTED[kind]}"
            )


def _twice(mapping: ProjectMap) -> Iterator[Problem]:
    filled = Counter((item.table, item.column) for item in mapping.fields)
    for item in mapping.fields:
        if filled[item.table, item.column] > 1:
            yield Problem(
                f"{mapping.file} fields.{item.name}",
                f"{item.table}.{item.column} is filled by more than one field",
            )
        if item.name == mapping.record_id:
            yield Problem(f"{mapping.file} fields.{item.name}", "the record id is mapped by events")


def _required(mapping: ProjectMap) -> Iterator[Problem]:
    for form in mapping.forms:
        filled = {item.column for item in mapping.fields_of(form.table)}
        filled |= {column for table, column, _ in mapping.defaults if table == form.table}
        filled.add(mapping.record_column(form) or "")
        for name, column in COLUMNS[form.table].items():
            if column.required and name not in filled:
                yield Problem(
                    f"{mapping.file} forms.{form.name}",
                    f"no field fills {form.table}.{name}, which alscell requires",
                )
    for table, name, value in mapping.defaults:
        try:
            parse_value(value, COLUMNS[table][name].kind)
        except ValueError as error:
            yield Problem(f"{mapping.file} defaults.{table}.{name}", str(error))
