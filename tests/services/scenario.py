"""A clinic with the seed program, built through the services: the starting point of workflow tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from alscell.domain.access import Role
from alscell.domain.dosing import TestResult
from alscell.domain.product import ReleaseCriteria
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS, PrePunctureFacts
from alscell.services import assessments, enrollment, patients, products, protocols
from alscell.services.dosing import Bedside
from alscell.storage.models import Enrollment, Patient, ProductUnit, ProtocolVersion, Site, User
from alscell.storage.protocol_files import builtin_protocol_path
from tests.factories import NOW, make_admin, make_site, make_user

START = date(2026, 1, 5)  # day 0 of the seed program; implantations on days 10, 17, 24, 31
BIRTH = date(1964, 5, 17)
NORMAL_ITEMS = dict.fromkeys(
    ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12"), 4
)
# Units with published ISBT 128 check characters (UK Red Book Annexe 2; ICCBBA IN-015).
UNIT_IDS = (
    "G123498654321H",
    "A999916123456Q",
    "A999922654321S",
    "A999922123458J",
    "A999914123456N",
)


@dataclass
class Clinic:
    """Who and what a workflow test needs."""

    session: Session
    site: Site
    admin: User
    physician: User
    nurse: User
    coordinator: User
    lab: User
    protocol: ProtocolVersion
    units: list[ProductUnit] = field(default_factory=list)

    def at(self, day: date, hour: int = 10) -> datetime:
        """An instant on ``day`` (services are told the time; tests never read the clock)."""
        return NOW.replace(year=day.year, month=day.month, day=day.day, hour=hour)


def clinic(session: Session, *, lock_plan: bool = True) -> Clinic:
    """A site, its staff, the seed protocol loaded (and its analysis plan locked)."""
    site = make_site(session, code="AMS")
    admin = make_admin(session)
    text = builtin_protocol_path().read_text(encoding="utf-8")
    version = protocols.load_protocol_version(
        session, text=text, source="als-nsc-4lp.yaml", by=admin, now=NOW
    )
    if lock_plan:
        protocols.lock_analysis_plan(
            session, protocol_id=version.id, by=make_user(session, Role.ANALYST), now=NOW
        )
    return Clinic(
        session, site, admin,
        physician=make_user(session, Role.PHYSICIAN, site=site, username="dr-house"),
        nurse=make_user(session, Role.NURSE, site=site, username="nurse-joy"),
        coordinator=make_user(session, Role.COORDINATOR, site=site, username="coord"),
        lab=make_user(session, Role.CELL_LAB, site=site, username="lab"),
        protocol=version,
    )  # fmt: skip


def eligible_patient(c: Clinic, *, code: str = "AMS-001") -> Patient:
    """A registered patient with diagnosis, consent, baseline assessments and labs, screened eligible."""
    s, when = c.session, c.at(date(2025, 12, 20))
    patient = patients.register_patient(s, study_code=code, site_id=c.site.id, given_name="Alex", family_name="Doe",
                                        birth_on=BIRTH, sex="female", by=c.coordinator, now=when)  # fmt: skip
    diagnosis = patients.DiagnosisInput(onset_on=date(2025, 3, 10), onset_site="spinal", diagnosis_on=date(2025, 11, 20),
                                        familial=False, el_escorial="probable")  # fmt: skip
    patients.record_diagnosis(
        s, patient_id=patient.id, diagnosis=diagnosis, by=c.physician, now=when
    )
    patients.record_consent(
        s,
        patient_id=patient.id,
        form_version="v2",
        consented_on=date(2025, 12, 20),
        by=c.coordinator,
        now=when,
    )
    assessments.record_alsfrs_rating(
        s,
        patient_id=patient.id,
        rated_on=date(2025, 12, 20),
        items={**NORMAL_ITEMS, "q4": 3, "q8": 3},
        by=c.nurse,
        now=when,
    )
    assessments.record_vital_capacity(
        s,
        patient_id=patient.id,
        measured_on=date(2025, 12, 20),
        percent_predicted=85,
        by=c.nurse,
        now=when,
    )
    assessments.record_weight(
        s, patient_id=patient.id, measured_on=date(2025, 12, 20), weight_kg=62, by=c.nurse, now=when
    )
    for analyte, value in (("platelets", 210.0), ("inr", 1.0)):
        assessments.record_lab_result(
            s,
            patient_id=patient.id,
            collected_on=date(2025, 12, 20),
            analyte=analyte,
            value=value,
            by=c.nurse,
            now=when,
        )
    enrollment.screen_patient(s, patient_id=patient.id, protocol_id=c.protocol.id, screened_on=date(2025, 12, 20),
                              exclusions=no_exclusions(), pre_puncture=clear_bedside().pre_puncture,
                              by=c.physician, now=when)  # fmt: skip
    return patient


def enrolled_in_treatment(c: Clinic, *, code: str = "AMS-001") -> tuple[Patient, Enrollment]:
    """An eligible patient enrolled and started on :data:`START`."""
    patient = eligible_patient(c, code=code)
    e = enrollment.enroll(
        c.session,
        patient_id=patient.id,
        protocol_id=c.protocol.id,
        enrolled_on=date(2025, 12, 22),
        by=c.physician,
        now=c.at(date(2025, 12, 22)),
    )
    enrollment.start_treatment(
        c.session, enrollment_id=e.id, start_on=START, by=c.physician, now=c.at(START)
    )
    return patient, e


def released_units(
    c: Clinic,
    count: int = 4,
    *,
    expires_on: date = date(2026, 6, 30),
    endotoxin_eu: float | None = 2.0,
) -> list[ProductUnit]:
    """A lot of units of 5 × 10^6 cells, every release test passing, released."""
    when = c.at(date(2026, 1, 2))
    inputs = [products.UnitInput(unit_id=uid, cells=5e6, volume_ml=2.0, endotoxin_eu=endotoxin_eu, expires_on=expires_on)
              for uid in UNIT_IDS[:count]]  # fmt: skip
    lot = products.register_lot(c.session, lot_code=f"LOT-{len(c.units) + 1}", site_id=c.site.id, product_name="NSC",
                                source="xenogeneic", cell_type="neural stem cells", manufactured_on=date(2025, 12, 30),
                                received_on=date(2026, 1, 2), units=inputs, by=c.lab, now=when)  # fmt: skip
    units = sorted(lot_units(c, lot.id), key=lambda u: UNIT_IDS.index(_with_check(u.din)))
    results = {"sterility": (TestResult.PASS, None), "gram_stain": (TestResult.PASS, None), "mycoplasma": (TestResult.PASS, None),
               "endotoxin": (TestResult.PASS, 2.0), "viability": (TestResult.PASS, 92.0)}  # fmt: skip
    for unit in units:
        for test, (result, value) in results.items():
            products.record_release_test(
                c.session,
                unit_id=unit.id,
                test=test,
                result=result,
                value=value,
                tested_on=date(2026, 1, 2),
                by=c.lab,
                now=when,
            )
        products.release_unit(
            c.session, unit_id=unit.id, criteria=ReleaseCriteria(), by=c.lab, now=when
        )
    c.units.extend(units)
    return units


def dispensed(c: Clinic, unit: ProductUnit, patient: Patient, on: date) -> ProductUnit:
    return products.dispense_unit(
        c.session, unit_id=unit.id, patient_id=patient.id, by=c.lab, now=c.at(on, hour=8)
    )


def lot_units(c: Clinic, lot_id: int) -> list[ProductUnit]:
    return list(c.session.query(ProductUnit).filter(ProductUnit.lot_id == lot_id))


def no_exclusions() -> dict[str, bool]:
    return dict.fromkeys(
        [
            "pregnancy",
            "tracheostomy",
            "active_infection",
            "malignancy",
            "other_neurological_disease",
        ],
        False,
    )


def clear_bedside(**changes: object) -> Bedside:
    """Bedside checks that pass: the right identifiers, medication reviewed, no contraindication."""
    facts = PrePunctureFacts(
        anticoagulants_reviewed=True,
        findings=dict.fromkeys(
            (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False
        ),
    )
    fields: dict[str, object] = {
        "study_code": "AMS-001",
        "birth_on": BIRTH,
        "pre_puncture": facts,
    } | changes
    return Bedside(**fields)  # type: ignore[arg-type]


def _with_check(din: str) -> str:
    return next(uid for uid in UNIT_IDS if uid.startswith(din))


def day(n: int) -> date:
    """Day ``n`` of the program."""
    return START + timedelta(days=n)
