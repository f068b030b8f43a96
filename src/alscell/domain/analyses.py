"""The standard analyses of ALS trials beside the per-patient evaluation, and the safety rates.

:func:`analyse` takes the same patient courses as :func:`alscell.domain.evaluation.evaluate` and its
result, and adds (clinical.md §5, §7, §9):

- a **linear mixed model** of every ALSFRS-R rating with a change in slope at the first cell dose
  (:mod:`alscell.domain.stats.mixed_model`): the mean slope before and after, and the change with its interval;
- **survival** from enrollment (Kaplan-Meier) against ENCALS for the same patients, conditional on the
  time each had survived at enrollment, with observed against expected events
  (:mod:`alscell.domain.stats.survival`);
- **CAFS**, function and survival ranked together, against a comparator cohort simulated from the
  natural-history model (:mod:`alscell.domain.stats.cafs`), or against an imported external cohort
  (e.g. PRO-ACT) when its outcomes are given (:func:`cafs_horizon_months` says at which horizon);
- **safety rates** per patient and per lumbar puncture, and post-dural-puncture headache against the
  published rates (:mod:`alscell.domain.stats.safety_rates`);
- the **power** of the program's own design to detect a 25% and a 50% slowing of decline, simulated
  from the natural-history model (:mod:`alscell.domain.stats.power`).

An analysis the data cannot support yet (too few patients, ratings or predictors) is left out with the
reason in ``notes``; nothing is imputed. :func:`analyses_statement` says what each result can and
cannot show; in a single-arm series none of them can show that the treatment works.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeVar

import numpy as np

from alscell.domain.evaluation import Category, Evaluation, PatientCourse, PatientResult
from alscell.domain.months import months_between
from alscell.domain.protocol import ActivityKind, Protocol
from alscell.domain.stats import cafs as cafs_module
from alscell.domain.stats import natural_history as nh
from alscell.domain.stats import power as power_module
from alscell.domain.stats import safety_rates as sr
from alscell.domain.stats import survival as sv
from alscell.domain.stats.mixed_model import MixedModelFit, PatientRatings, fit_mixed_model
from alscell.errors import InsufficientData, InvalidInput

__all__ = [
    "ANALYSIS_STEPS",
    "DEFAULT_COMPARATOR_SIZE",
    "DEFAULT_PDPH_COMPARISON",
    "DEFAULT_POWER_SIMULATIONS",
    "POWER_SLOWINGS",
    "Analyses",
    "analyse",
    "analyses_statement",
    "cafs_horizon_months",
]

ANALYSIS_STEPS: Final = 5
"""How many times :func:`analyse` calls its ``progress`` callback (one per analysis)."""
POWER_SLOWINGS: Final = (0.25, 0.5)
"""Slowings of decline whose detection the program's design is asked about (clinical.md §7.4)."""
DEFAULT_POWER_SIMULATIONS: Final = 2000
DEFAULT_COMPARATOR_SIZE: Final = 2000
"""Patients in the simulated natural-history comparator of CAFS."""
DEFAULT_PDPH_COMPARISON: Final = "prospective-cohort"
"""The published PDPH rate the program's is tested against unless another is named (any needle)."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Analyses:
    """The standard analyses; each is None when the data cannot support it, with the reason in notes."""

    mixed_model: MixedModelFit | None
    survival: sv.SurvivalComparison | None
    cafs: cafs_module.CafsComparison | None
    safety: sr.SafetyTable | None
    pdph: sr.PdphComparison | None
    power: tuple[power_module.PowerResult, ...]
    lumbar_punctures: int
    """Cell doses given by lumbar puncture up to the data cut-off."""
    protocol_punctures: int
    """Lumbar punctures the protocol plans for each patient."""
    notes: tuple[str, ...]
    """Why an analysis was left out."""
    comparator_label: str | None = None
    """The imported comparator cohort CAFS was computed against; None for the simulated one."""


def analyse(
    courses: Sequence[PatientCourse],
    evaluation: Evaluation,
    protocol: Protocol,
    *,
    model: nh.NaturalHistoryModel,
    safety_reference: sr.SafetyReference,
    seed: int,
    pdph_comparison: str = DEFAULT_PDPH_COMPARISON,
    power_simulations: int = DEFAULT_POWER_SIMULATIONS,
    comparator_size: int = DEFAULT_COMPARATOR_SIZE,
    comparator: cafs_module.Outcomes | None = None,
    comparator_label: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Analyses:
    """Run every standard analysis on the courses the evaluation was computed from (seeded).

    CAFS is computed against ``comparator``, the outcomes of an imported cohort named
    ``comparator_label`` at :func:`cafs_horizon_months`, when given; else against a cohort of
    ``comparator_size`` patients simulated from ``model``. ``power_simulations`` 0 leaves the power
    of the design out (noted as such). ``progress`` is called with the name of each analysis as it
    starts.
    """
    notes: list[str] = []
    step = progress or (lambda _name: None)
    by_id = {course.patient_id: course for course in courses}
    ordered = [by_id[result.patient_id] for result in evaluation.patients]
    punctures = _puncture_activities(protocol)
    step("mixed model")
    mixed = _guarded(notes, "mixed model", lambda: _mixed_model(ordered))
    step("survival")
    survival = _guarded(notes, "survival against ENCALS",
                        lambda: _survival(ordered, evaluation.data_cutoff, model))  # fmt: skip
    step("CAFS")
    cafs = _guarded(notes, "CAFS", lambda: _cafs(evaluation, ordered, model, seed=seed,
                                                 size=comparator_size, comparator=comparator))  # fmt: skip
    step("safety")
    events, treated, given = _safety_events(ordered, punctures, safety_reference)
    planned = _planned_punctures(protocol)
    safety = sr.tabulate_adverse_events(events, patients_treated=treated, punctures=given)
    pdph = (
        sr.compare_pdph(events, patients_treated=treated, punctures=given, protocol_punctures=planned,
                        reference=safety_reference, against=pdph_comparison)
        if given else None
    )  # fmt: skip
    if not given:
        notes.append(
            "safety per lumbar puncture: no cell dose has been given by lumbar puncture yet"
        )
    step("power")
    power = _own_power(evaluation, model, seed=seed, simulations=power_simulations, notes=notes)
    return Analyses(
        mixed_model=mixed, survival=survival, cafs=cafs, safety=safety, pdph=pdph, power=power,
        lumbar_punctures=given, protocol_punctures=planned, notes=tuple(notes),
        comparator_label=comparator_label if comparator is not None else None,
    )  # fmt: skip


def _guarded(notes: list[str], name: str, run: Callable[[], T]) -> T | None:
    """The analysis, or None with the reason noted when the data cannot support it."""
    try:
        return run()
    except (InsufficientData, InvalidInput) as error:
        notes.append(f"{name}: {error}")
        return None


# ---------------------------------------------------------------- inputs from the courses


def _puncture_activities(protocol: Protocol) -> frozenset[str]:
    return frozenset(
        activity.id
        for phase in protocol.phases
        for activity in phase.activities
        if activity.kind is ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION
    )


def _planned_punctures(protocol: Protocol) -> int:
    return sum(
        activity.repeat.count or 1
        for phase in protocol.phases
        for activity in phase.activities
        if activity.kind is ActivityKind.LUMBAR_PUNCTURE_IMPLANTATION
    )


def _mixed_model(courses: Sequence[PatientCourse]) -> MixedModelFit:
    records = _ratings(courses)
    if len(records) < 2:
        raise InsufficientData(
            f"needs at least 2 treated patients with ratings, got {len(records)}"
        )
    return fit_mixed_model(records)


def _ratings(courses: Sequence[PatientCourse]) -> list[PatientRatings]:
    """Each treated patient's ratings in months from their first cell dose."""
    records = []
    for course in courses:
        if not course.doses or not course.ratings:
            continue
        first = min(dose.given_on for dose in course.doses)
        records.append(
            PatientRatings(
                patient=course.study_code,
                months=[months_between(first, rating.rated_on) for rating in course.ratings],
                totals=[float(rating.total) for rating in course.ratings],
            )
        )
    return records


