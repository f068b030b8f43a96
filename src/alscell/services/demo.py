"""The demo program: fifteen synthetic patients taken through the seed protocol by the real services.

Everything is written through the same services the pages and the API call, so every block, audit
event and deviation is the real one. The run is retrospective: every date lies in the past (the
default calendar starts in January 2025 and the last 6-month follow-up closes before 2026), and each
service is told its ``now``. It is seeded: the same seed gives the same records.

What happens: a site and its staff; the seed protocol loaded and its analysis plan locked; each patient
registered, diagnosed (sporadic ALS), consented, rated and screened a week before day 0 — two are
ineligible (vital capacity too low; El Escorial "possible"), with the criteria not met on record; the
others are enrolled and start the program: the examination week, four implantations of 5 × 10^6 cells
7 days apart with their pre-puncture labs, daily IV and rehabilitation, the end-of-program examination
and follow-up at months 1, 3 and 6 after the last implantation. One patient's third implantation is
postponed 2 days by a post-dural-puncture headache after the second (recorded as an adverse event linked
to that dose; the late dose is a deviation the calendar shows); another's second dose is first refused
because the scanned unit was never released, then given once the lab has released and dispensed it.

ALSFRS-R ratings come from the natural-history model (:func:`simulate_ratings`): with ``effect`` 0 (the
default) the synthetic patients decline exactly as untreated patients do; a positive ``effect`` slows
the decline after the first dose by that fraction (a simulated effect, for showing what the evaluation
would see — never an observed one). Deaths, tracheostomy and permanent ventilation are drawn from the
model's survival too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from alscell.domain import isbt128
from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.criteria import Status
from alscell.domain.dosing import TestResult
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.safety import ABSOLUTE_CONTRAINDICATIONS, PrePunctureFacts
from alscell.domain.stats.natural_history import (
    NaturalHistoryModel,
    death_probability,
    population_delta_fs,
    simulate_ratings,
)
from alscell.errors import SafetyCheckFailed
from alscell.services import (
    admin,
    assessments,
    dosing,
    enrollment,
    outcomes,
    patients,
    products,
    protocols,
    safety,
)
from alscell.storage.models import (
    Enrollment,
    Patient,
    ProductUnit,
    ProtocolVersion,
    Screening,
    Site,
    User,
)
from alscell.storage.protocol_files import builtin_protocol_path

__all__ = [
    "DEMO_START",
    "DemoPatient",
    "DemoRefusal",
    "DemoSummary",
    "DemoUser",
    "run_demo",
]

DEMO_START: Final = date(2025, 1, 6)
"""Day 0 of the first demo patient (a Monday); each next patient starts a week later."""
DOSE_CELLS: Final = 5e6
PDPH_TERM: Final = "Post-dural-puncture headache"
DELAY_DAYS: Final = 2
IMPLANTATION_DAYS: Final = (10, 17, 24, 31)  # the seed protocol's clinical days
CARE: Final = ("iv-neurotrophic", "physiotherapy", "occupational-therapy", "tcm")
CARE_DAYS: Final = range(7, 35)  # daily, 28 sessions from day 7
FOLLOW_UP: Final = (("month-1", 1), ("month-3", 3), ("month-6", 6))
STAFF: Final = (
    ("dr-demo", "Dana Demo, MD", Role.PHYSICIAN),
    ("nurse-demo", "Noor Demo", Role.NURSE),
    ("coord-demo", "Cas Demo", Role.COORDINATOR),
    ("lab-demo", "Lee Demo", Role.CELL_LAB),
    ("analyst-demo", "Ari Demo", Role.ANALYST),
)
ADMIN: Final = ("admin-demo", "Alex Demo (administrator)")
# Which patients (0-based) play the scripted parts.
DELAYED: Final = 1
LOW_VITAL_CAPACITY: Final = 2
REFUSED: Final = 3
POSSIBLE_ALS: Final = 4
_ITEM_ORDER: Final = ("q8", "q9", "q6", "q5a", "q4", "q7", "q10", "q11", "q3", "q1", "q2", "q12")
_RELEASE_TESTS: Final = {"sterility": None, "gram_stain": None, "mycoplasma": None,
                         "endotoxin": 2.0, "viability": 92.0}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A user the demo created, with the password printed once for signing in."""

    username: str
    full_name: str
    role: Role
    password: str


