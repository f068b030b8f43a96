"""The program report of a protocol version: the evaluation, plus the flow, baseline and courses from the records.

:func:`program_report` calls :func:`alscell.services.evaluation.evaluate_program` (the permission check,
RUN_EVALUATION, happens there) and reads, as the records stand on the data cut-off (``today``):

- **the flow** (CONSORT-style). Referred: the patients ``by`` may see, registered by the cut-off, who were
  screened against this protocol version or not screened against any (awaiting screening). Screened:
  with a screening against this version. Ineligible: the latest such screening had a criterion not met
  (and the patient was not enrolled), with the criteria failed. Enrolled, treated (at least one cell
  dose), then how participation ended: died (death, tracheostomy or permanent ventilation on record),
  withdrawn, lost to follow-up or completed (the patient's current status, for an enrollment ended by
  the cut-off), else ongoing.
- **the baseline table** from each enrolled patient's facts on their first cell dose (enrollment before
  one): age, onset, ALSFRS-R, ΔFS, vital capacity, sex and site of onset.
- **each patient's ALSFRS-R course** in months from their first cell dose, and the natural-history band
  for patients with their baselines (seeded).

De-identified (``deidentified=True``): study codes only; no names, dates of birth or record numbers;
ages in whole years; each patient's dates in their row written as days from their first cell dose
(dates inside notes, deviations and overrides too). Program-level dates (data cut-off, plan lock,
amendments) stay. An identified report shows names and dates of birth only to users who may view
identities (and to the operator at the command line, ``by=None``); users who may not (analysts,
monitors) always get the de-identified report, since exact clinical dates identify too.

A report that leaves alscell as a file (a download, a PDF) is an export of patient-level data: the caller
records it with :func:`record_report_issued` (who, the format, identified or not, how many patients).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.domain import report as rp
from alscell.domain.access import Action
from alscell.domain.alsfrs import SCALE_VERSION
from alscell.domain.criteria import Status
from alscell.domain.evaluation import Evaluation, PatientResult
from alscell.domain.lifecycle import PatientStatus
from alscell.domain.months import months_between
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.domain.stats.safety_rates import SafetyReference
from alscell.services import access
from alscell.services.audit import record_event
from alscell.services.evaluation import DEFAULT_SEED, evaluate_program
from alscell.services.facts import gather_facts
from alscell.services.protocols import analysis_plan_for
from alscell.services.records import commit, load
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.models import (
    Administration,
    AlsfrsRating,
    AnalysisPlanAmendment,
    Enrollment,
    OutcomeEvent,
    Patient,
    ProtocolVersion,
    Screening,
    User,
)

__all__ = ["natural_history_band_for", "program_report", "record_report_issued"]

ENCALS_SCALE_NOTE = "ENCALS survival model (Westeneng 2018), {scale} scale"
_EXITS = {
    PatientStatus.COMPLETED: rp.Exit.COMPLETED,
    PatientStatus.WITHDRAWN: rp.Exit.WITHDRAWN,
    PatientStatus.LOST_TO_FOLLOW_UP: rp.Exit.LOST,
}


def program_report(
    session: Session, *, protocol_id: int, by: User | None, today: date, model: NaturalHistoryModel | None = None,
    safety_reference: SafetyReference | None = None, seed: int = DEFAULT_SEED, deidentified: bool = False,
    progress: Callable[[], None] | None = None,
) -> rp.ProgramReport:  # fmt: skip
    """The program report of a protocol version as of ``today`` (the data cut-off), as ``by`` may see it.

    ``progress`` is called as :func:`evaluate_program` calls it, then once for the report's own data.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may run evaluations.
    NotFound
        For an unknown protocol version.
    """
    model = model or builtin_natural_history()
    reference = safety_reference or builtin_safety_reference()
    deidentified = deidentified or (
        by is not None and not access.allowed_to(by, Action.VIEW_IDENTITY)
    )
    evaluation = evaluate_program(session, protocol_id=protocol_id, by=by, today=today, model=model,
                                  safety_reference=reference, seed=seed, progress=progress)  # fmt: skip
    version = load(session, ProtocolVersion, protocol_id, kind="protocol")
    rows = _enrollments(session, protocol_id, by, today)
    first_doses = {
        patient.id: _doses(session, enrollment.id, today) for enrollment, patient in rows
    }
    shows_identity = not deidentified and (
        by is None or access.allowed_to(by, Action.VIEW_IDENTITY)
    )
    trajectories = tuple(
        t
        for _, patient in rows
        if (t := _trajectory(session, patient, first_doses[patient.id], today))
    )
    report = rp.ProgramReport(
        title=version.title, evaluation=evaluation, amendments=_amendments(session, protocol_id),
        flow=rp.tally_flow(_flow_records(session, protocol_id, by, today)),
        baseline=rp.summarise_baseline([_baseline(session, e, p, first_doses[p.id]) for e, p in rows]),
        patients=_patient_rows(evaluation, {p.id: p for _, p in rows}, first_doses, shows_identity, deidentified),
        trajectories=trajectories, band=natural_history_band_for(evaluation, trajectories, model, seed),
        provenance=_provenance(evaluation, version, model, reference), deidentified=deidentified,
        notes=_notes(deidentified, shows_identity),
    )  # fmt: skip
    if progress is not None:
        progress()
    return report


def record_report_issued(
    session: Session, *, report: rp.ProgramReport, report_format: Literal["HTML", "PDF"], by: User | None,
    now: datetime,
) -> None:  # fmt: skip
    """Audit a program report handed out as a file: who, which protocol version and format, whether it
    names patients, how many patients and the data cut-off (``report.issued``)."""
    identity = "de-identified" if report.deidentified else "identified"
    e = report.evaluation
    record_event(
        session, actor=by, action="report.issued", entity_type="report",
        entity_id=f"{e.protocol_id} v{e.protocol_version} {report_format}"[:80],
        reason=f"program report {report_format}; {identity}; patients {len(report.patients)}; "
        f"data cut-off {report.provenance.data_cutoff}",
        now=now,
    )  # fmt: skip
    commit(session)


def _enrollments(
    session: Session, protocol_id: int, by: User | None, today: date
) -> list[tuple[Enrollment, Patient]]:
    statement = (
        sa.select(Enrollment, Patient)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(Enrollment.protocol_id == protocol_id, Enrollment.enrolled_on <= today)
        .order_by(Patient.study_code)
    )
    if by is not None and not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    return [(enrollment, patient) for enrollment, patient in session.execute(statement)]


def _doses(session: Session, enrollment_id: int, today: date) -> tuple[date, ...]:
    statement = (
        sa.select(Administration.given_on)
        .where(Administration.enrollment_id == enrollment_id, Administration.product_unit_id.is_not(None),
               Administration.given_on <= today)
        .order_by(Administration.given_on)
    )  # fmt: skip
    return tuple(session.execute(statement).scalars())


# ---------------------------------------------------------------- the flow


def _flow_records(
    session: Session, protocol_id: int, by: User | None, today: date
) -> list[rp.FlowRecord]:
    screened_elsewhere = sa.exists().where(
        Screening.patient_id == Patient.id, Screening.protocol_id != protocol_id,
        Screening.screened_on <= today,
    )  # fmt: skip
    screened_here = sa.exists().where(
        Screening.patient_id == Patient.id, Screening.protocol_id == protocol_id,
        Screening.screened_on <= today,
    )  # fmt: skip
    statement = (
        sa.select(Patient)
        .where(
            Patient.registered_at < datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
        )
        .where(screened_here | ~screened_elsewhere)
        .order_by(Patient.study_code)
    )
    if by is not None and not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    return [
        _flow_record(session, patient, protocol_id, today)
        for patient in session.execute(statement).scalars()
    ]


def _flow_record(
    session: Session, patient: Patient, protocol_id: int, today: date
) -> rp.FlowRecord:
    latest = session.execute(
        sa.select(Screening).where(Screening.patient_id == patient.id, Screening.protocol_id == protocol_id,
                                   Screening.screened_on <= today)
        .order_by(Screening.screened_on.desc(), Screening.id.desc()).limit(1)
    ).scalar_one_or_none()  # fmt: skip
    enrollment = session.execute(
        sa.select(Enrollment).where(Enrollment.patient_id == patient.id, Enrollment.protocol_id == protocol_id,
                                    Enrollment.enrolled_on <= today).limit(1)
    ).scalar_one_or_none()  # fmt: skip
    failed = tuple(
        str(item["criterion"]) for item in (latest.criteria if latest else ())
        if item.get("status") == Status.NOT_MET.value
    )  # fmt: skip
    eligible = None
    if latest is not None and latest.outcome in (Status.MET.value, Status.NOT_MET.value):
        eligible = latest.outcome == Status.MET.value
    return rp.FlowRecord(
        screened=latest is not None, eligible=eligible, failed_criteria=failed, enrolled=enrollment is not None,
        treated=enrollment is not None and bool(_doses(session, enrollment.id, today)),
        exit=_exit(session, patient, enrollment, today) if enrollment else rp.Exit.ONGOING,
    )  # fmt: skip


def _exit(session: Session, patient: Patient, enrollment: Enrollment, today: date) -> rp.Exit:
    died = session.execute(
        sa.select(sa.func.count()).where(OutcomeEvent.patient_id == patient.id, OutcomeEvent.occurred_on <= today)
    ).scalar_one()  # fmt: skip
    if died:
        return rp.Exit.DIED
    if enrollment.ended_on is not None and enrollment.ended_on <= today:
        return _EXITS.get(patient.status, rp.Exit.ONGOING)
    if patient.status is PatientStatus.COMPLETED:
        return rp.Exit.COMPLETED
    return rp.Exit.ONGOING


# ---------------------------------------------------------------- baseline, courses, rows


def _baseline(
    session: Session, enrollment: Enrollment, patient: Patient, doses: Sequence[date]
) -> rp.BaselinePatient:
    on = doses[0] if doses else enrollment.enrolled_on
    facts = gather_facts(session, patient, on=on)
    return rp.BaselinePatient(
        age_years=facts.age_years, sex=patient.sex,
        onset_site=facts.diagnosis.onset_site if facts.diagnosis else None,
        months_onset_to_enrollment=(
            months_between(facts.diagnosis.onset_on, enrollment.enrolled_on) if facts.diagnosis else None
        ),
        alsfrs_r_total=facts.rating.total if facts.rating else None, delta_fs=facts.delta_fs,
        vital_capacity_percent=facts.vital_capacity_percent,
    )  # fmt: skip


def _trajectory(
    session: Session, patient: Patient, doses: Sequence[date], today: date
) -> rp.Trajectory | None:
    if not doses:
        return None
    ratings = session.execute(
        sa.select(AlsfrsRating.rated_on, AlsfrsRating.total)
        .where(AlsfrsRating.patient_id == patient.id, AlsfrsRating.rated_on <= today)
        .order_by(AlsfrsRating.rated_on, AlsfrsRating.id)
    ).all()
    return rp.Trajectory(
        study_code=patient.study_code,
        months=tuple(months_between(doses[0], rated_on) for rated_on, _ in ratings),
        totals=tuple(int(total) for _, total in ratings),
        treatment_months=months_between(doses[0], doses[-1]),
    )


def natural_history_band_for(
    evaluation: Evaluation,
    trajectories: Sequence[rp.Trajectory],
    model: NaturalHistoryModel,
    seed: int,
) -> rp.Band | None:
    """Untreated courses from the patients' baselines, from the first dose to the end of follow-up."""
    with_baseline = [p for p in evaluation.patients if p.baseline is not None]
    last = max((m for t in trajectories for m in t.months), default=0.0)
    horizon = max(last, evaluation.time_point.months)
    months = [float(m) for m in np.linspace(0.0, horizon, 13)]
    return rp.natural_history_band(
        model, baselines=[p.baseline.total for p in with_baseline if p.baseline],
        delta_fs=[p.delta_fs for p in with_baseline], months=months, rng=np.random.default_rng(seed),
    )  # fmt: skip


