"""The REDCap data dictionary: its exact CSV layout, its fields, and REDCap's rules for it.

A data dictionary is the CSV a REDCap project's Designer exports and imports: one row per field,
the first row the record id. A record export has one column per field (a checkbox field one per
choice, ``field___code``), after each form a ``<form>_complete`` column, and in front the record id
and, as the project needs them, ``redcap_event_name``, ``redcap_repeat_instrument`` and
``redcap_repeat_instance``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from alscell.errors import Problem

__all__ = [
    "CODED_TYPES",
    "EVENT_COLUMN",
    "HEADER",
    "INSTANCE_COLUMN",
    "INSTRUMENT_COLUMN",
    "DataDictionary",
    "DictionaryField",
    "format_choices",
    "parse_dictionary",
]

HEADER: Final = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?", "Custom Alignment",
    "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?", "Field Annotation",
)  # fmt: skip
"""The columns of a REDCap data dictionary, in REDCap's order and spelling."""

EVENT_COLUMN: Final = "redcap_event_name"
INSTRUMENT_COLUMN: Final = "redcap_repeat_instrument"
INSTANCE_COLUMN: Final = "redcap_repeat_instance"

FIELD_TYPES: Final = frozenset(
    {"text", "notes", "radio", "dropdown", "checkbox", "yesno", "truefalse", "calc", "descriptive",
     "file", "slider", "sql"}
)  # fmt: skip
CODED_TYPES: Final = frozenset({"radio", "dropdown", "checkbox"})
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
_CODE: Final = re.compile(r"-?[A-Za-z0-9_.]+\Z")


@dataclass(frozen=True, slots=True)
class DictionaryField:
    """One row of a data dictionary (``choices`` parsed; a calc field's formula in ``calculation``)."""

    name: str
    form: str
    field_type: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    calculation: str = ""
    note: str = ""
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    identifier: bool = False
    branching: str = ""
    required: bool = False

    def columns(self) -> tuple[str, ...]:
        """The columns this field takes in a record export."""
        if self.field_type == "checkbox":
            return tuple(checkbox_column(self.name, code) for code, _ in self.choices)
        if self.field_type == "descriptive":
            return ()
        return (self.name,)

    def row(self) -> tuple[str, ...]:
        """This field as a data dictionary row."""
        coded = self.field_type in CODED_TYPES
        return (
            self.name, self.form, "", self.field_type, self.label,
            format_choices(self.choices) if coded else self.calculation, self.note,
            self.validation, self.minimum, self.maximum, "y" if self.identifier else "",
            self.branching, "y" if self.required else "", "", "", "", "", "",
        )  # fmt: skip


def checkbox_column(field: str, code: str) -> str:
    """The export column of one checkbox choice (REDCap lower-cases the code)."""
    return f"{field}___{code.lower()}"


def format_choices(choices: Sequence[tuple[str, str]]) -> str:
    """Choices as REDCap writes them: ``1, Label | 2, Label``."""
    return " | ".join(f"{code}, {label}" for code, label in choices)


@dataclass(frozen=True, slots=True)
class DataDictionary:
    """A project's fields in order; the first is the record id."""

    fields: tuple[DictionaryField, ...]

    @property
    def record_id(self) -> str:
        """The record id field's name."""
        return self.fields[0].name

    def field(self, name: str) -> DictionaryField | None:
        """The field called ``name``, if the project has one."""
        return next((field for field in self.fields if field.name == name), None)

    def forms(self) -> tuple[str, ...]:
        """The project's forms (instruments), in order."""
        return tuple(dict.fromkeys(field.form for field in self.fields))

    def record_columns(self, *, longitudinal: bool, repeating: bool) -> tuple[str, ...]:
        """The header of a full record export, in REDCap's column order."""
        columns = [self.record_id]
        if longitudinal:
            columns.append(EVENT_COLUMN)
        if repeating:
            columns += [INSTRUMENT_COLUMN, INSTANCE_COLUMN]
        for form in self.forms():
            for field in self.fields:
                if field.form == form and field.name != self.record_id:
                    columns += field.columns()
            columns.append(f"{form}_complete")
        return tuple(columns)

    def rows(self) -> list[tuple[str, ...]]:
        """The dictionary as CSV rows, header first."""
        return [HEADER, *(field.row() for field in self.fields)]