@dataclass(frozen=True, slots=True)
class DemoRefusal:
    """A dose the services refused: whose, which unit was scanned, and the refusal's message."""

    study_code: str
    unit_id: str
    message: str


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """One synthetic patient and what happened to them."""

    study_code: str
    patient_id: int
    eligible: bool
    reasons: tuple[str, ...] = ()
    """The criteria not met at screening, for an ineligible patient."""
    enrollment_id: int | None = None
    doses_on: tuple[date, ...] = ()
    died_on: date | None = None


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`run_demo` created."""

    protocol_id: int
    site_code: str
    users: tuple[DemoUser, ...]
    patients: tuple[DemoPatient, ...]
    refusals: tuple[DemoRefusal, ...]
    delayed: tuple[str, date, date]
    """(study code, date planned, date given) of the implantation postponed by a headache."""
    adverse_events: int
    data_cutoff: date
    """The day after the last follow-up window closed: evaluate as of this day."""
    seed: int
    effect: float

    @property
    def treated(self) -> tuple[DemoPatient, ...]:
        return tuple(p for p in self.patients if p.eligible)

    @property
    def ineligible(self) -> tuple[DemoPatient, ...]:
        return tuple(p for p in self.patients if not p.eligible)


@dataclass
class _Run:
    """The run's shared state: session, staff, protocol, random generator, what was recorded."""

    session: Session
    site: Site
    staff: dict[str, User]
    protocol: ProtocolVersion
    model: NaturalHistoryModel
    rng: np.random.Generator
    effect: float
    refusals: list[DemoRefusal] = field(default_factory=list)
    adverse_events: int = 0
    delayed: tuple[str, date, date] | None = None
    daily_care: bool = True

    @property
    def physician(self) -> User:
        return self.staff["dr-demo"]

    @property
    def nurse(self) -> User:
        return self.staff["nurse-demo"]

    @property
    def lab(self) -> User:
        return self.staff["lab-demo"]


