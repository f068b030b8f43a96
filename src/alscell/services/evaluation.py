"""The outcome evaluation of a protocol version: the records assembled for the domain's statistics.

Everything is read as the records stand on the data cut-off (``today``): ratings, cell doses, death,
tracheostomy or permanent ventilation, the ENCALS predictors at the first dose, deviations that bear on
the outcome (all but minor ones) and overridden safety blocks. The domain
(:func:`alscell.domain.evaluation.evaluate`) does the rest and returns one frozen
:class:`~alscell.domain.evaluation.Evaluation` that the command line, the pages and the reports render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from alscell.domain import analyses
from alscell.domain import evaluation as ev
from alscell.domain.access import Action
from alscell.domain.analyses import DEFAULT_POWER_SIMULATIONS
from alscell.domain.defaults import DEFAULT_SEED
from alscell.domain.deviations import Severity, find_deviations
from alscell.domain.protocol import Relatedness
from alscell.domain.stats.cafs import Outcomes
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.domain.stats.safety_rates import SafetyReference
from alscell.services import access
from alscell.services.comparators import get_comparator_cohort, get_comparator_outcomes
from alscell.services.enrollment import plan_for
from alscell.services.facts import gather_facts
from alscell.services.protocols import analysis_plan_for, protocol_of
from alscell.services.records import load
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.models import (
    Administration,
    AdverseEvent,
    AlsfrsRating,
    AnalysisPlanAmendment,
    Diagnosis,
    Enrollment,
    OutcomeEvent,
    Patient,
    ProtocolVersion,
    User,
)

__all__ = ["DEFAULT_SEED", "evaluate_program", "evaluation_protocols"]


def evaluate_program(
    session: Session, *, protocol_id: int, by: User | None, today: date, model: NaturalHistoryModel | None = None,
    safety_reference: SafetyReference | None = None, seed: int = DEFAULT_SEED, draws: int = ev.DEFAULT_DRAWS,
    power_simulations: int = DEFAULT_POWER_SIMULATIONS, progress: Callable[[], None] | None = None,
    comparator_cohort: str | None = None,
) -> ev.Evaluation:  # fmt: skip
    """Evaluate every patient enrolled in the protocol version whom ``by`` may see, as of ``today``,
    then run the standard analyses (:mod:`alscell.domain.analyses`) on the same patients.

    ``by`` is None only for the operator at the command line, who already holds the database and so
    reads every site. ``model`` and ``safety_reference`` default to those shipped with alscell;
    ``progress`` is called once per patient, then once per analysis
    (:data:`~alscell.domain.analyses.ANALYSIS_STEPS`). CAFS is computed against the imported
    comparator cohort named ``comparator_cohort`` (:mod:`alscell.services.comparators`) when given,
    else against a cohort simulated from ``model``.

    Raises
    ------
    PermissionDenied
        Unless ``by`` may run evaluations.
    NotFound
        For an unknown protocol version or comparator cohort.
    """
    if by is not None:
        access.require(by, Action.RUN_EVALUATION, resource="an outcome evaluation")
    load(session, ProtocolVersion, protocol_id, kind="protocol")
    if comparator_cohort is not None:
        get_comparator_cohort(session, comparator_cohort)  # NotFound before any work
    protocol = protocol_of(session, protocol_id)
    plan_row = analysis_plan_for(session, protocol_id)
    rows = _enrollments(session, protocol_id, by)
    courses = [_course(session, enrollment, patient, today) for enrollment, patient in rows]
    first_treatment = _first_cell_dose(session, protocol_id)
    amendments = session.execute(
        sa.select(AnalysisPlanAmendment.amended_at).where(
            AnalysisPlanAmendment.analysis_plan_id == plan_row.id
        )
    ).scalars()
    plan = protocol.analysis_plan
    design = ev.Design(
        control=plan.control, rater_blinded=plan.rater_blinded, comparator=plan.comparator.value,
        plan_version=plan_row.plan_version,
        plan_locked_on=plan_row.locked_at.date() if plan_row.locked_at else None,
        first_treatment_on=first_treatment,
        amendments_after_first_treatment=sum(
            1 for at in amendments if first_treatment is not None and at.date() >= first_treatment
        ),
    )  # fmt: skip
    model = model or builtin_natural_history()
    result = ev.evaluate(
        courses, protocol, design=design, plan_locked=plan_row.locked_at is not None,
        model=model, cutoff=today, seed=seed, draws=draws, progress=progress,
    )  # fmt: skip
    done = analyses.analyse(
        courses, result, protocol, model=model, safety_reference=safety_reference or builtin_safety_reference(),
        seed=seed, power_simulations=power_simulations,
        progress=(lambda _name: progress()) if progress is not None else None,
        comparator=_comparator(session, comparator_cohort, courses, result), comparator_label=comparator_cohort,
    )  # fmt: skip
    return dataclasses.replace(
        result,
        analyses=done,
        statement=result.statement + analyses.analyses_statement(done, result),
    )


def _comparator(
    session: Session, name: str | None, courses: list[ev.PatientCourse], result: ev.Evaluation
) -> Outcomes | None:
    """The imported cohort's CAFS outcomes at the program's CAFS horizon, within the time point's
    window; None without a cohort, or when too few patients are due for CAFS."""
    horizon = analyses.cafs_horizon_months(courses, result) if name is not None else None
    if name is None or horizon is None:
        return None
    return get_comparator_outcomes(
        session, name, months=horizon, window_days=result.time_point.window_days
    )


def evaluation_protocols(session: Session, *, by: User | None) -> list[ProtocolVersion]:
    """The loaded protocol versions that have enrolled patients, by key and newest first."""
    if by is not None:
        access.require(by, Action.RUN_EVALUATION, resource="an outcome evaluation")
    statement = (
        sa.select(ProtocolVersion)
        .where(sa.exists().where(Enrollment.protocol_id == ProtocolVersion.id))
        .order_by(ProtocolVersion.key, ProtocolVersion.loaded_at.desc(), ProtocolVersion.id.desc())
    )
    return list(session.execute(statement).scalars())


def _enrollments(
    session: Session, protocol_id: int, by: User | None
) -> list[tuple[Enrollment, Patient]]:
    statement = (
        sa.select(Enrollment, Patient)
        .join(Patient, Patient.id == Enrollment.patient_id)
        .where(Enrollment.protocol_id == protocol_id)
        .order_by(Patient.study_code)
    )
    if by is not None and not access.sees_all_sites(by):
        statement = statement.where(Patient.site_id == by.site_id)
    return [(enrollment, patient) for enrollment, patient in session.execute(statement)]


def _first_cell_dose(session: Session, protocol_id: int) -> date | None:
    """The first cell dose given to anyone in the protocol version, whatever their site."""
    statement = (
        sa.select(sa.func.min(Administration.given_on))
        .join(Enrollment, Enrollment.id == Administration.enrollment_id)
        .where(Enrollment.protocol_id == protocol_id, Administration.product_unit_id.is_not(None))
    )
    first: date | None = session.execute(statement).scalar_one_or_none()
    return first


def _course(
    session: Session, enrollment: Enrollment, patient: Patient, today: date
) -> ev.PatientCourse:
    ratings = session.execute(
        sa.select(AlsfrsRating.rated_on, AlsfrsRating.total)
        .where(AlsfrsRating.patient_id == patient.id, AlsfrsRating.rated_on <= today)
        .order_by(AlsfrsRating.rated_on, AlsfrsRating.id)
    ).all()
    doses = session.execute(
        sa.select(Administration)
        .where(Administration.enrollment_id == enrollment.id, Administration.product_unit_id.is_not(None),
               Administration.given_on <= today)
        .order_by(Administration.given_on, Administration.id)
    ).scalars().all()  # fmt: skip
    event = session.execute(
        sa.select(OutcomeEvent.kind, OutcomeEvent.occurred_on)
        .where(OutcomeEvent.patient_id == patient.id, OutcomeEvent.occurred_on <= today)
        .order_by(OutcomeEvent.occurred_on, OutcomeEvent.id)
        .limit(1)
    ).first()
    onset = session.execute(
        sa.select(Diagnosis.onset_on).where(Diagnosis.patient_id == patient.id)
    ).scalar()
    encals_lp = gather_facts(session, patient, on=doses[0].given_on).encals_lp if doses else None
    dose_days = {dose.id: dose.given_on for dose in doses}
    events = session.execute(
        sa.select(AdverseEvent)
        .where(AdverseEvent.patient_id == patient.id, AdverseEvent.onset_on <= today)
        .order_by(AdverseEvent.onset_on, AdverseEvent.id)
    ).scalars().all()  # fmt: skip
    return ev.PatientCourse(
        patient_id=patient.id, study_code=patient.study_code, onset_on=onset,
        ratings=tuple(ev.Rating(rated_on, total) for rated_on, total in ratings),
        doses=tuple(ev.Dose(dose.given_on, dose.activity_id) for dose in doses),
        event=(event[0], event[1]) if event else None, encals_lp=encals_lp,
        deviations=_deviations(session, enrollment, today) if enrollment.start_on else (),
        overrides=tuple(
            f"{dose.given_on}: {', '.join(dose.overridden_rules)} overridden ({dose.override_reason})"
            for dose in doses if dose.overridden_rules
        ),
        enrolled_on=enrollment.enrolled_on,
        adverse_events=tuple(
            ev.AdverseEventRecord(
                term=event.term, onset_on=event.onset_on, ctcae_grade=event.ctcae_grade, serious=event.serious,
                causality={Relatedness.PROCEDURE: event.causality_procedure,
                           Relatedness.PRODUCT: event.causality_product, Relatedness.DRUG: event.causality_drug},
                after_dose_on=dose_days.get(event.administration_id) if event.administration_id else None,
            )
            for event in events
        ),
    )  # fmt: skip


def _deviations(session: Session, enrollment: Enrollment, today: date) -> tuple[str, ...]:
    """Major and critical deviations: those that can bear on the outcome (minor ones are sessions)."""
    found = find_deviations(plan_for(session, enrollment), as_of=today)
    return tuple(d.detail for d in found if d.severity is not Severity.MINOR)
