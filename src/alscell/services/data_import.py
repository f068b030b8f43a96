"""Clinical records in: a :class:`~alscell.domain.dataset.ClinicalDataset` written to the database.

Every import format ends here, so imports are validated whole before anything is written, in one
transaction, with one audit event per record like any other write. :func:`import_dataset` adds
patients that are new to this installation, with everything recorded about them, and product lots
and units new to it. It refuses, before writing, a data set with any problem: its own (duplicates,
dangling references, values out of range) or against this database (unknown site or protocol
version, a study code, lot or DIN already here). Imported records are facts of the past: the safety
rules that guard a new dose are not re-run (they guard an action about to happen), but every value is
checked as on entry, the importing user is the recorder, and each audit event says the record was
imported and from where. The calendar is rebuilt from the protocol and the imported schedule events.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import dataset as ds
from alscell.domain.access import Action
from alscell.domain.adverse_events import Causality
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.scheduling import plan_schedule, reschedule
from alscell.errors import InvalidImport, InvalidInput, Problem
from alscell.services import access
from alscell.services.enrollment import as_event, refresh_schedule
from alscell.services.protocols import protocol_of
from alscell.services.records import add_record, column_rule, commit
from alscell.storage.base import Base
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    Consent,
    Diagnosis,
    Enrollment,
    LabResult,
    OutcomeEvent,
    Patient,
    PatientIdentity,
    ProductLot,
    ProductUnit,
    ProtocolVersion,
    ReleaseTest,
    ScheduleEvent,
    Screening,
    Site,
    SiteClosure,
    User,
    VitalCapacity,
    VitalSigns,
    Weight,
)
from alscell.storage.models.product import UnitStatus

__all__ = ["ImportSummary", "import_dataset"]


# ---------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import added: records per table, and the calendars rebuilt."""

    source: str
    counts: dict[str, int]
    calendars_rebuilt: int


def import_dataset(
    session: Session, dataset: ds.ClinicalDataset, *, by: User, now: datetime, source: str
) -> ImportSummary:
    """Add the data set's patients and products, all or nothing (see the module docstring)."""
    access.require(by, Action.IMPORT_RECORDS, resource="clinical records")
    problems = ds.dataset_problems(dataset, today=now.date()) + list(_column_problems(dataset))
    problems += _database_problems(session, dataset)
    if not problems:  # the calendars are planned from records already known to be sound
        problems += _calendar_problems(session, dataset)
    if problems:
        raise InvalidImport(problems, source=source)
    writer = _Writer(session, by, now, source)
    writer.write(dataset)
    rebuilt = 0
    for enrollment in writer.enrollments.values():
        if enrollment.start_on is not None:
            refresh_schedule(session, enrollment)
            rebuilt += 1
    commit(session)
    counts = {
        name: count for name, count in dataset.counts().items() if name not in ds.DERIVED and count
    }
    return ImportSummary(source=source, counts=counts, calendars_rebuilt=rebuilt)


def _database_problems(session: Session, dataset: ds.ClinicalDataset) -> Iterator[Problem]:
    sites = set(session.execute(sa.select(Site.code)).scalars())
    protocols = {
        (row.key, row.version)
        for row in session.execute(sa.select(ProtocolVersion.key, ProtocolVersion.version))
    }
    placed: list[ds.PatientRecord | ds.ProductLotRecord] = [
        *dataset.patients,
        *dataset.product_lots,
    ]
    for record in placed:
        if record.site_code not in sites:
            yield Problem(
                record.where("site_code"), f"no site {record.site_code!r} here; create it first"
            )
    planned: list[ds.ScreeningRecord | ds.EnrollmentRecord] = [
        *dataset.screenings,
        *dataset.enrollments,
    ]
    for entry in planned:
        if (entry.protocol_key, entry.protocol_version) not in protocols:
            yield Problem(
                entry.where("protocol_version"),
                f"protocol {entry.protocol_key} {entry.protocol_version} is not loaded here; "
                "load it with 'alscell protocol load' first",
            )
    yield from _already_here(session, dataset.patients, Patient.study_code, "study_code", "patient")
    yield from _already_here(session, dataset.product_lots, ProductLot.lot_code, "lot_code", "lot")
    yield from _already_here(session, dataset.product_units, ProductUnit.din, "din", "unit")