def _survival(
    courses: Sequence[PatientCourse], cutoff: date, model: nh.NaturalHistoryModel
) -> sv.SurvivalComparison:
    """Follow-up from enrollment to the event or the data cut-off, for patients with onset and
    enrollment on record."""
    follow_ups = []
    for course in courses:
        if course.onset_on is None or course.enrolled_on is None:
            continue
        ended_on = course.event[1] if course.event else cutoff
        follow_ups.append(
            sv.FollowUp(
                onset_to_enrollment_months=months_between(course.onset_on, course.enrolled_on),
                follow_up_months=max(months_between(course.enrolled_on, ended_on), 0.0),
                event=course.event is not None,
                encals_lp=course.encals_lp,
            )
        )
    longest = max((f.follow_up_months for f in follow_ups), default=0.0)
    grid = [float(m) for m in range(math.ceil(longest) + 1)]
    return sv.compare_with_encals(follow_ups, months=grid, scale=model.survival.encals_scale)


def _safety_events(
    courses: Sequence[PatientCourse], punctures: frozenset[str], reference: sr.SafetyReference
) -> tuple[list[sr.SafetyEvent], int, int]:
    """The adverse events of the patients given at least one puncture, the patients, the punctures."""
    events: list[sr.SafetyEvent] = []
    treated = given = 0
    for course in courses:
        days = {dose.given_on for dose in course.doses if dose.activity_id in punctures}
        if not days:
            continue
        treated += 1
        given += sum(1 for dose in course.doses if dose.activity_id in punctures)
        for event in course.adverse_events:
            linked = event.after_dose_on if event.after_dose_on in days else None
            events.append(
                sr.SafetyEvent(
                    patient=course.patient_id, ctcae_grade=event.ctcae_grade, serious=event.serious,
                    causality=dict(event.causality),
                    puncture=f"{course.patient_id}:{linked.isoformat()}" if linked else None,
                    pdph=sr.is_pdph(event.term, reference.pdph_terms),
                )
            )  # fmt: skip
    return events, treated, given


