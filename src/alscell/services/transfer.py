"""Moving clinical records in and out: the database as a :class:`~alscell.domain.dataset.ClinicalDataset`.

Every exchange format goes through these two use cases, so exports are permission-checked and
audited once, and imports are validated whole before anything is written, in one transaction,
with one audit event per record like any other write.

- :func:`export_dataset` reads the patients a user may see. Identifying data (names, birth date,
  MRN) is included only when asked for by a user whose role may see it; the console operator (no
  user) always gets de-identified data. The export itself is an audit event: who, what, how many.
- :func:`import_dataset` adds patients that are new to this installation, with everything recorded
  about them, and product lots and units new to it. It refuses, before writing, a data set with any
  problem: its own (duplicates, dangling references, values out of range) or against this database
  (unknown site or protocol version, a study code, lot or DIN already here). Imported records are
  facts of the past: the safety rules that guard a new dose are not re-run (they guard an action
  about to happen), but every value is checked as on entry, the importing user is the recorder,
  and each audit event says the record was imported and from where. The calendar is rebuilt from
  the protocol and the imported schedule events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import dataset as ds
from alscell.domain.access import Action
from alscell.domain.adverse_events import Causality
from alscell.domain.dosing import TestResult
from alscell.domain.lifecycle import PatientStatus
from alscell.errors import InvalidImport, PermissionDenied, Problem
from alscell.services import access
from alscell.services.audit import record_event
from alscell.services.enrollment import refresh_schedule
from alscell.services.records import add_record, commit
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
    ScheduledActivityRow,
    ScheduleEvent,
    Screening,
    Site,
    User,
    VitalCapacity,
    VitalSigns,
    Weight,
)
from alscell.storage.models.product import UnitStatus

__all__ = ["ImportSummary", "export_dataset", "import_dataset"]


# ---------------------------------------------------------------- export


def export_dataset(
    session: Session, *, by: User | None, now: datetime, purpose: str, identified: bool = False
) -> ds.ClinicalDataset:
    """Everything recorded about the patients ``by`` may see (all of them for the console).

    ``purpose`` names the format or use and goes into the audit event with the counts.
    """
    if by is not None:
        access.require(by, Action.EXPORT_DATA, resource="clinical data")
    if identified and (by is None or not access.allowed_to(by, Action.VIEW_IDENTITY)):
        who = by.username if by is not None else "the console"
        raise PermissionDenied(
            who, Action.VIEW_IDENTITY.value,
            "identifying data (export de-identified, or name a user allowed to see identities)",
        )  # fmt: skip
    reader = _Reader(session, by)
    dataset = reader.dataset(identified=identified)
    counts = ", ".join(f"{name} {count}" for name, count in dataset.counts().items() if count)
    record_event(
        session, actor=by, action="data.exported", entity_type="export", entity_id=purpose[:80],
        reason=f"{purpose}; {'identified' if identified else 'de-identified'}; {counts or 'nothing'}",
        now=now,
    )  # fmt: skip
    commit(session)
    return dataset


class _Reader:
    """Reads the tables once and names every reference by its key."""

    def __init__(self, session: Session, by: User | None) -> None:
        self.session = session
        query = sa.select(Patient).order_by(Patient.study_code)
        if by is not None and not access.sees_all_sites(by):
            query = query.where(Patient.site_id == by.site_id)
        self.patients = list(session.execute(query).scalars())
        self.codes = {patient.id: patient.study_code for patient in self.patients}
        self.sites = {row.id: row.code for row in session.execute(sa.select(Site.id, Site.code))}
        self.protocols = {
            row.id: (row.key, row.version)
            for row in session.execute(sa.select(ProtocolVersion)).scalars()
        }
        self.enrollments = {row.id: row for row in self._of(Enrollment, Enrollment.patient_id)}
        self.administrations = {
            row.id: row for row in self._of(Administration, Administration.patient_id)
        }
        lots = session.execute(sa.select(ProductLot).order_by(ProductLot.lot_code)).scalars()
        self.lots = [lot for lot in lots if self._sees_lot(lot)]
        lot_ids = {lot.id: lot.lot_code for lot in self.lots}
        units = session.execute(sa.select(ProductUnit).order_by(ProductUnit.din)).scalars()
        self.units = [unit for unit in units if unit.lot_id in lot_ids]
        self.lot_codes = lot_ids
        self.dins = {unit.id: unit.din for unit in self.units}

    def _sees_lot(self, lot: ProductLot) -> bool:
        sites = {patient.site_id for patient in self.patients}
        return lot.site_id in sites or lot.donor_patient_id in self.codes

    def _of(self, model: Any, column: Any) -> list[Any]:
        query = sa.select(model).where(column.in_(self.codes)).order_by(*model.__table__.primary_key)
        return list(self.session.execute(query).scalars())

    def _protocol(self, enrollment_id: int) -> tuple[str, str]:
        return self.protocols[self.enrollments[enrollment_id].protocol_id]

    def dataset(self, *, identified: bool) -> ds.ClinicalDataset:
        code = self.codes
        tables: dict[str, Iterable[ds.Record]] = {
            "patients": (
                ds.PatientRecord(study_code=p.study_code, site_code=self.sites[p.site_id], status=p.status.value,
                                 sex=p.sex, birth_year=p.birth_year, registered_at=_utc(p.registered_at))
                for p in self.patients
            ),
            "diagnoses": (
                ds.DiagnosisRecord(study_code=code[d.patient_id], onset_on=d.onset_on, onset_site=d.onset_site,
                                   diagnosis_on=d.diagnosis_on, familial=d.familial, el_escorial=d.el_escorial,
                                   awaji=d.awaji, gold_coast=d.gold_coast, c9orf72=d.c9orf72,
                                   other_genetics=d.other_genetics, ftd=d.ftd)
                for d in self._of(Diagnosis, Diagnosis.patient_id)
            ),
            "consents": (
                ds.ConsentRecord(study_code=code[c.patient_id], form_version=c.form_version,
                                 consented_on=c.consented_on, withdrawn_on=c.withdrawn_on)
                for c in self._of(Consent, Consent.patient_id)
            ),
            "screenings": (
                ds.ScreeningRecord(study_code=code[s.patient_id], protocol_key=self.protocols[s.protocol_id][0],
                                   protocol_version=self.protocols[s.protocol_id][1], screened_on=s.screened_on,
                                   outcome=s.outcome, criteria_json=_json(s.criteria))
                for s in self._of(Screening, Screening.patient_id)
            ),
            "enrollments": (
                ds.EnrollmentRecord(study_code=code[e.patient_id], protocol_key=self.protocols[e.protocol_id][0],
                                    protocol_version=self.protocols[e.protocol_id][1], enrolled_on=e.enrolled_on,
                                    start_on=e.start_on, ended_on=e.ended_on, end_reason=e.end_reason)
                for e in self.enrollments.values()
            ),
            "schedule_events": self._schedule_events(),
            "planned_activities": self._planned(),
            "product_lots": self._lots(),
            "product_units": self._units(),
            "release_tests": self._release_tests(),
            "administrations": self._administrations(),
            "adverse_events": self._adverse_events(),
            **self._measurements(),
        }  # fmt: skip
        if identified:
            tables["identities"] = self._identities()
        return ds.ClinicalDataset.from_tables(tables)

    def _identities(self) -> Iterator[ds.IdentityRecord]:
        for row in self._of(PatientIdentity, PatientIdentity.patient_id):
            yield ds.IdentityRecord(study_code=self.codes[row.patient_id], given_name=row.given_name,
                                    family_name=row.family_name, birth_on=row.birth_on, mrn=row.mrn)  # fmt: skip

    def _measurements(self) -> dict[str, Iterable[ds.Record]]:
        code = self.codes
        return {
            "alsfrs_ratings": (
                ds.AlsfrsRecord(study_code=code[r.patient_id], rated_on=r.rated_on, total=r.total, form=r.form,
                                **{key: getattr(r, key) for key in ds.ITEM_KEYS})
                for r in self._of(AlsfrsRating, AlsfrsRating.patient_id)
            ),
            "vital_capacities": (
                ds.VitalCapacityRecord(study_code=code[v.patient_id], measured_on=v.measured_on,
                                       percent_predicted=v.percent_predicted, method=v.method)
                for v in self._of(VitalCapacity, VitalCapacity.patient_id)
            ),
            "weights": (
                ds.WeightRecord(study_code=code[w.patient_id], measured_on=w.measured_on, weight_kg=w.weight_kg)
                for w in self._of(Weight, Weight.patient_id)
            ),
            "lab_results": (
                ds.LabResultRecord(study_code=code[lab.patient_id], collected_on=lab.collected_on,
                                   analyte=lab.analyte, value=lab.value, unit=lab.unit)
                for lab in self._of(LabResult, LabResult.patient_id)
            ),
            "vital_signs": (
                ds.VitalSignsRecord(study_code=code[v.patient_id], measured_at=_utc(v.measured_at),
                                    systolic_mmhg=v.systolic_mmhg, diastolic_mmhg=v.diastolic_mmhg,
                                    heart_rate_bpm=v.heart_rate_bpm, temperature_c=v.temperature_c,
                                    spo2_percent=v.spo2_percent)
                for v in self._of(VitalSigns, VitalSigns.patient_id)
            ),
            "outcome_events": (
                ds.OutcomeEventRecord(study_code=code[o.patient_id], kind=o.kind, occurred_on=o.occurred_on,
                                      source=o.source)
                for o in self._of(OutcomeEvent, OutcomeEvent.patient_id)
            ),
        }  # fmt: skip

    def _schedule_events(self) -> Iterator[ds.ScheduleEventRecord]:
        query = sa.select(ScheduleEvent).where(ScheduleEvent.enrollment_id.in_(self.enrollments))
        for row in self.session.execute(query.order_by(ScheduleEvent.id)).scalars():
            key, version = self._protocol(row.enrollment_id)
            yield ds.ScheduleEventRecord(
                study_code=self.codes[self.enrollments[row.enrollment_id].patient_id], protocol_key=key,
                protocol_version=version, activity_id=row.activity_id, kind=row.kind,
                occurrence=row.occurrence, on=row.on, reason=row.reason,
            )  # fmt: skip

    def _planned(self) -> Iterator[ds.PlannedActivityRecord]:
        query = sa.select(ScheduledActivityRow).where(
            ScheduledActivityRow.enrollment_id.in_(self.enrollments)
        )
        for row in self.session.execute(query.order_by(ScheduledActivityRow.id)).scalars():
            key, version = self._protocol(row.enrollment_id)
            yield ds.PlannedActivityRecord(
                study_code=self.codes[self.enrollments[row.enrollment_id].patient_id], protocol_key=key,
                protocol_version=version, activity_id=row.activity_id, occurrence=row.occurrence,
                name=row.name, kind=row.kind, planned_on=row.planned_on, earliest_on=row.earliest_on,
                latest_on=row.latest_on, status=str(row.status), actual_on=row.actual_on,
            )  # fmt: skip

    def _lots(self) -> Iterator[ds.ProductLotRecord]:
        for lot in self.lots:
            yield ds.ProductLotRecord(
                lot_code=lot.lot_code, site_code=self.sites[lot.site_id], product_name=lot.product_name,
                source=lot.source, cell_type=lot.cell_type, manufactured_on=lot.manufactured_on,
                received_on=lot.received_on, donor_study_code=self.codes.get(lot.donor_patient_id or 0),
            )  # fmt: skip

    def _units(self) -> Iterator[ds.ProductUnitRecord]:
        for unit in self.units:
            yield ds.ProductUnitRecord(
                din=unit.din, lot_code=self.lot_codes[unit.lot_id], cells=unit.cells,
                expires_on=unit.expires_on, status=unit.status.value, volume_ml=unit.volume_ml,
                endotoxin_eu=unit.endotoxin_eu, released_at=_utc(unit.released_at),
                assigned_study_code=self.codes.get(unit.assigned_patient_id or 0),
            )  # fmt: skip

    def _release_tests(self) -> Iterator[ds.ReleaseTestRecord]:
        query = sa.select(ReleaseTest).where(ReleaseTest.unit_id.in_(self.dins))
        for test in self.session.execute(query.order_by(ReleaseTest.id)).scalars():
            yield ds.ReleaseTestRecord(din=self.dins[test.unit_id], test=test.test, result=test.result.value,
                                       tested_on=test.tested_on, value=test.value)  # fmt: skip

    def _administrations(self) -> Iterator[ds.AdministrationRecord]:
        for dose in self.administrations.values():
            key, version = self._protocol(dose.enrollment_id)
            yield ds.AdministrationRecord(
                study_code=self.codes[dose.patient_id], protocol_key=key, protocol_version=version,
                activity_id=dose.activity_id, kind=dose.kind, given_on=dose.given_on,
                occurrence=dose.occurrence, unit_din=self.dins.get(dose.product_unit_id or 0),
                dose_cells=dose.dose_cells, volume_ml=dose.volume_ml, drug=dose.drug, dose_text=dose.dose_text,
                duration_minutes=dose.duration_minutes,
                overridden_rules=tuple(str(rule) for rule in dose.overridden_rules or ()),
                override_reason=dose.override_reason, notes=dose.notes,
            )  # fmt: skip

    def _adverse_events(self) -> Iterator[ds.AdverseEventRecord]:
        for event in self._of(AdverseEvent, AdverseEvent.patient_id):
            dose = self.administrations.get(event.administration_id or 0)
            key, version = (
                self._protocol(event.enrollment_id) if event.enrollment_id else (None, None)
            )
            yield ds.AdverseEventRecord(
                study_code=self.codes[event.patient_id], term=event.term, onset_on=event.onset_on,
                ctcae_grade=event.ctcae_grade, serious=event.serious, expected=event.expected,
                causality_procedure=event.causality_procedure.value,
                causality_product=event.causality_product.value,
                causality_drug=event.causality_drug.value, aware_on=event.aware_on,
                seriousness=tuple(str(item) for item in event.seriousness), resolved_on=event.resolved_on,
                sponsor_due_on=event.sponsor_due_on, regulator_due_on=event.regulator_due_on,
                complete_report_due_on=event.complete_report_due_on,
                sponsor_reported_on=event.sponsor_reported_on,
                regulator_reported_on=event.regulator_reported_on,
                complete_report_sent_on=event.complete_report_sent_on,
                administration_activity_id=dose.activity_id if dose else None,
                administration_given_on=dose.given_on if dose else None,
                protocol_key=key, protocol_version=version,
            )  # fmt: skip


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    """An instant as UTC-aware (SQLite hands back naive UTC values)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    problems = ds.dataset_problems(dataset) + list(_database_problems(session, dataset))
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