_MODELS: Final[dict[str, type[Base]]] = {
    "patients": Patient, "identities": PatientIdentity, "diagnoses": Diagnosis, "consents": Consent,
    "screenings": Screening, "enrollments": Enrollment, "schedule_events": ScheduleEvent,
    "alsfrs_ratings": AlsfrsRating, "vital_capacities": VitalCapacity, "weights": Weight,
    "lab_results": LabResult, "vital_signs": VitalSigns, "outcome_events": OutcomeEvent,
    "product_lots": ProductLot, "product_units": ProductUnit, "release_tests": ReleaseTest,
    "administrations": Administration, "adverse_events": AdverseEvent,
}  # fmt: skip
"""The table each imported record type is stored in (a value stored under its own name is checked
against that column)."""


def _column_problems(dataset: ds.ClinicalDataset) -> Iterator[Problem]:
    """Values the database cannot store (:func:`records.column_rule`), at their row and column."""
    for name, model in _MODELS.items():
        records = dataset.table(name)
        if not records:
            continue
        columns = model.__table__.columns
        types = [(field, columns[field].type) for field in ds.record_fields(type(records[0]))
                 if field in columns]  # fmt: skip
        for record in records:
            for field, column_type in types:
                rule = column_rule(getattr(record, field), column_type)
                if rule is not None:
                    yield Problem(record.where(field), rule)


def _calendar_problems(session: Session, dataset: ds.ClinicalDataset) -> list[Problem]:
    """Each started enrollment's calendar, planned from its protocol with the imported schedule
    events, as the import will rebuild it: every event must apply (known activity, occurrence in
    range, a date in the program), each problem named at the event's place."""
    stored = {(row.key, row.version): row.id for row in session.execute(
        sa.select(ProtocolVersion.key, ProtocolVersion.version, ProtocolVersion.id))}  # fmt: skip
    sites = {p.study_code: p.site_code for p in dataset.patients}
    events: dict[tuple[str, str, str], list[ds.ScheduleEventRecord]] = defaultdict(list)
    for event in dataset.schedule_events:
        events[event.study_code, event.protocol_key, event.protocol_version].append(event)
    problems: list[Problem] = []
    for enrollment in dataset.enrollments:
        if enrollment.start_on is None:
            continue
        protocol = protocol_of(
            session, stored[enrollment.protocol_key, enrollment.protocol_version]
        )
        closed = session.execute(
            sa.select(SiteClosure.closed_on).join(Site).where(Site.code == sites[enrollment.study_code])
        ).scalars()  # fmt: skip
        mine = events[enrollment.key()]
        try:
            plan = plan_schedule(protocol, enrollment.start_on, closures=closed)
            reschedule(plan, [as_event(event) for event in mine])
        except InvalidInput as error:
            problems += (_placed(problem, enrollment, mine) for problem in error.problems)
    return problems


_EVENT_PLACE: Final = re.compile(r"events\[(\d+)\](?:\.(\w+))?")


def _placed(
    problem: Problem, enrollment: ds.EnrollmentRecord, events: list[ds.ScheduleEventRecord]
) -> Problem:
    """A calendar problem at the imported record it is about (an event, else the enrollment)."""
    match = _EVENT_PLACE.match(problem.location)
    if match is None:
        return Problem(enrollment.where(problem.location), problem.message)
    event = events[int(match.group(1))]
    return Problem(event.where(match.group(2) or "occurrence"), problem.message)


def _already_here(
    session: Session, records: tuple[ds.Record, ...], column: Any, name: str, noun: str
) -> Iterator[Problem]:
    keys = [getattr(record, name) for record in records]
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(session.execute(sa.select(column).where(column.in_(chunk))).scalars())
    for record in records:
        if getattr(record, name) in found:
            yield Problem(
                record.where(name), f"a {noun} {getattr(record, name)!r} is already recorded here"
            )