def at(day: date, hour: int = 10) -> datetime:
    """An instant on ``day`` at the clinic (the services are told the time, never read the clock)."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def run_demo(
    session: Session, *, model: NaturalHistoryModel, seed: int, effect: float = 0.0, count: int = 15,
    start_on: date = DEMO_START, passwords: Mapping[str, str] | None = None, daily_care: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:  # fmt: skip
    """Run the demo program on an empty, migrated database; see the module docstring.

    ``effect`` is the simulated slowing of decline after the first dose, in [0, 1). ``passwords`` by
    username (default: new random ones). ``daily_care`` False leaves out the 112 IV and rehabilitation
    sessions per patient (the slowest part; nothing else changes, the same seed gives the same
    patients). ``progress`` is called with each patient's study code once
    that patient is done.
    """
    if not 0.0 <= effect < 1.0:
        raise ValueError(f"effect must be in [0, 1), got {effect}")
    if count <= max(LOW_VITAL_CAPACITY, POSSIBLE_ALS, DELAYED, REFUSED):
        raise ValueError(f"count must be at least {POSSIBLE_ALS + 1}, got {count}")
    set_up = start_on - timedelta(days=60)
    users, run = _clinic(session, model, seed, effect, set_up, passwords or {})
    run.daily_care = daily_care
    done = []
    for index in range(count):
        done.append(_patient(run, index, start_on + timedelta(days=7 * index)))
        if progress is not None:
            progress(done[-1].study_code)
    last_close = max(
        p.doses_on[-1] + timedelta(days=round(6 * DAYS_PER_MONTH) + 14) for p in done if p.doses_on
    )
    assert run.delayed is not None
    return DemoSummary(protocol_id=run.protocol.id, site_code=run.site.code, users=users, patients=tuple(done),
                       refusals=tuple(run.refusals), delayed=run.delayed, adverse_events=run.adverse_events,
                       data_cutoff=last_close + timedelta(days=1), seed=seed, effect=effect)  # fmt: skip


def _clinic(
    session: Session, model: NaturalHistoryModel, seed: int, effect: float, on: date,
    passwords: Mapping[str, str],
) -> tuple[tuple[DemoUser, ...], _Run]:  # fmt: skip
    now = at(on)

    def password(username: str) -> str:
        return passwords.get(username) or secrets.token_urlsafe(12)

    boss_password = password(ADMIN[0])
    boss = admin.create_first_admin(session, username=ADMIN[0], full_name=ADMIN[1], now=now, password=boss_password)  # fmt: skip
    users = [DemoUser(ADMIN[0], ADMIN[1], Role.ADMIN, boss_password)]
    site = admin.create_site(session, code="DEMO", name="Demo clinic (synthetic patients)", by=boss, now=now)  # fmt: skip
    staff = {}
    for username, full_name, role in STAFF:
        secret = password(username)
        staff[username] = admin.create_user(session, username=username, full_name=full_name, role=role,
                                            site_id=site.id, by=boss, now=now, password=secret)  # fmt: skip
        users.append(DemoUser(username, full_name, role, secret))
    text = builtin_protocol_path().read_text(encoding="utf-8")
    version = protocols.load_protocol_version(
        session, text=text, source=builtin_protocol_path().name, by=boss, now=now
    )
    protocols.lock_analysis_plan(session, protocol_id=version.id, by=staff["analyst-demo"], now=now)
    run = _Run(session, site, staff, version, model, np.random.default_rng(seed), effect)
    return tuple(users), run


# ---------------------------------------------------------------- one patient


@dataclass(frozen=True, slots=True)
class _Profile:
    """A synthetic patient's history, drawn before anything is recorded."""

    code: str
    birth_on: date
    sex: str
    onset_on: date
    diagnosis_on: date
    el_escorial: str
    vital_capacity: float
    weight_kg: float
    delta_fs: float
    true_baseline: float


def _profile(run: _Run, index: int, day0: date) -> _Profile:
    rng = run.rng
    onset_months = float(rng.uniform(9, 30))
    onset_on = day0 - timedelta(days=round(onset_months * DAYS_PER_MONTH))
    delta_fs = float(np.clip(population_delta_fs(run.model, 1, rng)[0], 0.2, 0.9))
    months_to_run_in = onset_months - 3
    return _Profile(
        code=f"DEMO-{index + 1:03d}",
        birth_on=day0 - timedelta(days=round(float(rng.uniform(42, 72)) * 365.25)),
        sex="female" if rng.random() < 0.4 else "male",
        onset_on=onset_on,
        diagnosis_on=min(
            onset_on + timedelta(days=int(rng.integers(150, 240))), day0 - timedelta(days=100)
        ),
        el_escorial="possible"
        if index == POSSIBLE_ALS
        else str(rng.choice(["definite", "probable"])),
        vital_capacity=44.0 if index == LOW_VITAL_CAPACITY else float(round(rng.uniform(65, 98))),
        weight_kg=float(round(rng.uniform(55, 90), 1)),
        delta_fs=delta_fs,
        # high enough to stay eligible at screening (ALSFRS-R >= 24) three months later
        true_baseline=max(36.0, MAX_TOTAL - delta_fs * months_to_run_in),
    )


