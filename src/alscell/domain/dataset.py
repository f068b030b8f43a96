"""The clinical data set that alscell exchanges with other systems: one table per record type.

Every exchange format (alscell's CSV, FHIR R4B, REDCap, CDISC) maps to and from this one shape, so an
export is ``services.data_export.export_dataset`` followed by a pure mapping, and an import is a pure
mapping followed by ``services.data_import.import_dataset``. Records name each other by the keys people
use, never by database ids: a patient by its study code, an enrollment by study code and protocol
key and version, a product unit by its ISBT 128 donation identification number (DIN), a lot by its
code. Users are local to an installation, so who recorded a value is not part of the data set; the
importing user becomes the recorder and the audit trail says it was imported.

:func:`dataset_problems` checks a whole data set at once (keys unique, references resolvable, values
in range), naming each record by its ``origin`` (file and row, or bundle and entry) when the mapping
that read it set one. Derived records (the planned calendar) are exported for readers but rebuilt from
the protocol on import, never read back.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, ClassVar, Final

from alscell.domain import alsfrs, registration
from alscell.domain.adverse_events import Causality
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.protocol import ActivityKind
from alscell.errors import InvalidImport, InvalidInput, Problem

__all__ = [
    "RECORD_TYPES",
    "AdministrationRecord",
    "AdverseEventRecord",
    "AlsfrsRecord",
    "ClinicalDataset",
    "ConsentRecord",
    "DiagnosisRecord",
    "EnrollmentRecord",
    "IdentityRecord",
    "LabResultRecord",
    "OutcomeEventRecord",
    "PatientRecord",
    "PlannedActivityRecord",
    "ProductLotRecord",
    "ProductUnitRecord",
    "Record",
    "ReleaseTestRecord",
    "ScheduleEventRecord",
    "ScreeningRecord",
    "VitalCapacityRecord",
    "VitalSignsRecord",
    "WeightRecord",
    "dataset_problems",
    "record_fields",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Base of every record: ``origin`` says where an imported record was read (not compared)."""

    TABLE: ClassVar[str] = ""
    KEY: ClassVar[tuple[str, ...]] = ()
    origin: str | None = field(default=None, compare=False, repr=False)

    def key(self) -> tuple[Any, ...]:
        """The values that identify this record within its table."""
        return tuple(getattr(self, name) for name in self.KEY)

    def where(self, column: str) -> str:
        """Location of one of this record's values, for a problem."""
        place = self.origin or f"{self.TABLE} {self.key()}"
        return f"{place} column {column}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientRecord(Record):
    TABLE: ClassVar[str] = "patients"
    KEY: ClassVar[tuple[str, ...]] = ("study_code",)
    study_code: str
    site_code: str
    status: str
    sex: str | None = None
    birth_year: int | None = None
    registered_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityRecord(Record):
    """Identifying data: exported only when asked for by a role allowed to see it."""

    TABLE: ClassVar[str] = "identities"
    KEY: ClassVar[tuple[str, ...]] = ("study_code",)
    study_code: str
    given_name: str
    family_name: str
    birth_on: date
    mrn: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosisRecord(Record):
    TABLE: ClassVar[str] = "diagnoses"
    KEY: ClassVar[tuple[str, ...]] = ("study_code",)
    study_code: str
    onset_on: date
    onset_site: str
    diagnosis_on: date
    familial: bool
    el_escorial: str | None = None
    awaji: str | None = None
    gold_coast: bool | None = None
    c9orf72: bool | None = None
    other_genetics: str | None = None
    ftd: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord(Record):
    TABLE: ClassVar[str] = "consents"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "form_version", "consented_on")
    study_code: str
    form_version: str
    consented_on: date
    withdrawn_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreeningRecord(Record):
    """A screening against a protocol version; ``criteria_json`` keeps each criterion's finding."""

    TABLE: ClassVar[str] = "screenings"
    KEY: ClassVar[tuple[str, ...]] = (
        "study_code",
        "protocol_key",
        "protocol_version",
        "screened_on",
    )
    study_code: str
    protocol_key: str
    protocol_version: str
    screened_on: date
    outcome: str
    criteria_json: str = "[]"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrollmentRecord(Record):
    TABLE: ClassVar[str] = "enrollments"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "protocol_key", "protocol_version")
    study_code: str
    protocol_key: str
    protocol_version: str
    enrolled_on: date
    start_on: date | None = None
    ended_on: date | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleEventRecord(Record):
    """An activity of the calendar marked done or skipped (with its reason)."""

    TABLE: ClassVar[str] = "schedule_events"
    KEY: ClassVar[tuple[str, ...]] = (
        "study_code", "protocol_key", "protocol_version", "activity_id", "occurrence", "kind", "on",
    )  # fmt: skip
    study_code: str
    protocol_key: str
    protocol_version: str
    activity_id: str
    kind: str
    occurrence: int | None = None
    on: date | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedActivityRecord(Record):
    """The calendar as planned (derived from the protocol: exported, rebuilt on import)."""

    TABLE: ClassVar[str] = "planned_activities"
    KEY: ClassVar[tuple[str, ...]] = (
        "study_code", "protocol_key", "protocol_version", "activity_id", "occurrence",
    )  # fmt: skip
    study_code: str
    protocol_key: str
    protocol_version: str
    activity_id: str
    occurrence: int
    name: str
    kind: str
    planned_on: date
    earliest_on: date
    latest_on: date
    status: str
    actual_on: date | None = None


