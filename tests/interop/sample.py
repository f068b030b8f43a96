"""A small clinical data set with every record type and awkward values, for the format round trips.

Two patients: one treated (two punctures with their units, an infusion, a rehabilitation session, an
adverse event after a puncture, follow-up ratings, death) and one screened ineligible. Values are
chosen to catch lossy mappings: non-ASCII text, commas and quotes, item 5b instead of 5a, a zero item,
floats that are not round, optional values both set and missing, an instant with seconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alscell.domain.dataset import (
    AdministrationRecord,
    AdverseEventRecord,
    AlsfrsRecord,
    ClinicalDataset,
    ConsentRecord,
    DiagnosisRecord,
    EnrollmentRecord,
    IdentityRecord,
    LabResultRecord,
    OutcomeEventRecord,
    PatientRecord,
    PlannedActivityRecord,
    ProductLotRecord,
    ProductUnitRecord,
    ReleaseTestRecord,
    ScheduleEventRecord,
    ScreeningRecord,
    VitalCapacityRecord,
    VitalSignsRecord,
    WeightRecord,
)

KEY, VERSION = "seed-program", "1.0"


def _rating(code: str, on: date, *, q5b: int | None = None, **items: int) -> AlsfrsRecord:
    values = {f"q{n}": 3 for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)} | items
    five = {"q5b": q5b} if q5b is not None else {"q5a": 2}
    total = sum(values.values()) + next(iter(five.values()))
    return AlsfrsRecord(study_code=code, rated_on=on, total=total, **values, **five)  # type: ignore[arg-type]


def sample_dataset(*, identified: bool = True) -> ClinicalDataset:
    """The sample; without identities when ``identified`` is false."""
    a, b = "P-0001", "P-0002"
    din1, din2 = "A999926000011", "A999926000012"
    identities = (
        IdentityRecord(study_code=a, given_name="Zoë", family_name="O'Brien, Jr.",
                       birth_on=date(1961, 2, 28), mrn="MRN-77"),
        IdentityRecord(study_code=b, given_name="Wei", family_name="Zhang", birth_on=date(1970, 7, 1)),
    )  # fmt: skip
    return ClinicalDataset(
        patients=(
            PatientRecord(
                study_code=a,
                site_code="S1",
                status="died",
                sex="female",
                birth_year=1961,
                registered_at=datetime(2026, 1, 5, 9, 30, 15, tzinfo=UTC),
            ),
            PatientRecord(
                study_code=b,
                site_code="S1",
                status="ineligible",
                sex="male",
                birth_year=1970,
                registered_at=datetime(2026, 1, 6, 14, 0, tzinfo=UTC),
            ),
        ),
        identities=identities if identified else (),
        diagnoses=(
            DiagnosisRecord(
                study_code=a,
                onset_on=date(2025, 3, 10),
                onset_site="bulbar",
                diagnosis_on=date(2025, 9, 1),
                familial=False,
                el_escorial="probable",
                awaji="probable",
                gold_coast=True,
                c9orf72=False,
                other_genetics='SOD1 negative; "FUS" not tested',
                ftd=False,
            ),
            DiagnosisRecord(
                study_code=b,
                onset_on=date(2023, 11, 20),
                onset_site="spinal",
                diagnosis_on=date(2024, 6, 3),
                familial=True,
            ),
        ),
        consents=(
            ConsentRecord(study_code=a, form_version="v2.1", consented_on=date(2026, 1, 5)),
            ConsentRecord(
                study_code=b,
                form_version="v2.1",
                consented_on=date(2026, 1, 6),
                withdrawn_on=date(2026, 1, 20),
            ),
        ),
        screenings=(
            ScreeningRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                screened_on=date(2026, 1, 7),
                outcome="eligible",
                criteria_json='[{"id": "alsfrs_floor", "status": "met"}]',
            ),
            ScreeningRecord(
                study_code=b,
                protocol_key=KEY,
                protocol_version=VERSION,
                screened_on=date(2026, 1, 8),
                outcome="ineligible",
                criteria_json='[{"id": "familial", "status": "not_met"}]',
            ),
        ),
        enrollments=(
            EnrollmentRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                enrolled_on=date(2026, 1, 9),
                start_on=date(2026, 1, 12),
                ended_on=date(2026, 6, 30),
                end_reason="died",
            ),
        ),
        schedule_events=(
            ScheduleEventRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="rehabilitation",
                occurrence=3,
                kind="skipped",
                on=date(2026, 1, 14),
                reason="fever, 38.2 °C",
            ),
        ),
        planned_activities=(
            PlannedActivityRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="lp",
                occurrence=1,
                name="Lumbar puncture 1",
                kind="lumbar_puncture_implantation",
                planned_on=date(2026, 1, 19),
                earliest_on=date(2026, 1, 19),
                latest_on=date(2026, 1, 21),
                status="done",
                actual_on=date(2026, 1, 19),
            ),
        ),
        alsfrs_ratings=(
            _rating(a, date(2026, 1, 7), q1=2, q3=0),
            _rating(a, date(2026, 3, 2), q5b=1, q1=1, q3=0, q12=4),
            _rating(b, date(2026, 1, 8), q8=4),
        ),
        vital_capacities=(
            VitalCapacityRecord(
                study_code=a, measured_on=date(2026, 1, 7), percent_predicted=71.35
            ),
            VitalCapacityRecord(
                study_code=a, measured_on=date(2026, 1, 7), percent_predicted=68.0, method="svc"
            ),
        ),
        weights=(WeightRecord(study_code=a, measured_on=date(2026, 1, 7), weight_kg=61.25),),
        lab_results=(
            LabResultRecord(
                study_code=a,
                collected_on=date(2026, 1, 18),
                analyte="platelets",
                value=212.0,
                unit="10^9/L",
            ),
            LabResultRecord(
                study_code=a, collected_on=date(2026, 1, 18), analyte="inr", value=1.05, unit="1"
            ),
        ),
        vital_signs=(
            VitalSignsRecord(
                study_code=a,
                measured_at=datetime(2026, 1, 19, 8, 5, 42, tzinfo=UTC),
                systolic_mmhg=128,
                diastolic_mmhg=81,
                heart_rate_bpm=72,
                temperature_c=36.8,
                spo2_percent=97.5,
            ),
            VitalSignsRecord(
                study_code=a,
                measured_at=datetime(2026, 1, 19, 12, 0, tzinfo=UTC),
                heart_rate_bpm=80,
            ),
        ),
        outcome_events=(
            OutcomeEventRecord(
                study_code=a,
                kind="death",
                occurred_on=date(2026, 6, 30),
                source="death certificate",
            ),
        ),
        product_lots=(
            ProductLotRecord(
                lot_code="LOT-26-001",
                site_code="S1",
                product_name="NSC-5M",
                source="allogeneic",
                cell_type="neural stem cells",
                manufactured_on=date(2026, 1, 2),
                received_on=date(2026, 1, 4),
            ),
        ),
        product_units=(
            ProductUnitRecord(
                din=din1,
                lot_code="LOT-26-001",
                cells=5.1e6,
                expires_on=date(2026, 7, 1),
                status="administered",
                volume_ml=2.5,
                endotoxin_eu=0.75,
                released_at=datetime(2026, 1, 16, 11, 0, tzinfo=UTC),
                assigned_study_code=a,
            ),
            ProductUnitRecord(
                din=din2,
                lot_code="LOT-26-001",
                cells=4.9e6,
                expires_on=date(2026, 7, 1),
                status="administered",
                volume_ml=2.5,
                released_at=datetime(2026, 1, 23, 11, 0, tzinfo=UTC),
                assigned_study_code=a,
            ),
        ),
        release_tests=(
            ReleaseTestRecord(
                din=din1, test="viability", result="pass", value=92.5, tested_on=date(2026, 1, 15)
            ),
            ReleaseTestRecord(
                din=din1, test="sterility", result="no_growth_to_date", tested_on=date(2026, 1, 15)
            ),
        ),
        administrations=(
            AdministrationRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="lp",
                occurrence=1,
                kind="lumbar_puncture_implantation",
                given_on=date(2026, 1, 19),
                unit_din=din1,
                dose_cells=5.1e6,
                volume_ml=2.5,
                notes="L3-L4, clear fluid",
            ),
            AdministrationRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="lp",
                occurrence=2,
                kind="lumbar_puncture_implantation",
                given_on=date(2026, 1, 26),
                unit_din=din2,
                dose_cells=4.9e6,
                volume_ml=2.5,
                overridden_rules=("pre_puncture.platelets",),
                override_reason="platelets 98, repeat 104; benefit judged to outweigh",
            ),
            AdministrationRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="iv_neurotrophic",
                occurrence=1,
                kind="iv_infusion",
                given_on=date(2026, 1, 12),
                drug="neurotrophic factor infusion",
                dose_text="250 mL over 1 h",
                duration_minutes=60,
            ),
            AdministrationRecord(
                study_code=a,
                protocol_key=KEY,
                protocol_version=VERSION,
                activity_id="rehabilitation",
                occurrence=1,
                kind="rehabilitation",
                given_on=date(2026, 1, 12),
                duration_minutes=45,
            ),
        ),
        adverse_events=(
            AdverseEventRecord(
                study_code=a,
                term="Post-dural puncture headache",
                onset_on=date(2026, 1, 20),
                resolved_on=date(2026, 1, 24),
                ctcae_grade=2,
                serious=False,
                expected=True,
                causality_procedure="definite",
                causality_product="unlikely",
                causality_drug="unrelated",
                aware_on=date(2026, 1, 20),
                administration_activity_id="lp",
                administration_given_on=date(2026, 1, 19),
                protocol_key=KEY,
                protocol_version=VERSION,
            ),
            AdverseEventRecord(
                study_code=a,
                term="Aspiration pneumonia",
                onset_on=date(2026, 6, 20),
                ctcae_grade=5,
                serious=True,
                seriousness=("death", "hospitalisation"),
                expected=False,
                causality_procedure="unrelated",
                causality_product="unlikely",
                causality_drug="unrelated",
                aware_on=date(2026, 6, 21),
                sponsor_due_on=date(2026, 6, 22),
                regulator_due_on=date(2026, 6, 28),
                complete_report_due_on=date(2026, 7, 6),
                sponsor_reported_on=date(2026, 6, 22),
                regulator_reported_on=date(2026, 6, 27),
                protocol_key=KEY,
                protocol_version=VERSION,
            ),
        ),
    )