def _patient(run: _Run, index: int, day0: date) -> DemoPatient:
    """Register, rate and screen a patient; treat and follow up those found eligible."""
    profile = _profile(run, index, day0)
    doses = _dose_days(day0, delayed=index == DELAYED)
    ratings = _ratings(run, profile, day0, doses)
    patient = _register(run, profile, day0, ratings)
    screening = _screen(run, patient, day0 - timedelta(days=7))
    reasons = tuple(
        f"{c['criterion']}: {c['rule']} (recorded: {c['value']})"
        for c in screening.criteria
        if c["status"] == Status.NOT_MET.value
    )
    if reasons:
        return DemoPatient(profile.code, patient.id, eligible=False, reasons=reasons)
    died_on = _death_day(run, profile, doses[-1])
    treatment = _Treatment(run, patient, profile, day0, index)
    treatment.follow(doses, ratings, died_on)
    return DemoPatient(profile.code, patient.id, eligible=True, enrollment_id=treatment.enrollment.id,
                       doses_on=tuple(doses), died_on=died_on)  # fmt: skip


def _dose_days(day0: date, *, delayed: bool) -> list[date]:
    days = [day0 + timedelta(days=d) for d in IMPLANTATION_DAYS]
    if delayed:  # the third and (keeping the 7-day interval) the fourth move by DELAY_DAYS
        days[2:] = [d + timedelta(days=DELAY_DAYS) for d in days[2:]]
    return days


def _visits(day0: date, doses: list[date]) -> dict[str, date]:
    """Every rating's day: run-in, screening, examination week, end of program, follow-up."""
    days = {"run-in": day0 - timedelta(days=91), "screening": day0 - timedelta(days=7),
            "neuro-exam": day0, "discharge-exam": day0 + timedelta(days=38)}  # fmt: skip
    for visit, months in FOLLOW_UP:
        days[visit] = doses[-1] + timedelta(days=round(months * DAYS_PER_MONTH))
    return days


def _ratings(run: _Run, profile: _Profile, day0: date, doses: list[date]) -> dict[date, int]:
    """ALSFRS-R totals on each visit from the natural-history model, months counted from the run-in."""
    visits = sorted(_visits(day0, doses).values())
    months = [(day - visits[0]).days / DAYS_PER_MONTH for day in visits]
    totals = simulate_ratings(run.model, true_baselines=[profile.true_baseline], months=months, rng=run.rng,
                              delta_fs=[profile.delta_fs], slowing=run.effect,
                              treated_from_months=(doses[0] - visits[0]).days / DAYS_PER_MONTH)  # fmt: skip
    return {day: int(total) for day, total in zip(visits, totals[0], strict=True)}


def alsfrs_items(total: int) -> dict[str, int]:
    """Twelve ALSFRS-R items adding up to ``total``: the points lost spread over the items, limb and
    respiratory items first (spinal onset)."""
    if not 0 <= total <= MAX_TOTAL:
        raise ValueError(f"total must be 0..{MAX_TOTAL}, got {total}")
    items = dict.fromkeys(_ITEM_ORDER, 4)
    for lost in range(MAX_TOTAL - total):
        items[_ITEM_ORDER[lost % len(_ITEM_ORDER)]] -= 1
    return items


def _death_day(run: _Run, profile: _Profile, last_dose: date) -> date | None:
    """Death (or tracheostomy, counted with it) within the 6 months after the last dose, per the model."""
    months_since_onset = (last_dose - profile.onset_on).days / DAYS_PER_MONTH
    risk = death_probability(run.model, months_since_onset=months_since_onset, months=6.0)
    if run.rng.random() >= risk:
        return None
    return last_dose + timedelta(days=int(run.rng.integers(20, 180)))