class _Writer:
    """Adds the records in dependency order, each with its audit event."""

    def __init__(self, session: Session, by: User, now: datetime, source: str) -> None:
        self.session, self.by, self.now, self.source = session, by, now, source
        self.sites = {row.code: row.id for row in session.execute(sa.select(Site.code, Site.id))}
        self.protocols = {
            (row.key, row.version): row.id
            for row in session.execute(sa.select(ProtocolVersion)).scalars()
        }
        self.patients: dict[str, int] = {}
        self.enrollments: dict[tuple[str, str, str], Enrollment] = {}
        self.lots: dict[str, int] = {}
        self.units: dict[str, int] = {}
        self.administrations: dict[tuple[str, str | None, date | None], Administration] = {}

    def add(self, record: Base, table: str) -> Any:
        return add_record(
            self.session, record, by=self.by, action=f"{table}.imported", now=self.now,
            reason=f"imported from {self.source}",
        )  # fmt: skip

    def write(self, dataset: ds.ClinicalDataset) -> None:
        # fmt: off
        by = self.by.id
        for p in dataset.patients:
            row = Patient(study_code=p.study_code, site_id=self.sites[p.site_code], status=PatientStatus(p.status),
                          sex=p.sex, birth_year=p.birth_year, registered_at=p.registered_at or self.now)
            self.patients[p.study_code] = self.add(row, "patient").id
        pid = self.patients
        for i in dataset.identities:
            self.add(PatientIdentity(patient_id=pid[i.study_code], given_name=i.given_name,
                                     family_name=i.family_name, birth_on=i.birth_on, mrn=i.mrn), "identity")
        for d in dataset.diagnoses:
            self.add(Diagnosis(patient_id=pid[d.study_code], onset_on=d.onset_on, onset_site=d.onset_site,
                               diagnosis_on=d.diagnosis_on, el_escorial=d.el_escorial, awaji=d.awaji,
                               gold_coast=d.gold_coast, familial=d.familial, c9orf72=d.c9orf72,
                               other_genetics=d.other_genetics, ftd=d.ftd), "diagnosis")
        for c in dataset.consents:
            self.add(Consent(patient_id=pid[c.study_code], form_version=c.form_version,
                             consented_on=c.consented_on, withdrawn_on=c.withdrawn_on, recorded_by_id=by),
                     "consent")
        for s in dataset.screenings:
            self.add(Screening(patient_id=pid[s.study_code], protocol_id=self.protocols[s.protocol_key, s.protocol_version],
                               screened_on=s.screened_on, outcome=s.outcome, criteria=json.loads(s.criteria_json),
                               screened_by_id=by), "screening")
        for e in dataset.enrollments:
            enrolled = Enrollment(patient_id=pid[e.study_code], protocol_id=self.protocols[e.protocol_key, e.protocol_version],
                             enrolled_on=e.enrolled_on, start_on=e.start_on, ended_on=e.ended_on,
                             end_reason=e.end_reason)
            self.enrollments[e.study_code, e.protocol_key, e.protocol_version] = self.add(enrolled, "enrollment")
        self._measurements(dataset)
        self._products(dataset)
        self._administrations(dataset)
        self._adverse_events(dataset)
        # fmt: on

    def _measurements(self, dataset: ds.ClinicalDataset) -> None:
        # fmt: off
        pid, by = self.patients, self.by.id
        for r in dataset.alsfrs_ratings:
            self.add(AlsfrsRating(patient_id=pid[r.study_code], rated_on=r.rated_on, total=r.total, form=r.form,
                                  rater_id=by, **{key: getattr(r, key) for key in ds.ITEM_KEYS}), "alsfrs")
        for v in dataset.vital_capacities:
            self.add(VitalCapacity(patient_id=pid[v.study_code], measured_on=v.measured_on,
                                   percent_predicted=v.percent_predicted, method=v.method, recorded_by_id=by),
                     "vital_capacity")
        for w in dataset.weights:
            self.add(Weight(patient_id=pid[w.study_code], measured_on=w.measured_on, weight_kg=w.weight_kg,
                            recorded_by_id=by), "weight")
        for lab in dataset.lab_results:
            self.add(LabResult(patient_id=pid[lab.study_code], collected_on=lab.collected_on, analyte=lab.analyte,
                               value=lab.value, unit=lab.unit, recorded_by_id=by), "lab_result")
        for s in dataset.vital_signs:
            self.add(VitalSigns(patient_id=pid[s.study_code], measured_at=s.measured_at,
                                systolic_mmhg=s.systolic_mmhg, diastolic_mmhg=s.diastolic_mmhg,
                                heart_rate_bpm=s.heart_rate_bpm, temperature_c=s.temperature_c,
                                spo2_percent=s.spo2_percent, recorded_by_id=by), "vital_signs")
        for o in dataset.outcome_events:
            self.add(OutcomeEvent(patient_id=pid[o.study_code], kind=o.kind, occurred_on=o.occurred_on,
                                  source=o.source, recorded_by_id=by), "outcome")
        # fmt: on

    def _products(self, dataset: ds.ClinicalDataset) -> None:
        # fmt: off
        by = self.by.id
        for lot in dataset.product_lots:
            row = ProductLot(lot_code=lot.lot_code, site_id=self.sites[lot.site_code], product_name=lot.product_name,
                             source=lot.source, cell_type=lot.cell_type, manufactured_on=lot.manufactured_on,
                             received_on=lot.received_on, registered_by_id=by,
                             donor_patient_id=self.patients.get(lot.donor_study_code or ""))
            self.lots[lot.lot_code] = self.add(row, "product_lot").id
        for unit in dataset.product_units:
            made = ProductUnit(lot_id=self.lots[unit.lot_code], din=unit.din, cells=unit.cells,
                              volume_ml=unit.volume_ml, endotoxin_eu=unit.endotoxin_eu, expires_on=unit.expires_on,
                              status=UnitStatus(unit.status), released_at=unit.released_at,
                              released_by_id=by if unit.released_at else None,
                              assigned_patient_id=self.patients.get(unit.assigned_study_code or ""))
            self.units[unit.din] = self.add(made, "product_unit").id
        for test in dataset.release_tests:
            self.add(ReleaseTest(unit_id=self.units[test.din], test=test.test, result=TestResult(test.result),
                                 value=test.value, tested_on=test.tested_on, recorded_by_id=by), "release_test")
        # fmt: on

    def _administrations(self, dataset: ds.ClinicalDataset) -> None:
        # fmt: off
        by = self.by.id
        for a in dataset.administrations:
            enrollment = self.enrollments[a.study_code, a.protocol_key, a.protocol_version]
            row = Administration(
                enrollment_id=enrollment.id, patient_id=self.patients[a.study_code], activity_id=a.activity_id,
                occurrence=a.occurrence, kind=a.kind, given_on=a.given_on,
                product_unit_id=self.units.get(a.unit_din or ""), dose_cells=a.dose_cells, volume_ml=a.volume_ml,
                drug=a.drug, dose_text=a.dose_text, duration_minutes=a.duration_minutes, performed_by_id=by,
                overridden_rules=list(a.overridden_rules) or None, override_reason=a.override_reason,
                override_by_id=by if a.overridden_rules else None, notes=a.notes,
            )
            self.administrations[a.study_code, a.activity_id, a.given_on] = self.add(row, "administration")
        for e in dataset.schedule_events:
            enrollment = self.enrollments[e.study_code, e.protocol_key, e.protocol_version]
            dose = self.administrations.get((e.study_code, e.activity_id, e.on))
            linked = dose.id if dose is not None and e.kind == "done" and dose.occurrence == e.occurrence else None
            self.add(ScheduleEvent(enrollment_id=enrollment.id, activity_id=e.activity_id, occurrence=e.occurrence,
                                   kind=e.kind, on=e.on, reason=e.reason, administration_id=linked,
                                   recorded_by_id=by), "schedule_event")
        # fmt: on

    def _adverse_events(self, dataset: ds.ClinicalDataset) -> None:
        # fmt: off
        for e in dataset.adverse_events:
            dose = self.administrations.get((e.study_code, e.administration_activity_id, e.administration_given_on))
            enrollment = (
                self.enrollments[e.study_code, e.protocol_key, e.protocol_version or ""]
                if e.protocol_key else None
            )
            row = AdverseEvent(
                patient_id=self.patients[e.study_code], enrollment_id=enrollment.id if enrollment else None,
                administration_id=dose.id if dose else None, term=e.term, onset_on=e.onset_on,
                resolved_on=e.resolved_on, ctcae_grade=e.ctcae_grade, serious=e.serious,
                seriousness=list(e.seriousness), expected=e.expected,
                causality_procedure=Causality(e.causality_procedure), causality_product=Causality(e.causality_product),
                causality_drug=Causality(e.causality_drug), aware_on=e.aware_on, sponsor_due_on=e.sponsor_due_on,
                regulator_due_on=e.regulator_due_on, complete_report_due_on=e.complete_report_due_on,
                sponsor_reported_on=e.sponsor_reported_on, regulator_reported_on=e.regulator_reported_on,
                complete_report_sent_on=e.complete_report_sent_on, recorded_at=self.now, recorded_by_id=self.by.id,
            )
            self.add(row, "adverse_event")
        # fmt: on