ITEM_KEYS: Final = tuple(item.key for item in alsfrs.ITEMS)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlsfrsRecord(Record):
    """An ALSFRS-R rating: the twelve items (5a or 5b) and the total (clinical.md §1)."""

    TABLE: ClassVar[str] = "alsfrs_ratings"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "rated_on")
    study_code: str
    rated_on: date
    q1: int
    q2: int
    q3: int
    q4: int
    q6: int
    q7: int
    q8: int
    q9: int
    q10: int
    q11: int
    q12: int
    total: int
    q5a: int | None = None
    q5b: int | None = None
    form: str = "clinician"

    def items(self) -> dict[str, int]:
        """The item responses by key, the unused item 5 left out."""
        values = {key: getattr(self, key) for key in ITEM_KEYS}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class VitalCapacityRecord(Record):
    TABLE: ClassVar[str] = "vital_capacities"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "measured_on", "method")
    study_code: str
    measured_on: date
    percent_predicted: float
    method: str = "fvc"


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightRecord(Record):
    TABLE: ClassVar[str] = "weights"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "measured_on")
    study_code: str
    measured_on: date
    weight_kg: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LabResultRecord(Record):
    TABLE: ClassVar[str] = "lab_results"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "collected_on", "analyte")
    study_code: str
    collected_on: date
    analyte: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VitalSignsRecord(Record):
    TABLE: ClassVar[str] = "vital_signs"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "measured_at")
    study_code: str
    measured_at: datetime
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    temperature_c: float | None = None
    spo2_percent: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeEventRecord(Record):
    """Death, tracheostomy or permanent assisted ventilation."""

    TABLE: ClassVar[str] = "outcome_events"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "kind")
    study_code: str
    kind: str
    occurred_on: date
    source: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductLotRecord(Record):
    TABLE: ClassVar[str] = "product_lots"
    KEY: ClassVar[tuple[str, ...]] = ("lot_code",)
    lot_code: str
    site_code: str
    product_name: str
    source: str
    cell_type: str
    manufactured_on: date
    received_on: date
    donor_study_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductUnitRecord(Record):
    TABLE: ClassVar[str] = "product_units"
    KEY: ClassVar[tuple[str, ...]] = ("din",)
    din: str
    lot_code: str
    cells: float
    expires_on: date
    status: str
    volume_ml: float | None = None
    endotoxin_eu: float | None = None
    released_at: datetime | None = None
    assigned_study_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseTestRecord(Record):
    TABLE: ClassVar[str] = "release_tests"
    KEY: ClassVar[tuple[str, ...]] = ("din", "test", "tested_on")
    din: str
    test: str
    result: str
    tested_on: date
    value: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdministrationRecord(Record):
    """Something given: a lumbar puncture with its unit and dose, an infusion, a medicine, a session."""

    TABLE: ClassVar[str] = "administrations"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "activity_id", "occurrence", "given_on")
    study_code: str
    protocol_key: str
    protocol_version: str
    activity_id: str
    kind: str
    given_on: date
    occurrence: int | None = None
    unit_din: str | None = None
    dose_cells: float | None = None
    volume_ml: float | None = None
    drug: str | None = None
    dose_text: str | None = None
    duration_minutes: int | None = None
    overridden_rules: tuple[str, ...] = ()
    override_reason: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdverseEventRecord(Record):
    """An adverse event with its grade, seriousness, causality and reporting dates (clinical.md §9)."""

    TABLE: ClassVar[str] = "adverse_events"
    KEY: ClassVar[tuple[str, ...]] = ("study_code", "term", "onset_on")
    study_code: str
    term: str
    onset_on: date
    ctcae_grade: int
    serious: bool
    expected: bool
    causality_procedure: str
    causality_product: str
    causality_drug: str
    aware_on: date
    seriousness: tuple[str, ...] = ()
    resolved_on: date | None = None
    sponsor_due_on: date | None = None
    regulator_due_on: date | None = None
    complete_report_due_on: date | None = None
    sponsor_reported_on: date | None = None
    regulator_reported_on: date | None = None
    complete_report_sent_on: date | None = None
    administration_activity_id: str | None = None
    administration_given_on: date | None = None
    protocol_key: str | None = None
    protocol_version: str | None = None