def _register(run: _Run, profile: _Profile, day0: date, ratings: Mapping[date, int]) -> Patient:
    s, first_visit = run.session, min(ratings)
    when = at(first_visit)
    patient = patients.register_patient(s, study_code=profile.code, site_id=run.site.id, given_name="Synthetic",
                                        family_name=f"Patient {profile.code[-3:]}", birth_on=profile.birth_on,
                                        sex=profile.sex, by=run.staff["coord-demo"], now=when)  # fmt: skip
    diagnosis = patients.DiagnosisInput(onset_on=profile.onset_on, onset_site="spinal", diagnosis_on=profile.diagnosis_on,
                                        familial=False, el_escorial=profile.el_escorial)  # fmt: skip
    patients.record_diagnosis(s, patient_id=patient.id, diagnosis=diagnosis, by=run.physician, now=when)  # fmt: skip
    screening_on = day0 - timedelta(days=7)
    patients.record_consent(s, patient_id=patient.id, form_version="v2", consented_on=screening_on,
                            by=run.staff["coord-demo"], now=at(screening_on))  # fmt: skip
    for day in (first_visit, screening_on):
        _rate(run, patient, day, ratings[day])
    _measure(run, patient, screening_on, profile.vital_capacity, profile.weight_kg)
    _labs(run, patient, screening_on)
    return patient


def _rate(run: _Run, patient: Patient, on: date, total: int) -> None:
    assessments.record_alsfrs_rating(run.session, patient_id=patient.id, rated_on=on, items=alsfrs_items(total),
                                     by=run.nurse, now=at(on, 11))  # fmt: skip


def _measure(run: _Run, patient: Patient, on: date, vital_capacity: float, weight: float) -> None:
    assessments.record_vital_capacity(run.session, patient_id=patient.id, measured_on=on,
                                      percent_predicted=vital_capacity, by=run.nurse, now=at(on, 11))  # fmt: skip
    assessments.record_weight(run.session, patient_id=patient.id, measured_on=on, weight_kg=weight,
                              by=run.nurse, now=at(on, 11))  # fmt: skip


def _labs(run: _Run, patient: Patient, on: date) -> None:
    for analyte, value in (("platelets", float(run.rng.integers(160, 320))), ("inr", 1.0)):
        assessments.record_lab_result(run.session, patient_id=patient.id, collected_on=on, analyte=analyte,
                                      value=value, by=run.nurse, now=at(on, 9))  # fmt: skip


def _clear_pre_puncture() -> PrePunctureFacts:
    findings = dict.fromkeys(
        (*ABSOLUTE_CONTRAINDICATIONS, "cardiorespiratory_insufficiency"), False
    )
    return PrePunctureFacts(anticoagulants_reviewed=True, findings=findings)


def _screen(run: _Run, patient: Patient, on: date) -> Screening:
    return enrollment.screen_patient(run.session, patient_id=patient.id, protocol_id=run.protocol.id, screened_on=on,
                                     exclusions=_no_exclusions(), pre_puncture=_clear_pre_puncture(),
                                     by=run.physician, now=at(on, 12))  # fmt: skip


def _no_exclusions() -> dict[str, bool]:
    names = (
        "pregnancy",
        "tracheostomy",
        "active_infection",
        "malignancy",
        "other_neurological_disease",
    )
    return dict.fromkeys(names, False)


# ---------------------------------------------------------------- the program