def parse_dictionary(
    rows: Sequence[Sequence[str]], file: str
) -> tuple[DataDictionary | None, list[Problem]]:
    """A data dictionary from its CSV rows (header first), with every broken REDCap rule."""
    if not rows:
        return None, [Problem(file, "is empty; export the data dictionary from REDCap again")]
    header = tuple(cell.strip() for cell in rows[0])
    if header != HEADER:
        missing = [name for name in HEADER if name not in header]
        detail = f"missing {', '.join(missing)}" if missing else "columns out of REDCap's order"
        return None, [
            Problem(f"{file} row 1", f"is not a REDCap data dictionary header ({detail})")
        ]
    numbered: list[tuple[int, DictionaryField]] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows[1:], start=2):
        place = f"{file} row {number}"
        if len(row) != len(HEADER):
            problems.append(Problem(place, f"has {len(row)} of {len(HEADER)} columns"))
            continue
        field, found = _field(row, place)
        problems += found
        numbered.append((number, field))
    problems += _names(numbered, file)
    fields = [field for _, field in numbered]
    if not fields:
        problems.append(Problem(file, "has no fields; the first must be the record id"))
    return (DataDictionary(tuple(fields)) if not problems else None), problems


def _field(row: Sequence[str], place: str) -> tuple[DictionaryField, list[Problem]]:
    cells = [cell.strip() for cell in row]
    name, form, _, kind, label, choices_text = cells[:6]
    problems = [
        Problem(f"{place} column {HEADER[i]}", f"{cells[i]!r} must be lower-case letters, digits "
                "and underscores, starting with a letter")
        for i in (0, 1) if not _NAME.match(cells[i])
    ]  # fmt: skip
    if kind not in FIELD_TYPES:
        problems.append(Problem(f"{place} column {HEADER[3]}", f"unknown field type {kind!r}"))
    choices: tuple[tuple[str, str], ...] = ()
    if kind in CODED_TYPES:
        choices, found = _choices(choices_text, f"{place} column {HEADER[5]}")
        problems += found
    elif kind == "calc" and not choices_text:
        problems.append(Problem(f"{place} column {HEADER[5]}", "a calc field needs a calculation"))
    if cells[7] and kind != "text" and kind != "slider":
        problems.append(Problem(f"{place} column {HEADER[7]}", "only text fields are validated"))
    problems += [
        Problem(f"{place} column {HEADER[i]}", f"must be 'y' or empty, not {cells[i]!r}")
        for i in (10, 12) if cells[i].lower() not in ("", "y")
    ]  # fmt: skip
    field = DictionaryField(
        name=name, form=form, field_type=kind, label=label, choices=choices,
        calculation=choices_text if kind == "calc" else "", note=cells[6], validation=cells[7],
        minimum=cells[8], maximum=cells[9], identifier=cells[10].lower() == "y",
        branching=cells[11], required=cells[12].lower() == "y",
    )  # fmt: skip
    return field, problems


def _choices(text: str, place: str) -> tuple[tuple[tuple[str, str], ...], list[Problem]]:
    if not text:
        return (), [Problem(place, "a radio, dropdown or checkbox field needs choices")]
    choices: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for part in text.split("|"):
        code, comma, label = part.strip().partition(",")
        code = code.strip()
        if not comma or not _CODE.match(code):
            problems.append(Problem(place, f"choice {part.strip()!r} is not 'code, label'"))
        elif code in dict(choices):
            problems.append(Problem(place, f"choice code {code!r} is used twice"))
        else:
            choices.append((code, label.strip()))
    return tuple(choices), problems


def _names(fields: Sequence[tuple[int, DictionaryField]], file: str) -> Iterator[Problem]:
    seen: set[str] = set()
    forms = {field.form for _, field in fields}
    reserved = {EVENT_COLUMN, INSTRUMENT_COLUMN, INSTANCE_COLUMN} | {f"{f}_complete" for f in forms}
    for number, field in fields:
        place = f"{file} row {number} column {HEADER[0]}"
        if field.name in seen:
            yield Problem(place, f"field {field.name!r} is defined twice")
        if field.name in reserved:
            yield Problem(place, f"{field.name!r} is a name REDCap reserves")
        seen.add(field.name)
