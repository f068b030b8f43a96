"""alscell's own REDCap project: its events, forms and fields, and the mapping that matches them.

Arm 1 (event ``program_arm_1``) holds patients, record id = study code: the patient, identity and
diagnosis forms once per record and every other clinical form as a repeating instrument. Arm 2
(event ``product_arm_2``) holds the cell products, record id = lot code: the lot once, its units and
their release tests as repeating instruments. Field names are the form's prefix and the alscell
column (``ae_onset_on``); coded fields take the code lists of :mod:`codes`, extended by any value the
data hold that the lists do not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from alscell.domain import alsfrs
from alscell.domain.dataset import ClinicalDataset
from alscell.interop.redcap import codes
from alscell.interop.redcap.columns import COLUMNS, Column
from alscell.interop.redcap.dictionary import DataDictionary, DictionaryField
from alscell.interop.redcap.fieldmap import EventMap, FieldMap, FormMap, ProjectMap
from alscell.interop.redcap.values import to_text

__all__ = ["FORMS", "PRODUCT_EVENT", "PROGRAM_EVENT", "RECORD_ID", "alscell_project"]

RECORD_ID: Final = "record_id"
PROGRAM_EVENT: Final = "program_arm_1"
PRODUCT_EVENT: Final = "product_arm_2"
EVENTS: Final = (
    EventMap(PROGRAM_EVENT, "patients", "study_code"),
    EventMap(PRODUCT_EVENT, "product_lots", "lot_code"),
)

FORMS: Final = (
    # form, table, event, repeating, field prefix
    ("patient", "patients", PROGRAM_EVENT, False, "pt"),
    ("identity", "identities", PROGRAM_EVENT, False, "idn"),
    ("diagnosis", "diagnoses", PROGRAM_EVENT, False, "dx"),
    ("consent", "consents", PROGRAM_EVENT, True, "cons"),
    ("screening", "screenings", PROGRAM_EVENT, True, "scr"),
    ("enrollment", "enrollments", PROGRAM_EVENT, True, "enr"),
    ("schedule_event", "schedule_events", PROGRAM_EVENT, True, "sched"),
    ("alsfrs_r", "alsfrs_ratings", PROGRAM_EVENT, True, "alsfrs"),
    ("vital_capacity", "vital_capacities", PROGRAM_EVENT, True, "vc"),
    ("weight", "weights", PROGRAM_EVENT, True, "wt"),
    ("lab", "lab_results", PROGRAM_EVENT, True, "lab"),
    ("vital_signs", "vital_signs", PROGRAM_EVENT, True, "vs"),
    ("outcome_event", "outcome_events", PROGRAM_EVENT, True, "out"),
    ("administration", "administrations", PROGRAM_EVENT, True, "adm"),
    ("adverse_event", "adverse_events", PROGRAM_EVENT, True, "ae"),
    ("product_lot", "product_lots", PRODUCT_EVENT, False, "lot"),
    ("product_unit", "product_units", PRODUCT_EVENT, True, "unit"),
    ("release_test", "release_tests", PRODUCT_EVENT, True, "rt"),
)
"""Every form of the project in order (REDCap puts ``<form>_complete`` after each)."""

_CODED: Final[dict[tuple[str, str], tuple[str, codes.Vocabulary]]] = {
    ("patients", "status"): ("dropdown", codes.PATIENT_STATUSES),
    ("patients", "sex"): ("radio", codes.SEXES),
    ("diagnoses", "onset_site"): ("radio", codes.ONSET_SITES),
    ("diagnoses", "el_escorial"): ("dropdown", codes.EL_ESCORIAL),
    ("diagnoses", "awaji"): ("dropdown", codes.AWAJI),
    ("schedule_events", "kind"): ("radio", codes.SCHEDULE_EVENT_KINDS),
    ("alsfrs_ratings", "form"): ("radio", codes.ALSFRS_FORMS),
    ("vital_capacities", "method"): ("radio", codes.VITAL_CAPACITY_METHODS),
    ("outcome_events", "kind"): ("radio", codes.OUTCOME_KINDS),
    ("adverse_events", "causality_procedure"): ("dropdown", codes.CAUSALITY),
    ("adverse_events", "causality_product"): ("dropdown", codes.CAUSALITY),
    ("adverse_events", "causality_drug"): ("dropdown", codes.CAUSALITY),
    ("adverse_events", "seriousness"): ("checkbox", codes.SERIOUSNESS),
    ("release_tests", "result"): ("dropdown", codes.RELEASE_TEST_RESULTS),
    ("product_lots", "source"): ("radio", codes.PRODUCT_SOURCES),
}
"""Fields coded with numbered choices (the mapping file turns codes into values)."""

_SELF_CODED: Final[dict[tuple[str, str], codes.Vocabulary]] = {
    ("adverse_events", "ctcae_grade"): codes.CTCAE_GRADES,
    **{("alsfrs_ratings", key): choices for key, choices in codes.ALSFRS_ITEM_CHOICES.items()},
}
"""Radio fields whose codes are the values themselves (scores and grades)."""

_NOTES: Final = {
    ("screenings", "criteria_json"), ("administrations", "notes"),
    ("administrations", "override_reason"), ("schedule_events", "reason"),
}  # fmt: skip
_RANGES: Final = {
    ("patients", "birth_year"): ("1900", "2100"),
    ("vital_capacities", "percent_predicted"): ("0", "200"),
}
_BRANCHING: Final = {
    ("adverse_events", "seriousness"): "[ae_serious] = '1'",
    ("administrations", "override_reason"): "[adm_overridden_rules] <> ''",
}
_TEXT_TYPES: Final = {
    "date": ("text", "date_ymd"), "datetime": ("text", "datetime_seconds_ymd"),
    "integer": ("text", "integer"), "number": ("text", "number"), "boolean": ("yesno", ""),
    "list": ("notes", ""), "text": ("text", ""),
}  # fmt: skip
_ITEM_NAMES: Final = {item.key: f"{item.number}. {item.name}" for item in alsfrs.ITEMS}


def alscell_project(dataset: ClinicalDataset) -> tuple[DataDictionary, ProjectMap]:
    """The data dictionary and mapping of alscell's project, its code lists covering ``dataset``."""
    fields = [DictionaryField(RECORD_ID, "patient", "text", "Record ID (study code or lot code)")]
    mapped: list[FieldMap] = []
    for form, table, event, _, prefix in FORMS:
        record_column = next(e.column for e in EVENTS if e.name == event)
        for column in sorted(COLUMNS[table].values(), key=_form_order):
            if column.name == record_column:
                continue
            field, field_map = _field(form, f"{prefix}_{column.name}", column, dataset)
            fields.append(field)
            mapped.append(field_map)
    forms = tuple(
        FormMap(form, table, event, repeating) for form, table, event, repeating, _ in FORMS
    )
    mapping = ProjectMap(RECORD_ID, EVENTS, forms, tuple(mapped))
    return DataDictionary(tuple(_with_calculation(fields))), mapping