def _own_power(
    evaluation: Evaluation, model: nh.NaturalHistoryModel, *, seed: int, simulations: int,
    notes: list[str],
) -> tuple[power_module.PowerResult, ...]:  # fmt: skip
    """The program's design with its own number of patients, at each of :data:`POWER_SLOWINGS`."""
    if simulations == 0:
        notes.append("power of this design: not simulated (0 simulations asked for)")
        return ()
    single = evaluation.design.single_arm
    design = power_module.TrialDesign.SINGLE_ARM if single else power_module.TrialDesign.RANDOMIZED
    n = evaluation.cohort.enrolled if single else evaluation.cohort.enrolled // 2 * 2
    least = 2 if single else 4
    if n < least:
        notes.append(f"power of this design: needs at least {least} patients, got {n}")
        return ()
    table = _guarded(notes, "power of this design", lambda: power_module.power_table(
        model, design, ns=[n], slowings=POWER_SLOWINGS, seed=seed, months=evaluation.time_point.months,
        simulations=simulations))  # fmt: skip
    return table.results if table is not None else ()


def _due(evaluation: Evaluation, courses: Sequence[PatientCourse]) -> list[PatientResult]:
    """The patients CAFS ranks: due an outcome (not pending), with a baseline, a target and onset."""
    onset = {course.patient_id: course.onset_on for course in courses}
    return [
        result for result in evaluation.patients
        if result.baseline is not None and result.target_on is not None
        and result.category is not Category.PENDING and onset.get(result.patient_id) is not None
        and (result.category is not None or result.change is not None)
    ]  # fmt: skip


def cafs_horizon_months(courses: Sequence[PatientCourse], evaluation: Evaluation) -> float | None:
    """The horizon CAFS compares at: the mean months from baseline to the time point of the patients
    due an outcome; None when fewer than 2 are due (CAFS is then left out). An imported comparator's
    outcomes must be computed at this horizon."""
    due = _due(evaluation, courses)
    return float(np.mean([_horizon(result) for result in due])) if len(due) >= 2 else None


def _cafs(
    evaluation: Evaluation, courses: Sequence[PatientCourse], model: nh.NaturalHistoryModel, *,
    seed: int, size: int, comparator: cafs_module.Outcomes | None,
) -> cafs_module.CafsComparison:  # fmt: skip
    """The program's patients due an outcome against ``comparator`` or a simulated natural-history
    cohort, over the mean months from baseline to the time point; pending patients are not yet due and
    take no part."""
    onset = {course.patient_id: course.onset_on for course in courses}
    due = _due(evaluation, courses)
    if len(due) < 2:
        raise InsufficientData(
            f"needs at least 2 patients due an outcome with a baseline and onset, got {len(due)}"
        )
    horizon = float(np.mean([_horizon(result) for result in due]))
    program = cafs_module.Outcomes(
        horizon_months=horizon,
        death_months=np.array([_death_month(result, horizon) for result in due]),
        changes=np.array([np.nan if result.change is None or result.category is Category.DIED else float(result.change)
                          for result in due]),
    )  # fmt: skip
    if comparator is not None:
        return cafs_module.compare_cohorts(program, comparator)
    pool = cafs_module.resampled_baselines(
        [float(result.baseline.total) for result in due if result.baseline],
        [months_between(onset_on, result.baseline.rated_on)
         for result in due if result.baseline and (onset_on := onset[result.patient_id])],
    )  # fmt: skip
    comparator = cafs_module.simulate_comparator(
        model, n=size, months=horizon, rng=np.random.default_rng(seed), baselines=pool
    )
    return cafs_module.compare_cohorts(program, comparator)


def _horizon(result: PatientResult) -> float:
    assert result.baseline is not None
    assert result.target_on is not None
    return months_between(result.baseline.rated_on, result.target_on)


def _death_month(result: PatientResult, horizon: float) -> float:
    """Months from baseline to death, tracheostomy or permanent ventilation, for a patient counted as
    died; NaN otherwise (kept within the horizon the cohort is compared over)."""
    if result.category is not Category.DIED or result.event is None or result.baseline is None:
        return float("nan")
    return min(max(months_between(result.baseline.rated_on, result.event[1]), 0.0), horizon)