RECORD_TYPES: Final[tuple[type[Record], ...]] = (
    PatientRecord, IdentityRecord, DiagnosisRecord, ConsentRecord, ScreeningRecord,
    EnrollmentRecord, ScheduleEventRecord, PlannedActivityRecord, AlsfrsRecord,
    VitalCapacityRecord, WeightRecord, LabResultRecord, VitalSignsRecord, OutcomeEventRecord,
    ProductLotRecord, ProductUnitRecord, ReleaseTestRecord, AdministrationRecord,
    AdverseEventRecord,
)  # fmt: skip
"""Every record type, in the order an import writes them (what is referred to comes first)."""

DERIVED: Final = frozenset({PlannedActivityRecord.TABLE})
"""Tables rebuilt from the protocol on import rather than read back."""


def record_fields(kind: type[Record]) -> tuple[str, ...]:
    """The data fields of a record type, in declaration order (``origin`` left out)."""
    return tuple(item.name for item in fields(kind) if item.name != "origin")


@dataclass(frozen=True, slots=True)
class ClinicalDataset:
    """All records of an export or an import, one tuple per table (see :data:`RECORD_TYPES`)."""

    patients: tuple[PatientRecord, ...] = ()
    identities: tuple[IdentityRecord, ...] = ()
    diagnoses: tuple[DiagnosisRecord, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()
    screenings: tuple[ScreeningRecord, ...] = ()
    enrollments: tuple[EnrollmentRecord, ...] = ()
    schedule_events: tuple[ScheduleEventRecord, ...] = ()
    planned_activities: tuple[PlannedActivityRecord, ...] = ()
    alsfrs_ratings: tuple[AlsfrsRecord, ...] = ()
    vital_capacities: tuple[VitalCapacityRecord, ...] = ()
    weights: tuple[WeightRecord, ...] = ()
    lab_results: tuple[LabResultRecord, ...] = ()
    vital_signs: tuple[VitalSignsRecord, ...] = ()
    outcome_events: tuple[OutcomeEventRecord, ...] = ()
    product_lots: tuple[ProductLotRecord, ...] = ()
    product_units: tuple[ProductUnitRecord, ...] = ()
    release_tests: tuple[ReleaseTestRecord, ...] = ()
    administrations: tuple[AdministrationRecord, ...] = ()
    adverse_events: tuple[AdverseEventRecord, ...] = ()

    def table(self, name: str) -> tuple[Record, ...]:
        """The records of the table called ``name``."""
        records: tuple[Record, ...] = getattr(self, name)
        return records

    def counts(self) -> dict[str, int]:
        """How many records each table holds."""
        return {kind.TABLE: len(self.table(kind.TABLE)) for kind in RECORD_TYPES}

    @classmethod
    def from_tables(cls, tables: Mapping[str, Iterable[Record]]) -> ClinicalDataset:
        """A data set from records grouped by table name; tables not named are empty."""
        known = {kind.TABLE: kind for kind in RECORD_TYPES}
        built: dict[str, Any] = {}
        for name, records in tables.items():
            if name not in known:
                raise ValueError(f"no table {name!r}")
            rows = tuple(records)
            wrong = [row for row in rows if not isinstance(row, known[name])]
            if wrong:
                raise TypeError(f"{name} holds a {type(wrong[0]).__name__}")
            built[name] = rows
        return cls(**built)

    def without_origins(self) -> ClinicalDataset:
        """The same records with ``origin`` cleared (for display and comparison)."""
        return ClinicalDataset.from_tables(
            {
                kind.TABLE: (replace(record, origin=None) for record in self.table(kind.TABLE))
                for kind in RECORD_TYPES
            }
        )

    def sorted(self) -> ClinicalDataset:
        """The same records, each table ordered by its key (None first): a canonical form."""
        return ClinicalDataset.from_tables(
            {kind.TABLE: sorted(self.table(kind.TABLE), key=_sort_key) for kind in RECORD_TYPES}
        )

    def require_valid(self, *, source: str = "import") -> None:
        """Raise :class:`~alscell.errors.InvalidImport` listing every problem, if there are any."""
        problems = dataset_problems(self)
        if problems:
            raise InvalidImport(problems, source=source)


def _sort_key(record: Record) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, str(value)) for value in record.key())


