"""Pure assembly of a REDCap record export: rows in REDCap's shape, and a data set from them.

Rows of a record come together: the record's main row (its non-repeating forms) first, then one
row per repeating instance, numbered from 1 per instrument. Rows are numbered as a spreadsheet shows
them: the header is row 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from alscell.domain.dataset import ClinicalDataset, Record
from alscell.errors import Problem
from alscell.interop.redcap.columns import COLUMNS, TABLES
from alscell.interop.redcap.dictionary import (
    EVENT_COLUMN,
    INSTANCE_COLUMN,
    INSTRUMENT_COLUMN,
    DataDictionary,
)
from alscell.interop.redcap.fieldmap import EventMap, FormMap, ProjectMap
from alscell.interop.redcap.mapping import FormCells, from_form, to_form

__all__ = ["header_problems", "read_rows", "to_rows"]


def to_rows(
    dataset: ClinicalDataset, mapping: ProjectMap, dictionary: DataDictionary
) -> tuple[list[dict[str, str]], list[Problem]]:
    """Every row of the export of ``dataset``, and every value that cannot be written."""
    rows: list[dict[str, str]] = []
    problems: list[Problem] = []
    for event in mapping.events:
        mains: dict[str, dict[str, str]] = {}
        repeats: dict[str, list[dict[str, str]]] = defaultdict(list)
        for form in (form for form in mapping.forms if form.event == event.name):
            column, links = _links(dataset, mapping, form)
            instances: dict[str, int] = defaultdict(int)
            for record in dataset.table(form.table):
                record_id = links.get(getattr(record, column), "") if column else ""
                cells, found = to_form(record, form, mapping, dictionary)
                problems += found
                if not record_id:
                    problems.append(
                        Problem(record.where(column or "-"), f"leads to no {event.table} record")
                    )
                    continue
                if not form.repeating:
                    main = mains.setdefault(record_id, _base(mapping, event, record_id, form, 0))
                    main |= cells
                    continue
                instances[record_id] += 1
                row = _base(mapping, event, record_id, form, instances[record_id]) | cells
                repeats[record_id].append(row)
        for record_id in dict.fromkeys([*mains, *repeats]):
            rows += [mains[record_id]] if record_id in mains else []
            rows += repeats[record_id]
    return rows, problems


def _base(
    mapping: ProjectMap, event: EventMap, record_id: str, form: FormMap, instance: int
) -> dict[str, str]:
    row = {mapping.record_id: record_id}
    if mapping.longitudinal:
        row[EVENT_COLUMN] = event.name
    if mapping.repeating:
        row[INSTRUMENT_COLUMN] = form.name if form.repeating else ""
        row[INSTANCE_COLUMN] = str(instance) if form.repeating else ""
    return row


def _links(
    dataset: ClinicalDataset, mapping: ProjectMap, form: FormMap
) -> tuple[str | None, dict[object, str]]:
    """A column of ``form``'s records and the record id each of its values leads to.

    The record column itself when the table has it; otherwise a key shared with another form of
    the event that has it (a release test reaches its lot through its unit's DIN).
    """
    column = mapping.record_column(form)
    if column is not None:
        return column, {
            getattr(r, column): str(getattr(r, column)) for r in dataset.table(form.table)
        }
    for other in (other for other in mapping.forms if other.event == form.event):
        own = mapping.record_column(other)
        shared = [key for key in TABLES[other.table].KEY if key in COLUMNS[form.table]]
        if own is not None and shared:
            records = dataset.table(other.table)
            return shared[0], {getattr(r, shared[0]): str(getattr(r, own)) for r in records}
    return None, {}


def header_problems(
    header: Sequence[str], mapping: ProjectMap, dictionary: DataDictionary, file: str
) -> list[Problem]:
    """Columns a record export lacks, has twice, or has that the data dictionary does not define."""
    known = set(dictionary.record_columns(longitudinal=True, repeating=True))
    needed = [mapping.record_id]
    needed += [EVENT_COLUMN] if mapping.longitudinal else []
    needed += [INSTRUMENT_COLUMN, INSTANCE_COLUMN] if mapping.repeating else []
    for item in mapping.fields:
        field = dictionary.field(item.name)
        needed += field.columns() if field else []
    problems = [
        Problem(f"{file} column {name}", "is missing") for name in needed if name not in header
    ]
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        where = f"{file} column {name}" if name else f"{file} row 1 column {number} (no name)"
        if name in seen:
            problems.append(Problem(where, "appears twice in the header"))
        elif name not in known:
            problems.append(Problem(where, "is not in the data dictionary"))
        seen.add(name)
    return problems


def read_rows(
    rows: Sequence[tuple[int, dict[str, str]]], mapping: ProjectMap, dictionary: DataDictionary,
    file: str,
) -> tuple[ClinicalDataset, list[Problem]]:  # fmt: skip
    """The data set in numbered rows (header already checked), and every problem of every row."""
    tables: dict[str, list[Record]] = defaultdict(list)
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    placed: list[tuple[str, str, str]] = []
    unreadable: set[str] = set()
    for number, cells in rows:
        place = f"{file} row {number}"
        record_id = cells.get(mapping.record_id, "").strip()
        event = cells.get(EVENT_COLUMN, "").strip()
        instrument = cells.get(INSTRUMENT_COLUMN, "").strip()
        instance = cells.get(INSTANCE_COLUMN, "").strip()
        key = (record_id, event, instrument, instance)
        if key in seen:
            problems.append(
                Problem(place, f"repeats row {seen[key]} (record {record_id}, event {event or '-'}, "
                        f"instrument {instrument or '-'}, instance {instance or '-'})")
            )  # fmt: skip
            continue
        seen[key] = number
        forms, found = _row_forms(
            mapping, dictionary, place, record_id, event, instrument, instance
        )
        problems += found
        for form in forms:
            origin = _origin(place, record_id, form, instance)
            record, found = from_form(
                FormCells(cells, place, origin, record_id), form, mapping, dictionary
            )
            problems += found
            if record is not None:
                tables[form.table].append(record)
                placed.append((record_id, event, place))
            elif found and _event_table(mapping, event) == form.table:
                unreadable.add(record_id)  # reported already; its other rows are not orphans
    problems += _unknown_records(tables, mapping, placed, unreadable)
    return ClinicalDataset.from_tables(tables), problems


def _row_forms(
    mapping: ProjectMap, dictionary: DataDictionary, place: str, record_id: str, event: str,
    instrument: str, instance: str,
) -> tuple[list[FormMap], list[Problem]]:  # fmt: skip
    problems = []
    if not record_id:
        problems.append(Problem(f"{place} column {mapping.record_id}", "is empty"))
    if mapping.event(event) is None:
        listed = ", ".join(e.name for e in mapping.events)
        problems.append(
            Problem(f"{place} column {EVENT_COLUMN}", f"{event!r} is not one of {listed}")
        )
    if problems:
        return [], problems
    if not instrument:
        if instance:
            return [], [
                Problem(f"{place} column {INSTANCE_COLUMN}", "repeating events are not read")
            ]
        return [f for f in mapping.forms if f.event == event and not f.repeating], []
    form = mapping.form(instrument)
    if form is None or not form.repeating or form.event != event:
        if instrument in dictionary.forms() and form is None:
            return [], []  # a form of the project that the mapping leaves out
        return [], [
            Problem(f"{place} column {INSTRUMENT_COLUMN}",
                    f"{instrument!r} is not a repeating instrument of event {event or '-'} in the mapping")
        ]  # fmt: skip
    if not instance.isdigit() or int(instance) < 1:
        return [], [
            Problem(f"{place} column {INSTANCE_COLUMN}", f"{instance!r} is not 1, 2, 3, ...")
        ]
    return [form], []


def _origin(place: str, record_id: str, form: FormMap, instance: str) -> str:
    if form.repeating:
        return f"{place} (record {record_id}, instrument {form.name}, instance {instance})"
    return f"{place} (record {record_id}, form {form.name})"


def _event_table(mapping: ProjectMap, event: str) -> str | None:
    found = mapping.event(event)
    return found.table if found else None


def _unknown_records(
    tables: dict[str, list[Record]], mapping: ProjectMap, placed: list[tuple[str, str, str]],
    unreadable: set[str],
) -> Iterator[Problem]:  # fmt: skip
    known = {
        event.name: {str(getattr(r, event.column)) for r in tables.get(event.table, [])}
        for event in mapping.events
    }
    reported: set[str] = set()
    for record_id, event, place in placed:
        if record_id not in known[event] | unreadable and place not in reported:
            reported.add(place)
            event_map = mapping.event(event)
            table = event_map.table if event_map else "?"
            yield Problem(
                f"{place} column {mapping.record_id}",
                f"record {record_id!r} has no {table} record (its main form is empty or missing)",
            )
