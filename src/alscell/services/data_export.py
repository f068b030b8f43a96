"""Clinical records out: the database as a :class:`~alscell.domain.dataset.ClinicalDataset`.

Every export format starts here, so exports are permission-checked and audited once.
:func:`export_dataset` reads the patients a user may see. Identifying data (names, birth date, MRN)
is included only when asked for by a user whose role may see it; the console operator (no user)
always gets de-identified data. The export itself is an audit event: who, what (format, identified or
not, which sites), how many.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import dataset as ds
from alscell.domain.access import Action
from alscell.errors import PermissionDenied
from alscell.services import access
from alscell.services.audit import record_event
from alscell.services.records import commit
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

__all__ = ["export_dataset"]


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
        reason=f"{purpose}; {'identified' if identified else 'de-identified'}; {reader.scope()}; "
        f"{counts or 'nothing'}",
        now=now,
    )  # fmt: skip
    commit(session)
    return dataset


class _Reader:
    """Reads the tables once and names every reference by its key."""

    def __init__(self, session: Session, by: User | None) -> None:
        self.session, self.by = session, by
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

    def scope(self) -> str:
        """Whose records were read: every site's, or the exporting user's site."""
        if self.by is None or access.sees_all_sites(self.by):
            return "all sites"
        return f"site {self.sites.get(self.by.site_id or 0, self.by.site_id)}"

    def _sees_lot(self, lot: ProductLot) -> bool:
        sites = {patient.site_id for patient in self.patients}
        return lot.site_id in sites or lot.donor_patient_id in self.codes

    def _of(self, model: Any, column: Any) -> list[Any]:
        query = (
            sa.select(model).where(column.in_(self.codes)).order_by(*model.__table__.primary_key)
        )
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