def _form_order(column: Column) -> int:
    """ALSFRS-R items in scale order (5a and 5b after 4), the total after them; others as declared."""
    if column.table != "alsfrs_ratings" or column.name not in _ITEM_NAMES:
        return 0 if column.name == "rated_on" else 2
    return 1


def _field(
    form: str, name: str, column: Column, dataset: ClinicalDataset
) -> tuple[DictionaryField, FieldMap]:
    where = (column.table, column.name)
    present = _values(dataset, column)
    field_type, validation = _TEXT_TYPES[column.kind]
    choices: tuple[tuple[str, str], ...] = ()
    value_of: tuple[tuple[str, str], ...] | None = None
    if where in _CODED:
        field_type, vocabulary = _CODED[where]
        vocabulary = _extended(vocabulary, present)
        choices = tuple((str(n), label) for n, (_, label) in enumerate(vocabulary, start=1))
        value_of = tuple((str(n), value) for n, (value, _) in enumerate(vocabulary, start=1))
        validation = ""
    elif where in _SELF_CODED:
        field_type, validation = "radio", ""
        choices = _extended(_SELF_CODED[where], present)
    elif where in _NOTES:
        field_type = "notes"
    if where == ("alsfrs_ratings", "total"):
        field_type, validation = "calc", ""
    minimum, maximum = _RANGES.get(where, ("", ""))
    field = DictionaryField(
        name=name, form=form, field_type=field_type, label=_label(column), choices=choices,
        validation=validation, minimum=minimum, maximum=maximum,
        identifier=column.table == "identities", required=column.required,
        note="UTC" if column.kind == "datetime" else "", branching=_BRANCHING.get(where, ""),
    )  # fmt: skip
    return field, FieldMap(name, column.table, column.name, value_of)


def _values(dataset: ClinicalDataset, column: Column) -> list[str]:
    found: list[str] = []
    for record in dataset.table(column.table):
        value = getattr(record, column.name)
        items = value if isinstance(value, tuple) else () if value is None else (value,)
        found += [to_text(item) for item in items]
    return found


def _extended(vocabulary: codes.Vocabulary, present: Iterable[str]) -> codes.Vocabulary:
    known = {value for value, _ in vocabulary}
    extra = sorted(set(present) - known)
    return vocabulary + tuple((value, value.replace("|", "/")) for value in extra)


def _label(column: Column) -> str:
    if column.table == "alsfrs_ratings" and column.name in _ITEM_NAMES:
        return f"ALSFRS-R item {_ITEM_NAMES[column.name]}"
    return column.name.replace("_", " ").capitalize()


def _with_calculation(fields: list[DictionaryField]) -> Iterable[DictionaryField]:
    items = [f"[alsfrs_{item.key}]" for item in alsfrs.ITEMS]
    formula = f"sum({', '.join(items)})"
    for field in fields:
        if field.field_type == "calc":
            yield DictionaryField(
                field.name, field.form, "calc", "ALSFRS-R total (0-48)", calculation=formula,
                required=field.required,
            )  # fmt: skip
        else:
            yield field