# ---------------------------------------------------------------- checks


def dataset_problems(dataset: ClinicalDataset, *, today: date | None = None) -> list[Problem]:
    """Every problem of a data set: duplicate keys, dangling references, values out of range, and the
    rules a registration and a diagnosis obey however they are entered (:mod:`registration`).

    With ``today``, birth and diagnosis dates after it are problems too.
    """
    problems: list[Problem] = []
    for kind in RECORD_TYPES:
        problems.extend(_duplicates(dataset.table(kind.TABLE)))
    problems.extend(_references(dataset))
    problems.extend(_values(dataset))
    problems.extend(_registration_problems(dataset, today))
    return problems


def _duplicates(records: Sequence[Record]) -> Iterator[Problem]:
    keys = [record.key() for record in records]
    seen = Counter(keys)
    if len(seen) == len(keys):
        return
    for record, key in zip(records, keys, strict=True):
        if seen[key] > 1:
            columns = ", ".join(record.KEY)
            yield Problem(record.where(columns), f"duplicate {record.TABLE} record for {key}")


def _references(dataset: ClinicalDataset) -> Iterator[Problem]:
    patients = {record.study_code for record in dataset.patients}
    for kind in RECORD_TYPES:
        columns = _patient_columns(kind)
        for record in dataset.table(kind.TABLE) if columns else ():
            for column in columns:
                value = getattr(record, column)
                if value is not None and value not in patients:
                    yield Problem(record.where(column), f"no patient with study code {value!r}")
    yield from _product_references(dataset)
    yield from _enrollment_references(dataset)
    given = {(dose.study_code, dose.activity_id, dose.given_on) for dose in dataset.administrations}
    for event in dataset.adverse_events:
        link = (event.study_code, event.administration_activity_id, event.administration_given_on)
        if event.administration_activity_id is not None and link not in given:
            yield Problem(
                event.where("administration_activity_id"),
                f"no administration of {event.administration_activity_id!r} "
                f"on {event.administration_given_on} for {event.study_code!r}",
            )