# ---------------------------------------------------------------- what the analyses can show


def analyses_statement(analyses: Analyses, evaluation: Evaluation) -> tuple[str, ...]:
    """Plain sentences on what each analysis found and cannot show, for the evidence statement.

    No sentence states or implies efficacy: in a single arm each analysis is descriptive, and each
    says why (clinical.md §7.5, §11).
    """
    single = evaluation.design.single_arm
    said: list[str] = []
    if (fit := analyses.mixed_model) is not None:
        change = fit.slope_change
        said.append(
            f"A linear mixed model of {fit.n_ratings} ratings of {fit.n_patients} patients gives a mean "
            f"slope of {fit.pre_slope.value:+.2f} points/month before the first cell dose and "
            f"{fit.post_slope.value:+.2f} after (change {change.value:+.2f}, 95% CI {change.low:+.2f} "
            f"to {change.high:+.2f}). "
            + (
                "Untreated decline slows with time and ratings chosen at a high point regress to the "
                "mean, so a flatter slope after treatment is expected without any effect; in a single "
                "arm this change is descriptive."
                if single
                else "This describes the treated patients only; the trial's comparison between arms "
                "answers whether slopes differ."
            )
        )
    if (survival := analyses.survival) is not None:
        events = survival.events
        said.append(
            f"{events.observed} of {events.patients} patients with an ENCALS prediction died or needed "
            "tracheostomy or permanent ventilation after enrollment, against "
            f"{events.expected:.1f} expected by ENCALS given the time each had already survived (ratio "
            f"{events.ratio:.2f}, 95% CI {events.interval.low:.2f} to {events.interval.high:.2f}). "
            "ENCALS has not been validated in patients selected for a program like this one, and so "
            "few events cannot show a difference in survival."
        )
    if (cafs := analyses.cafs) is not None and analyses.comparator_label is not None:
        said.append(
            f"Ranked on survival and function together (CAFS) over {cafs.horizon_months:.1f} months "
            f"against {cafs.comparator.n} patients of the imported comparator cohort "
            f"{analyses.comparator_label} (external, not concurrent; selection differs), a patient of "
            f"this program fared better than one of the cohort with probability "
            f"{cafs.probability_of_superiority:.2f} (0.50 is no difference; p = {_p(cafs.p_value)}). "
            "The cohort's patients were chosen for other trials, in other years, and rated by others; "
            "selection and unblinded rating act on the program's patients only."
        )
    elif cafs is not None:
        said.append(
            f"Ranked on survival and function together (CAFS) over {cafs.horizon_months:.1f} months "
            f"against {cafs.comparator.n} patients simulated from the natural-history model, a patient "
            f"of this program fared better than a simulated one with probability "
            f"{cafs.probability_of_superiority:.2f} (0.50 is no difference; p = "
            f"{_p(cafs.p_value)}). The comparator is a model, not a concurrent control: selection and "
            "unblinded rating act on the program's patients only."
        )
    if (pdph := analyses.pdph) is not None and pdph.observed.punctures.total:
        share = pdph.observed.punctures
        interval = share.interval
        low, high = (interval.low, interval.high) if interval else (0.0, 1.0)
        rates = sorted(item.rate.rate.value for item in pdph.published)
        said.append(
            f"{share.count} of {share.total} lumbar punctures were followed by post-dural-puncture "
            f"headache ({share.count / share.total:.0%}, 95% CI {low:.0%} to {high:.0%}); published "
            f"rates per puncture range from {rates[0]:.1%} to {rates[-1]:.0%}"
            + (
                f"; over the protocol's {pdph.protocol_punctures} punctures the risk of at least one "
                f"is about {risk.over_protocol:.0%} at the observed rate (95% CI {risk.interval.low:.0%} "
                f"to {risk.interval.high:.0%})."
                if (risk := pdph.observed_risk) is not None and risk.interval is not None
                else "."
            )
        )
    if analyses.power:
        n = analyses.power[0].n
        slowings = " or ".join(f"{result.slowing:.0%}" for result in analyses.power)
        shares = " or ".join(f"{result.power:.0%}" for result in analyses.power)
        said.append(
            f"Power of this design: had the treatment truly slowed decline by {slowings}, an analysis of "
            f"{n} patients against the natural-history model would show it in about {shares} of such "
            "programs respectively, and only if the model were exactly right for these patients, which a "
            "single arm cannot check."
            if single
            else f"Power of this design with {n} patients to show a {slowings} slowing of decline: about "
            f"{shares} respectively (simulated from the natural-history model)."
        )
    return tuple(said)


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.2g}"