def _patient_rows(
    evaluation: Evaluation, patients: dict[int, Patient], doses: dict[int, tuple[date, ...]],
    shows_identity: bool, deidentified: bool,
) -> tuple[rp.PatientRow, ...]:  # fmt: skip
    rows = []
    for result in evaluation.patients:
        first = doses.get(result.patient_id, ())[:1]
        origin = first[0] if first else None
        identity = patients[result.patient_id].identity if shows_identity else None
        rows.append(
            rp.PatientRow(
                result=result, first_dose_on=origin,
                name=f"{identity.family_name}, {identity.given_name}" if identity else None,
                birth_on=identity.birth_on if identity else None,
                remarks=tuple(rp.relative_dates(text, origin) if deidentified else text for text in _remarks(result)),
            )
        )  # fmt: skip
    return tuple(rows)


def _remarks(result: PatientResult) -> tuple[str, ...]:
    return tuple(filter(None, (result.note, *result.deviations, *result.overrides)))


def _amendments(session: Session, protocol_id: int) -> tuple[rp.Amendment, ...]:
    plan = analysis_plan_for(session, protocol_id)
    rows = session.execute(
        sa.select(AnalysisPlanAmendment)
        .where(AnalysisPlanAmendment.analysis_plan_id == plan.id)
        .order_by(AnalysisPlanAmendment.amended_at, AnalysisPlanAmendment.id)
    ).scalars()
    return tuple(
        rp.Amendment(
            amended_on=row.amended_at.date(), reason=row.reason,
            changes=tuple(f"{key}: {row.before.get(key)} → {value}" for key, value in row.after.items()
                          if row.before.get(key) != value),
        )
        for row in rows
    )  # fmt: skip


