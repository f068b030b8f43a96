"""The field-mapping file: which REDCap form fills which alscell table, and each field's column.

A mapping is the one table through which REDCap fields reach alscell (docs/redcap.md shows the
format). :func:`parse_field_map` reads the YAML document; :func:`check_field_map` holds it against a
project's data dictionary and names the mapping entry of every mismatch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from alscell.errors import Problem
from alscell.interop.redcap.columns import COLUMNS, Column

__all__ = ["FORMAT", "EventMap", "FieldMap", "FormMap", "ProjectMap", "parse_field_map"]

FORMAT: Final = "alscell-redcap-mapping"
VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class EventMap:
    """An event (``""`` in a classic project) and the alscell column its record ids fill."""

    name: str
    table: str
    column: str


@dataclass(frozen=True, slots=True)
class FormMap:
    """A REDCap form (instrument) and the alscell table it fills."""

    name: str
    table: str
    event: str
    repeating: bool


@dataclass(frozen=True, slots=True)
class FieldMap:
    """A REDCap field and its alscell column; ``choices`` maps codes to values (None: the same)."""

    name: str
    table: str
    column: str
    choices: tuple[tuple[str, str], ...] | None = None

    def value_of(self, code: str) -> str | None:
        """The alscell value (as text) of a REDCap code."""
        return code if self.choices is None else dict(self.choices).get(code)

    def code_of(self, value: str) -> str | None:
        """The REDCap code of an alscell value (as text)."""
        if self.choices is None:
            return value
        return next((code for code, mapped in self.choices if mapped == value), None)


@dataclass(frozen=True, slots=True)
class ProjectMap:
    """A whole mapping file, parsed."""

    record_id: str
    events: tuple[EventMap, ...]
    forms: tuple[FormMap, ...]
    fields: tuple[FieldMap, ...]
    defaults: tuple[tuple[str, str, str], ...] = ()
    longitudinal: bool = True
    file: str = field(default="mapping.yaml", compare=False)

    @property
    def repeating(self) -> bool:
        """Whether any form repeats (so exports have the repeat columns)."""
        return any(form.repeating for form in self.forms)

    def form(self, name: str) -> FormMap | None:
        """The mapped form called ``name``."""
        return next((form for form in self.forms if form.name == name), None)

    def event(self, name: str) -> EventMap | None:
        """The mapped event called ``name``."""
        return next((event for event in self.events if event.name == name), None)

    def column(self, table: str, column: str) -> Column:
        """What an alscell column holds."""
        return COLUMNS[table][column]

    def column_names(self, table: str) -> tuple[str, ...]:
        """The columns of an alscell table."""
        return tuple(COLUMNS[table])

    def record_column(self, form: FormMap) -> str | None:
        """The column of ``form``'s table that the record id fills, if it has it."""
        event = self.event(form.event)
        if event is None or event.column not in COLUMNS[form.table]:
            return None
        return event.column

    def fields_of(self, table: str) -> tuple[FieldMap, ...]:
        """The fields that fill ``table``."""
        return tuple(item for item in self.fields if item.table == table)

    def document(self) -> dict[str, object]:
        """The mapping as a YAML-ready document (what :func:`parse_field_map` reads)."""
        forms = {
            form.name: {"event": form.event, "table": form.table}
            | ({"repeating": True} if form.repeating else {})
            for form in self.forms
        }
        fields: dict[str, object] = {
            item.name: f"{item.table}.{item.column}"
            if item.choices is None
            else {"column": f"{item.table}.{item.column}", "choices": dict(item.choices)}
            for item in self.fields
        }
        return {
            "format": FORMAT,
            "version": VERSION,
            "record_id": self.record_id,
            "events": {event.name: f"{event.table}.{event.column}" for event in self.events},
            "forms": forms,
            "fields": fields,
        }


def parse_field_map(document: object, file: str) -> tuple[ProjectMap | None, list[Problem]]:
    """A mapping from its YAML document, with every entry that cannot be understood."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None, [Problem(file, f"is not an alscell REDCap mapping (format: {FORMAT})")]
    problems: list[Problem] = []
    if document.get("version") != VERSION:
        problems.append(Problem(f"{file} version", f"must be {VERSION}"))
    record_id = document.get("record_id")
    if not isinstance(record_id, str):
        problems.append(Problem(f"{file} record_id", "must name the record id field"))
    events, longitudinal = _events(document, file, problems)
    forms = tuple(_forms(document.get("forms"), events, longitudinal, file, problems))
    fields = tuple(_fields(document.get("fields"), file, problems))
    defaults = tuple(_defaults(document.get("defaults", {}), file, problems))
    if problems or not isinstance(record_id, str):
        return None, problems
    return ProjectMap(record_id, events, forms, fields, defaults, longitudinal, file), []


def _events(
    document: Mapping[str, object], file: str, problems: list[Problem]
) -> tuple[tuple[EventMap, ...], bool]:
    if "events" not in document:
        column = _column_ref(document.get("record"), f"{file} record", problems)
        return ((EventMap("", *column),) if column else ()), False
    entries = _entries(document["events"], f"{file} events", problems)
    events = []
    for name, target in entries.items():
        column = _column_ref(target, f"{file} events.{name}", problems)
        if column:
            events.append(EventMap(name, *column))
    return tuple(events), True


def _forms(
    raw: object, events: tuple[EventMap, ...], longitudinal: bool, file: str,
    problems: list[Problem],
) -> Iterator[FormMap]:  # fmt: skip
    for name, entry in _entries(raw, f"{file} forms", problems).items():
        place = f"{file} forms.{name}"
        table = entry.get("table") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not isinstance(table, str) or table not in COLUMNS:
            problems.append(Problem(place, f"needs a table, one of {', '.join(COLUMNS)}"))
            continue
        event = str(entry.get("event", "")) if longitudinal else ""
        if event not in {item.name for item in events}:
            problems.append(Problem(place, f"event {event!r} is not listed under events"))
            continue
        yield FormMap(name, table, event, entry.get("repeating") is True)


def _fields(raw: object, file: str, problems: list[Problem]) -> Iterator[FieldMap]:
    for name, entry in _entries(raw, f"{file} fields", problems).items():
        place = f"{file} fields.{name}"
        target = entry.get("column") if isinstance(entry, dict) else entry
        column = _column_ref(target, place, problems)
        choices = entry.get("choices") if isinstance(entry, dict) else None
        if choices is not None and not isinstance(choices, dict):
            problems.append(Problem(f"{place}.choices", "must map REDCap codes to alscell values"))
        elif column:
            pairs = (
                None if choices is None else tuple((_text(c), _text(v)) for c, v in choices.items())
            )
            yield FieldMap(name, *column, pairs)


def _defaults(raw: object, file: str, problems: list[Problem]) -> Iterator[tuple[str, str, str]]:
    for name, value in _entries(raw, f"{file} defaults", problems).items():
        column = _column_ref(name, f"{file} defaults.{name}", problems)
        if column:
            yield (*column, _text(value))


def _entries(raw: object, place: str, problems: list[Problem]) -> dict[str, object]:
    if not isinstance(raw, dict):
        problems.append(Problem(place, "must be a mapping of names to entries"))
        return {}
    return {str(key): value for key, value in raw.items()}


def _column_ref(raw: object, place: str, problems: list[Problem]) -> tuple[str, str] | None:
    table, _, column = str(raw).partition(".")
    if not isinstance(raw, str) or column not in COLUMNS.get(table, {}):
        problems.append(Problem(place, f"{raw!r} is not an alscell table.column"))
        return None
    return table, column


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