class _Treatment:
    """An eligible patient enrolled, treated and followed up, one service call at a time."""

    def __init__(
        self, run: _Run, patient: Patient, profile: _Profile, day0: date, index: int
    ) -> None:
        self.run, self.patient, self.profile, self.day0, self.index = (
            run,
            patient,
            profile,
            day0,
            index,
        )
        self.units: dict[str, ProductUnit] = {}
        enrolled_on = day0 - timedelta(days=5)
        self.enrollment: Enrollment = enrollment.enroll(run.session, patient_id=patient.id, protocol_id=run.protocol.id,
                                                        enrolled_on=enrolled_on, by=run.physician, now=at(enrolled_on))  # fmt: skip
        enrollment.start_treatment(run.session, enrollment_id=self.enrollment.id, start_on=day0,
                                   by=run.physician, now=at(day0, 8))  # fmt: skip

    def follow(self, doses: list[date], ratings: Mapping[date, int], died_on: date | None) -> None:
        visits = _visits(self.day0, doses)
        self._examination_week(ratings[visits["neuro-exam"]])
        units = self._stock(doses)
        for number, (unit_id, given_on) in enumerate(zip(units, doses, strict=True), start=1):
            self._implant(number, unit_id, given_on)
        if self.run.daily_care:
            self._care()
        if self.run.rng.random() < 0.2:
            onset = self.day0 + timedelta(days=int(self.run.rng.integers(8, 30)))
            self._adverse_event(
                "Fatigue", onset, procedure=Causality.UNRELATED, drug=Causality.POSSIBLE
            )
        self._examine("discharge-exam", visits["discharge-exam"], ratings[visits["discharge-exam"]])
        for visit, _ in FOLLOW_UP:
            if died_on is None or visits[visit] < died_on:
                self._examine(visit, visits[visit], ratings[visits[visit]])
        if died_on is not None:
            outcomes.record_outcome_event(self.run.session, patient_id=self.patient.id, kind="death", occurred_on=died_on,
                                          source="family by telephone", by=self.run.physician,
                                          now=at(died_on + timedelta(days=2)))  # fmt: skip

    def _activity(self, activity_id: str, on: date, occurrence: int | None = None) -> None:
        enrollment.record_activity(self.run.session, enrollment_id=self.enrollment.id, activity_id=activity_id, on=on,
                                   occurrence=occurrence, by=self.run.nurse, now=at(on, 16))  # fmt: skip

    def _examination_week(self, total: int) -> None:
        _rate(self.run, self.patient, self.day0, total)
        _measure(
            self.run, self.patient, self.day0, self.profile.vital_capacity, self.profile.weight_kg
        )
        _labs(self.run, self.patient, self.day0)
        for activity_id, day in (
            ("neuro-exam", 0),
            ("organ-labs", 0),
            ("spine-imaging", 2),
            ("eligibility-review", 6),
        ):
            self._activity(activity_id, self.day0 + timedelta(days=day))

    def _examine(self, activity_id: str, on: date, total: int) -> None:
        _rate(self.run, self.patient, on, total)
        vital_capacity = max(
            30.0, self.profile.vital_capacity - 1.5 * (on - self.day0).days / DAYS_PER_MONTH
        )
        _measure(self.run, self.patient, on, round(vital_capacity), self.profile.weight_kg)
        self._activity(activity_id, on)

    def _care(self) -> None:
        for day in CARE_DAYS:
            given_on = self.day0 + timedelta(days=day)
            for activity_id in CARE:
                dosing.record_care(self.run.session, enrollment_id=self.enrollment.id, activity_id=activity_id,
                                   given_on=given_on, by=self.run.nurse, now=at(given_on, 17))  # fmt: skip

    def _stock(self, doses: list[date]) -> list[str]:
        """A lot of four units for this patient, received three days in; all released but one (see REFUSED)."""
        lab, received = self.run.lab, self.day0 + timedelta(days=3)
        seq = (self.index + 1) * 10
        dins = [f"A9999{received.year % 100:02d}{seq + k:06d}" for k in range(len(doses))]
        unit_ids = [din + isbt128.check_character(din) for din in dins]
        inputs = [products.UnitInput(unit_id=uid, cells=DOSE_CELLS, volume_ml=2.0, endotoxin_eu=2.0,
                                     expires_on=received + timedelta(days=90)) for uid in unit_ids]  # fmt: skip
        lot = products.register_lot(self.run.session, lot_code=f"NSC-{self.profile.code}", site_id=self.run.site.id,
                                    product_name="NSC", source="xenogeneic", cell_type="neural stem cells",
                                    manufactured_on=self.day0, received_on=received, units=inputs, by=lab,
                                    now=at(received))  # fmt: skip
        _, units = products.get_lot(self.run.session, lot.id, by=lab)
        self.units.update((unit.din, unit) for unit in units)
        for din in dins:
            if not (self.index == REFUSED and din == dins[1]):
                self._release(self.units[din], received + timedelta(days=1))
        return unit_ids

    def _release(self, unit: ProductUnit, on: date) -> None:
        s, lab = self.run.session, self.run.lab
        for test, value in _RELEASE_TESTS.items():
            products.record_release_test(s, unit_id=unit.id, test=test, result=TestResult.PASS, value=value,
                                         tested_on=on, by=lab, now=at(on, 9))  # fmt: skip
        criteria = products.release_criteria(s, protocol_id=self.run.protocol.id)
        products.release_unit(s, unit_id=unit.id, criteria=criteria, by=lab, now=at(on, 10))

    def _implant(self, number: int, unit_id: str, given_on: date) -> None:
        run = self.run
        unit = self.units[unit_id[:-1]]
        _labs(run, self.patient, given_on - timedelta(days=1))
        self._activity("pre-puncture-labs", given_on - timedelta(days=1))
        bedside = dosing.Bedside(self.profile.code, self.profile.birth_on, _clear_pre_puncture())
        notes = None
        if self.index == DELAYED and number == 3:
            notes = (
                f"postponed {DELAY_DAYS} days: post-dural-puncture headache after implantation 2"
            )
            run.delayed = (self.profile.code, given_on - timedelta(days=DELAY_DAYS), given_on)
        if self.index == REFUSED and number == 2:
            self._refused(unit_id, given_on, bedside)
            self._release(unit, given_on)
        products.dispense_unit(run.session, unit_id=unit.id, patient_id=self.patient.id, by=run.lab,
                               now=at(given_on, 11))  # fmt: skip
        dose = dosing.record_cell_dose(run.session, enrollment_id=self.enrollment.id, unit_id=unit_id,
                                       dose_cells=DOSE_CELLS, given_on=given_on, bedside=bedside, notes=notes,
                                       by=run.physician, now=at(given_on, 12))  # fmt: skip
        if self.index == DELAYED and number == 2:
            self._adverse_event(PDPH_TERM, given_on + timedelta(days=1), procedure=Causality.PROBABLE,
                                grade=2, administration_id=dose.id)  # fmt: skip
        elif run.rng.random() < 0.1:
            self._adverse_event(
                "Back pain", given_on, procedure=Causality.POSSIBLE, administration_id=dose.id
            )

    def _refused(self, unit_id: str, given_on: date, bedside: dosing.Bedside) -> None:
        """The physician scans a unit the lab has not released yet: the service refuses the dose."""
        try:
            dosing.record_cell_dose(self.run.session, enrollment_id=self.enrollment.id, unit_id=unit_id,
                                    dose_cells=DOSE_CELLS, given_on=given_on, bedside=bedside,
                                    by=self.run.physician, now=at(given_on, 8))  # fmt: skip
        except SafetyCheckFailed as refusal:
            self.run.session.rollback()
            self.run.refusals.append(DemoRefusal(self.profile.code, unit_id, str(refusal)))
            return
        raise AssertionError(f"the dose of unreleased unit {unit_id} was not refused")

    def _adverse_event(
        self, term: str, onset: date, *, procedure: Causality, grade: int = 1,
        drug: Causality = Causality.UNRELATED, administration_id: int | None = None,
    ) -> None:  # fmt: skip
        safety.record_adverse_event(self.run.session, patient_id=self.patient.id, term=term, onset_on=onset,
                                    ctcae_grade=grade, serious=False, seriousness=(), expected=True,
                                    causality_procedure=procedure, causality_product=Causality.UNLIKELY,
                                    causality_drug=drug, aware_on=onset, enrollment_id=self.enrollment.id,
                                    administration_id=administration_id, by=self.run.nurse,
                                    now=at(onset, 18))  # fmt: skip
        self.run.adverse_events += 1