def _product_references(dataset: ClinicalDataset) -> Iterator[Problem]:
    lots = {record.lot_code for record in dataset.product_lots}
    units = {record.din for record in dataset.product_units}
    for unit in dataset.product_units:
        if unit.lot_code not in lots:
            yield Problem(unit.where("lot_code"), f"no product lot {unit.lot_code!r}")
    for test in dataset.release_tests:
        if test.din not in units:
            yield Problem(test.where("din"), f"no product unit with DIN {test.din!r}")
    for dose in dataset.administrations:
        if dose.unit_din is not None and dose.unit_din not in units:
            yield Problem(dose.where("unit_din"), f"no product unit with DIN {dose.unit_din!r}")


def _enrollment_references(dataset: ClinicalDataset) -> Iterator[Problem]:
    enrollments = {
        (record.study_code, record.protocol_key, record.protocol_version)
        for record in dataset.enrollments
    }
    records: list[
        AdministrationRecord | ScheduleEventRecord | PlannedActivityRecord | AdverseEventRecord
    ] = [
        *dataset.administrations, *dataset.schedule_events, *dataset.planned_activities,
    ]  # fmt: skip
    events = [event for event in dataset.adverse_events if event.protocol_key is not None]
    for record in [*records, *events]:
        if (record.study_code, record.protocol_key, record.protocol_version) not in enrollments:
            yield Problem(
                record.where("protocol_version"),
                f"patient {record.study_code!r} is not enrolled in "
                f"{record.protocol_key} {record.protocol_version}",
            )


def _patient_columns(kind: type[Record]) -> tuple[str, ...]:
    """The columns of a record type that name a patient by study code (a patient names no other)."""
    if kind is PatientRecord:
        return ()
    names = record_fields(kind)
    return tuple(c for c in ("study_code", "donor_study_code", "assigned_study_code") if c in names)


def _values(dataset: ClinicalDataset) -> Iterator[Problem]:
    for patient in dataset.patients:
        yield from _member(patient, "status", patient.status, {s.value for s in PatientStatus})
        if patient.birth_year is not None and not 1900 <= patient.birth_year <= 2100:
            yield Problem(patient.where("birth_year"), "must be a year between 1900 and 2100")
    yield from _program_problems(dataset)
    for rating in dataset.alsfrs_ratings:
        yield from _rating_problems(rating)
    for event in dataset.adverse_events:
        yield from _event_problems(event)
    kinds = {kind.value for kind in ActivityKind}
    scheduled: list[AdministrationRecord | PlannedActivityRecord] = [
        *dataset.administrations, *dataset.planned_activities,
    ]  # fmt: skip
    for record in scheduled:
        yield from _member(record, "kind", record.kind, kinds)
    yield from _measurement_problems(dataset)


def _registration_problems(dataset: ClinicalDataset, today: date | None) -> Iterator[Problem]:
    """The rules of :mod:`registration`, each problem placed at its record's row and column."""
    found: list[tuple[Record, list[Problem]]] = []
    for patient in dataset.patients:
        found.append((patient, registration.patient_problems(study_code=patient.study_code,
                                                             sex=patient.sex)))  # fmt: skip
    for identity in dataset.identities:
        problems = registration.identity_problems(
            given_name=identity.given_name, family_name=identity.family_name
        )
        if today is not None:
            problems += registration.future_problems(today, birth_on=identity.birth_on)
        found.append((identity, problems))
    for diagnosis in dataset.diagnoses:
        problems = registration.diagnosis_problems(
            onset_site=diagnosis.onset_site, onset_on=diagnosis.onset_on,
            diagnosis_on=diagnosis.diagnosis_on, el_escorial=diagnosis.el_escorial,
            awaji=diagnosis.awaji,
        )  # fmt: skip
        if today is not None:
            problems += registration.future_problems(today, diagnosis_on=diagnosis.diagnosis_on)
        found.append((diagnosis, problems))
    for record, problems in found:
        for problem in problems:
            yield Problem(record.where(problem.location), problem.message)