def _provenance(
    evaluation: Evaluation,
    version: ProtocolVersion,
    model: NaturalHistoryModel,
    reference: SafetyReference,
) -> rp.Provenance:
    scale = ENCALS_SCALE_NOTE.format(scale=model.survival.encals_scale.value)
    return rp.Provenance(
        data_cutoff=evaluation.data_cutoff, software_version=__version__,
        protocol=f"{version.key} version {version.version}",
        protocol_sha256=version.content_sha256 or hashlib.sha256(version.content.encode()).hexdigest(),
        plan_version=evaluation.design.plan_version, plan_locked_on=evaluation.design.plan_locked_on,
        scale_versions=(SCALE_VERSION, scale), natural_history_model=model.label,
        safety_reference=reference.label, seed=evaluation.seed, draws=evaluation.draws,
    )  # fmt: skip


def _notes(deidentified: bool, shows_identity: bool) -> tuple[str, ...]:
    notes = [
        "Referred: patients registered by the data cut-off who were screened against this protocol version or "
        "are awaiting screening; a patient screened only against another protocol is not counted here.",
        "Completed, withdrawn and lost to follow-up are read from each patient's current status for "
        "enrollments ended by the data cut-off; died counts death, tracheostomy or permanent ventilation.",
    ]
    if deidentified:
        notes.append(
            "De-identified: study codes only, no names, dates of birth or record numbers; each patient's "
            "dates are written as days from their first cell dose (day +0)."
        )
    elif not shows_identity:
        notes.append(
            "Names and dates of birth are left out: the reader may not view patients' identities."
        )
    return tuple(notes)