def _program_problems(dataset: ClinicalDataset) -> Iterator[Problem]:
    for screening in dataset.screenings:
        if not _is_json_list(screening.criteria_json):
            yield Problem(screening.where("criteria_json"), "must be a JSON array of findings")
    for event in dataset.schedule_events:
        yield from _member(event, "kind", event.kind, {"done", "skipped"})


def _is_json_list(text: str) -> bool:
    try:
        return isinstance(json.loads(text), list)
    except (ValueError, RecursionError):  # not JSON (JSONDecodeError is a ValueError), or too deep
        return False


def _measurement_problems(dataset: ClinicalDataset) -> Iterator[Problem]:
    for capacity in dataset.vital_capacities:
        if not 0 <= capacity.percent_predicted <= 200:
            yield Problem(capacity.where("percent_predicted"), "must be between 0 and 200")
    for weight in dataset.weights:
        if not 0 < weight.weight_kg <= 400:
            yield Problem(weight.where("weight_kg"), "must be above 0 and at most 400")
    for test in dataset.release_tests:
        yield from _member(test, "result", test.result, {r.value for r in TestResult})
    for unit in dataset.product_units:
        if unit.cells <= 0:
            yield Problem(unit.where("cells"), "must be above 0")


def _rating_problems(rating: AlsfrsRecord) -> Iterator[Problem]:
    total = _plain_total(rating)
    if total is not None:  # what alsfrs.score would give, without building its result
        if total != rating.total:
            yield Problem(
                rating.where("total"), f"is {rating.total} but the items add up to {total}"
            )
        yield from _member(rating, "form", rating.form, {"clinician", "self"})
        return
    try:
        result = alsfrs.score(rating.items())
    except InvalidInput as error:
        for problem in error.problems:
            yield Problem(rating.where(problem.location), problem.message)
        return
    if result.total != rating.total:
        yield Problem(
            rating.where("total"), f"is {rating.total} but the items add up to {result.total}"
        )
    yield from _member(rating, "form", rating.form, {"clinician", "self"})


def _plain_total(rating: AlsfrsRecord) -> int | None:
    """The sum of the items when every response is plainly valid (each an int 0-4, exactly one of
    q5a and q5b), which is then the total :func:`alsfrs.score` gives; None when anything needs its
    full check and its problems."""
    if rating.q5a is not None and rating.q5b is None:
        five = rating.q5a
    elif rating.q5b is not None and rating.q5a is None:
        five = rating.q5b
    else:
        return None
    responses = (rating.q1, rating.q2, rating.q3, rating.q4, five, rating.q6, rating.q7, rating.q8,
                 rating.q9, rating.q10, rating.q11, rating.q12)  # fmt: skip
    if all(type(value) is int and 0 <= value <= alsfrs.MAX_ITEM_SCORE for value in responses):
        return sum(responses)
    return None


def _event_problems(event: AdverseEventRecord) -> Iterator[Problem]:
    if not 1 <= event.ctcae_grade <= 5:
        yield Problem(event.where("ctcae_grade"), "must be a CTCAE grade from 1 to 5")
    causalities = {c.value for c in Causality}
    for column in ("causality_procedure", "causality_product", "causality_drug"):
        yield from _member(event, column, getattr(event, column), causalities)
    if event.resolved_on is not None and event.resolved_on < event.onset_on:
        yield Problem(event.where("resolved_on"), "must not be before onset_on")


def _member(record: Record, column: str, value: str, allowed: set[str]) -> Iterator[Problem]:
    if value not in allowed:
        yield Problem(record.where(column), f"must be one of {', '.join(sorted(allowed))}")
